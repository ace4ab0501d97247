package io.ditcache.quality;

import io.ditcache.data.ImageSet;
import io.ditcache.model.Fixtures;
import java.io.IOException;
import java.nio.file.Path;

/** The committed 256-image MNIST test slice. */
final class MnistSlice {
    private MnistSlice() {
    }

    static ImageSet read(Path dir) throws IOException {
        Fixtures.copy("/fixtures/mnist/t10k-images-idx3-ubyte", dir.resolve("t10k-images-idx3-ubyte"));
        Fixtures.copy("/fixtures/mnist/t10k-labels-idx1-ubyte", dir.resolve("t10k-labels-idx1-ubyte"));
        return ImageSet.split(dir, false);
    }
}
