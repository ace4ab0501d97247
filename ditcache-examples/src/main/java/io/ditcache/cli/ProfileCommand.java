package io.ditcache.cli;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.model.ModelLoader;
import io.ditcache.report.ProfileReport;
import io.ditcache.report.SummaryTable;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code profile}: sample, measure redundancy at every site, write the profile and its report. */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "Profiles a model's step-to-step redundancy; writes profile.json, profile.csv, PNGs and "
                + "report.html.")
final class ProfileCommand implements Callable<Integer> {
    /** The most steps {@link SamplingOptions} accepts. */
    static final int MAX_STEPS = 10_000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "diffusers checkpoint directory (default: the embedded model)")
    Path model;

    @Option(names = "--scheduler", defaultValue = "ddim",
            description = "ddim, ddpm, dpm++, euler or flowmatch (default: ${DEFAULT-VALUE})")
    String scheduler;

    @Option(names = "--steps", defaultValue = "50", description = "sampling steps, >= 2 (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--class-labels", split = ",", description = "class labels (default: 0..9, or all classes)")
    List<Integer> classLabels;

    @Option(names = "--seeds", split = ",", defaultValue = "0", description = "noise seeds (default: ${DEFAULT-VALUE})")
    List<Long> seeds;

    @Option(names = "--latents", description = "safetensors file with the initial noise as tensor 'latents'")
    Path latents;

    @Option(names = "--guidance", defaultValue = GenerateCommand.DEFAULT_GUIDANCE,
            description = "classifier-free guidance scale; 1 = none (default: ${DEFAULT-VALUE})")
    double guidance;

    @Option(names = "--out", defaultValue = "ditcache-report", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        OptionChecks.count(cl, "--steps", steps, 2, MAX_STEPS, "a profile measures step-to-step change");
        OptionChecks.guidance(cl, guidance);
        OptionChecks.scheduler(cl, scheduler);
        OptionChecks.outputDirectory(cl, "--out", out);
        if (latents != null && !Files.isRegularFile(latents)) {
            throw new CommandLine.ParameterException(cl, "--latents " + latents + ": no such file (expected a "
                    + "safetensors file with tensor \"latents\")");
        }
        Denoiser dit;
        Optional<Path> schedulerConfig;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            dit = ModelLoader.load(ckpt);
            schedulerConfig = ckpt.schedulerConfig();
        }
        Scheduler sched = schedulerConfig.isPresent() ? Schedulers.fromConfigFile(scheduler, schedulerConfig.get())
                : Schedulers.create(scheduler, Map.of());
        int classes = dit.info().classes();
        if (classes < 1) {
            throw new IllegalArgumentException(ModelSource.name(model) + " (" + dit.info().className()
                    + ") is not class-conditional; profile samples class labels");
        }
        List<Integer> labels = classLabels != null ? classLabels
                : IntStream.range(0, Math.min(10, classes)).boxed().toList();
        for (int label : labels) {
            if (label < 0 || label >= classes) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--class-labels " + label
                        + ": out of range, this model has classes 0.." + (classes - 1));
            }
        }
        // every condition runs in one batch: its noise is one Java array, and its activations sit side by side
        long[] sampleShape = dit.latentShape(ClassLabels.of(labels.get(0)));
        long elements = Arrays.stream(sampleShape).reduce(1, Math::multiplyExact);
        long conditions = (long) labels.size() * seeds.size();
        long most = OptionChecks.maxItems(elements, elements * Float.BYTES);
        if (conditions > most) {
            throw new CommandLine.ParameterException(cl, "--class-labels x --seeds: " + labels.size() + " x "
                    + seeds.size() + " = " + conditions + " conditions, expected at most " + most + " ("
                    + OptionChecks.itemLimit("condition", elements, elements * Float.BYTES) + ")");
        }
        SamplingOptions options = new SamplingOptions(SamplingOptions.grid(labels, seeds), steps, guidance);
        Samples noise = latents == null ? null : readLatents(latents, options.conditions().size(), sampleShape);
        PrintWriter o = spec.commandLine().getOut();
        RedundancyProfile profile;
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("profile").setInitialMax(steps)
                .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(
                        System.err)).build()) {
            profile = Profiling.run(dit, ModelSource.name(model), sched, options, noise,
                    p -> ActivationProbe.onEachStep(p, step -> bar.step()));
        }
        profile.writeJson(out.resolve("profile.json"));
        profile.writeCsv(out.resolve("profile.csv"));
        ProfileReport.write(profile, out);
        o.println(SummaryTable.format(profile));
        if (profile.hasNonFinite()) {
            o.println("warning: some distances were NaN or infinite (non-finite activations or 0/0); they are "
                    + "counted in 'nonfinite' and left out of the means");
        }
        o.println("wrote " + out.toAbsolutePath().resolve(ProfileReport.PAGE));
        o.flush();
        return 0;
    }

    /** Reads {@code --latents}, checked here so that a bad file fails before sampling starts. */
    static Samples readLatents(Path file, int samples, long[] sampleShape) throws java.io.IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            if (!f.contains("latents")) {
                throw new IllegalArgumentException("--latents " + file + ": no tensor \"latents\" (has "
                        + abbreviate(f.names()) + ")");
            }
            long[] shape = f.info("latents").dims();
            if (shape.length != sampleShape.length + 1 || (shape[0] != 1 && shape[0] != samples)
                    || !Arrays.equals(Arrays.copyOfRange(shape, 1, shape.length), sampleShape)) {
                throw new IllegalArgumentException("--latents " + file + ": tensor \"latents\" has shape "
                        + Arrays.toString(shape) + ", expected [" + (samples == 1 ? "1" : "1 or " + samples) + ", "
                        + Arrays.stream(sampleShape).mapToObj(String::valueOf).collect(Collectors.joining(", "))
                        + "]");
            }
            return new Samples(f.floats("latents"), shape);
        }
    }

    /** The first few names, then how many more: a message stays one readable line. */
    static String abbreviate(Collection<String> names) {
        int shown = 5;
        String head = names.stream().limit(shown).collect(Collectors.joining(", "));
        return names.size() <= shown ? head : head + ", ... " + (names.size() - shown) + " more";
    }
}
