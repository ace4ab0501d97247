package io.ditcache.cli;

import io.ditcache.report.PngFiles;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
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
 * Rows tall enough for text ({@value #MIN_LABELLED_ROW} px) get their class written in a column on the left
 * ("class 3").
 */
final class SampleGrid {
    /** Width of the label column, in pixels. */
    static final int LABEL_WIDTH = 72;
    /** The lowest row that gets a label. */
    static final int MIN_LABELLED_ROW = 16;

    private SampleGrid() {
    }

    /** Image size in pixels: {@code {width, height}}. */
    static int[] size(int[] labels, int h, int w, int scale) {
        TreeMap<Integer, List<Integer>> rows = rows(labels);
        int cols = rows.values().stream().mapToInt(List::size).max().orElse(0);
        return new int[] {labelWidth(h, scale) + cols * w * scale, rows.size() * h * scale};
    }

    /** The label column's width: none when rows are too low for text. */
    static int labelWidth(int h, int scale) {
        return h * scale >= MIN_LABELLED_ROW ? LABEL_WIDTH : 0;
    }

    static void write(Path file, float[] images, int[] labels, int h, int w, int scale) throws IOException {
        TreeMap<Integer, List<Integer>> rows = rows(labels);
        int[] size = size(labels, h, w, scale);
        BufferedImage img = new BufferedImage(size[0], size[1], BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        int left = labelWidth(h, scale);
        if (left > 0) {
            labels(img, rows.keySet(), h * scale);
        }
        int row = 0;
        for (List<Integer> members : rows.values()) {
            for (int col = 0; col < members.size(); col++) {
                int base = members.get(col) * h * w;
                for (int y = 0; y < h * scale; y++) {
                    for (int x = 0; x < w * scale; x++) {
                        float v = images[base + (y / scale) * w + x / scale];
                        int grey = (int) Math.round((Math.max(-1f, Math.min(1f, v)) + 1) * 127.5);
                        r.setSample(left + col * w * scale + x, row * h * scale + y, 0, grey);
                    }
                }
            }
            row++;
        }
        PngFiles.write(img, file);
    }

    /** "class N" in light grey on black, vertically centred in each row. */
    private static void labels(BufferedImage img, Iterable<Integer> classes, int rowHeight) {
        if (System.getProperty("java.awt.headless") == null && System.getenv("DISPLAY") == null) {
            System.setProperty("java.awt.headless", "true"); // text on an image needs no display
        }
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, Math.min(14, rowHeight - 4)));
            g.setColor(new Color(0xDDDDDD));
            int row = 0;
            for (int c : classes) {
                int baseline = row * rowHeight + (rowHeight + g.getFontMetrics().getAscent()) / 2 - 1;
                g.drawString("class " + c, 6, baseline);
                row++;
            }
        } finally {
            g.dispose();
        }
    }

    private static TreeMap<Integer, List<Integer>> rows(int[] labels) {
        TreeMap<Integer, List<Integer>> rows = new TreeMap<>();
        for (int i = 0; i < labels.length; i++) {
            rows.computeIfAbsent(labels[i], k -> new ArrayList<>()).add(i);
        }
        return rows;
    }
}
