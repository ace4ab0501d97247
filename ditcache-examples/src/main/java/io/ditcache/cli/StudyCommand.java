package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.report.StudyReport;
import io.ditcache.sample.Condition;
import io.ditcache.sample.PromptEmbeddings;
import io.ditcache.report.StudySummary;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.RunKey;
import io.ditcache.study.Shard;
import io.ditcache.study.Study;
import io.ditcache.study.StudyFolderLock;
import io.ditcache.study.StudyModel;
import io.ditcache.study.StudyPlan;
import io.ditcache.study.StudyRunner;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code study}: the paper's stability study as one sweep over models, conditions, step counts and schedulers.
 *
 * <p>One process at a time works in a study folder ({@link StudyFolderLock}): a second {@code study} or
 * {@code merge} on the same {@code --out} exits at once with status 1 and one line naming the folder and the
 * holder's pid. The claim ends with its process, however it ends, so a killed study resumes with the same command.
 */
@Command(name = "study", mixinStandardHelpOptions = true,
        description = "Sweeps conditions x step counts x schedulers (x models), profiling every run; writes "
                + "study.json, CSV tables, per-group profiles and report.html. Resumes an interrupted sweep in the "
                + "same --out; --shard i/n runs every n-th condition, 'merge' combines shards. A folder another study is "
                + "working in is refused (exit 1).")
final class StudyCommand implements Callable<Integer> {
    @CommandLine.Mixin
    FramesOption frames = new FramesOption();

    @CommandLine.Mixin
    ComputeTypeOption dtype = new ComputeTypeOption();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    /** The word that names the embedded model in {@code --model}. */
    static final String DEFAULT_WORD = "default";
    /** The schedulers a study compares by default, for models trained with DDPM's objective. */
    static final String DEFAULT_SCHEDULERS = "ddim,dpm++,euler";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    KindsOption kinds = new KindsOption();

    @Option(names = "--model", description = "diffusers checkpoint directory; repeat for a cross-model study; the "
            + "word 'default' names the embedded model (default: the embedded model)")
    List<String> models;

    @Option(names = "--conditions", defaultValue = "10",
            description = "conditions: condition c samples class c mod classes from seed c (default: ${DEFAULT-VALUE})")
    int conditions;

    @Option(names = "--steps", split = ",", defaultValue = "10,20,50",
            description = "step counts, each >= 3 (default: ${DEFAULT-VALUE})")
    List<Integer> steps;

    @Option(names = "--schedulers", split = ",", description = "schedulers the models' training objective allows "
            + "(default: " + DEFAULT_SCHEDULERS + " where every model allows them, else flowmatch)")
    List<String> schedulers;

    @Option(names = "--guidance", description = "guidance scale; for classifier-free guidance 1 = none (default: "
            + GenerateCommand.DEFAULT_GUIDANCE + " for class-label models; the text models' own where they agree)")
    Double guidanceOption;

    @Option(names = "--embeddings", description = "prompt embeddings for the text models " + TextConditions.FILE_HINT
            + "; condition c is prompt c mod prompts with seed c; give one for every text model (in --model order) "
            + "or one for all")
    List<Path> embeddings;

    @Option(names = "--shard", defaultValue = "1/1", description = "run every n-th condition: i/n (default: ${DEFAULT-VALUE})")
    String shard;

