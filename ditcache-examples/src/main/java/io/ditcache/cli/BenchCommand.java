package io.ditcache.cli;

import io.ditcache.RedundancyProfile;
import io.ditcache.bench.Shootout;
import io.ditcache.bench.ShootoutCase;
import io.ditcache.io.Checkpoint;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.model.ModelLoader;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import io.ditcache.report.ShootoutReport;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench}: the cache-policy shootout on one model. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measures every cache policy over a sweep of its parameter against uncached sampling: speedup "
                + "(interleaved, median of repeats), skipped fraction, PSNR/SSIM/max error against uncached "
                + "samples, class accuracy and FD; writes shootout.csv, shootout.json, pareto.png, report.html.")
final class BenchCommand implements Callable<Integer> {
    /** Seeds of the calibration profile start here, apart from the measured samples' seeds. */
    static final long CALIBRATION_SEED = 1_000_000L;
    /** The most timed runs per setting: far more than a stable median needs, small enough to count runs in an int. */
    static final int MAX_REPEATS = 1000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "diffusers checkpoint directory (default: the embedded model)")
    Path model;

    @Option(names = "--steps", defaultValue = "50", description = "sampling steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--samples", defaultValue = "20", description = "samples, classes in turn (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--scheduler", defaultValue = "ddim", description = "scheduler (default: ${DEFAULT-VALUE})")
    String scheduler;

    @Option(names = "--guidance", defaultValue = GenerateCommand.DEFAULT_GUIDANCE,
            description = "classifier-free guidance scale (default: ${DEFAULT-VALUE})")
    double guidance;

    @Option(names = "--repeats", defaultValue = "3", description = "timed runs per setting (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--batch", defaultValue = "50", description = "samples per sampling call (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--policies", split = ",", description = "policy families to run (default: all: "
            + "fora, delta-dit, pab, fbcache, dbcache, teacache, magcache, taylorseer, profile-guided, "
            + "profile-guided+taylor1)")
    List<String> policies;

    @Option(names = "--profile", description = "calibration profile.json for TeaCache, MagCache and profile-guided, "
            + "made at the same step count (default: profiled here from 10 conditions with other seeds)")
    Path profile;

    @Option(names = "--out", required = true, description = "output folder")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        OptionChecks.count(cl, "--steps", steps, 3, ProfileCommand.MAX_STEPS, null);
        OptionChecks.count(cl, "--samples", samples, 2, OptionChecks.ARRAY_LIMIT, "the Fréchet distance needs a "
                + "covariance");
        OptionChecks.count(cl, "--repeats", repeats, 1, MAX_REPEATS, "each repeat times every setting twice");
        OptionChecks.count(cl, "--batch", batch, 1, Long.MAX_VALUE, null);
        OptionChecks.guidance(cl, guidance);
        OptionChecks.scheduler(cl, scheduler);
        OptionChecks.outputDirectory(cl, "--out", out);
        if (profile != null && !java.nio.file.Files.isRegularFile(profile)) {
            throw new CommandLine.ParameterException(cl, "--profile " + profile + ": no such file (expected a "
                    + "profile.json from 'profile')");
        }
        List<String> families = policies == null ? PolicySweeps.names() : policies;
        for (String f : families) {
            if (!PolicySweeps.known().contains(f)) {
                throw new CommandLine.ParameterException(cl, "--policies " + f + ": unknown, expected some of "
                        + PolicySweeps.known());
            }
        }
        PrintWriter o = cl.getOut();
        Denoiser dit;
        Optional<Path> schedulerConfig;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            dit = ModelLoader.load(ckpt);
            schedulerConfig = ckpt.schedulerConfig();
        }
        // the uncached samples and those of one case are held at once, each sample in one shared Java array
        int classes = dit.info().classes();
        if (classes < 1) {
            throw new IllegalArgumentException(ModelSource.name(model) + " (" + dit.info().className()
                    + ") is not class-conditional; bench samples class labels");
        }
        long[] shape = dit.latentShape(ClassLabels.of(0));
        long elements = java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
        long bytesPerSample = 2 * elements * Float.BYTES;
        OptionChecks.count(cl, "--samples", samples, 2, OptionChecks.maxItems(elements, bytesPerSample),
                OptionChecks.itemLimit("sample", elements, bytesPerSample));
        Map<String, Object> schedConfig = schedulerConfig.isPresent() ? Schedulers.readConfig(schedulerConfig.get())
                : Map.of();
        Supplier<Scheduler> schedulers = () -> Schedulers.create(scheduler, schedConfig);
        RedundancyProfile calibration;
        if (profile != null) {
            calibration = RedundancyProfile.readJson(profile);
            if (calibration.steps() != steps || calibration.layers() != dit.layers()) {
                throw new CommandLine.ParameterException(cl, "--profile " + profile + ": " + calibration.layers()
                        + " layers x " + calibration.steps() + " steps, expected " + dit.layers() + " x " + steps);
            }
        } else {
            List<Integer> labels = IntStream.range(0, Math.min(10, classes)).boxed().toList();
            SamplingOptions calib = new SamplingOptions(SamplingOptions.grid(labels, List.of(CALIBRATION_SEED)), steps,
                    guidance);
            calibration = Profiling.run(dit, ModelSource.name(model), schedulers.get(), calib, null);
        }
        List<ShootoutCase> cases = new ArrayList<>();
        for (String f : families) {
            try {
                cases.addAll(PolicySweeps.cases(f, calibration, steps));
            } catch (IllegalArgumentException e) {
                // a calibration the policies cannot use: name the file it came from
                throw profile == null ? e : new IllegalArgumentException("--profile " + profile + ": " + f + ": "
                        + e.getMessage(), e);
            }
        }
        boolean digits = java.util.Arrays.equals(shape, new long[] {1, DigitClassifier.SIZE, DigitClassifier.SIZE})
                && classes >= DigitClassifier.CLASSES;
        Shootout.Settings settings = new Shootout.Settings(steps, samples, guidance, 0, Math.min(batch, samples),
                repeats, 1);
        Shootout.Result result;
        try (DigitClassifier classifier = digits ? DigitClassifier.loadDefault() : null;
                ProgressBar bar = new ProgressBarBuilder().setTaskName("bench").setInitialMax(1)
                        .setStyle(ProgressBarStyle.ASCII).setConsumer(new ConsoleProgressBarConsumer(System.err))
                        .build()) {
            Shootout.Judge judge = digits ? new Shootout.Judge(classifier, ReferenceFeatures.loadDefault()) : null;
            result = Shootout.run(dit, schedulers, settings, cases, judge, new Shootout.Listener() {
                @Override
                public void planned(int runs) {
                    bar.maxHint(runs);
                }

                @Override
                public void runDone(String what) {
                    bar.step();
                    bar.setExtraMessage(what);
                }
            });
        }
        Path page = ShootoutReport.write(result, out);
        o.print(ShootoutReport.format(result));
        o.println("wrote " + page.toAbsolutePath() + " and " + ShootoutReport.CSV);
        o.flush();
        return 0;
    }
}
