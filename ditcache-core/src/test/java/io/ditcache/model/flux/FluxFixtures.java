package io.ditcache.model.flux;

import io.ditcache.model.Fixtures;
import java.nio.file.Path;

/** The FLUX fixtures of diffusers (test resources under {@code fixtures/diffusers/flux}). */
final class FluxFixtures {
    static final String DIR = "/fixtures/diffusers/flux/";

    private FluxFixtures() {
    }

    /** A checkpoint dir in {@code dir} with the fixture's config and weights, laid out as diffusers saves them. */
    static Path checkpoint(Path dir) {
        Fixtures.copy(DIR + "config.json", dir.resolve("config.json"));
        Fixtures.copy(DIR + "model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
    }

    static Path copy(String name, Path dir) {
        return Fixtures.copy(DIR + name, dir.resolve(name));
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
