package io.ditcache.cli;

import io.ditcache.report.PngFiles;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * A PNG of single-channel samples: one row per class (ascending), the samples of a class left to right in order,
 * each image enlarged by pixel repetition; grey levels map {@code [-1, 1]} to 0..255, unused cells are black.
 */
final class SampleGrid {
    private SampleGrid() {
    }

    /** Image size in pixels: {@code {width, height}}. */
    static int[] size(int[] labels, int h, int w, int scale) {
        TreeMap<Integer, List<Integer>> rows = rows(labels);
        int cols = rows.values().stream().mapToInt(List::size).max().orElse(0);
        return new int[] {cols * w * scale, rows.size() * h * scale};
    }

    static void write(Path file, float[] images, int[] labels, int h, int w, int scale) throws IOException {
        TreeMap<Integer, List<Integer>> rows = rows(labels);
        int[] size = size(labels, h, w, scale);
        BufferedImage img = new BufferedImage(size[0], size[1], BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        int row = 0;
        for (List<Integer> members : rows.values()) {
            for (int col = 0; col < members.size(); col++) {
                int base = members.get(col) * h * w;
                for (int y = 0; y < h * scale; y++) {
                    for (int x = 0; x < w * scale; x++) {
                        float v = images[base + (y / scale) * w + x / scale];
                        int grey = (int) Math.round((Math.max(-1f, Math.min(1f, v)) + 1) * 127.5);
                        r.setSample(col * w * scale + x, row * h * scale + y, 0, grey);
                    }
                }
            }
            row++;
        }
        PngFiles.write(img, file);
    }

    private static TreeMap<Integer, List<Integer>> rows(int[] labels) {
        TreeMap<Integer, List<Integer>> rows = new TreeMap<>();
        for (int i = 0; i < labels.length; i++) {
            rows.computeIfAbsent(labels[i], k -> new ArrayList<>()).add(i);
        }
        return rows;
    }
}
