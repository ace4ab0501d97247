package io.ditcache.model.vae;

import static io.ditcache.model.vae.VaeFixtures.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ComputeType;
import java.nio.file.Path;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * diffusers' {@code AutoencoderKL} (tiny random weights: 2 blocks of width 32, 16 latent channels, mid-block
 * attention) against its golden decode and encode: the pipelines' un-scaling, {@code vae.decode(z).sample},
 * {@code VaeImageProcessor.postprocess} pixels, and the posterior's mean and clamped log-variance.
 */
class AutoencoderKLGoldenTest {
    private static final double TOL = 1e-4;

    @Test
    void decodeMatchesGoldenInFloat32(@TempDir Path dir) throws Exception {
        AutoencoderKL vae = Vaes.load(VaeFixtures.folder(dir.resolve("vae")), ComputeType.FLOAT32);
        assertEquals(2, vae.scale());
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            Tensor latents = golden.load("latents");
            Tensor unscaled = latents.div(new org.bytedeco.pytorch.Scalar(vae.config().scalingFactor()))
                    .add(new org.bytedeco.pytorch.Scalar(vae.config().shiftFactor()));
            double unscaleErr = maxAbsDiff(golden.floats("latents_unscaled"), Tensors.toFloats(unscaled));
            assertTrue(unscaleErr <= 1e-6, "latents_unscaled max abs err " + unscaleErr);

            Tensor decoded = vae.decode(latents);
            assertArrayEquals(new long[] {2, 3, 16, 16}, Tensors.shape(decoded));
            double err = maxAbsDiff(golden.floats("decoded"), Tensors.toFloats(decoded));
            assertTrue(err <= TOL, "decoded max abs err " + err);
            double direct = maxAbsDiff(golden.floats("decoded"),
                    Tensors.toFloats(vae.decodeUnscaled(golden.load("latents_unscaled"))));
            assertTrue(direct <= TOL, "decodeUnscaled(latents_unscaled) max abs err " + direct);
            System.out.printf("vae golden float32: latents_unscaled %.2e, decoded %.2e, decoded from unscaled %.2e%n",
                    unscaleErr, err, direct);
        }
    }

    @Test
    void pixelsMatchVaeImageProcessor(@TempDir Path dir) throws Exception {
        AutoencoderKL vae = Vaes.load(VaeFixtures.folder(dir.resolve("vae")), ComputeType.FLOAT32);
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            long[] want = golden.longs("image_uint8");
            // the post-processing alone, on diffusers' own decoded floats: exact
            Tensor fromGolden = VaeImages.toUint8(golden.load("decoded"));
            assertArrayEquals(new long[] {2, 16, 16, 3}, Tensors.shape(fromGolden));
            assertArrayEquals(want, Tensors.toLongs(fromGolden.to(org.bytedeco.pytorch.global.torch.ScalarType.Long)));
            // and on our decode: at most one level apart (a float32 difference can cross a rounding boundary)
            long[] got = Tensors.toLongs(VaeImages.toUint8(vae.decode(golden.load("latents")))
                    .to(org.bytedeco.pytorch.global.torch.ScalarType.Long));
            long worst = 0;
            int differing = 0;
            for (int i = 0; i < want.length; i++) {
                worst = Math.max(worst, Math.abs(want[i] - got[i]));
                differing += want[i] == got[i] ? 0 : 1;
            }
            assertTrue(worst <= 1, "image_uint8 differs by " + worst + " levels");
            System.out.printf("vae golden image_uint8: %d of %d values differ, by at most %d%n", differing,
                    want.length, worst);
        }
    }

    @Test
    void encodeMatchesGoldenInFloat32(@TempDir Path dir) throws Exception {
        AutoencoderKL vae = Vaes.load(VaeFixtures.folder(dir.resolve("vae")), ComputeType.FLOAT32);
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            Posterior p = vae.encode(golden.load("images"));
            assertArrayEquals(new long[] {2, 16, 8, 8}, Tensors.shape(p.mean()));
            double mean = maxAbsDiff(golden.floats("posterior_mean"), Tensors.toFloats(p.mean()));
            double logvar = maxAbsDiff(golden.floats("posterior_logvar"), Tensors.toFloats(p.logvar()));
            assertTrue(mean <= TOL, "posterior_mean max abs err " + mean);
            assertTrue(logvar <= TOL, "posterior_logvar max abs err " + logvar);
            System.out.printf("vae golden float32: posterior_mean %.2e, posterior_logvar %.2e%n", mean, logvar);
        }
    }

    @Test
    void bfloat16RunsCloseToGolden(@TempDir Path dir) throws Exception {
        AutoencoderKL vae = Vaes.load(VaeFixtures.folder(dir.resolve("vae")), ComputeType.BFLOAT16);
        assertEquals(ComputeType.BFLOAT16, vae.computeType());
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            Tensor decoded = vae.decode(golden.load("latents"));
            assertEquals(org.bytedeco.pytorch.global.torch.ScalarType.Float, decoded.scalar_type().intern());
            double err = maxAbsDiff(golden.floats("decoded"), Tensors.toFloats(decoded));
            Posterior p = vae.encode(golden.load("images"));
            double mean = maxAbsDiff(golden.floats("posterior_mean"), Tensors.toFloats(p.mean()));
            double logvar = maxAbsDiff(golden.floats("posterior_logvar"), Tensors.toFloats(p.logvar()));
            // bfloat16 keeps 8 bits of mantissa: errors of a few hundredths on values of order 1
            assertTrue(err <= 0.1, "bfloat16 decoded max abs err " + err);
            assertTrue(mean <= 0.1, "bfloat16 posterior_mean max abs err " + mean);
            assertTrue(logvar <= 0.1, "bfloat16 posterior_logvar max abs err " + logvar);
            assertTrue(err > 0, "bfloat16 decode equals float32 exactly: the weights were not converted");
            System.out.printf("vae golden bfloat16: decoded %.2e, posterior_mean %.2e, posterior_logvar %.2e%n",
                    err, mean, logvar);
        }
    }

    @Test
    void float16RunsCloseToGolden(@TempDir Path dir) throws Exception {
        AutoencoderKL vae = Vaes.load(VaeFixtures.folder(dir.resolve("vae")), ComputeType.FLOAT16);
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            double err = maxAbsDiff(golden.floats("decoded"), Tensors.toFloats(vae.decode(golden.load("latents"))));
            Posterior p = vae.encode(golden.load("images"));
            double mean = maxAbsDiff(golden.floats("posterior_mean"), Tensors.toFloats(p.mean()));
            // float16 keeps 11 bits of mantissa: errors of a few thousandths on values of order 1
            assertTrue(err <= 0.02 && err > 0, "float16 decoded max abs err " + err);
            assertTrue(mean <= 0.02, "float16 posterior_mean max abs err " + mean);
            System.out.printf("vae golden float16: decoded %.2e, posterior_mean %.2e%n", err, mean);
        }
    }
}
