package io.ditcache.cli;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ComputeType;
import io.ditcache.model.text.TextEncoder;
import io.ditcache.model.text.TextEncoders;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine;

/**
 * {@code run} on a text encoder's folder (transformers' {@code config.json} of CLIPTextModel,
 * CLIPTextModelWithProjection or T5EncoderModel): one forward on {@code input_ids} (and {@code attention_mask}
 * where given), writing {@code last_hidden_state}, {@code text_embeds} (a projecting CLIP),
 * {@code hidden_states_penultimate} and {@code pooler_output} (CLIP), float32.
 */
final class TextEncoderRun {
    static final String IDS = "input_ids";
    static final String MASK = "attention_mask";

    private TextEncoderRun() {
    }

    /**
     * Runs the encoder of {@code model} on {@code inputs} and writes {@code out}.
     *
     * @param capture    {@code --capture}, refused: an encoder has no denoiser blocks to capture
     * @param embeddings {@code --embeddings}, refused: an encoder makes embeddings
     */
    static int run(CommandLine cl, Path model, ComputeType type, Path inputs, Path out, boolean capture,
            Path embeddings) throws Exception {
        if (capture || embeddings != null) {
            throw new CommandLine.ParameterException(cl, (capture ? "--capture" : "--embeddings") + ": " + model
                    + " is a text encoder, which takes input_ids (and attention_mask) only");
        }
        OptionChecks.outputFile(cl, "--out", out);
        try (SafetensorsFile in = SafetensorsFile.open(inputs); PointerScope scope = new PointerScope()) {
            Set<String> unknown = new TreeSet<>(in.names());
            unknown.removeAll(Set.of(IDS, MASK));
            if (!in.contains(IDS) || !unknown.isEmpty()) {
                throw new IllegalArgumentException(inputs + ": " + (in.contains(IDS) ? "unknown input tensors "
                        + unknown : "missing input tensor \"" + IDS + "\"") + ", expected " + IDS + " (and "
                        + MASK + ") for the text encoder " + model);
            }
            TextEncoder encoder = TextEncoders.load(model, type);
            Map<String, Tensor> outputs;
            try (InferenceMode mode = new InferenceMode()) {
                Tensor mask = in.contains(MASK) ? in.load(MASK) : null;
                outputs = encoder.forward(in.load(IDS), mask).named();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(inputs + ": " + e.getMessage(), e);
            }
            SafetensorsWriter.write(out, outputs, Map.of("format", "pt"));
        }
        return 0;
    }
}
