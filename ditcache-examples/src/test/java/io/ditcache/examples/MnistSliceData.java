package io.ditcache.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A data folder made from the 256-image MNIST test slice, which serves as both the training and the test split. */
public final class MnistSliceData {
    private MnistSliceData() {
    }

    /** Writes {@code train-*} and {@code t10k-*} IDX files (the same 256 images) into {@code dir}. */
    public static Path folder(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String kind : new String[] {"images-idx3-ubyte", "labels-idx1-ubyte"}) {
            try (InputStream in = MnistSliceData.class.getResourceAsStream("/fixtures/mnist/t10k-" + kind)) {
                if (in == null) {
                    throw new IllegalStateException("test resource missing: /fixtures/mnist/t10k-" + kind);
                }
                Files.copy(in, dir.resolve("t10k-" + kind), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.copy(dir.resolve("t10k-" + kind), dir.resolve("train-" + kind), StandardCopyOption.REPLACE_EXISTING);
        }
        return dir;
    }
}
