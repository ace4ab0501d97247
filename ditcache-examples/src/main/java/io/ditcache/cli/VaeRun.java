package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ComputeType;
import io.ditcache.model.vae.AutoencoderKL;
import io.ditcache.model.vae.Posterior;
import io.ditcache.model.vae.Vaes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code run} on a diffusers VAE folder ({@code AutoencoderKL}): decodes {@code latents} as the pipelines do
 * ({@code latents / scaling_factor + shift_factor}, then the decoder) into {@code decoded}, or with
 * {@code --encode} encodes {@code images} into {@code posterior_mean} and {@code posterior_logvar}.
 */
final class VaeRun {
    static final String LATENTS = "latents";
    static final String IMAGES = "images";

    private final Path model;
    private final Path inputs;
    private final Path out;
    private final boolean encode;
    private final ComputeType type;

    VaeRun(Path model, Path inputs, Path out, boolean encode, ComputeType type) {
        this.model = model;
        this.inputs = inputs;
        this.out = out;
        this.encode = encode;
        this.type = type;
    }

    /** Whether {@code dir} holds a VAE's {@code config.json}; false for anything else (its loader says why). */
    static boolean isVae(Path dir) {
        if (dir == null || !Files.isRegularFile(dir.resolve(Checkpoint.CONFIG))) {
            return false;
        }
        try {
            return Vaes.isVae(DiffusersConfig.read(dir.resolve(Checkpoint.CONFIG)));
        } catch (IOException e) {
            return false; // the transformer path reports the config's problem
        }
    }

    /** Loads the VAE, runs it on the inputs file and writes the output file. */
    int call() throws IOException {
        String input = encode ? IMAGES : LATENTS;
        AutoencoderKL vae;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            vae = Vaes.load(ckpt, type, MemoryBudget.ofThisMachine());
        }
        try (SafetensorsFile in = SafetensorsFile.open(inputs); PointerScope scope = new PointerScope()) {
            Set<String> names = in.names();
            if (!names.equals(Set.of(input))) {
                throw new CheckpointException(inputs + ": tensors " + names + ", expected exactly \"" + input
                        + "\" for " + (encode ? "encoding (--encode)" : "decoding") + " with "
                        + ModelSource.name(model) + " (AutoencoderKL)" + (names.contains(encode ? LATENTS : IMAGES)
                        ? "; " + (encode ? "drop --encode to decode latents" : "add --encode to encode images")
                        : ""));
            }
            Tensor x = in.load(input);
            Map<String, Tensor> outputs = new LinkedHashMap<>();
            try {
                if (encode) {
                    Posterior p = vae.encode(x);
                    outputs.put("posterior_mean", p.mean());
                    outputs.put("posterior_logvar", p.logvar());
                } else {
                    outputs.put("decoded", vae.decode(x));
                }
            } catch (IllegalArgumentException e) {
                throw new CheckpointException(inputs + ": tensor \"" + input + "\": " + e.getMessage(), e);
            } catch (IllegalStateException e) {
                throw new CheckpointException(model.resolve(Checkpoint.CONFIG) + ": " + e.getMessage(), e);
            }
            SafetensorsWriter.write(out, outputs, Map.of("format", "pt"));
        }
        return 0;
    }
}
