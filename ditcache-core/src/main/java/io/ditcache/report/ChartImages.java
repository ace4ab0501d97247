package io.ditcache.report;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import org.jfree.chart.JFreeChart;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes charts and images as PNG files, atomically, without a display. */
final class ChartImages {
    private static final Logger LOG = LoggerFactory.getLogger(ChartImages.class);

    private ChartImages() {
    }

    /**
     * Reports draw only onto off-screen images, which never need a display. Where the process has made no
     * choice and there is no display to use, say so explicitly before AWT starts; a process that has a
     * display or set the property itself keeps its choice.
     */
    static void preferHeadless() {
        if (System.getProperty("java.awt.headless") == null && System.getenv("DISPLAY") == null) {
            System.setProperty("java.awt.headless", "true");
            LOG.debug("no DISPLAY: java.awt.headless=true for report rendering");
        }
    }

    static void writePng(JFreeChart chart, int width, int height, Path target) throws IOException {
        preferHeadless();
        writePng(chart.createBufferedImage(width, height), target);
    }

    static void writePng(BufferedImage image, Path target) throws IOException {
        PngFiles.write(image, target);
        LOG.debug("wrote {} ({}x{})", target, image.getWidth(), image.getHeight());
    }
}
