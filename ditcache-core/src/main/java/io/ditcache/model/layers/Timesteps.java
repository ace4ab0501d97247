package io.ditcache.model.layers;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** diffusers' {@code get_timestep_embedding} (max period 10000), the sinusoidal features of {@code Timesteps}. */
public final class Timesteps {
    private static final double MAX_PERIOD = 10000;

    private Timesteps() {
    }

    /**
     * Sinusoidal features of {@code t}.
     *
     * @param t                  {@code [N]}, any numeric dtype
     * @param channels           output channels (an odd count gets a zero column, as diffusers pads)
     * @param flipSinToCos       cosines first (diffusers' {@code flip_sin_to_cos})
     * @param downscaleFreqShift diffusers' {@code downscale_freq_shift} (0 for PixArt/SD3/FLUX, 1 for DiT)
     * @param scale              multiplies the arguments ({@code scale} in diffusers, usually 1)
     * @return float32 {@code [N, channels]}
     */
    public static Tensor sinusoid(Tensor t, int channels, boolean flipSinToCos, double downscaleFreqShift,
            double scale) {
        int half = channels / 2;
        Tensor exponent = torch.arange(new Scalar(0), new Scalar(half), new TensorOptions(ScalarType.Float))
                .mul(new Scalar(-Math.log(MAX_PERIOD))).div(new Scalar(half - downscaleFreqShift));
        Tensor freqs = exponent.exp();
        Tensor args = t.reshape(-1, 1).to(ScalarType.Float).mul(freqs.unsqueeze(0));
        args = args.mul(new Scalar(scale));
        Tensor sin = args.sin();
        Tensor cos = args.cos();
        Tensor emb = flipSinToCos ? torch.cat(new TensorVector(cos, sin), 1) : torch.cat(new TensorVector(sin, cos), 1);
        if (channels % 2 == 1) {
            emb = torch.constant_pad_nd(emb, new long[] {0, 1});
        }
        return emb;
    }
}
