package io.ditcache.model.latte;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.model.Fixtures;
import java.nio.file.Path;

/**
 * The diffusers Latte fixture (diffusers' unit-test config: 1 spatial + 1 temporal block, 2 heads x 4, caption 8,
 * video_length 16) laid out as a checkpoint directory, its golden tensors and the DDIM-10 profile.
 */
final class LatteFixtures {
    static final String DIR = "/fixtures/diffusers-video/latte/";

    private LatteFixtures() {
    }

    /** config.json and the weights as diffusion_pytorch_model.safetensors in {@code dir}. */
    static Path checkpoint(Path dir) {
        Fixtures.copy(DIR + "config.json", dir.resolve("config.json"));
        Fixtures.copy(DIR + "model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
    }

    /** The golden tensors of one diffusers forward, the unit-test shape's forward and the profile's inputs. */
    static Path golden(Path dir) {
        return Fixtures.copy(DIR + "golden.safetensors", dir.resolve("golden.safetensors"));
    }

    /** The golden DDIM-10 profile (JSON). */
    static Path profile(Path dir) {
        return Fixtures.copy("/fixtures/diffusers-video/profile_latte_ddim10.json", dir.resolve("profile.json"));
    }

    static double maxAbsDiff(float[] want, float[] got) {
        assertEquals(want.length, got.length, "element count");
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }
}
