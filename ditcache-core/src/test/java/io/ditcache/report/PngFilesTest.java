package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.AtomicFiles;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PNGs are encoded in memory and written atomically; a failed write is one exception that names the file. */
class PngFilesTest {
    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void imagesAndChartsNeedNoImageIoCacheFile(@TempDir Path dir) throws IOException {
        // A cache directory that has gone away stands for a full or broken temporary file system: ImageIO's stream
        // writer buffers in a file there and failed as "Can't create an ImageOutputStream!", naming no file.
        Path cache = Files.createDirectories(dir.resolve("imageio-cache"));
        boolean useCache = ImageIO.getUseCache();
        ImageIO.setUseCache(true);
        ImageIO.setCacheDirectory(cache.toFile());
        try {
            Files.delete(cache);
            XYSeries s = new XYSeries("s");
            s.add(0, 1);
            s.add(1, 3);
            JFreeChart chart = ChartFactory.createXYLineChart("t", "x", "y", new XYSeriesCollection(s));
            ChartImages.writePng(chart, 120, 80, dir.resolve("chart.png"));
            BufferedImage grey = new BufferedImage(7, 5, BufferedImage.TYPE_BYTE_GRAY);
            grey.getRaster().setSample(3, 2, 0, 200);
            PngFiles.write(grey, dir.resolve("grey.png"));
        } finally {
            ImageIO.setCacheDirectory(null);
            ImageIO.setUseCache(useCache);
        }
        BufferedImage chart = ImageIO.read(dir.resolve("chart.png").toFile());
        assertEquals(120, chart.getWidth());
        assertEquals(80, chart.getHeight());
        BufferedImage grey = ImageIO.read(dir.resolve("grey.png").toFile());
        assertEquals(200, grey.getRaster().getSample(3, 2, 0));
        assertEquals(0, grey.getRaster().getSample(0, 0, 0));
        try (var left = Files.list(dir)) {
            assertEquals(List.of("chart.png", "grey.png"), left.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary files left");
        }
    }

    /**
     * Writes into {@code args[1]} a profile report ({@code args[0]} = "report") or a 20 kB text file ("text"); on
     * failure prints the message as the CLI does and exits with 1.
     */
    static final class WriteReport {
        public static void main(String[] args) {
            System.setProperty("java.awt.headless", "true");
            try {
                if (args[0].equals("report")) {
                    ProfileReport.write(ToyProfiles.pattern("toy", 1.0), Path.of(args[1]));
                } else {
                    AtomicFiles.writeString(Path.of(args[1]), "x".repeat(20_000));
                }
            } catch (IOException e) {
                System.err.println("report: " + e.getMessage());
                System.exit(1);
            }
        }
    }

    /**
     * Runs {@link WriteReport} in a JVM whose file-size limit of 8 KiB makes every write past it fail (EFBIG) as
     * a full disk does (ENOSPC), for root too; returns the one line it printed.
     */
    private static String failedWrite(String mode, Path target) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder("/bin/bash", "-c", "ulimit -f 8 && exec \"$0\" \"$@\"", java,
                "-XX:-UsePerfData", "-cp", System.getProperty("java.class.path"), WriteReport.class.getName(), mode,
                target.toString()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the writer finished");
        assertEquals(1, p.exitValue(), err);
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.size(), () -> "one line, no stack trace:\n" + err);
        return lines.get(0);
    }

    @Test
    void aPngWriteThatRunsOutOfSpaceIsOneLineNamingTheFile(@TempDir Path dir) throws Exception {
        // this once ended as "I/O error writing PNG file!", naming no file
        Path out = dir.resolve("report");
        String line = failedWrite("report", out);
        assertTrue(line.matches("report: " + java.util.regex.Pattern.quote(out.resolve("curves_").toString())
                + "[A-Z_]+\\.png: File too large"), line);
        try (var left = Files.list(out)) {
            assertFalse(left.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temporary file left");
        }
    }

    @Test
    void aTextWriteThatRunsOutOfSpaceNamesTheFile(@TempDir Path dir) throws Exception {
        Path page = dir.resolve("report.html");
        assertEquals("report: " + page + ": File too large", failedWrite("text", page));
        try (var left = Files.list(dir)) {
            assertEquals(0, left.count(), "no file, no temporary file");
        }
    }
}
