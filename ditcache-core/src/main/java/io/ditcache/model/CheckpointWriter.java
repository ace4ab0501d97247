package io.ditcache.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Saves a model as a diffusers checkpoint directory: {@code config.json} + {@code diffusion_pytorch_model.safetensors}. */
public final class CheckpointWriter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CheckpointWriter() {
    }

    /** diffusers' config for a DiT, with every key its constructor reads. */
    public static Map<String, Object> config(DiTConfig c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("_class_name", DiTConfig.CLASS_NAME);
        m.put("_diffusers_version", "0.40.0.dev0");
        m.put("activation_fn", "gelu-approximate");
        m.put("attention_bias", c.attentionBias());
        m.put("attention_head_dim", c.headDim());
        m.put("dropout", 0.0);
        m.put("in_channels", c.inChannels());
        m.put("norm_elementwise_affine", false);
        m.put("norm_eps", c.normEps());
        m.put("norm_num_groups", 32);
        m.put("norm_type", "ada_norm_zero");
        m.put("num_attention_heads", c.numHeads());
        m.put("num_embeds_ada_norm", c.numClasses());
        m.put("num_layers", c.numLayers());
        m.put("out_channels", c.outChannels());
        m.put("patch_size", c.patchSize());
        m.put("sample_size", c.sampleSize());
        m.put("upcast_attention", false);
        return m;
    }

    /** Writes {@code model} into {@code dir} (created if needed); each file is written atomically. */
    public static void save(DiTModel model, Path dir, Map<String, String> metadata) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(Checkpoint.WEIGHTS), model.stateDict(), metadata);
        AtomicFiles.writeString(dir.resolve(Checkpoint.CONFIG), JSON.writeValueAsString(config(model.config())) + "\n");
    }
}
