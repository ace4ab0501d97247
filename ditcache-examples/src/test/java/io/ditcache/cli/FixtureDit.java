package io.ditcache.cli;

import io.ditcache.io.DType;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.function.BiConsumer;
import org.bytedeco.javacpp.PointerScope;

/**
 * The 4-block fixture DiT of the test resources (config, weights and diffusers' golden tensors), laid out as
 * users have checkpoints, and input files made from its golden inputs.
 */
final class FixtureDit {
    static final String WEIGHTS = "diffusion_pytorch_model.safetensors";
    static final int LAYERS = 4;
    static final int CLASSES = 10;

    private FixtureDit() {
    }

    /** A checkpoint directory {@code dir} with config.json and diffusion_pytorch_model.safetensors. */
    static Path checkpoint(Path dir) throws IOException {
        copy("config.json", dir.resolve("config.json"));
        copy("model.safetensors", dir.resolve(WEIGHTS));
        return dir;
    }

    /** diffusers' golden tensors: {@code input.*}, {@code output.sample}, {@code block.{i}.k/v/a}. */
    static Path golden(Path file) throws IOException {
        return copy("golden.safetensors", file);
    }

    /**
     * A checkpoint whose weights are the fixture's with {@code edit} applied to each tensor's values (all are
     * F32) before writing.
     */
    static Path editedCheckpoint(Path dir, BiConsumer<String, float[]> edit) throws IOException {
        checkpoint(dir);
        return editWeights(dir, edit);
    }

    /** Rewrites the F32 weights of the checkpoint in {@code dir} with {@code edit} applied to each tensor's values. */
    static Path editWeights(Path dir, BiConsumer<String, float[]> edit) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(WEIGHTS))) {
            for (String name : f.names()) {
                if (f.info(name).dtype() != DType.F32) {
                    throw new IllegalStateException(name + " is " + f.info(name).dtype() + ", expected F32");
                }
                float[] values = f.floats(name);
                edit.accept(name, values);
                w.put(name, values, f.info(name).dims());
            }
        }
        w.write(dir.resolve(WEIGHTS)); // the writer holds copies, so the file it replaces is closed by now
        return dir;
    }

    /** A forward-inputs file holding golden inputs under diffusers' argument names: {@code names} maps new to golden. */
    static Path inputs(Path file, Path golden, Map<String, String> names) throws IOException {
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope()) {
            SafetensorsWriter w = new SafetensorsWriter();
            names.forEach((name, from) -> w.put(name, g.load(from)));
            w.write(file);
        }
        return file;
    }

    static Path copy(String resource, Path target) throws IOException {
        try (InputStream in = FixtureDit.class.getResourceAsStream("/fixtures/dit/" + resource)) {
            if (in == null) {
                throw new IllegalStateException("test resource missing: /fixtures/dit/" + resource);
            }
            Files.createDirectories(target.toAbsolutePath().getParent());
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            return target;
        }
    }
}
