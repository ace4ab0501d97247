package io.ditcache.cli;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.sample.Condition;
import io.ditcache.sample.PromptEmbeddings;
import io.ditcache.report.ProfileReport;
import io.ditcache.report.SummaryTable;
import io.ditcache.sample.Samples;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code profile}: sample, measure redundancy at every site, write the profile and its report. */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = "Profiles a model's step-to-step redundancy; writes profile.json, profile.csv, PNGs and "
                + "report.html.")
final class ProfileCommand implements Callable<Integer> {
    @CommandLine.Mixin
    FramesOption frames = new FramesOption();

    @CommandLine.Mixin
    ComputeTypeOption dtype = new ComputeTypeOption();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    @CommandLine.Mixin
    KindsOption kinds = new KindsOption();

    @Option(names = "--forecast-error", description = "also measure the forecast error: what a first-order "
            + "forecast from steps i-1 and i misses at step i+1, relative to step i (keeps one more activation per "
            + "site)")
    boolean forecastError;

    /** The most steps {@link SamplingOptions} accepts. */
    static final int MAX_STEPS = 10_000;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "diffusers checkpoint directory (default: the embedded model)")
    Path model;

    @Option(names = "--scheduler", description = "ddim, ddpm, dpm++, euler or flowmatch (default: a text model's "
            + "own, from its checkpoint's scheduler config or its family; ddim for a class-label model)")
    String scheduler;

    @Option(names = "--steps", description = "sampling steps, >= 2 (default: a text model's own; 50 for a "
            + "class-label model)")
    Integer steps;

    @Option(names = "--class-labels", split = ",", description = "class labels (default: 0..9, or all classes)")
    List<Integer> classLabels;

    @Option(names = "--embeddings", description = "prompt embeddings for a text model " + TextConditions.FILE_HINT
            + "; the conditions are every prompt with every seed")
    Path embeddings;

    @Option(names = "--seeds", split = ",", defaultValue = "0", description = "noise seeds (default: ${DEFAULT-VALUE})")
    List<Long> seeds;

    @Option(names = "--latents", description = "safetensors file with the initial noise as tensor 'latents'")
    Path latents;

    @Option(names = "--guidance", description = "guidance scale; for classifier-free guidance 1 = none (default: a "
            + "text model's own; " + GenerateCommand.DEFAULT_GUIDANCE + " for a class-label model)")
    Double guidance;

    @Option(names = "--out", defaultValue = "ditcache-report", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    /** The command's defaults for a class-label model. */
    static final SamplingDefaults CLASS_MODEL = new SamplingDefaults("ddim", Map.of(), 50,
            Double.parseDouble(GenerateCommand.DEFAULT_GUIDANCE), SamplingDefaults.Guidance.CLASSIFIER_FREE);

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (steps != null) {
            OptionChecks.count(cl, "--steps", steps, 2, MAX_STEPS, "a profile measures step-to-step change");
        }
        if (guidance != null) {
            OptionChecks.guidance(cl, guidance);
        }
        if (scheduler != null) {
            OptionChecks.scheduler(cl, scheduler);
        }
        OptionChecks.outputDirectory(cl, "--out", out);
        if (latents != null && !Files.isRegularFile(latents)) {
            throw new CommandLine.ParameterException(cl, "--latents " + latents + ": no such file (expected a "
                    + "safetensors file with tensor \"latents\")");
        }
        TextConditions.checkFile(cl, embeddings);
        promptOptions.check(cl, embeddings);
        embeddings = promptOptions.embeddings(cl, "profile", model, embeddings, dtype.type);
        Denoiser dit;
        Optional<Path> schedulerConfig;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            dit = dtype.load(ckpt);
            schedulerConfig = ckpt.schedulerConfig();
        }
        SamplingChoice choice = SamplingChoice.of(dit, schedulerConfig, scheduler, steps, guidance, CLASS_MODEL);
        OptionChecks.count(cl, "--steps", choice.steps(), 2, MAX_STEPS, "a profile measures step-to-step change");
        Scheduler sched = choice.create();
        try (PromptEmbeddings prompts = TextConditions.prepare(cl, dit, ModelSource.name(model), embeddings,
                classLabels != null)) {
            List<Condition> conds;
            String sampled;
            if (prompts != null) {
                sampled = prompts.prompts() + " prompts of " + (promptOptions.given() ? promptOptions.source()
                        : embeddings.getFileName()) + " x " + seedWords(seeds);
                conds = prompts.conditions(seeds, frames.size(cl, dit, prompts, choice.guidance()));
                cl.getErr().println("profile: " + prompts.prompts() + " prompts x " + seeds.size() + " seeds; "
                        + choice.describe(prompts));
            } else {
                frames.size(cl, dit, null, choice.guidance()); // refuses --frames for a class-label model
                int classes = dit.info().classes();
                List<Integer> labels = classLabels != null ? classLabels
                        : IntStream.range(0, Math.min(10, classes)).boxed().toList();
                for (int label : labels) {
                    if (label < 0 || label >= classes) {
                        throw new CommandLine.ParameterException(spec.commandLine(), "--class-labels " + label
                                + ": out of range, this model has classes 0.." + (classes - 1));
                    }
                }
                checkCount(cl, (long) labels.size() * seeds.size(), "--class-labels x --seeds: " + labels.size()
                        + " x " + seeds.size(), dit.latentShape(ClassLabels.of(labels.get(0))));
                conds = SamplingOptions.grid(labels, seeds);
                sampled = (labels.size() == 1 ? "class " : "classes ") + ranges(labels) + " x " + seedWords(seeds);
            }
            // every condition runs in one batch: its noise is one Java array, and its activations sit side by side
            long[] sampleShape = Sampler.latentShape(dit, conds.get(0).conditioning(), choice.guidance());
            if (prompts != null) {
                checkCount(cl, conds.size(), "prompts x --seeds: " + prompts.prompts() + " x " + seeds.size(),
                        sampleShape);
            }
            SamplingOptions options = new SamplingOptions(conds, choice.steps(), choice.guidance());
            OptionChecks.space(cl, "--out", out, OutputSizes.profile(dit, choice.steps()), "the profile, its figures "
                    + "and page");
            Samples noise = latents == null ? null : readLatents(latents, options.conditions().size(), sampleShape);
            PrintWriter o = spec.commandLine().getOut();
            RedundancyProfile profile;
            try (Progress bar = new Progress("profile", "steps", choice.steps(), 0, choice.steps(), 0,
                    Progress.terminal(), Progress.stderr())) {
                profile = Profiling.run(dit, ModelSource.name(model), sched, options, noise,
                        p -> ActivationProbe.onEachStep(p, step -> {
                            bar.step();
                            bar.unitDone("");
                        }), kinds.kinds(), forecastError);
            }
            profile.writeJson(out.resolve("profile.json"));
            profile.writeCsv(out.resolve("profile.csv"));
            ProfileReport.write(profile, out, sampled);
            o.println(SummaryTable.format(profile));
            if (profile.hasNonFinite()) {
                o.println("warning: some distances were NaN or infinite (non-finite activations or 0/0); they are "
                        + "counted in 'nonfinite' and left out of the means");
            }
            o.println("wrote " + out.toAbsolutePath().resolve(ProfileReport.PAGE));
            o.flush();
        }
        return 0;
    }

    /** "seed 0", "seeds 0-3, 7". */
    static String seedWords(List<Long> seeds) {
        return (seeds.size() == 1 ? "seed " : "seeds ") + ranges(seeds);
    }

    /** Numbers in the order given, runs of consecutive ones shortened: "0-9", "1, 3-5". */
    static String ranges(List<? extends Number> values) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < values.size()) {
            long first = values.get(i).longValue();
            int j = i;
            while (j + 1 < values.size() && values.get(j + 1).longValue() == values.get(j).longValue() + 1) {
                j++;
            }
            b.append(b.length() == 0 ? "" : ", ").append(first);
            if (j > i) {
                b.append(j == i + 1 ? ", " : "-").append(values.get(j).longValue());
            }
            i = j + 1;
        }
        return b.toString();
    }

    /** Refuses more conditions than one batch can hold. */
    private static void checkCount(CommandLine cl, long conditions, String what, long[] sampleShape) {
        long elements = Arrays.stream(sampleShape).reduce(1, Math::multiplyExact);
        long most = OptionChecks.maxItems(elements, elements * Float.BYTES);
        if (conditions > most) {
            throw new CommandLine.ParameterException(cl, what + " = " + conditions + " conditions, expected at most "
                    + most + " (" + OptionChecks.itemLimit("condition", elements, elements * Float.BYTES) + ")");
        }
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
