package io.ditcache.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Saves a model as a diffusers checkpoint directory: {@code config.json} ({@link DenoiserInfo#config()}) +
 * {@code diffusion_pytorch_model.safetensors} ({@link Denoiser#stateDict()}).
 */
public final class CheckpointWriter {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private CheckpointWriter() {
    }

    /** Writes {@code model} into {@code dir} (created if needed); each file is written atomically. */
    public static void save(Denoiser model, Path dir, Map<String, String> metadata) throws IOException {
        Files.createDirectories(dir);
        SafetensorsWriter.write(dir.resolve(Checkpoint.WEIGHTS), model.stateDict(), metadata);
        AtomicFiles.writeString(dir.resolve(Checkpoint.CONFIG), JSON.writeValueAsString(model.info().config())
                + "\n");
    }
}
