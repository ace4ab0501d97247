package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.Denoiser;
import io.ditcache.report.StudyReport;
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
import java.util.Set;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
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
    /** The word that names the embedded model in {@code --model}. */
    static final String DEFAULT_WORD = "default";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "diffusers checkpoint directory; repeat for a cross-model study; the "
            + "word 'default' names the embedded model (default: the embedded model)")
    List<String> models;

    @Option(names = "--conditions", defaultValue = "10",
            description = "conditions: condition c samples class c mod classes from seed c (default: ${DEFAULT-VALUE})")
    int conditions;

    @Option(names = "--steps", split = ",", defaultValue = "10,20,50",
            description = "step counts, each >= 3 (default: ${DEFAULT-VALUE})")
    List<Integer> steps;

    @Option(names = "--schedulers", split = ",", defaultValue = "ddim,dpm++,euler",
            description = "schedulers the models' training objective allows (default: ${DEFAULT-VALUE})")
    List<String> schedulers;

    @Option(names = "--guidance", defaultValue = GenerateCommand.DEFAULT_GUIDANCE,
            description = "classifier-free guidance scale; 1 = none (default: ${DEFAULT-VALUE})")
    double guidance;

    @Option(names = "--shard", defaultValue = "1/1", description = "run every n-th condition: i/n (default: ${DEFAULT-VALUE})")
    String shard;

    @Option(names = "--out", required = true, description = "study folder (resumed when it holds this study)")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        OptionChecks.guidance(cl, guidance);
        OptionChecks.outputDirectory(cl, "--out", out);
        OptionChecks.count(cl, "--conditions", conditions, 1, StudyPlan.MAX_CONDITIONS, null);
        for (int n : steps) {
            OptionChecks.count(cl, "--steps", n, 3, 10_000, "the normalised step axis needs two transitions");
        }
        for (String s : schedulers) {
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
        List<StudyModel> described = new ArrayList<>();
        List<Denoiser> loaded = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        for (String m : models == null ? List.of(DEFAULT_WORD) : models) {
            Path dir = m.equals(DEFAULT_WORD) && !Files.exists(Path.of(m)) ? null : Path.of(m);
            Denoiser dit;
            Map<String, Object> schedulerConfig;
            try (Checkpoint ckpt = ModelSource.open(dir)) {
                dit = ModelLoader.load(ckpt);
                schedulerConfig = ckpt.schedulerConfig().isPresent()
                        ? Schedulers.readConfig(ckpt.schedulerConfig().get()) : Map.of();
            }
            String label = StudyModel.labelFor(modelName(dir));
            for (int i = 2; !labels.add(label); i++) {
                label = StudyModel.labelFor(modelName(dir)) + "-" + i;
            }
            described.add(StudyModel.of(label, dit, schedulerConfig));
            loaded.add(dit);
        }
        StudyPlan plan;
        try {
            plan = new StudyPlan(described, conditions, steps, schedulers, guidance, part);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        // the claim covers the report too: a second study on this folder is refused until the page is written
        try (StudyFolderLock claim = StudyFolderLock.acquire(out)) {
            Study study;
            try (StudyProgress progress = new StudyProgress("study " + part)) {
                study = StudyRunner.run(plan, loaded, claim, progress);
            }
            return finish(cl.getOut(), study, out);
        }
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

    /** The terminal progress bar of a sweep: transformer steps, with ETA. */
    static final class StudyProgress implements StudyRunner.Listener, AutoCloseable {
        private final String task;
        private ProgressBar bar;

        StudyProgress(String task) {
            this.task = task;
        }

        @Override
        public void planned(int runs, int done, long stepsLeft) {
            bar = new ProgressBarBuilder().setTaskName(task + " (" + done + "/" + runs + " runs done)")
                    .setInitialMax(stepsLeft).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUnit(" steps", 1).build();
        }

        @Override
        public void step() {
            bar.step();
        }

        @Override
        public void runDone(RunKey key) {
            bar.setExtraMessage("c" + key.condition() + " " + key.scheduler() + "/" + key.steps());
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
