package io.ditcache.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTInit;
import io.ditcache.model.dit.DiTModel;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sweeps on a tiny random DiT: shards merged equal the unsharded study bit for bit, an interrupted sweep resumes
 * to the same result without repeating runs, and bad folders fail with messages that name them.
 */
class StudyRunnerTest {
    static final DiTConfig TINY = new DiTConfig(8, 2, 1, 1, 2, 2, 8, 3, 1e-5, true);
    static final ObjectMapper JSON = new ObjectMapper();
    static DiTModel modelA;
    static DiTModel modelB;

    @TempDir
    Path dir;

    @BeforeAll
    static void models() {
        modelA = new DiTModel(TINY);
        DiTInit.variancePreserving(modelA, 1);
        modelB = new DiTModel(TINY);
        DiTInit.variancePreserving(modelB, 2);
    }

    static StudyPlan plan(Shard shard) {
        return new StudyPlan(List.of(StudyModel.of("a", modelA, Map.of())), 5, List.of(3, 5),
                List.of("ddim", "euler"), 1.5, shard);
    }

    static JsonNode tables(Path study) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(study.resolve(StudyCodec.STUDY).toFile());
        ((ObjectNode) root.get("settings")).remove("shard");
        return root;
    }

    @Test
    void shardsMergedEqualTheUnshardedStudy() throws Exception {
        StudyRunner.run(plan(Shard.ALL), List.of(modelA), dir.resolve("all"), new StudyRunner.Listener() {});
        Study s1 = StudyRunner.run(plan(new Shard(1, 2)), List.of(modelA), dir.resolve("s1"),
                new StudyRunner.Listener() {});
        StudyRunner.run(plan(new Shard(2, 2)), List.of(modelA), dir.resolve("s2"), new StudyRunner.Listener() {});
        assertEquals(3, s1.promptCv().get(0).runs(), "shard 1/2 of 5 conditions runs conditions 0, 2, 4");

        Study merged = StudyRunner.merge(List.of(dir.resolve("s2"), dir.resolve("s1")), dir.resolve("m"));
        assertEquals(5, merged.promptCv().get(0).runs());
        assertEquals(tables(dir.resolve("all")), tables(dir.resolve("m")), "every number bit for bit");
        assertTrue(tables(dir.resolve("all")).path("step_stability").size() > 0);
        assertTrue(tables(dir.resolve("all")).path("scheduler_stability").size() > 0);
        for (String group : List.of("ddim-3", "euler-5")) {
            Path rel = Path.of("profiles", "a", group, "profile.json");
            assertEquals(Files.readString(dir.resolve("all").resolve(rel)), Files.readString(dir.resolve("m")
                    .resolve(rel)), group);
        }
        // the merged folder is a complete study: merging it again changes nothing
        StudyRunner.merge(List.of(dir.resolve("m")), dir.resolve("m2"));
        assertEquals(tables(dir.resolve("m")), tables(dir.resolve("m2")));
    }

    @Test
    void anInterruptedSweepResumesToTheSameResultWithoutRepeatingRuns() throws Exception {
        StudyRunner.run(plan(Shard.ALL), List.of(modelA), dir.resolve("whole"), new StudyRunner.Listener() {});
        class Stop extends RuntimeException {
        }
        List<RunKey> first = new ArrayList<>();
        assertThrows(Stop.class, () -> StudyRunner.run(plan(Shard.ALL), List.of(modelA), dir.resolve("r"),
                new StudyRunner.Listener() {
                    @Override
                    public void runDone(RunKey key) {
                        first.add(key);
                        if (first.size() == 7) {
                            throw new Stop();
                        }
                    }
                }));
        assertTrue(Files.notExists(dir.resolve("r").resolve(StudyCodec.STUDY)), "no tables from a broken sweep");
        List<RunKey> second = new ArrayList<>();
        int[] planned = new int[2];
        StudyRunner.run(plan(Shard.ALL), List.of(modelA), dir.resolve("r"), new StudyRunner.Listener() {
            @Override
            public void planned(int runs, int done, long stepsLeft) {
                planned[0] = runs;
                planned[1] = done;
            }

            @Override
            public void runDone(RunKey key) {
                second.add(key);
            }
        });
        assertEquals(20, planned[0]);
        assertEquals(7, planned[1], "runs on disk are counted as done");
        assertEquals(13, second.size());
        assertTrue(second.stream().noneMatch(first::contains), "completed runs are not repeated");
        assertEquals(tables(dir.resolve("whole")), tables(dir.resolve("r")));
    }

    @Test
    void aClaimedFolderIsRefusedAndWhatAKilledSweepLeavesDoesNotBlockItsResume() throws Exception {
        Path r = dir.resolve("r");
        try (StudyFolderLock other = StudyFolderLock.acquire(r)) {
            IOException busy = assertThrows(IOException.class, () -> StudyRunner.run(plan(Shard.ALL),
                    List.of(modelA), r, new StudyRunner.Listener() {}));
            assertEquals(StudyFolderLockTest.busyMessage(r, ProcessHandle.current().pid()), busy.getMessage());
            assertTrue(Files.notExists(r.resolve(StudyCodec.PLAN)), "nothing written into a claimed folder");
            StudyRunner.run(plan(Shard.ALL), List.of(modelA), dir.resolve("whole"), new StudyRunner.Listener() {});
            IOException merge = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("whole")),
                    r));
            assertEquals(busy.getMessage(), merge.getMessage());
        }
        class Stop extends RuntimeException {
        }
        int[] done = new int[1];
        assertThrows(Stop.class, () -> StudyRunner.run(plan(Shard.ALL), List.of(modelA), r,
                new StudyRunner.Listener() {
                    @Override
                    public void runDone(RunKey key) {
                        if (++done[0] == 3) {
                            throw new Stop();
                        }
                    }
                }));
        // as a kill -9 during the fourth run's write leaves it: a temporary file and the dead holder's pid
        Path half = StudyRunner.runFile(r, plan(Shard.ALL), new RunKey(0, "ddim", 5, 3)).resolveSibling(
                ".c000003.safetensors5531.tmp");
        Files.createDirectories(half.getParent());
        Files.writeString(half, "half a run");
        Files.writeString(r.resolve(StudyFolderLock.FILE), "4194999\n");
        int[] planned = new int[2];
        StudyRunner.run(plan(Shard.ALL), List.of(modelA), r, new StudyRunner.Listener() {
            @Override
            public void planned(int runs, int done, long stepsLeft) {
                planned[0] = runs;
                planned[1] = done;
            }
        });
        assertEquals(List.of(20, 3), List.of(planned[0], planned[1]), "the three whole runs are kept");
        assertTrue(Files.notExists(half), "the unfinished write is gone");
        assertEquals(tables(dir.resolve("whole")), tables(r));
    }

    @Test
    void aFolderOfAnotherStudyIsNotResumed() throws Exception {
        StudyRunner.run(plan(new Shard(1, 5)), List.of(modelA), dir, new StudyRunner.Listener() {});
        StudyPlan other = new StudyPlan(plan(Shard.ALL).models(), 5, List.of(3, 4), List.of("ddim", "euler"), 1.5,
                new Shard(1, 5));
        IOException e = assertThrows(IOException.class, () -> StudyRunner.run(other, List.of(modelA), dir,
                new StudyRunner.Listener() {}));
        assertTrue(e.getMessage().contains("other settings (steps [3, 5] vs [3, 4])"), e.getMessage());
    }

    @Test
    void shardsOfDifferentModelsDoNotMerge() throws Exception {
        StudyRunner.run(plan(new Shard(1, 5)), List.of(modelA), dir.resolve("a"), new StudyRunner.Listener() {});
        StudyPlan ofB = new StudyPlan(List.of(StudyModel.of("a", modelB, Map.of())), 5, List.of(3, 5),
                List.of("ddim", "euler"), 1.5, new Shard(2, 5));
        StudyRunner.run(ofB, List.of(modelB), dir.resolve("b"), new StudyRunner.Listener() {});
        IOException e = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("a"),
                dir.resolve("b")), dir.resolve("m")));
        assertTrue(e.getMessage().contains("cannot merge " + dir.resolve("b")) && e.getMessage().contains("weights"),
                e.getMessage());
        assertTrue(Files.notExists(dir.resolve("m")), "nothing written");
    }

    @Test
    void corruptMissingAndForeignShardsFailWithTheirNames() throws Exception {
        StudyRunner.run(plan(new Shard(1, 2)), List.of(modelA), dir.resolve("s1"), new StudyRunner.Listener() {});
        StudyRunner.run(plan(new Shard(2, 2)), List.of(modelA), dir.resolve("s2"), new StudyRunner.Listener() {});

        IOException missing = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("s1")),
                dir.resolve("m")));
        assertTrue(missing.getMessage().contains("cover 3 of 5 conditions; missing conditions 1, 3"),
                missing.getMessage());

        Path run = StudyRunner.runFile(dir.resolve("s2"), plan(new Shard(2, 2)), new RunKey(0, "euler", 5, 3));
        try (FileChannel ch = FileChannel.open(run, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() / 2);
        }
        IOException corrupt = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("s1"),
                dir.resolve("s2")), dir.resolve("m")));
        assertTrue(corrupt.getMessage().contains(run.toString()), corrupt.getMessage());

        Files.delete(run);
        IOException incomplete = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("s1"),
                dir.resolve("s2")), dir.resolve("m")));
        assertTrue(incomplete.getMessage().contains("is incomplete: c000003.safetensors of euler-5 missing"),
                incomplete.getMessage());

        Files.createDirectories(dir.resolve("empty"));
        IOException foreign = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("empty")),
                dir.resolve("m")));
        assertTrue(foreign.getMessage().contains("no plan.json; not a study folder"), foreign.getMessage());

        Files.writeString(dir.resolve("s1").resolve(StudyCodec.PLAN), "{\"format\": \"ditcache-study-plan/1\", "
                + "\"models\": []}");
        IOException badPlan = assertThrows(IOException.class, () -> StudyRunner.merge(List.of(dir.resolve("s1")),
                dir.resolve("m")));
        assertTrue(badPlan.getMessage().contains("key \"models\" is [], expected a non-empty array"),
                badPlan.getMessage());
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().equals("m")), "no merged folder left behind");
        }
    }

    @Test
    void plansRejectSchedulersStepsAndLabelsThatCannotWork() {
        StudyModel a = StudyModel.of("a", modelA, Map.of());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> new StudyPlan(List.of(a), 2, List.of(5), List.of("ddim", "heun"), 1, Shard.ALL));
        assertTrue(unknown.getMessage().contains("scheduler \"heun\": unknown"), unknown.getMessage());
        IllegalArgumentException objective = assertThrows(IllegalArgumentException.class,
                () -> new StudyPlan(List.of(a), 2, List.of(5), List.of("flowmatch"), 1, Shard.ALL));
        assertTrue(objective.getMessage().contains("does not fit model a"), objective.getMessage());
        StudyModel flow = StudyModel.of("f", modelA, Map.of("_class_name", "FlowMatchEulerDiscreteScheduler"));
        assertEquals(List.of("flowmatch"), flow.allowedSchedulers());
        StudyModel cog = StudyModel.of("c", modelA, Map.of("_class_name", "CogVideoXDDIMScheduler"));
        assertEquals(List.of("cogvideox-ddim"), cog.allowedSchedulers());
        assertTrue(!a.allowedSchedulers().contains("cogvideox-ddim"), a.allowedSchedulers().toString());
        assertThrows(IllegalArgumentException.class,
                () -> new StudyPlan(List.of(a), 2, List.of(2), List.of("ddim"), 1, Shard.ALL));
        assertThrows(IllegalArgumentException.class,
                () -> new StudyPlan(List.of(a, a), 2, List.of(5), List.of("ddim"), 1, Shard.ALL));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("3/2"));
        assertThrows(IllegalArgumentException.class, () -> Shard.parse("1-2"));
        assertEquals(new Shard(2, 3), Shard.parse(" 2/3 "));
    }
}
