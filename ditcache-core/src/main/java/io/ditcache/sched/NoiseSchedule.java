package io.ditcache.sched;

import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The training noise schedule of the DDPM family (DDIM, DDPM, DPM-Solver++, Euler): betas and
 * {@code alphas_cumprod = cumprod(1 - betas)}, computed with libtorch in float32 exactly as diffusers does
 * ({@code torch.linspace}, {@code torch.cumprod}), so every derived value starts from the same bits.
 *
 * <p>Config keys: {@code num_train_timesteps} (1000), {@code beta_start} (0.0001), {@code beta_end} (0.02),
 * {@code beta_schedule} ({@code "linear"}, {@code "scaled_linear"}, {@code "squaredcos_cap_v2"}).
 * {@code trained_betas} and {@code rescale_betas_zero_snr} are not supported.
 */
final class NoiseSchedule {
    final int trainSteps;
    final String betaSchedule;
    final double betaStart;
    final double betaEnd;
    /** {@code betas[t]}, float32. */
    final float[] betas;
    /** {@code alphas_cumprod[t]}, float32. */
    final float[] alphasCumprod;

    private NoiseSchedule(int trainSteps, String betaSchedule, double betaStart, double betaEnd) {
        this.trainSteps = trainSteps;
        this.betaSchedule = betaSchedule;
        this.betaStart = betaStart;
        this.betaEnd = betaEnd;
        try (PointerScope scope = new PointerScope()) {
            TensorOptions f32 = new TensorOptions(ScalarType.Float);
            Tensor b;
            switch (betaSchedule) {
                case "linear":
                    b = torch.linspace(new Scalar(betaStart), new Scalar(betaEnd), trainSteps, f32);
                    break;
                case "scaled_linear":
                    b = torch.linspace(new Scalar(Math.sqrt(betaStart)), new Scalar(Math.sqrt(betaEnd)), trainSteps, f32)
                            .pow(new Scalar(2));
                    break;
                case "squaredcos_cap_v2":
                    b = fromArray(cosineBetas(trainSteps));
                    break;
                default:
                    throw new AssertionError(betaSchedule);
            }
            this.betas = toArray(b);
            this.alphasCumprod = toArray(torch.cumprod(b.neg().add(new Scalar(1.0)), 0));
        }
    }

    static NoiseSchedule read(SchedulerConfig config) {
        config.requireAbsent("trained_betas");
        config.requireOff("rescale_betas_zero_snr");
        int trainSteps = config.trainTimesteps();
        double start = config.positive("beta_start", 0.0001);
        double end = config.positive("beta_end", 0.02);
        // betas are per-step noise variances: a value of 1 or more makes alphas_cumprod 0 or negative
        if (start >= 1) {
            throw config.invalid("beta_start", start, "a number in (0, 1)");
        }
        if (end >= 1) {
            throw config.invalid("beta_end", end, "a number in (0, 1)");
        }
        String schedule = config.choice("beta_schedule", "linear", "linear", "scaled_linear", "squaredcos_cap_v2");
        NoiseSchedule s = new NoiseSchedule(trainSteps, schedule, start, end);
        // a long schedule can drive alphas_cumprod so near 0 in float32 that sigma = sqrt((1 - a) / a), and with it
        // any sampler's first step, is infinite
        for (int t = 0; t < trainSteps; t++) {
            float a = s.alphasCumprod[t];
            if (!(a > 0) || !Float.isFinite((1f - a) / a)) {
                throw config.invalid("num_train_timesteps", trainSteps, "a schedule whose sigmas stay finite in "
                        + "float32, but with beta_start " + start + ", beta_end " + end + " (" + schedule
                        + ") alphas_cumprod reaches " + a + " at step " + t);
            }
        }
        return s;
    }

    /** Karras sigmas {@code ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5}, float32 per element. */
    float[] sigmas() {
        float[] s = new float[trainSteps];
        for (int t = 0; t < trainSteps; t++) {
            float a = alphasCumprod[t];
            s[t] = StepMath.sqrt((1f - a) / a);
        }
        return s;
    }

    void describeInto(Map<String, Object> out) {
        out.put("num_train_timesteps", trainSteps);
        out.put("beta_start", betaStart);
        out.put("beta_end", betaEnd);
        out.put("beta_schedule", betaSchedule);
    }

    /** diffusers' {@code betas_for_alpha_bar} with the cosine alpha-bar, max beta 0.999 (float64, then float32). */
    private static float[] cosineBetas(int n) {
        float[] betas = new float[n];
        for (int i = 0; i < n; i++) {
            double t1 = (double) i / n;
            double t2 = (double) (i + 1) / n;
            betas[i] = (float) Math.min(1 - cosineAlphaBar(t2) / cosineAlphaBar(t1), 0.999);
        }
        return betas;
    }

    private static double cosineAlphaBar(double t) {
        double c = Math.cos((t + 0.008) / 1.008 * Math.PI / 2);
        return c * c;
    }

    static float[] toArray(Tensor t) {
        Tensor c = t.to(ScalarType.Float).contiguous();
        float[] out = new float[(int) c.numel()];
        c.data_ptr_float().get(out);
        return out;
    }

    private static Tensor fromArray(float[] values) {
        Tensor t = torch.empty(values.length);
        t.data_ptr_float().put(values);
        return t;
    }
}
