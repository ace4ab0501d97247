package io.ditcache.cli;

import io.ditcache.BlockLayout;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.bench.SegmentCalibration;
import io.ditcache.bench.Shootout;
import io.ditcache.bench.ShootoutCase;
import io.ditcache.io.Checkpoint;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.model.ModelLoader;
import io.ditcache.policy.SegmentErrors;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import io.ditcache.report.ShootoutReport;
import io.ditcache.sample.Condition;
import io.ditcache.sample.PromptEmbeddings;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.StepSensitivity;
import io.ditcache.study.Profiling;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bench}: the cache-policy shootout on one model. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measures every cache policy over a sweep of its parameter against uncached sampling: speedup "
                + "(interleaved, median of repeats), skipped fraction, PSNR (all pixels; per sample: median and 10th "
                + "percentile, with bootstrap intervals)/SSIM/max error against uncached samples, the share of samples "
                + "whose class changed, class accuracy and FD (a text model: fidelity of the final latents; no class "
                + "accuracy or FD); writes shootout.csv, shootout.json, pareto.png, report.html.")
final class BenchCommand implements Callable<Integer> {
    @CommandLine.Mixin
    FramesOption frames = new FramesOption();

    @CommandLine.Mixin
    ComputeTypeOption dtype = new ComputeTypeOption();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    /** Seeds of the calibration profile start here, apart from the measured samples' seeds. */
    static final long CALIBRATION_SEED = 1_000_000L;
    /** Samples of a class-label model by default: per-sample figures and their intervals need about 100. */
    static final int DEFAULT_SAMPLES = 100;
    /** The most timed runs per setting: far more than a stable median needs, small enough to count runs in an int. */
    static final int MAX_REPEATS = 1000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "diffusers checkpoint directory (default: the embedded model)")
    Path model;

    @Option(names = "--steps", description = "sampling steps (default: a text model's own; 50 for a class-label "
            + "model)")
    Integer stepsOption;

    @Option(names = "--samples", description = "samples, classes (or prompts) in turn (default: "
            + BenchCommand.DEFAULT_SAMPLES + ", enough to rank policies by per-sample fidelity; for a text model one "
            + "per prompt, at least 2)")
    Integer samplesOption;

    @Option(names = "--scheduler", description = "scheduler (default: a text model's own, from its checkpoint's "
            + "scheduler config or its family; ddim for a class-label model)")
    String scheduler;

    @Option(names = "--guidance", description = "guidance scale (default: a text model's own; "
            + GenerateCommand.DEFAULT_GUIDANCE + " for a class-label model)")
    Double guidanceOption;

    @Option(names = "--embeddings", description = "prompt embeddings for a text model " + TextConditions.FILE_HINT
            + "; sample i is prompt i mod prompts, seed i; fidelity is measured on the final latents")
    Path embeddings;

    @Option(names = "--repeats", defaultValue = "3", description = "timed runs per setting (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--batch", defaultValue = "50", description = "samples per sampling call (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--policies", split = ",", description = "policy families to run (default: all: "
            + "fora, delta-dit, pab, fbcache, dbcache, teacache, magcache, taylorseer, profile-guided, "
            + "profile-guided+taylor1; on request also profile-guided+taylor2, profile-guided-block, "
            + "profile-guided-parts, lemica and lemica+taylor1, which first calibrate on 4 conditions with one run "
            + "per segment of up to 5 steps, writing lemica-segments.json, lemica+taylor1-segments.json)")
    List<String> policies;

    @Option(names = "--profile", description = "calibration profile.json for TeaCache, MagCache and profile-guided, "
            + "made at the same step count (default: profiled here from 10 conditions with other seeds)")
    Path profile;

    @Option(names = "--out", required = true, description = "output folder")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (stepsOption != null) {
            OptionChecks.count(cl, "--steps", stepsOption, 3, ProfileCommand.MAX_STEPS, null);
        }
        if (samplesOption != null) {
            OptionChecks.count(cl, "--samples", samplesOption, 2, OptionChecks.ARRAY_LIMIT, "the Fréchet distance "
                    + "needs a covariance");
        }
        OptionChecks.count(cl, "--repeats", repeats, 1, MAX_REPEATS, "each repeat times every setting twice");
        OptionChecks.count(cl, "--batch", batch, 1, Long.MAX_VALUE, null);
        if (guidanceOption != null) {
            OptionChecks.guidance(cl, guidanceOption);
        }
        if (scheduler != null) {
            OptionChecks.scheduler(cl, scheduler);
        }
        OptionChecks.outputDirectory(cl, "--out", out);
        if (profile != null && !java.nio.file.Files.isRegularFile(profile)) {
            throw new CommandLine.ParameterException(cl, "--profile " + profile + ": no such file (expected a "
                    + "profile.json from 'profile')");
        }
        TextConditions.checkFile(cl, embeddings);
        promptOptions.check(cl, embeddings);
        List<String> families = policies == null ? PolicySweeps.names() : policies;
        for (String f : families) {
            if (!PolicySweeps.known().contains(f)) {
                throw new CommandLine.ParameterException(cl, "--policies " + f + ": unknown, expected some of "
                        + PolicySweeps.known());
            }
        }
        PrintWriter o = cl.getOut();
        embeddings = promptOptions.embeddings(cl, "bench", model, embeddings, dtype.type);
        Denoiser dit;
        Optional<Path> schedulerConfig;
        BlockLayout layout;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            dit = dtype.load(ckpt);
            schedulerConfig = ckpt.schedulerConfig();
            layout = ModelLoader.describe(ckpt.config()).layout();
        }
        SamplingChoice choice = SamplingChoice.of(dit, schedulerConfig, scheduler, stepsOption, guidanceOption,
                ProfileCommand.CLASS_MODEL);
        int steps = choice.steps();
        double guidance = choice.guidance();
        OptionChecks.count(cl, "--steps", steps, 3, ProfileCommand.MAX_STEPS, null);
        try (PromptEmbeddings prompts = TextConditions.prepare(cl, dit, ModelSource.name(model), embeddings, false)) {
            int samples = samplesOption != null ? samplesOption : prompts != null ? Math.max(2, prompts.prompts())
                    : DEFAULT_SAMPLES;
            // the uncached samples and those of one case are held at once, each sample in one shared Java array
            Optional<LatentSize> size = frames.size(cl, dit, prompts, guidance);
            long[] shape = prompts != null ? Sampler.latentShape(dit, prompts.prompt(0, size), guidance)
                    : classShape(dit);
            io.ditcache.bench.PixelFidelity.Decoder decoder = prompts != null ? pictures(shape) : null;
            long elements = java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
            long bytesPerSample = 2 * elements * Float.BYTES;
            OptionChecks.count(cl, "--samples", samples, 2, OptionChecks.maxItems(elements, bytesPerSample),
                    OptionChecks.itemLimit("sample", elements, bytesPerSample));
            Supplier<Scheduler> schedulers = choice::create;
            OptionChecks.space(cl, "--out", out, OutputSizes.BYTES_PER_PAGE + 2 * OutputSizes.BYTES_PER_FIGURE,
                    "the tables, the chart and the page");
            if (prompts != null) {
                cl.getErr().println("bench: " + samples + " samples of " + prompts.prompts() + " prompts; "
                        + choice.describe(prompts));
            }
            RedundancyProfile calibration;
            List<Condition> calib = new ArrayList<>();
            if (prompts != null) {
                for (int p = 0; p < Math.min(10, prompts.prompts()); p++) {
                    calib.add(prompts.condition(p, CALIBRATION_SEED + p, size));
                }
            } else {
                List<Integer> labels = IntStream.range(0, Math.min(10, dit.info().classes())).boxed().toList();
                calib = SamplingOptions.grid(labels, List.of(CALIBRATION_SEED));
            }
            if (profile != null) {
                calibration = RedundancyProfile.readJson(profile);
                if (calibration.steps() != steps || calibration.layers() != dit.layers()) {
                    throw new CommandLine.ParameterException(cl, "--profile " + profile + ": " + calibration.layers()
                            + " layers x " + calibration.steps() + " steps, expected " + dit.layers() + " x " + steps);
                }
            } else {
                long start = System.nanoTime();
                // with the forecast error: the profile-guided planner charges its forecasts by it
                calibration = Profiling.run(dit, ModelSource.name(model), schedulers.get(),
                        new SamplingOptions(calib, steps, guidance), null, UnaryOperator.identity(),
                        EnumSet.allOf(SiteKind.class), true);
                o.printf("calibration: profile of %d conditions, 1 run, %.1f s%n", calib.size(),
                        (System.nanoTime() - start) / 1e9);
            }
            Map<String, SegmentErrors> segments = new LinkedHashMap<>();
            for (String f : families) {
                if (PolicySweeps.lemica(f) && !segments.containsKey(f)) {
                    segments.put(f, lemica(f, new SamplingOptions(calib.subList(0, Math.min(
                            PolicySweeps.LEMICA_CONDITIONS, calib.size())), steps, guidance), dit, schedulers, o));
                }
            }
            // an error at a step counts as much as that step's output moves the final sample
            double[] weights = StepSensitivity.of(schedulers, steps, dit.imageTokens(shape));
            List<ShootoutCase> cases = new ArrayList<>();
            for (String f : families) {
                try {
                    cases.addAll(PolicySweeps.cases(f, calibration, steps, layout, weights, segments.get(f)));
                } catch (IllegalArgumentException e) {
                    // a calibration the policies cannot use: name the file it came from
                    throw profile == null ? e : new IllegalArgumentException("--profile " + profile + ": " + f + ": "
                            + e.getMessage(), e);
                }
            }
            Shootout.Settings settings = new Shootout.Settings(steps, samples, guidance, 0, Math.min(batch, samples),
                    repeats, 1);
            Shootout.Result result;
            boolean digits = prompts == null && java.util.Arrays.equals(shape, new long[] {1, DigitClassifier.SIZE,
                    DigitClassifier.SIZE}) && dit.info().classes() >= DigitClassifier.CLASSES;
            Progress[] bar = new Progress[1];
            try (DigitClassifier classifier = digits ? DigitClassifier.loadDefault() : null) {
                Shootout.Listener listener = new Shootout.Listener() {
                    @Override
                    public void planned(int runs) {
                        if (bar[0] == null) {
                            bar[0] = new Progress("bench", "runs", runs, 0, runs, 0, Progress.terminal(),
                                    Progress.stderr());
                        } else {
                            bar[0].grow(runs, runs); // rows re-measured
                        }
                    }

                    @Override
                    public void runDone(String what) {
                        if (bar[0] != null) {
                            bar[0].step();
                            bar[0].unitDone(what);
                        }
                    }
                };
                if (prompts != null) {
                    List<Condition> conds = new ArrayList<>();
                    for (int i = 0; i < samples; i++) {
                        conds.add(prompts.condition(i % prompts.prompts(), i, size));
                    }
                    result = Shootout.run(dit, schedulers, settings, conds, Shootout.Fidelity.LATENTS, cases,
                            listener, decoder);
                } else {
                    Shootout.Judge judge = digits ? new Shootout.Judge(classifier, ReferenceFeatures.loadDefault())
                            : null;
                    result = Shootout.run(dit, schedulers, settings, cases, judge, listener);
                }
            } finally {
                if (bar[0] != null) {
                    bar[0].close();
                }
            }
            Path page = ShootoutReport.write(result, out);
            o.print(ShootoutReport.format(result));
            o.println("wrote " + page.toAbsolutePath() + " and " + ShootoutReport.CSV);
            o.flush();
        }
        return 0;
    }

    /**
     * For a text-to-image pipeline folder with a VAE, the decoder of the shootout's fidelity on pictures; null
     * otherwise (a transformer folder, a video family).
     */
    private io.ditcache.bench.PixelFidelity.Decoder pictures(long[] shape) throws java.io.IOException {
        if (!ModelSource.pipeline(model)) {
            return null;
        }
        io.ditcache.model.pipeline.PipelineFolder p = io.ditcache.model.pipeline.PipelineFolder.open(model);
        if (!io.ditcache.model.pipeline.PipelineImages.decodes(p, shape)) {
            return null;
        }
        io.ditcache.model.pipeline.PipelineImages.check(p, shape);
        io.ditcache.model.pipeline.PipelineImages.LatentDecoder vae =
                io.ditcache.model.pipeline.PipelineImages.decoder(p, dtype.type, shape);
        return (latents, samples) -> {
            io.ditcache.model.pipeline.PipelineImages.Pictures d = vae.decode(latents, samples);
            return new io.ditcache.bench.PixelFidelity.Pictures(d.values(), d.channels(), d.height(), d.width());
        };
    }

    /**
     * The calibration of a LeMiCa family: the measured error of caching each candidate segment with the family's
     * approximation, written to {@link #segmentsFile} with what it cost (runs, seconds), and its cost printed.
     */
    private SegmentErrors lemica(String family, SamplingOptions options, Denoiser dit, Supplier<Scheduler> schedulers,
            PrintWriter o) throws java.io.IOException {
        Progress[] bar = new Progress[1];
        SegmentCalibration.Result r;
        try {
            r = SegmentCalibration.measure(dit, schedulers, options, PolicySweeps.lemicaMaxSegment(options.steps()),
                    PolicySweeps.approximation(family), ModelSource.name(model), new SegmentCalibration.Listener() {
                        @Override
                        public void planned(int runs) {
                            bar[0] = new Progress(family + " calibration", "runs", runs, 0, runs, 0,
                                    Progress.terminal(), Progress.stderr());
                        }

                        @Override
                        public void runDone() {
                            bar[0].step();
                        }
                    });
        } finally {
            if (bar[0] != null) {
                bar[0].close();
            }
        }
        SegmentErrors e = r.errors();
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", "ditcache-segment-errors/1");
        root.put("policy", family);
        root.put("approximation", PolicySweeps.approximation(family).toString());
        root.put("source", e.source());
        root.put("steps", e.steps());
        root.put("max_segment", e.maxLength());
        root.put("conditions", options.conditions().size());
        root.put("guidance", options.guidance());
        root.put("runs", r.runs());
        root.put("seconds", r.seconds());
        root.put("error", "relative L1 of the final samples against uncached, caching only steps from+1..to-1");
        List<Map<String, Object>> rows = new ArrayList<>();
        for (int[] c : SegmentErrors.candidates(e.steps(), e.maxLength())) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("from", c[0]);
            row.put("to", c[1]);
            row.put("error", e.error(c[0], c[1]));
            rows.add(row);
        }
        root.put("segments", rows);
        String file = segmentsFile(family);
        io.ditcache.io.AtomicFiles.writeString(out.resolve(file),
                new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter()
                        .writeValueAsString(root) + "\n");
        o.printf("calibration: %s, %d conditions, %d runs of %d steps, %.1f s (%s)%n", family,
                options.conditions().size(), r.runs(), options.steps(), r.seconds(), file);
        return e;
    }

    /** Where a LeMiCa family's measured segment errors are written: {@code lemica-segments.json}, ... */
    static String segmentsFile(String family) {
        return family + "-segments.json";
    }

    /** A class-label model's sample shape. */
    private long[] classShape(Denoiser dit) {
        if (dit.info().classes() < 1) {
            throw new IllegalArgumentException(ModelSource.name(model) + " (" + dit.info().className()
                    + ") is not class-conditional; bench samples class labels");
        }
        return dit.latentShape(ClassLabels.of(0));
    }
}
