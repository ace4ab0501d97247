package io.ditcache.cli;

import io.ditcache.data.ImageSet;
import io.ditcache.model.dit.DefaultDiT;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.train.TrainingOptions;
import io.ditcache.model.dit.train.TrainingRun;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code train}: DDPM training of a class-conditional pixel-space DiT on MNIST-format data. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains a class-conditional DiT (DDPM epsilon objective) on MNIST-format IDX files; "
                + "resumes from OUT/train-state.safetensors when present.")
final class TrainCommand implements Callable<Integer> {
    /** The trained default's layout: 28x28x1 pixels, patch 4, 6 blocks, 4 heads x 32, 10 classes. */
    static final DiTConfig LAYOUT = DefaultDiT.CONFIG;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", required = true,
            description = "folder with train-images-idx3-ubyte and train-labels-idx1-ubyte (.gz accepted)")
    Path data;

    @Option(names = "--out", required = true, description = "run folder: state, loss.csv, model/")
    Path out;

    @Option(names = "--steps", defaultValue = "20000", description = "total optimiser steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--batch", defaultValue = "128", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--lr", defaultValue = "1e-3", description = "AdamW peak learning rate (default: ${DEFAULT-VALUE})")
    double lr;

    @Option(names = "--seed", defaultValue = "0", description = "seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-every", defaultValue = "500",
            description = "steps between checkpoints (default: ${DEFAULT-VALUE})")
    int checkpointEvery;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        OptionChecks.count(cl, "--steps", steps, 1, Long.MAX_VALUE, null);
        long px = (long) LAYOUT.sampleSize() * LAYOUT.sampleSize() * LAYOUT.inChannels();
        // a batch's images are one Java array, beside each image's timestep, label, signal and noise scale
        long bytesPerImage = px * Float.BYTES + 2 * Long.BYTES + 2 * Float.BYTES;
        OptionChecks.count(cl, "--batch", batch, 1, OptionChecks.maxItems(px, bytesPerImage),
                OptionChecks.itemLimit("image", px, bytesPerImage));
        OptionChecks.count(cl, "--checkpoint-every", checkpointEvery, 1, Long.MAX_VALUE, null);
        if (!(lr > 0) || !Double.isFinite(lr)) {
            throw new CommandLine.ParameterException(cl, "--lr " + lr + ": expected a finite number > 0");
        }
        OptionChecks.outputDirectory(cl, "--out", out);
        TrainingOptions base = TrainingOptions.defaults(steps);
        TrainingOptions options;
        try {
            options = new TrainingOptions(steps, batch, lr, base.warmupSteps(), base.weightDecay(), base.emaDecay(),
                    base.classDropout(), seed);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        OptionChecks.space(cl, "--out", out, OutputSizes.training(LAYOUT.parameterCount()), "the train state and "
                + "the model");
        ImageSet train = ImageSet.split(data, true);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "training %s on %d images of %s -> %s%n", LAYOUT, train.size(), data, out);
        o.flush();
        double[] smoothed = {Double.NaN};
        long[] first = {-1};
        TrainingRun.run(LAYOUT, options, train, out, checkpointEvery, (step, loss, seconds) -> {
            first[0] = first[0] < 0 ? step : first[0];
            smoothed[0] = Double.isNaN(smoothed[0]) ? loss : 0.98 * smoothed[0] + 0.02 * loss;
            if (step % 50 == 0 || step == options.steps()) {
                o.printf(Locale.ROOT, "step %d/%d loss %.4f (avg %.4f) %.2f s/step%n", step, options.steps(), loss,
                        smoothed[0], seconds / (step - first[0] + 1));
                o.flush();
            }
        });
        o.println("wrote " + out.resolve(TrainingRun.MODEL).toAbsolutePath());
        return 0;
    }
}
