package io.ditcache.data;

import io.ditcache.io.MemoryBudget;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A labelled set of single-channel images (MNIST layout), pixels scaled to {@code [-1, 1]}.
 *
 * @param pixels row-major {@code [count, height, width]}
 * @param labels class of each image
 */
public record ImageSet(float[] pixels, int[] labels, int height, int width) {
    /** Classes of MNIST and Fashion-MNIST: labels are 0 to {@code CLASSES - 1}. */
    public static final int CLASSES = 10;

    public ImageSet {
        if ((long) labels.length * height * width != pixels.length) {
            throw new IllegalArgumentException(labels.length + " labels and " + height + "x" + width
                    + " images do not match " + pixels.length + " pixels");
        }
    }

    public int size() {
        return labels.length;
    }

    /** Pixels of image {@code i}. */
    public float[] image(int i) {
        int n = height * width;
        return java.util.Arrays.copyOfRange(pixels, i * n, (i + 1) * n);
    }

    /** The first {@code n} images. */
    public ImageSet head(int n) {
        int k = Math.min(n, size());
        return new ImageSet(java.util.Arrays.copyOf(pixels, k * height * width), java.util.Arrays.copyOf(labels, k),
                height, width);
    }

    /**
     * Reads an images IDX file and its labels IDX file.
     *
     * @throws IOException naming the file: truncated or corrupt, shapes that do not pair up, a label outside
     *                     0..{@value #CLASSES}-1 (with its index), or pixels too many for the heap as floats
     */
    public static ImageSet read(Path images, Path labels) throws IOException {
        IdxFile.UByteTensor lab = IdxFile.read(labels);
        if (lab.dims().length != 1) {
            throw new IOException(labels + ": rank " + lab.dims().length + ", expected 1 ([count])");
        }
        for (int i = 0; i < lab.count(); i++) {
            if (lab.value(i) >= CLASSES) {
                throw new IOException(labels + ": label " + lab.value(i) + " at index " + i + ", expected 0 to "
                        + (CLASSES - 1));
            }
        }
        IdxFile.UByteTensor img = IdxFile.read(images);
        if (img.dims().length != 3) {
            throw new IOException(images + ": rank " + img.dims().length + ", expected 3 ([count, rows, cols])");
        }
        if (img.dims()[1] < 1 || img.dims()[2] < 1) {
            throw new IOException(images + ": images of " + img.dims()[1] + " x " + img.dims()[2]
                    + " pixels, expected at least 1 x 1");
        }
        if (lab.count() != img.count()) {
            throw new IOException(labels + ": " + lab.count() + " labels for " + img.count() + " images in " + images);
        }
        String shortfall = MemoryBudget.ofThisMachine().shortfall(
                (long) Float.BYTES * img.values().length + img.values().length, 0);
        if (shortfall != null) {
            throw new IOException(images + ": " + img.values().length + " pixels as floats beside their bytes "
                    + shortfall);
        }
        float[] px = new float[img.values().length];
        for (int i = 0; i < px.length; i++) {
            px[i] = img.value(i) / 127.5f - 1f;
        }
        int[] y = new int[lab.count()];
        for (int i = 0; i < y.length; i++) {
            y[i] = lab.value(i);
        }
        return new ImageSet(px, y, img.dims()[1], img.dims()[2]);
    }

    /**
     * The training or test split in a folder holding the MNIST file names
     * ({@code train-images-idx3-ubyte}, ...; a {@code .gz} suffix is accepted).
     */
    public static ImageSet split(Path dir, boolean train) throws IOException {
        String prefix = train ? "train" : "t10k";
        return read(find(dir, prefix + "-images-idx3-ubyte"), find(dir, prefix + "-labels-idx1-ubyte"));
    }

    private static Path find(Path dir, String name) throws IOException {
        for (String candidate : List.of(name, name + ".gz", name.replace("-idx", ".idx"), name + ".idx")) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IOException(dir + ": no " + name + " (or " + name + ".gz); fetch the data first "
                + "(see data/README.md)");
    }
}
