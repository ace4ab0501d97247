package io.ditcache.study;

import io.ditcache.ActivationProbe;
import io.ditcache.RedundancyProfile;
import io.ditcache.io.AtomicFiles;
import io.ditcache.model.Denoiser;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Schedulers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a {@link StudyPlan} into a study folder, resuming where an earlier, interrupted call stopped, and merges
 * the folders of shards.
 *
 * <p>Folder: {@value StudyCodec#PLAN}; {@code runs/MODEL/SCHEDULER-STEPS/cNNNNNN.safetensors}, one
 * {@link RunRecord} per run, written atomically as soon as the run ends (a run is either complete or absent);
 * {@code profiles/MODEL/SCHEDULER-STEPS/profile.json|csv} per group; {@value StudyCodec#STUDY} and the CSV
 * tables. Each condition is sampled on its own (batch of one, both guidance branches), so that its values do
 * not depend on which shard ran it.
 */
public final class StudyRunner {
    private static final Logger LOG = LoggerFactory.getLogger(StudyRunner.class);

    /** Hears how a sweep goes, for progress bars. Calls come from the sampling thread. */
    public interface Listener {
        /** Before the first run: runs in this shard, how many are already done, transformer steps left. */
        default void planned(int runs, int done, long stepsLeft) {
        }

        /** After each denoising step (both guidance branches of one step count once). */
        default void step() {
        }

        /** After a run's record is on disk. */
        default void runDone(RunKey key) {
        }
    }

    private StudyRunner() {
    }

    /**
     * Runs every run of {@code plan} that {@code dir} does not hold yet, then folds this shard's runs and writes
     * the profiles and tables, holding the folder's {@link StudyFolderLock} throughout.
     *
     * @param models one loaded model per entry of {@code plan.models()}, in the same order
     * @throws IOException if another process holds {@code dir} (the message names its pid), if {@code dir} holds
     *                     a study with other settings (the message names the difference) or a damaged run file
     */
    public static Study run(StudyPlan plan, List<? extends Denoiser> models, Path dir, Listener listener) throws IOException {
        checkModels(plan, models);
        try (StudyFolderLock claim = StudyFolderLock.acquire(dir)) {
            return run(plan, models, claim, listener);
        }
    }

    /**
     * {@link #run(StudyPlan, List, Path, Listener)} in a folder the caller has claimed, for callers that write
     * more there (the report) before letting another process in.
     */
    public static Study run(StudyPlan plan, List<? extends Denoiser> models, StudyFolderLock folder, Listener listener)
            throws IOException {
        List<IntFunction<Condition>> labels = new ArrayList<>();
        for (Denoiser m : models) {
            int classes = m.info().classes();
            labels.add(c -> StudyPlan.condition(c, classes));
        }
        return run(plan, models, labels, folder, listener);
    }

    /**
     * As {@link #run(StudyPlan, List, StudyFolderLock, Listener)}, with each model's condition {@code c} made by
     * its entry of {@code conditions} (text models: prompt {@code c mod prompts}, seed {@code c}) rather than
     * {@link StudyPlan#condition}.
     */
    public static Study run(StudyPlan plan, List<? extends Denoiser> models, List<IntFunction<Condition>> conditions,
            StudyFolderLock folder, Listener listener) throws IOException {
        Objects.requireNonNull(listener, "listener");
        if (conditions.size() != models.size()) {
            throw new IllegalArgumentException(models.size() + " models, " + conditions.size()
                    + " condition makers");
        }
        checkModels(plan, models);
        Path dir = folder.dir();
        // a run killed mid-write left only its temporary file: the run itself counts as not done
        folder.removeUnfinishedWrites();
        Path planFile = dir.resolve(StudyCodec.PLAN);
        if (Files.exists(planFile)) {
            StudyPlan earlier = StudyCodec.readPlan(planFile);
            Optional<String> diff = earlier.difference(plan);
            if (diff.isEmpty() && !earlier.shard().equals(plan.shard())) {
                diff = Optional.of("shard " + earlier.shard() + " vs " + plan.shard());
            }
            if (diff.isPresent()) {
                throw new IOException(dir + " holds a study with other settings (" + diff.get()
                        + "); resume it with the same options or choose another --out");
            }
        } else {
            StudyCodec.writePlan(plan, planFile);
        }
        List<RunKey> todo = new ArrayList<>();
        List<RunKey> runs = plan.runs();
        for (RunKey k : runs) {
            if (!Files.exists(runFile(dir, plan, k))) {
                todo.add(k);
            }
        }
        listener.planned(runs.size(), runs.size() - todo.size(), todo.stream().mapToLong(RunKey::steps).sum());
        if (runs.size() > todo.size()) {
            LOG.info("resuming study in {}: {} of {} runs already done", dir, runs.size() - todo.size(), runs.size());
        }
        for (RunKey k : todo) {
            StudyModel m = plan.models().get(k.model());
            Denoiser model = models.get(k.model());
            SamplingOptions options = new SamplingOptions(
                    List.of(conditions.get(k.model()).apply(k.condition())), k.steps(), plan.guidance());
            RedundancyProfile one = Profiling.run(model, m.label(), Schedulers.create(k.scheduler(),
                    m.schedulerConfig()), options, null, p -> ActivationProbe.onEachStep(p, s -> listener.step()),
                    plan.kinds(), false);
            Path file = runFile(dir, plan, k);
            Files.createDirectories(file.getParent());
            RunRecord.of(k, one).write(file, m);
            listener.runDone(k);
        }
        Map<RunKey, RunRecord> records = new LinkedHashMap<>();
        for (RunKey k : runs) {
            records.put(k, read(dir, plan, k, models.get(k.model()).layers()));
        }
        Study study = Study.fold(plan, records);
        writeOutputs(study, dir);
        return study;
    }

    /**
     * Merges the folders of shards of one study into {@code out}: checks that they share one plan and together
     * cover every condition, copies their run files and writes the study of all runs, equal to the unsharded
     * study's. Holds {@code out}'s {@link StudyFolderLock} while it writes there.
     *
     * @throws IOException naming the folder or file at fault: not a study, a different study, a damaged or
     *                     missing run, conditions no shard covers, {@code out} held by another process
     */
    public static Study merge(List<Path> shardDirs, Path out) throws IOException {
        if (shardDirs.isEmpty()) {
            throw new IllegalArgumentException("merge needs at least one shard folder");
        }
        StudyPlan first = null;
        Path firstDir = null;
        Map<RunKey, Path> found = new LinkedHashMap<>();
        Map<RunKey, RunRecord> records = new LinkedHashMap<>();
        for (Path d : shardDirs) {
            Path planFile = d.resolve(StudyCodec.PLAN);
            if (!Files.isRegularFile(planFile)) {
                throw new IOException(d + ": no " + StudyCodec.PLAN + "; not a study folder (made by the study "
                        + "command)");
            }
            StudyPlan plan = StudyCodec.readPlan(planFile);
            if (first == null) {
                first = plan;
                firstDir = d;
            } else {
                Optional<String> diff = first.difference(plan);
                if (diff.isPresent()) {
                    throw new IOException("cannot merge " + d + " with " + firstDir + ": different studies ("
                            + diff.get() + ")");
                }
            }
            for (RunKey k : plan.runs()) {
                Path f = runFile(d, plan, k);
                if (!Files.exists(f)) {
                    throw new IOException(d + " (shard " + plan.shard() + ") is incomplete: " + f.getFileName()
                            + " of " + f.getParent().getFileName() + " missing; finish it by running the same study "
                            + "command again");
                }
                Object layers = plan.models().get(k.model()).identity().get("layers");
                if (!(layers instanceof Number n)) {
                    throw new IOException(d.resolve(StudyCodec.PLAN) + ": model " + plan.models().get(k.model())
                            .label() + " has no \"layers\" in its identity");
                }
                RunRecord r = read(d, plan, k, n.intValue());
                RunRecord earlier = records.putIfAbsent(k, r);
                if (earlier != null && !sameValues(earlier, r)) {
                    throw new IOException(f + ": run also in " + found.get(k) + " with other values");
                }
                found.putIfAbsent(k, f);
            }
        }
        StudyPlan all = first.withShard(Shard.ALL);
        TreeSet<Integer> missing = new TreeSet<>();
        for (RunKey k : all.runs()) {
            if (!records.containsKey(k)) {
                missing.add(k.condition());
            }
        }
        if (!missing.isEmpty()) {
            throw new IOException("the shards given cover " + (all.conditions() - missing.size()) + " of "
                    + all.conditions() + " conditions; missing conditions " + abbreviate(missing)
                    + " (add the folders of the other shards)");
        }
        // claimed only now, so that a merge that fails its checks leaves no folder behind
        try (StudyFolderLock claim = StudyFolderLock.acquire(out)) {
            claim.removeUnfinishedWrites();
            StudyCodec.writePlan(all, out.resolve(StudyCodec.PLAN));
            for (Map.Entry<RunKey, Path> e : found.entrySet()) {
                Path target = runFile(out, all, e.getKey());
                if (!target.toAbsolutePath().normalize().equals(e.getValue().toAbsolutePath().normalize())) {
                    // whole or absent, like the runs a study writes: a killed merge must not leave half a run
                    AtomicFiles.write(target, tmp -> Files.copy(e.getValue(), tmp,
                            StandardCopyOption.REPLACE_EXISTING));
                }
            }
            Study study = Study.fold(all, records);
            writeOutputs(study, out);
            return study;
        }
    }

    /** Writes every group's profile (JSON and CSV) and the tables. */
    static void writeOutputs(Study study, Path dir) throws IOException {
        for (Map.Entry<GroupKey, RedundancyProfile> e : study.profiles().entrySet()) {
            Path d = profileDir(dir, study.plan(), e.getKey());
            Files.createDirectories(d);
            e.getValue().writeJson(d.resolve("profile.json"));
            e.getValue().writeCsv(d.resolve("profile.csv"));
        }
        StudyCodec.writeTables(study, dir, Map.of());
    }

    /** The folder of a group's profile inside a study folder. */
    public static Path profileDir(Path dir, StudyPlan plan, GroupKey g) {
        return dir.resolve("profiles").resolve(plan.models().get(g.model()).label())
                .resolve(g.scheduler() + "-" + g.steps());
    }

    static Path runFile(Path dir, StudyPlan plan, RunKey k) {
        return dir.resolve("runs").resolve(plan.models().get(k.model()).label())
                .resolve(k.scheduler() + "-" + k.steps()).resolve(String.format("c%06d.safetensors", k.condition()));
    }

    private static RunRecord read(Path dir, StudyPlan plan, RunKey k, int layers) throws IOException {
        Path f = runFile(dir, plan, k);
        try {
            return RunRecord.read(f, k, plan.models().get(k.model()), layers);
        } catch (IOException | RuntimeException e) {
            throw new IOException(e.getMessage() + " (delete the file to run it again)", e);
        }
    }

    private static void checkModels(StudyPlan plan, List<? extends Denoiser> models) {
        if (models.size() != plan.models().size()) {
            throw new IllegalArgumentException(plan.models().size() + " models planned, " + models.size()
                    + " given");
        }
    }

    private static boolean sameValues(RunRecord a, RunRecord b) {
        if (!a.values().keySet().equals(b.values().keySet())) {
            return false;
        }
        return a.values().entrySet().stream()
                .allMatch(e -> Arrays.deepEquals(e.getValue(), b.values().get(e.getKey())));
    }

    private static String abbreviate(TreeSet<Integer> values) {
        List<String> shown = values.stream().limit(8).map(String::valueOf).toList();
        return String.join(", ", shown) + (values.size() > 8 ? ", ... (" + values.size() + " in all)" : "");
    }
}
