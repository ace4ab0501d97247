package io.ditcache.study;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fuzz targets for the files of a study folder that a resumed or merged study reads back: the plan
 * ({@value StudyCodec#PLAN}, {@link StudyCodec#readPlan}, then the runs it lists and its comparison with a fixed
 * plan, as a resume does) and a run record ({@link RunRecord#read}, a safetensors file, checked against the run
 * expected). Documented error: {@link IOException} naming the file.
 */
class StudyFilesFuzzTest {
    private static final Path DIR = ParserContract.scratch("study");
    private static final StudyModel MODEL = new StudyModel("tiny", "0123456789abcdef", Map.of("layers", 2), Map.of());
    private static final RunKey RUN = new RunKey(0, "ddim", 5, 3);
    private static final int LAYERS = 2;
    private static final StudyPlan PLAN = new StudyPlan(List.of(MODEL), 4, List.of(5, 10), List.of("ddim", "euler"),
            1.5, Shard.ALL);

    @FuzzTest
    @DictionaryEntries({"\"format\"", "\"ditcache-study-plan/1\"", "\"models\"", "\"label\"", "\"fingerprint\"",
        "\"identity\"", "\"scheduler_config\"", "\"conditions\"", "\"steps\"", "\"schedulers\"", "\"guidance\"",
        "\"shard\"", "\"ddim\"", "\"ddpm\"", "\"dpm++\"", "\"euler\"", "\"flowmatch\"", "\"_class_name\"",
        "\"FlowMatchEulerDiscreteScheduler\"", "\"1/1\"", "100000", "10000", "2147483647"})
    void plan(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve(StudyCodec.PLAN), input);
        check(input.length, file.toString(), () -> {
            StudyPlan p = StudyCodec.readPlan(file);
            p.runs();
            p.difference(PLAN);
            Path again = DIR.resolve("again.json");
            StudyCodec.writePlan(p, again);
            StudyPlan back;
            try {
                back = StudyCodec.readPlan(again);
            } catch (IOException e) {
                throw ParserContract.wrongResult(file + ": accepted, but its rewrite is refused: " + e.getMessage(), e);
            }
            if (back.difference(p).isPresent() || !back.shard().equals(p.shard())) {
                throw ParserContract.wrongResult(file + ": accepted, but its rewrite reads back as another plan: "
                        + back.difference(p).orElse("shard"));
            }
        }, IOException.class);
    }

    @FuzzTest
    @DictionaryEntries({"\"__metadata__\"", "\"format\"", "\"ditcache-run/1\"", "\"model\"", "\"tiny\"",
        "\"fingerprint\"", "\"0123456789abcdef\"", "\"scheduler\"", "\"ddim\"", "\"steps\"", "\"5\"", "\"condition\"",
        "\"3\"", "\"dtype\"", "\"F64\"", "\"F32\"", "\"shape\"", "\"data_offsets\"", "[2,4]",
        "\"BLOCK_OUT/IMAGE/COND/L1_REL\"", "/IMAGE/", "/UNCOND/", "/COSINE\""})
    void runRecord(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("c000003.safetensors"), input);
        check(input.length, file.toString(), () -> {
            RunRecord r = RunRecord.read(file, RUN, MODEL, LAYERS);
            r.foldInto(new io.ditcache.RedundancyProfile(Map.of(), Map.of(), LAYERS, RUN.steps()));
        }, IOException.class);
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        Path tmp = Files.createTempDirectory("seed");
        try {
            Path plan = tmp.resolve(StudyCodec.PLAN);
            StudyCodec.writePlan(PLAN, plan);
            sink.add("plan", "two-schedulers", Files.readAllBytes(plan));
            StudyModel flow = new StudyModel("flow.v2", "fedcba9876543210", Map.of("name", "flow"),
                    Map.of("_class_name", "FlowMatchEulerDiscreteScheduler", "shift", 3.0));
            StudyCodec.writePlan(new StudyPlan(List.of(flow), 10, List.of(3, 28), List.of("flowmatch"), 1.0,
                    new Shard(2, 3)), plan);
            sink.add("plan", "flow-shard", Files.readAllBytes(plan));
            String head = "{\"format\": \"ditcache-study-plan/1\", \"models\": [{\"label\": \"m\", "
                    + "\"fingerprint\": \"f\"}], \"steps\": [5], \"schedulers\": [\"ddim\"], \"guidance\": 1.0, ";
            // hostile: each must be refused with an IOException naming the file
            sink.add("plan", "too-many-conditions", head + "\"conditions\": 100001, \"shard\": \"1/1\"}");
            sink.add("plan", "bad-shard", head + "\"conditions\": 4, \"shard\": \"5/4\"}");
            sink.add("plan", "bad-label", head.replace("\"m\"", "\"../m\"") + "\"conditions\": 4, \"shard\": \"1/1\"}");
            sink.add("plan", "no-models", head.replace("[{\"label\": \"m\", \"fingerprint\": \"f\"}]", "[]")
                    + "\"conditions\": 4, \"shard\": \"1/1\"}");
            sink.add("plan", "steps-too-few", head.replace("[5]", "[2]") + "\"conditions\": 4, \"shard\": \"1/1\"}");
            sink.add("plan", "not-json", "{\"format\": \"ditcache-study-plan/1\", \"models\": [");

            Map<SeriesKey, double[][]> values = new LinkedHashMap<>();
            values.put(new SeriesKey(SiteKind.BLOCK_OUT, TokenStream.IMAGE, Branch.COND, DistanceMetric.L1_REL),
                    new double[][] {{0.5, 0.25, 0.125, 0.0625}, {1, 2, Double.NaN, 4}});
            values.put(new SeriesKey(SiteKind.K, TokenStream.IMAGE, Branch.UNCOND, DistanceMetric.COSINE),
                    new double[][] {{0, 0, 0, 0}, {0.1, 0.2, 0.3, 0.4}});
            Path run = tmp.resolve("c000003.safetensors");
            new RunRecord(RUN, LAYERS, values).write(run, MODEL);
            sink.add("runRecord", "two-series", Files.readAllBytes(run));
            new RunRecord(new RunKey(0, "ddim", 5, 2), LAYERS, values).write(run, MODEL);
            // hostile: each must be refused with an IOException naming the file
            sink.add("runRecord", "other-condition", Files.readAllBytes(run));
            new RunRecord(new RunKey(0, "ddim", 4, 3), LAYERS, Map.of(values.keySet().iterator().next(),
                    new double[][] {{1, 2, 3}, {4, 5, 6}})).write(run, MODEL);
            sink.add("runRecord", "other-steps", Files.readAllBytes(run));
            new io.ditcache.io.SafetensorsWriter().metadata("format", RunRecord.FORMAT).metadata("model", "tiny")
                    .metadata("fingerprint", "0123456789abcdef").metadata("scheduler", "ddim").metadata("steps", "5")
                    .metadata("condition", "3").put("BLOCK_OUT/IMAGE/SIDEWAYS/L1_REL", new double[8], 2, 4)
                    .write(run);
            sink.add("runRecord", "bad-series-name", Files.readAllBytes(run));
        } finally {
            try (var s = Files.walk(tmp)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }
}
