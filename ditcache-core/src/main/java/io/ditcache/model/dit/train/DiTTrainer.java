package io.ditcache.model.dit.train;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.data.ImageSet;
import io.ditcache.internal.Tensors;
import io.ditcache.io.Messages;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import io.ditcache.sched.Schedulers;
import io.ditcache.train.AdamW;
import io.ditcache.train.TrainingOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Trains a class-conditional DiT with DDPM's epsilon objective ({@code ||eps - model(x_t, t, y)||^2}, t uniform
 * over the 1000 training timesteps, diffusers' default linear betas), AdamW, an EMA of the weights and class
 * dropout. Every random draw of step {@code s} comes from generators seeded by {@code (seed, s)}, so a resumed
 * run continues exactly as an uninterrupted one.
 */
public final class DiTTrainer {
    private static final String STATE_FORMAT = "ditcache-train-state/1";
    private final DiTConfig config;
    private final TrainingOptions options;
    private final DiTModel model;
    private final DiTModel ema;
    private final List<Tensor> params;
    private final List<Tensor> emaParams;
    private final List<String> names;
    private final AdamW adam;
    private final float[] alphasCumprod = Schedulers.alphasCumprod(Map.of());
    private long step;

    /** A fresh run: the DiT paper's initialisation from {@code options.seed()}. */
    public DiTTrainer(DiTConfig config, TrainingOptions options) {
        this.config = config;
        this.options = options;
        this.model = new DiTModel(config);
        DiTInit.paper(model, options.seed());
        model.train(true);
        this.ema = new DiTModel(config);
        Map<String, Tensor> p = model.stateDict();
        Map<String, Tensor> e = ema.stateDict();
        this.names = new ArrayList<>(p.keySet());
        this.params = new ArrayList<>(p.values());
        this.emaParams = new ArrayList<>();
        try (NoGradGuard guard = new NoGradGuard()) {
            for (String n : names) {
                Tensor t = e.get(n);
                t.copy_(p.get(n));
                t.set_requires_grad(false);
                emaParams.add(t);
            }
        }
        this.adam = new AdamW(params);
    }

    public DiTConfig config() {
        return config;
    }

    /** Optimiser steps taken so far. */
    public long step() {
        return step;
    }

    /** The trained weights' moving average: the model to sample from. */
    public DiTModel ema() {
        return ema;
    }

    /** The raw (not averaged) weights being optimised. */
    public DiTModel model() {
        return model;
    }

    /** One optimiser step on a random batch of {@code data}; returns the batch loss. */
    public double trainStep(ImageSet data) {
        if (data.height() != config.sampleSize() || data.width() != config.sampleSize() || config.inChannels() != 1) {
            throw new IllegalArgumentException("images are " + data.height() + "x" + data.width()
                    + " with 1 channel, the model expects " + config.sampleSize() + "x" + config.sampleSize() + " with "
                    + config.inChannels());
        }
        int b = options.batchSize();
        int px = data.height() * data.width();
        SplittableRandom rnd = new SplittableRandom(options.seed() * 0x9E3779B97F4A7C15L + step);
        float[] x0 = new float[b * px];
        long[] t = new long[b];
        long[] y = new long[b];
        float[] signal = new float[b];
        float[] noise = new float[b];
        for (int i = 0; i < b; i++) {
            int k = rnd.nextInt(data.size());
            System.arraycopy(data.pixels(), k * px, x0, i * px, px);
            t[i] = rnd.nextInt(alphasCumprod.length);
            y[i] = rnd.nextDouble() < options.classDropout() ? config.numClasses() : data.labels()[k];
            signal[i] = (float) Math.sqrt(alphasCumprod[(int) t[i]]);
            noise[i] = (float) Math.sqrt(1.0 - alphasCumprod[(int) t[i]]);
        }
        double loss;
        try (PointerScope scope = new PointerScope()) {
            long s = config.sampleSize();
            Tensor clean = Tensors.fromFloats(x0, b, 1, s, s);
            Tensor eps = torch.randn(new long[] {b, 1, s, s},
                    new GeneratorOptional(torch.createCPUGenerator(options.seed() * 31 + step)),
                    new TensorOptions(ScalarType.Float));
            Tensor xt = clean.mul(Tensors.fromFloats(signal, b, 1, 1, 1))
                    .add(eps.mul(Tensors.fromFloats(noise, b, 1, 1, 1)));
            Tensor out = model.forward(xt, Tensors.fromLongs(t, b), Tensors.fromLongs(y, b),
                    Step.conditional(0, 1, 0, b), ActivationProbe.NONE);
            Tensor pred = config.learnedSigma() ? out.narrow(1, 0, config.inChannels()) : out;
            Tensor l = torch.mse_loss(pred, eps);
            l.backward();
            loss = l.item_double();
            adam.step(step + 1, options.learningRate(step), options.weightDecay());
            updateEma();
        }
        step++;
        return loss;
    }

    private void updateEma() {
        // warm-up of the average as in common DiT trainers: early weights are forgotten faster
        double decay = Math.min(options.emaDecay(), (1.0 + step) / (10.0 + step));
        try (NoGradGuard guard = new NoGradGuard()) {
            for (int i = 0; i < params.size(); i++) {
                emaParams.get(i).lerp_(params.get(i), new Scalar(1 - decay));
            }
        }
    }

    /** Writes the EMA weights as a diffusers checkpoint directory. */
    public void saveModel(Path dir, Map<String, String> metadata) throws IOException {
        Map<String, String> md = new LinkedHashMap<>(metadata);
        md.put("format", "pt");
        md.put("training_step", Long.toString(step));
        CheckpointWriter.save(ema, dir, md);
    }

    /** Writes everything a resumed run needs: weights, EMA, optimiser moments and the step. */
    public void saveState(Path file) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", STATE_FORMAT)
                .metadata("step", Long.toString(step)).metadata("config", config.toString());
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            w.put("param." + n, params.get(i)).put("ema." + n, emaParams.get(i))
                    .put("adam_m." + n, adam.firstMoment(i)).put("adam_v." + n, adam.secondMoment(i));
        }
        w.write(file);
    }

    /** Continues a run from {@link #saveState} output. */
    public static DiTTrainer resume(DiTConfig config, TrainingOptions options, Path file) throws IOException {
        DiTTrainer t = new DiTTrainer(config, options);
        try (SafetensorsFile f = SafetensorsFile.open(file); NoGradGuard guard = new NoGradGuard()) {
            if (!STATE_FORMAT.equals(f.metadata().get("format"))) {
                throw new IOException(file + ": metadata format is " + f.metadata().get("format") + ", expected "
                        + STATE_FORMAT);
            }
            if (!config.toString().equals(f.metadata().get("config"))) {
                throw new IOException(file + ": state is for " + f.metadata().get("config") + ", not " + config);
            }
            for (int i = 0; i < t.names.size(); i++) {
                String n = t.names.get(i);
                t.params.get(i).copy_(f.load("param." + n));
                t.emaParams.get(i).copy_(f.load("ema." + n));
                t.adam.firstMoment(i).copy_(f.load("adam_m." + n));
                t.adam.secondMoment(i).copy_(f.load("adam_v." + n));
            }
            t.step = Long.parseLong(f.metadata().get("step"));
        } catch (IllegalArgumentException e) {
            throw new IOException(Messages.oneLine(file + ": " + e.getMessage()), e);
        }
        return t;
    }
}
