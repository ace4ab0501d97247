package io.ditcache.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ditcache.internal.Tensors;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** Open-Sora 1.2's rectified flow: its timesteps, its resolution/frames transform and its Euler step. */
class RFlowSchedulerTest {
    private static final Map<String, Object> OPEN_SORA_12 = Map.of("use_timestep_transform", true,
            "base_image_seq_len", 1024);

    /** Open-Sora's timestep_transform for pixel height, width and frame count, written from its code. */
    private static double openSora(double t, double height, double width, int numFrames) {
        double s = t / 1000;
        double space = Math.sqrt(height * width / (512.0 * 512.0));
        int frames = numFrames == 1 ? 1 : numFrames / 17 * 5;
        double ratio = space * Math.sqrt(frames);
        return ratio * s / (1 + (ratio - 1) * s) * 1000;
    }

    @Test
    void withoutTransformTheTimestepsFallLinearlyFromT() {
        Scheduler s = Schedulers.create("RFLOW", Map.of());
        s.setTimesteps(4, 123456);
        assertArrayEquals(new double[] {1000, 750, 500, 250}, s.timesteps(), 0.0);
        assertEquals(1.0, s.initNoiseSigma());
    }

    /**
     * 51 frames at 240 x 320 pixels are 15 latent frames of 30 x 40 latents, 15 x 15 x 20 = 4500 tokens of
     * STDiT3-XL/2: the ratio from the token count is Open-Sora's from height, width and frames; one 512 x 512
     * frame (1024 tokens) is not shifted.
     */
    @Test
    void theTransformFromTheTokenCountIsOpenSorasFromTheVideoSize() {
        Scheduler s = Schedulers.create("rflow", OPEN_SORA_12);
        s.setTimesteps(30, 15 * 15 * 20);
        double[] t = s.timesteps();
        assertEquals(30, t.length);
        for (int i = 0; i < 30; i++) {
            double want = openSora((1.0 - i / 30.0) * 1000, 240, 320, 51);
            assertEquals(want, t[i], 1e-4 * Math.max(1, want), "step " + i);
        }
        assertEquals(1000.0, t[0], 1e-3);
        s.setTimesteps(30, 1024);
        for (int i = 0; i < 30; i++) {
            assertEquals(openSora((1.0 - i / 30.0) * 1000, 512, 512, 1), s.timesteps()[i], 1e-3, "step " + i);
            assertEquals((1.0 - i / 30.0) * 1000, s.timesteps()[i], 1e-3);
        }
    }

    /** {@code x + (sigma_next - sigma) v}, sigma = t / 1000 and 0 after the last step. */
    @Test
    void stepMovesAlongTheVelocityToZero() {
        Scheduler s = Schedulers.create("rflow", OPEN_SORA_12);
        s.setTimesteps(3, 4500);
        double[] t = s.timesteps();
        try (PointerScope scope = new PointerScope()) {
            Tensor x = Tensors.fromFloats(new float[] {1f, -2f, 0.5f}, 3);
            Tensor v = Tensors.fromFloats(new float[] {0.25f, 1f, -3f}, 3);
            for (int i = 0; i < 3; i++) {
                float next = i == 2 ? 0f : (float) t[i + 1] / 1000f;
                float dt = next - (float) t[i] / 1000f;
                float[] got = Tensors.toFloats(s.step(v, i, x, null));
                float[] xs = Tensors.toFloats(x);
                float[] vs = Tensors.toFloats(v);
                for (int k = 0; k < 3; k++) {
                    assertEquals(xs[k] + dt * vs[k], got[k], 1e-6);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> Schedulers.create("rflow",
                Map.of("transform_scale", -1.0)));
    }
}
