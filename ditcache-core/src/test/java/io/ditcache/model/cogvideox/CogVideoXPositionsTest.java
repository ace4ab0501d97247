package io.ditcache.model.cogvideox;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.internal.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.Test;

/**
 * CogVideoX 1.0's pipeline RoPE ("linspace" grid in the crop region of the default size), which no fixture passes:
 * at the default size its positions are the integers (the same tables as 1.5's "slice" grid); at another size the
 * grid starts at the crop's top row (Python's half-to-even rounding) and spans it by {@code linspace}.
 */
class CogVideoXPositionsTest {
    /** CogVideoX-5b's shape: head dim 64, sample 60 x 90 latents, patch 2 (a 30 x 45 base grid). */
    private static CogVideoXConfig config(int patchT) {
        return new CogVideoXConfig(2, 64, 16, 16, true, 0, 8, 8, 1, true, 90, 60, 49, 2, patchT, 4, 8, 1e-5, 1.875,
                1.0, true, true);
    }

    @Test
    void atTheDefaultSizeTheGridIsTheIntegers() {
        try (PointerScope scope = new PointerScope()) {
            CogVideoXPositions.Rope linspace = CogVideoXPositions.rope(config(0), 3, 30, 45);
            CogVideoXPositions.Rope slice = CogVideoXPositions.rope(config(2), 3, 30, 45);
            assertEquals(3 * 30 * 45, linspace.cos().size(0));
            assertEquals(64, linspace.cos().size(1));
            assertArrayEquals(Tensors.toFloats(slice.cos()), Tensors.toFloats(linspace.cos()), 1e-5f);
            assertArrayEquals(Tensors.toFloats(slice.sin()), Tensors.toFloats(linspace.sin()), 1e-5f);
        }
    }

    @Test
    void atHalfTheHeightTheGridIsTheCenteredCropRegion() {
        try (PointerScope scope = new PointerScope()) {
            // 15 x 45 in a 30 x 45 base: resized to 15 x 45, crop top round(7.5) = 8 (half to even), bottom 23;
            // rows at linspace(8, 23 * 14 / 15, 15)
            CogVideoXPositions.Rope rope = CogVideoXPositions.rope(config(0), 1, 15, 45);
            float[] cos = Tensors.toFloats(rope.cos());
            int dimT = 16;
            int dimH = 24;
            double end = 23.0 * 14 / 15;
            for (int row : new int[] {0, 7, 14}) {
                double pos = 8 + (end - 8) * row / 14;
                for (int j = 0; j < dimH / 2; j++) {
                    double freq = 1.0 / Math.pow(10000, 2.0 * j / dimH);
                    int token = row * 45;
                    float want = (float) Math.cos(pos * freq);
                    assertEquals(want, cos[token * 64 + dimT + 2 * j], 2e-5f, "row " + row + " pair " + j);
                    assertEquals(want, cos[token * 64 + dimT + 2 * j + 1], 2e-5f, "row " + row + " pair " + j);
                }
            }
        }
    }
}
