package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerCurvesTest {
    @BeforeAll
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    @Test
    void writesOneFigurePerStreamAndBranchThatHasCurves(@TempDir Path dir) throws IOException {
        RedundancyProfile profile = ToyProfiles.pattern("toy", 1.0);
        assertTrue(LayerCurves.available(profile, TokenStream.IMAGE, Branch.COND));
        assertFalse(LayerCurves.available(profile, TokenStream.TEXT, Branch.COND));
        List<Path> files = LayerCurves.writeAll(profile, dir);
        assertEquals(List.of(dir.resolve("curves_IMAGE_COND.png"), dir.resolve("curves_IMAGE_UNCOND.png")), files);
        BufferedImage image = ImageIO.read(files.get(0).toFile());
        // Six layers: a 4 x 2 grid of panels.
        assertTrue(image.getWidth() > 1000 && image.getHeight() > 400, image.getWidth() + "x" + image.getHeight());
    }

    @Test
    void drawsEachKindInItsOwnColour() {
        // K, V and A apart by a factor 3, so that no curve hides another.
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "apart"), Map.of("name", "ddim"), 4, 20);
        double factor = 1;
        for (SiteKind kind : LayerCurves.KINDS) {
            for (int l = 0; l < 4; l++) {
                for (int s = 0; s < 19; s++) {
                    p.add(SeriesKey.of(kind, DistanceMetric.L1_MEAN), l, s, factor * (1 + l) * Math.exp(-s / 4.0));
                }
            }
            factor *= 3;
        }
        p.countRun();
        BufferedImage image = LayerCurves.render(p, TokenStream.IMAGE, Branch.COND);
        // Count pixels close to the three line colours (tab10 blue, orange, green), below the header.
        int[] counts = new int[3];
        int[] colours = {0x1F77B4, 0xFF7F0E, 0x2CA02C};
        for (int y = 70; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                for (int i = 0; i < 3; i++) {
                    if (close(rgb, colours[i])) {
                        counts[i]++;
                    }
                }
            }
        }
        for (int i = 0; i < 3; i++) {
            assertTrue(counts[i] > 200, "curve " + LayerCurves.KINDS.get(i) + " drawn: " + counts[i] + " pixels");
        }
    }

    @Test
    void drawsWhatIsThereAndRefusesWhatIsNot() {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "only A"), Map.of("name", "ddim"), 1, 5);
        for (int s = 0; s < 4; s++) {
            p.add(new SeriesKey(SiteKind.ATTN_OUT, TokenStream.TEXT, Branch.UNCOND, DistanceMetric.L1_MEAN), 0, s,
                    s == 2 ? 0.0 : 1.0 / (1 + s));
        }
        p.countRun();
        BufferedImage one = LayerCurves.render(p, TokenStream.TEXT, Branch.UNCOND);
        assertTrue(one.getWidth() > 200 && one.getHeight() > 200);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerCurves.render(p, TokenStream.IMAGE, Branch.COND));
        assertTrue(e.getMessage().contains("IMAGE/COND"), e.getMessage());
    }

    @Test
    void fileNamesAreStable() {
        assertEquals("curves_IMAGE_COND.png", LayerCurves.fileName(TokenStream.IMAGE, Branch.COND));
        assertEquals("curves_TEXT_UNCOND.png", LayerCurves.fileName(TokenStream.TEXT, Branch.UNCOND));
    }

    private static boolean close(int a, int b) {
        for (int shift = 0; shift <= 16; shift += 8) {
            if (Math.abs(((a >> shift) & 0xFF) - ((b >> shift) & 0xFF)) > 12) {
                return false;
            }
        }
        return true;
    }
}
