package io.ditcache.cli;

import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DiffusersForward;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;

/**
 * Forward inputs made for a model from its description, for {@code run} without {@code --inputs} and for {@code
 * run --example-inputs FILE}: for a class-label DiT ({@value DiTConfig#CLASS_NAME}), one sample of its latent
 * shape, standard normal noise from {@link Random} seeded with the seed, the timestep half-way through its training
 * range and class label {@code seed mod classes}. Text-conditioned families take their conditioning from files
 * ({@code --inputs}, {@code --embeddings}); none is made up for them.
 */
final class ExampleInputs {
    private ExampleInputs() {
    }

    /** Whether inputs can be made for {@code model}. */
    static boolean supports(Denoiser model) {
        return DiTConfig.CLASS_NAME.equals(model.info().className()) && model.info().classes() > 0;
    }

    /**
     * The inputs for {@code model}.
     *
     * @param modelDir its checkpoint directory (its scheduler config bounds the timesteps), null for the embedded one
     * @throws IllegalArgumentException naming the model's class when no inputs can be made for it
     */
    static SafetensorsWriter make(Denoiser model, DiffusersForward forward, Path modelDir, long seed)
            throws IOException {
        if (!supports(model)) {
            throw new IllegalArgumentException("no example inputs for " + model.info().className() + " (they are made "
                    + "for class-label DiT models only); give --inputs FILE with " + forward.inputNames()
                    + (forward.optionalInputNames().isEmpty() ? "" : " (optional: " + forward.optionalInputNames() + ")"));
        }
        int classes = model.info().classes();
        long label = Math.floorMod(seed, classes);
        long[] shape = model.latentShape(ClassLabels.of(label));
        int elements = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        float[] noise = new float[elements];
        Random rnd = new Random(seed);
        for (int i = 0; i < elements; i++) {
            noise[i] = (float) rnd.nextGaussian();
        }
        int train = DiTInputs.trainTimesteps(modelDir == null ? null
                : modelDir.resolve(io.ditcache.io.Checkpoint.SCHEDULER_CONFIG));
        long[] dims = new long[shape.length + 1];
        dims[0] = 1;
        System.arraycopy(shape, 0, dims, 1, shape.length);
        return new SafetensorsWriter().metadata("format", "pt")
                .metadata("ditcache", "example inputs, seed " + seed)
                .put("hidden_states", noise, dims)
                .put("timestep", new long[] {train / 2}, 1)
                .put("class_labels", new long[] {label}, 1);
    }

    /** The inputs as an in-memory file named {@code source}. */
    static SafetensorsFile open(SafetensorsWriter w, String source) throws IOException {
        Path tmp = Files.createTempFile("ditcache-example-inputs", ".safetensors");
        try {
            w.write(tmp);
            byte[] bytes = Files.readAllBytes(tmp);
            return SafetensorsFile.open(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip(), source);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** "hidden_states [1, 1, 28, 28] F32, timestep [1] I64 = 500, ...": each tensor, and the values of small ones. */
    static String describe(SafetensorsFile f) {
        List<String> out = new ArrayList<>();
        for (String name : f.names()) {
            TensorInfo t = f.info(name);
            String values = "";
            if (t.numel() <= 4 && !t.dtype().isFloatingPoint()) {
                values = " = " + Arrays.stream(f.longs(name)).mapToObj(Long::toString)
                        .collect(Collectors.joining(", "));
            }
            out.add(name + " " + t.shape() + " " + t.dtype() + values);
        }
        return String.join(", ", out);
    }
}
