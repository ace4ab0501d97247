package io.ditcache.data;

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

    /** Reads an images IDX file and its labels IDX file. */
    public static ImageSet read(Path images, Path labels) throws IOException {
        IdxFile.UByteTensor img = IdxFile.read(images);
        IdxFile.UByteTensor lab = IdxFile.read(labels);
        if (img.dims().length != 3) {
            throw new IOException(images + ": rank " + img.dims().length + ", expected 3 ([count, rows, cols])");
        }
        if (lab.dims().length != 1 || lab.count() != img.count()) {
            throw new IOException(labels + ": " + lab.count() + " labels for " + img.count() + " images in " + images);
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
