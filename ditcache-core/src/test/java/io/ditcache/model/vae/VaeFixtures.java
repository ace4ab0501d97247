package io.ditcache.model.vae;

import io.ditcache.model.Fixtures;
import java.nio.file.Path;

/** The pipeline VAE fixture (test resources under {@code fixtures/pipeline/vae}): a tiny random AutoencoderKL. */
final class VaeFixtures {
    static final String DIR = "/fixtures/pipeline/vae/";

    private VaeFixtures() {
    }

    /** A {@code vae/} folder in {@code dir} as diffusers saves it. */
    static Path folder(Path dir) {
        Fixtures.copy(DIR + "config.json", dir.resolve("config.json"));
        Fixtures.copy(DIR + "diffusion_pytorch_model.safetensors",
                dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
    }

    static Path golden(Path dir) {
        return Fixtures.copy(DIR + "golden.safetensors", dir.resolve("golden.safetensors"));
    }

    static double maxAbsDiff(float[] want, float[] got) {
        if (want.length != got.length) {
            throw new AssertionError("element count " + got.length + ", expected " + want.length);
        }
        double worst = 0;
        for (int i = 0; i < want.length; i++) {
            double d = Math.abs((double) want[i] - got[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        return worst;
    }
}
