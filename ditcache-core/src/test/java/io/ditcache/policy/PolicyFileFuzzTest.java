package io.ditcache.policy;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.CachePolicy;
import io.ditcache.RedundancyProfile;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Fuzz targets for policy files: a compute mask ({@value ComputeMask#FORMAT}) read by {@link ComputeMask#read},
 * and any policy file read by {@link PolicyFile#read} without and with a profile to learn from. A mask that reads
 * must write and read back to the same grid. Documented error: {@link IOException} naming the file.
 */
class PolicyFileFuzzTest {
    private static final Path DIR = ParserContract.scratch("policy");
    private static final RedundancyProfile PROFILE = SyntheticProfiles.profile(true);

    @FuzzTest
    @DictionaryEntries({"\"format\"", "\"ditcache-mask/1\"", "\"steps\"", "\"layers\"", "\"computed_fraction\"",
        "\"estimated_error\"", "\"criterion\"", "\"budget\"", "\"target_error\"", "\"source\"", "\"compute\"", "[1, 1]",
        "[0, 1]", "2147483647", "1e-9"})
    void mask(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("mask.json"), input);
        check(input.length, file.toString(), () -> {
            ComputeMask m = ComputeMask.read(file);
            Path again = DIR.resolve("again.json");
            m.write(again);
            ComputeMask back;
            try {
                back = ComputeMask.read(again);
            } catch (IOException e) {
                throw ParserContract.wrongResult(file + ": accepted, but its rewrite is refused: " + e.getMessage(), e);
            }
            if (!java.util.Arrays.deepEquals(back.compute(), m.compute())) {
                throw ParserContract.wrongResult(file + ": accepted, but its rewrite reads back as another grid");
            }
        }, IOException.class);
    }

    @FuzzTest
    @DictionaryEntries({"\"name\"", "\"none\"", "\"fora\"", "\"delta-dit\"", "\"pab\"", "\"fbcache\"", "\"dbcache\"",
        "\"teacache\"", "\"magcache\"", "\"taylorseer\"", "+taylor1", "+taylor2", "+reuse", "\"approximation\"",
        "\"interval\"", "\"firstBlock\"", "\"endBlock\"", "\"fromStep\"", "\"toStep\"", "\"start\"", "\"end\"",
        "\"threshold\"", "\"firstBlocks\"", "\"lastBlocks\"", "\"warmupSteps\"", "\"maxCachedSteps\"",
        "\"maxContinuousCachedSteps\"", "\"coefficients\"", "\"degree\"", "\"ratios\"", "\"unconditionalRatios\"",
        "\"maxSkips\"", "\"retention\"", "\"order\"", "\"format\"", "\"ditcache-mask/1\"", "2147483647", "-1"})
    void policy(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("policy.json"), input);
        for (RedundancyProfile profile : new RedundancyProfile[] {null, PROFILE}) {
            check(input.length, file.toString(), () -> {
                CachePolicy p = PolicyFile.read(file, profile);
                p.describe();
            }, IOException.class);
        }
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        ComputeMask budget = new ComputeMask(new boolean[][] {{true, true, true}, {true, false, true},
            {false, false, true}, {true, true, false}}, new ComputeMask.Budget(0.75), 0.125, "seed ddim-4");
        ComputeMask target = new ComputeMask(new boolean[][] {{true}, {false}}, new ComputeMask.TargetError(1.0),
                0.5, "seed target");
        for (String method : new String[] {"mask", "policy"}) {
            sink.add(method, "budget-mask", written(budget));
            sink.add(method, "target-mask", written(target));
        }
        // hostile masks: each must be refused with an IOException naming the file
        String head = "{\"format\": \"ditcache-mask/1\", \"steps\": 2, \"layers\": 2, \"computed_fraction\": 0.75, "
                + "\"estimated_error\": 0.1, \"criterion\": {\"budget\": 1.0}, \"source\": \"s\", ";
        sink.add("mask", "step0-reused", head + "\"compute\": [[1, 0], [1, 1]]}");
        sink.add("mask", "ragged", head + "\"compute\": [[1, 1], [1]]}");
        sink.add("mask", "fraction-lies", head + "\"compute\": [[1, 1], [1, 1]]}");
        sink.add("mask", "over-budget", head.replace("\"budget\": 1.0", "\"budget\": 0.5")
                + "\"compute\": [[1, 1], [0, 1]]}");
        sink.add("mask", "two-criteria", head.replace("{\"budget\": 1.0}", "{\"budget\": 1.0, \"target_error\": 1}")
                + "\"compute\": [[1, 1], [0, 1]]}");
        sink.add("mask", "not-json", "{\"format\": \"ditcache-mask/1\", \"compute\": [[1, ");
        // policy descriptions, as CachePolicy.describe() writes them
        for (Map<String, Object> d : List.<Map<String, Object>>of(
            Map.of("name", "none"),
            Map.of("name", "fora", "interval", 3),
            Map.of("name", "delta-dit", "firstBlock", 1, "endBlock", 3, "interval", 2),
            Map.of("name", "pab", "interval", 2, "start", 0.2, "end", 0.8),
            Map.of("name", "fbcache", "threshold", 0.1),
            Map.of("name", "dbcache", "firstBlocks", 1, "lastBlocks", 1, "threshold", 0.1, "warmupSteps", 2),
            Map.of("name", "teacache", "threshold", 0.2, "coefficients", java.util.List.of(0.01, 0.9, -0.5)),
            Map.of("name", "teacache", "threshold", 0.2, "degree", 2),
            Map.of("name", "magcache", "threshold", 0.1, "ratios", java.util.List.of(1.0, 0.98, 0.95)),
            Map.of("name", "magcache", "threshold", 0.1),
            Map.of("name", "taylorseer", "interval", 3, "order", 1),
            Map.of("name", "fora+taylor2", "interval", 2))) {
            sink.add("policy", d.get("name") + (d.size() == 1 ? "" : "-" + d.keySet().stream().sorted()
                    .filter(k -> !k.equals("name")).findFirst().orElse("")), new com.fasterxml.jackson.databind
                    .ObjectMapper().writeValueAsString(d));
        }
        // hostile policies: each must be refused with an IOException naming the file
        sink.add("policy", "unknown-name", "{\"name\": \"warp\"}");
        sink.add("policy", "unknown-parameter", "{\"name\": \"fora\", \"interval\": 2, \"speed\": 9}");
        sink.add("policy", "name-not-string", "{\"name\": 7}");
        sink.add("policy", "negative-interval", "{\"name\": \"fora\", \"interval\": -2}");
        sink.add("policy", "mask-bad-approximation", written(budget).replaceFirst("\\{", "{\"approximation\": 7, "));
    }

    private static String written(ComputeMask m) throws IOException {
        Path tmp = Files.createTempFile("seed", ".json");
        try {
            m.write(tmp);
            return Files.readString(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