    @Option(names = "--out", required = true, description = "study folder (resumed when it holds this study)")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (guidanceOption != null) {
            OptionChecks.guidance(cl, guidanceOption);
        }
        OptionChecks.outputDirectory(cl, "--out", out);
        OptionChecks.count(cl, "--conditions", conditions, 1, StudyPlan.MAX_CONDITIONS, null);
        for (int n : steps) {
            OptionChecks.count(cl, "--steps", n, 3, 10_000, "the normalised step axis needs two transitions");
        }
        for (String s : schedulers == null ? List.<String>of() : schedulers) {
            if (!Schedulers.names().contains(s)) {
                throw new CommandLine.ParameterException(cl, "--schedulers " + s + ": unknown, expected some of "
                        + Schedulers.names());
            }
        }
        Shard part;
        try {
            part = Shard.parse(shard);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--shard " + shard + ": expected i/n with 1 <= i <= n, "
                    + "for example 2/4");
        }
        for (Path e : embeddings == null ? List.<Path>of() : embeddings) {
            TextConditions.checkFile(cl, e);
        }
        promptOptions.check(cl, embeddings);
        List<StudyModel> described = new ArrayList<>();
        List<Denoiser> loaded = new ArrayList<>();
        List<IntFunction<Condition>> makers = new ArrayList<>();
        List<PromptEmbeddings> opened = new ArrayList<>();
        List<SamplingChoice> choices = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        int textModels = 0;
        try {
            for (String m : models == null ? List.of(DEFAULT_WORD) : models) {
                Path dir = m.equals(DEFAULT_WORD) && !Files.exists(Path.of(m)) ? null : Path.of(m);
                Denoiser dit;
                Optional<Path> schedulerFile;
                try (Checkpoint ckpt = ModelSource.open(dir)) {
                    dit = dtype.load(ckpt);
                    schedulerFile = ckpt.schedulerConfig();
                }
                String label = StudyModel.labelFor(modelName(dir));
                for (int i = 2; !labels.add(label); i++) {
                    label = StudyModel.labelFor(modelName(dir)) + "-" + i;
                }
                SamplingChoice choice = SamplingChoice.of(dit, schedulerFile, null, null, guidanceOption,
                        ProfileCommand.CLASS_MODEL);
                choices.add(choice);
                if (TextConditions.text(dit)) {
                    Path file = promptOptions.given() ? promptOptions.embeddings(cl, "study", dir, null, dtype.type)
                            : embeddingsFor(cl, textModels, dit, modelName(dir));
                    textModels++;
                    PromptEmbeddings prompts = TextConditions.read(file, dit);
                    opened.add(prompts);
                    described.add(StudyModel.of(label, dit, choice.studyConfig(), TextConditions.identity(prompts)));
                    Optional<LatentSize> size = frames.size(cl, dit, prompts, choice.guidance());
                    makers.add(c -> prompts.condition(c % prompts.prompts(), c, size));
                } else {
                    Map<String, Object> schedulerConfig = schedulerFile.isPresent()
                            ? Schedulers.readConfig(schedulerFile.get()) : Map.of();
                    described.add(StudyModel.of(label, dit, schedulerConfig));
                    int classes = dit.info().classes();
                    makers.add(c -> StudyPlan.condition(c, classes));
                }
                loaded.add(dit);
            }
            if (embeddings != null && embeddings.size() > 1 && embeddings.size() != textModels) {
                throw new CommandLine.ParameterException(cl, "--embeddings: " + embeddings.size() + " files for "
                        + textModels + " text models; give one for every text model, in --model order, or one for all");
            }
            if (promptOptions.given() && textModels == 0) {
                throw new CommandLine.ParameterException(cl, promptOptions.source() + ": no model of this study is "
                        + "conditioned on text (they take class labels)");
            }
            if (embeddings != null && textModels == 0) {
                throw new CommandLine.ParameterException(cl, "--embeddings: no model of this study is conditioned on "
                        + "text embeddings (they take class labels)");
            }
            double guidance = guidanceOption != null ? guidanceOption : guidance(cl, described, choices);
            List<String> chosen = schedulers != null ? schedulers : defaultSchedulers(cl, described);
            StudyPlan plan;
            try {
                plan = new StudyPlan(described, conditions, steps, chosen, guidance, part, kinds.kinds());
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(cl, e.getMessage());
            }
            long bytes = 0;
            int most = steps.stream().mapToInt(Integer::intValue).max().orElse(2);
            for (Denoiser d : loaded) {
                bytes += OutputSizes.study(d, most, plan.runs().size() / loaded.size(), plan.groups().size());
            }
            OptionChecks.space(cl, "--out", out, bytes, plan.runs().size() + " runs' distances, the profiles and "
                    + "the page");
            // the claim covers the report too: a second study on this folder is refused until the page is written
            try (StudyFolderLock claim = StudyFolderLock.acquire(out)) {
                Study study;
                try (StudyProgress progress = new StudyProgress("study " + part, plan, Progress.terminal(),
                        Progress.stderr())) {
                    study = StudyRunner.run(plan, loaded, makers, claim, progress);
                }
                return finish(cl.getOut(), study, out);
            }
        } finally {
            opened.forEach(PromptEmbeddings::close);
        }
    }

    /** The embeddings file of the {@code index}-th text model. */
    private Path embeddingsFor(CommandLine cl, int index, Denoiser model, String name) {
        if (embeddings == null || embeddings.isEmpty()) {
            throw new CommandLine.ParameterException(cl, name + ": " + model.info().className() + " is conditioned "
                    + "on text embeddings; give --embeddings FILE " + TextConditions.FILE_HINT);
        }
        if (embeddings.size() == 1) {
            return embeddings.get(0);
        }
        if (index >= embeddings.size()) {
            throw new CommandLine.ParameterException(cl, "--embeddings: " + embeddings.size() + " files, but "
                    + name + " is text model " + (index + 1) + "; give one for every text model, in --model order, "
                    + "or one for all");
        }
        return embeddings.get(index);
    }

    /** Without --guidance: the class-label default, or the text models' own where they agree. */
    private static double guidance(CommandLine cl, List<StudyModel> models, List<SamplingChoice> choices) {
        java.util.TreeMap<String, Double> own = new java.util.TreeMap<>();
        for (int i = 0; i < models.size(); i++) {
            if (choices.get(i).kind() != io.ditcache.model.SamplingDefaults.Guidance.NONE) {
                own.put(models.get(i).label(), choices.get(i).guidance());
            }
        }
        if (new HashSet<>(own.values()).size() > 1) {
            throw new CommandLine.ParameterException(cl, "--guidance: the models' own guidance scales differ " + own
                    + "; a study has one, give it");
        }
        double g = own.isEmpty() ? 1.0 : own.values().iterator().next();
        return Math.max(1.0, g);
    }

    /**
     * Without --schedulers: the usual three where every model allows them, else a scheduler made for one training
     * objective (flowmatch, rflow, cogvideox-ddim) where all allow it.
     */
    private static List<String> defaultSchedulers(CommandLine cl, List<StudyModel> models) {
        for (List<String> candidate : List.of(List.of(DEFAULT_SCHEDULERS.split(",")), List.of("flowmatch"),
                List.of("rflow"), List.of("cogvideox-ddim"))) {
            if (models.stream().allMatch(m -> m.allowedSchedulers().containsAll(candidate))) {
                return candidate;
            }
        }
        throw new CommandLine.ParameterException(cl, "--schedulers: no scheduler fits every model ("
                + models.stream().map(m -> m.label() + " allows " + m.allowedSchedulers())
                        .collect(java.util.stream.Collectors.joining(", ")) + "); study them apart");
    }

    /** A model's name in labels: the checkpoint folder's name, or that of its parent for a generic one. */
    static String modelName(Path dir) {
        if (dir == null) {
            return DefaultModel.NAME;
        }
        Path abs = dir.toAbsolutePath().normalize();
        String name = ModelSource.name(dir);
        // a training run's checkpoint sits in RUN/model: name it after the run
        return (name.equals("model") || name.equals("transformer")) && abs.getParent() != null
                && abs.getParent().getFileName() != null ? abs.getParent().getFileName() + "-" + name : name;
    }

    /** Writes the report and prints the headline tables. */
    static int finish(PrintWriter o, Study study, Path out) throws java.io.IOException {
        Path page = StudyReport.write(study, out);
        o.println(StudySummary.format(study));
        o.println("wrote " + page.toAbsolutePath());
        o.flush();
        return 0;
    }

    /**
     * A sweep's progress ({@link Progress}): on a terminal a bar over every transformer step of the shard, its
     * message counting the runs done; in a log one line per finished run. A resumed sweep starts from the steps
     * and runs already on disk.
     */
    static final class StudyProgress implements StudyRunner.Listener, AutoCloseable {
        private final String task;
        private final long totalSteps;
        private final boolean terminal;
        private final PrintWriter log;
        private Progress progress;

        StudyProgress(String task, StudyPlan plan, boolean terminal, PrintWriter log) {
            this.task = task;
            this.totalSteps = plan.runs().stream().mapToLong(RunKey::steps).sum();
            this.terminal = terminal;
            this.log = log;
        }

        @Override
        public void planned(int runs, int done, long stepsLeft) {
            progress = new Progress(task, "runs", totalSteps, totalSteps - stepsLeft, runs, done, terminal, log);
        }

        @Override
        public void step() {
            progress.step();
        }

        @Override
        public void runDone(RunKey key) {
            progress.unitDone("c" + key.condition() + " " + key.scheduler() + " " + key.steps() + " steps");
        }

        @Override
        public void close() {
            if (progress != null) {
                progress.close();
            }
        }
    }
}
