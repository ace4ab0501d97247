package io.ditcache.sched;

import static io.ditcache.sched.StepMath.times;

import java.util.Map;
import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code CogVideoXDDIMScheduler} (eta ignored, as diffusers' {@code step} ignores it).
 *
 * <p>Keys (diffusers' defaults): {@code num_train_timesteps} 1000, {@code beta_start} 0.00085, {@code beta_end}
 * 0.012, {@code beta_schedule} scaled_linear (float64, as diffusers) or linear (float32), {@code prediction_type}
 * epsilon | sample | v_prediction, {@code snr_shift_scale} 3 ({@code ac / (s + (1 - s) ac)}, applied first),
 * {@code rescale_betas_zero_snr} false (then the zero-terminal-SNR rescale of {@code sqrt(ac)}),
 * {@code set_alpha_to_one} true, {@code timestep_spacing} leading | linspace | trailing, {@code steps_offset} 0,
 * {@code clip_sample} (diffusers' step never clips: any value is accepted and ignored). {@code alphas_cumprod}
 * stay float64 as in diffusers.
 *
 * <p>Step: {@code prev_t = t - num_train_timesteps // steps} (not the next timestep of the list),
 * {@code a_t = sqrt((1 - ac_prev) / (1 - ac_t))}, {@code b_t = sqrt(ac_prev) - sqrt(ac_t) a_t},
 * {@code prev = a_t x + b_t x0}; {@code ac_prev} is the final alpha when {@code prev_t < 0}.
 */
final class CogVideoXDdimScheduler extends AbstractScheduler {
    private final int trainSteps;
    private final double betaStart;
    private final double betaEnd;
    private final String betaSchedule;
    private final double snrShiftScale;
    private final boolean rescale;
    private final boolean setAlphaToOne;
    private final Prediction prediction;
    private final TimestepSpacing spacing;
    private final int stepsOffset;
    private final double[] alphasCumprod;
    private final double finalAlphaCumprod;

    CogVideoXDdimScheduler(SchedulerConfig config) {
        super("cogvideox-ddim");
        config.requireAbsent("trained_betas");
        trainSteps = config.trainTimesteps();
        betaStart = config.positive("beta_start", 0.00085);
        betaEnd = config.positive("beta_end", 0.012);
        if (betaStart >= 1) {
            throw config.invalid("beta_start", betaStart, "a number in (0, 1)");
        }
        if (betaEnd >= 1) {
            throw config.invalid("beta_end", betaEnd, "a number in (0, 1)");
        }
        betaSchedule = config.choice("beta_schedule", "scaled_linear", "linear", "scaled_linear");
        snrShiftScale = config.positive("snr_shift_scale", 3.0);
        rescale = config.flag("rescale_betas_zero_snr", false);
        setAlphaToOne = config.flag("set_alpha_to_one", true);
        prediction = Prediction.read(config);
        spacing = TimestepSpacing.read(config, TimestepSpacing.LEADING);
        stepsOffset = config.integerAtLeast("steps_offset", 0, 0);
        config.flag("clip_sample", true);
        alphasCumprod = alphasCumprod();
        finalAlphaCumprod = setAlphaToOne ? 1.0 : alphasCumprod[0];
        if (rescale && prediction == Prediction.EPSILON) {
            throw config.invalid("prediction_type", "epsilon", "v_prediction or sample with rescale_betas_zero_snr "
                    + "(the last timestep has alphas_cumprod 0, where an epsilon prediction divides by 0)");
        }
    }

    /** diffusers' table: betas, cumprod, the SNR shift, then the optional zero-terminal-SNR rescale. */
    private double[] alphasCumprod() {
        try (PointerScope scope = new PointerScope()) {
            boolean scaled = betaSchedule.equals("scaled_linear");
            TensorOptions opts = new TensorOptions(scaled ? ScalarType.Double : ScalarType.Float);
            Tensor betas = scaled
                    ? torch.linspace(new Scalar(Math.sqrt(betaStart)), new Scalar(Math.sqrt(betaEnd)), trainSteps,
                            opts).pow(new Scalar(2))
                    : torch.linspace(new Scalar(betaStart), new Scalar(betaEnd), trainSteps, opts);
            Tensor ac = torch.cumprod(betas.neg().add(new Scalar(1.0)), 0);
            ac = ac.div(ac.mul(new Scalar(1 - snrShiftScale)).add(new Scalar(snrShiftScale)));
            if (rescale) {
                Tensor s = ac.sqrt();
                Tensor s0 = s.select(0, 0).clone();
                Tensor sT = s.select(0, trainSteps - 1).clone();
                s = s.sub(sT).mul(s0.div(s0.sub(sT)));
                ac = s.pow(new Scalar(2));
            }
            Tensor d = ac.to(ScalarType.Double).contiguous();
            double[] out = new double[trainSteps];
            d.data_ptr_double().get(out);
            return out;
        }
    }

    @Override
    public void setTimesteps(int numInferenceSteps) {
        prepare(spacing.integerTimesteps(trainSteps, numInferenceSteps, stepsOffset, name()), null);
    }

    @Override
    public Tensor step(Tensor modelOutput, int stepIndex, Tensor sample, Supplier<Tensor> noise) {
        checkStep(stepIndex, modelOutput, sample);
        int t = (int) prepared()[stepIndex];
        int prevT = t - trainSteps / prepared().length;
        double acT = alphasCumprod[t];
        double acPrev = prevT >= 0 ? alphasCumprod[prevT] : finalAlphaCumprod;
        double at = Math.sqrt((1 - acPrev) / (1 - acT));
        double bt = Math.sqrt(acPrev) - Math.sqrt(acT) * at;
        return StepMath.owned(() -> {
            Tensor x = StepMath.float32(sample);
            Tensor out = StepMath.float32(modelOutput);
            Tensor x0 = prediction.originalSample(out, x, (float) Math.sqrt(acT), (float) Math.sqrt(1 - acT));
            Tensor prev = times(x, (float) at).add(times(x0, (float) bt));
            return StepMath.dtypeOf(prev, modelOutput);
        });
    }

    /** diffusers' {@code alphas_cumprod} (float64). */
    double[] alphasCumprodTable() {
        return alphasCumprod.clone();
    }

    @Override
    public Map<String, Object> describe() {
        Map<String, Object> d = describeHead("CogVideoXDDIMScheduler");
        d.put("num_train_timesteps", trainSteps);
        d.put("beta_start", betaStart);
        d.put("beta_end", betaEnd);
        d.put("beta_schedule", betaSchedule);
        d.put("prediction_type", prediction.key);
        d.put("timestep_spacing", spacing.key);
        d.put("steps_offset", stepsOffset);
        d.put("set_alpha_to_one", setAlphaToOne);
        d.put("rescale_betas_zero_snr", rescale);
        d.put("snr_shift_scale", snrShiftScale);
        return d;
    }
}
