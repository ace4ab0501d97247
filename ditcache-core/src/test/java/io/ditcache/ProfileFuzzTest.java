package io.ditcache;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Fuzz target for a profile JSON file ({@value RedundancyProfile#FORMAT}): {@link RedundancyProfile#readJson}; a
 * profile it accepts must be written and read back to the same series. Documented error: {@link IOException}
 * naming the file.
 */
class ProfileFuzzTest {
    private static final Path DIR = ParserContract.scratch("profile");

    @FuzzTest
    @DictionaryEntries({"\"format\"", "\"ditcache-profile/1\"", "\"model\"", "\"scheduler\"", "\"steps\"",
        "\"layers\"", "\"runs\"", "\"series\"", "\"kind\"", "\"stream\"", "\"branch\"", "\"metric\"", "\"count\"",
        "\"mean\"", "\"m2\"", "\"nonfinite\"", "\"BLOCK_RESIDUAL\"", "\"BLOCK_OUT\"", "\"IMAGE\"", "\"COND\"",
        "\"UNCOND\"", "\"L1_REL\"", "\"COSINE\"", "2147483647", "-1", "1e308"})
    void readJson(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("profile.json"), input);
        check(input.length, file.toString(), () -> {
            RedundancyProfile p = RedundancyProfile.readJson(file);
            for (ProfileSeries s : p.series()) {
                p.meanCv(s.key());
            }
            Path again = DIR.resolve("again.json");
            p.writeJson(again);
            RedundancyProfile q;
            try {
                q = RedundancyProfile.readJson(again);
            } catch (IOException e) {
                throw ParserContract.wrongResult(file + ": accepted, but its rewrite is refused: " + e.getMessage(), e);
            }
            if (q.layers() != p.layers() || q.steps() != p.steps() || q.runs() != p.runs()
                    || q.series().size() != p.series().size()) {
                throw ParserContract.wrongResult(file + ": accepted, but its rewrite reads back as another profile");
            }
        }, IOException.class);
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        Path fixtures = Path.of("src/test/resources/fixtures/profiles");
        sink.add("readJson", "default-ddim-10", Files.readAllBytes(fixtures.resolve(
                "default-ddim-10-block-residual.json")));
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "seed"), Map.of("name", "ddim"), 2, 4);
        SeriesKey a = new SeriesKey(SiteKind.BLOCK_OUT, TokenStream.IMAGE, Branch.COND, DistanceMetric.L1_REL);
        SeriesKey b = new SeriesKey(SiteKind.K, TokenStream.IMAGE, Branch.UNCOND, DistanceMetric.COSINE);
        for (int l = 0; l < 2; l++) {
            for (int t = 0; t < 3; t++) {
                p.add(a, l, t, 0.1 * (l + 1) * (t + 1));
                p.add(a, l, t, 0.2 * (l + 1));
                p.add(b, l, t, t == 1 ? Double.NaN : 0.05 * t);
            }
        }
        p.countRun();
        p.countRun();
        Path tmp = Files.createTempFile("seed", ".json");
        try {
            p.writeJson(tmp);
            sink.add("readJson", "two-series-nonfinite", Files.readAllBytes(tmp));
        } finally {
            Files.deleteIfExists(tmp);
        }
        sink.add("readJson", "no-series", "{\"format\": \"ditcache-profile/1\", \"steps\": 3, \"layers\": 1, "
                + "\"series\": []}");
        // hostile: each must be refused with an IOException naming the file
        sink.add("readJson", "wrong-format", "{\"format\": \"ditcache-profile/2\", \"steps\": 3, \"series\": []}");
        sink.add("readJson", "steps-one", "{\"format\": \"ditcache-profile/1\", \"steps\": 1, \"layers\": 1, "
                + "\"series\": []}");
        sink.add("readJson", "series-not-array", "{\"format\": \"ditcache-profile/1\", \"steps\": 3, "
                + "\"series\": {}}");
        sink.add("readJson", "bad-kind", "{\"format\": \"ditcache-profile/1\", \"steps\": 2, \"layers\": 1, "
                + "\"series\": [{\"kind\": \"NOPE\", \"stream\": \"IMAGE\", \"branch\": \"COND\", "
                + "\"metric\": \"L1_REL\", \"count\": [[1]], \"mean\": [[0.5]], \"m2\": [[0]]}]}");
        sink.add("readJson", "negative-m2", "{\"format\": \"ditcache-profile/1\", \"steps\": 2, \"layers\": 1, "
                + "\"series\": [{\"kind\": \"K\", \"stream\": \"IMAGE\", \"branch\": \"COND\", "
                + "\"metric\": \"L1_REL\", \"count\": [[1]], \"mean\": [[0.5]], \"m2\": [[-1]]}]}");
        sink.add("readJson", "ragged", "{\"format\": \"ditcache-profile/1\", \"steps\": 3, \"layers\": 1, "
                + "\"series\": [{\"kind\": \"K\", \"stream\": \"IMAGE\", \"branch\": \"COND\", "
                + "\"metric\": \"L1_REL\", \"count\": [[1]], \"mean\": [[0.5, 1]], \"m2\": [[0, 0]]}]}");
        sink.add("readJson", "not-json", "{\"format\": ");
    }
}
