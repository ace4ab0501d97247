package io.ditcache.model.cogvideox;

import io.ditcache.model.Fixtures;
import java.nio.file.Path;

/** The CogVideoX fixtures of diffusers (test resources under {@code fixtures/diffusers-video}). */
final class CogVideoXFixtures {
    static final String DIR = "/fixtures/diffusers-video/";

    private CogVideoXFixtures() {
    }

    /** A checkpoint dir in {@code dir} with fixture {@code model}'s config and weights, as diffusers saves them. */
    static Path checkpoint(String model, Path dir) {
        Fixtures.copy(DIR + model + "/config.json", dir.resolve("config.json"));
        Fixtures.copy(DIR + model + "/model.safetensors", dir.resolve("diffusion_pytorch_model.safetensors"));
        return dir;
    }

    /** Fixture file {@code name} (relative to {@code diffusers-video/}) copied into {@code dir}. */
    static Path copy(String name, Path dir) {
        return Fixtures.copy(DIR + name, dir.resolve(name.replace('/', '_')));
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
