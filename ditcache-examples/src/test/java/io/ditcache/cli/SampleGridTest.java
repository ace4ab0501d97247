package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleGridTest {
    @Test
    void oneRowPerClassEnlarged(@TempDir Path dir) throws IOException {
        float[] images = {-1, 1, 1, -1, 0, 0, 0, 0, 1, 1, 1, 1}; // three 2x2 images
        Path file = dir.resolve("grid.png");
        SampleGrid.write(file, images, new int[] {3, 1, 3}, 2, 2, 2);
        BufferedImage png = ImageIO.read(file.toFile());
        assertEquals(8, png.getWidth(), "two samples of class 3, 4 pixels each");
        assertEquals(8, png.getHeight(), "classes 1 and 3");
        assertEquals(128, png.getRaster().getSample(0, 0, 0), "class 1's sample is 0: mid grey");
        assertEquals(0, png.getRaster().getSample(4, 0, 0), "class 1 has no second sample: black");
        assertEquals(0, png.getRaster().getSample(0, 4, 0), "class 3's first sample starts at -1");
        assertEquals(255, png.getRaster().getSample(3, 5, 0));
        assertEquals(255, png.getRaster().getSample(7, 7, 0));
    }

    @Test
    void rowsTallEnoughForTextAreLabelledWithTheirClass(@TempDir Path dir) throws IOException {
        int size = 28;
        int[] labels = {7, 2, 7};
        float[] images = new float[labels.length * size * size];
        java.util.Arrays.fill(images, -1f); // black samples: any light pixel left of them is label text
        Path file = dir.resolve("samples.png");
        SampleGrid.write(file, images, labels, size, size, 2);
        BufferedImage png = ImageIO.read(file.toFile());
        assertEquals(SampleGrid.LABEL_WIDTH + 2 * size * 2, png.getWidth(), "label column, then two samples");
        assertEquals(2 * size * 2, png.getHeight(), "classes 2 and 7");
        for (int row = 0; row < 2; row++) {
            int light = 0;
            for (int y = row * size * 2; y < (row + 1) * size * 2; y++) {
                for (int x = 0; x < SampleGrid.LABEL_WIDTH; x++) {
                    light += png.getRaster().getSample(x, y, 0) > 128 ? 1 : 0;
                }
            }
            assertTrue(light > 20, "row " + row + " has its class written left of it (" + light + " light pixels)");
        }
        int rowHeight = size * 2;
        int[] two = png.getRaster().getSamples(0, 0, SampleGrid.LABEL_WIDTH, rowHeight, 0, (int[]) null);
        int[] seven = png.getRaster().getSamples(0, rowHeight, SampleGrid.LABEL_WIDTH, rowHeight, 0, (int[]) null);
        assertFalse(java.util.Arrays.equals(two, seven), "rows of different classes carry different labels");
        for (int y = 0; y < png.getHeight(); y++) {
            for (int x = SampleGrid.LABEL_WIDTH; x < png.getWidth(); x++) {
                assertEquals(0, png.getRaster().getSample(x, y, 0), "samples untouched by the labels");
            }
        }
    }

    /** Writes a 10 x 10 grid of 28 x 28 noise into {@code args[0]}; prints a failure as the CLI does. */
    static final class WriteGrid {
        public static void main(String[] args) {
            System.setProperty("java.awt.headless", "true");
            int n = 100;
            float[] images = new float[n * 28 * 28];
            java.util.Random rnd = new java.util.Random(1);
            for (int i = 0; i < images.length; i++) {
                images[i] = rnd.nextFloat() * 2 - 1;
            }
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                labels[i] = i % 10;
            }
            try {
                SampleGrid.write(Path.of(args[0]), images, labels, 28, 28, 2);
            } catch (IOException e) {
                System.err.println("generate: " + e.getMessage());
                System.exit(1);
            }
        }
    }

    @Test
    void aWriteThatRunsOutOfSpaceIsOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        // an 8 KiB file-size limit fails writes past it (EFBIG) as a full disk does (ENOSPC), for root too
        Path file = dir.resolve("samples.png");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("/bin/bash", "-c", "ulimit -f 8 && exec \"$0\" \"$@\"", java,
                "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"), WriteGrid.class.getName(),
                file.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the writer finished");
        assertEquals(1, p.exitValue(), err);
        assertEquals(List.of("generate: " + file + ": File too large"), err.lines().toList(), err);
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "no file, no temporary file");
        }
    }
}
