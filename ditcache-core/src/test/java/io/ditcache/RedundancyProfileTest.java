package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RedundancyProfileTest {
    private static final SeriesKey K_L1 = SeriesKey.of(SiteKind.K, DistanceMetric.L1_MEAN);

    private static RedundancyProfile empty() {
        return new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 2, 4);
    }

    @Test
    void welfordMatchesTwoPassStatistics() {
        RedundancyProfile p = empty();
        double[] xs = {1.5, 2.25, 0.5, 7.0, 3.125};
        for (double x : xs) {
            p.add(K_L1, 1, 2, x);
        }
        double mean = 0;
        for (double x : xs) {
            mean += x / xs.length;
        }
        double var = 0;
        for (double x : xs) {
            var += (x - mean) * (x - mean) / xs.length;
        }
        ProfileSeries s = p.series(K_L1).orElseThrow();
        assertEquals(5, s.count(1, 2));
        assertEquals(mean, s.mean(1, 2), 1e-15);
        assertEquals(Math.sqrt(var), s.std(1, 2), 1e-14);
        assertEquals(Math.sqrt(var) / mean, s.cv(1, 2), 1e-14);
        assertTrue(Double.isNaN(s.mean(0, 0)), "empty cell has no mean");
        assertEquals(Math.sqrt(var) / mean, s.meanCv(), 1e-14, "only one cell is defined");
    }

    @Test
    void mergeOfPartsEqualsWhole() {
        Random r = new Random(7);
        RedundancyProfile whole = empty();
        RedundancyProfile a = empty();
        RedundancyProfile b = empty();
        for (int i = 0; i < 1000; i++) {
            double v = Math.exp(r.nextGaussian());
            int l = r.nextInt(2);
            int s = r.nextInt(3);
            whole.add(K_L1, l, s, v);
            (i % 3 == 0 ? a : b).add(K_L1, l, s, v);
        }
        RedundancyProfile merged = a.merge(b);
        ProfileSeries w = whole.series(K_L1).orElseThrow();
        ProfileSeries m = merged.series(K_L1).orElseThrow();
        for (int l = 0; l < 2; l++) {
            for (int s = 0; s < 3; s++) {
                assertEquals(w.count(l, s), m.count(l, s));
                assertEquals(w.mean(l, s), m.mean(l, s), 1e-12 * Math.abs(w.mean(l, s)));
                assertEquals(w.m2(l, s), m.m2(l, s), 1e-11 * Math.abs(w.m2(l, s)));
            }
        }
    }

    @Test
    void nonFiniteValuesAreCountedApartNotAveraged() {
        RedundancyProfile p = empty();
        p.add(K_L1, 0, 0, 2.0);
        p.add(K_L1, 0, 0, Double.NaN);
        p.add(K_L1, 0, 0, Double.POSITIVE_INFINITY);
        ProfileSeries s = p.series(K_L1).orElseThrow();
        assertEquals(1, s.count(0, 0));
        assertEquals(2, s.nonFinite(0, 0));
        assertEquals(2.0, s.mean(0, 0));
        assertTrue(p.hasNonFinite());
    }

    @Test
    void jsonRoundTripKeepsEveryStatistic(@TempDir Path dir) throws IOException {
        RedundancyProfile p = empty();
        p.add(K_L1, 0, 1, 0.25);
        p.add(K_L1, 0, 1, 0.75);
        p.add(SeriesKey.of(SiteKind.V, DistanceMetric.COSINE), 1, 2, Double.NaN);
        p.countRun();
        Path f = dir.resolve("profile.json");
        p.writeJson(f);
        String text = Files.readString(f);
        assertTrue(text.contains("\"format\" : \"ditcache-profile/1\""), text);
        RedundancyProfile q = RedundancyProfile.readJson(f);
        assertEquals(p.steps(), q.steps());
        assertEquals(p.layers(), q.layers());
        assertEquals(1, q.runs());
        ProfileSeries s = q.series(K_L1).orElseThrow();
        assertEquals(2, s.count(0, 1));
        assertEquals(0.5, s.mean(0, 1));
        assertEquals(0.125, s.m2(0, 1), 1e-15);
        assertEquals(1, q.series(SeriesKey.of(SiteKind.V, DistanceMetric.COSINE)).orElseThrow().nonFinite(1, 2));
        p.writeCsv(dir.resolve("profile.csv"));
        String csv = Files.readString(dir.resolve("profile.csv"));
        assertTrue(csv.startsWith("kind,stream,branch,metric,layer,step,count,mean,std,cv,nonfinite"));
        assertTrue(csv.contains("K,IMAGE,COND,L1_MEAN,0,1,2,0.5,0.25,0.5,0"), csv);
    }

    @Test
    void badJsonIsRejectedWithFileAndKey(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("p.json");
        Files.writeString(f, "{\"format\":\"other/9\",\"steps\":3,\"series\":[]}");
        IOException e = assertThrows(IOException.class, () -> RedundancyProfile.readJson(f));
        assertTrue(e.getMessage().contains("p.json") && e.getMessage().contains("format"), e.getMessage());
        Files.writeString(f, "{\"format\":\"ditcache-profile/1\",\"steps\":3,\"layers\":1,\"series\":[{\"kind\":\"K\","
                + "\"stream\":\"IMAGE\",\"branch\":\"COND\",\"metric\":\"L1_MEAN\",\"count\":[[1]],\"mean\":[[1]],"
                + "\"m2\":[[0]]}]}");
        e = assertThrows(IOException.class, () -> RedundancyProfile.readJson(f));
        assertTrue(e.getMessage().contains("count") && e.getMessage().contains("2 steps"), e.getMessage());
        Files.writeString(f, "{\"format\":\"ditcache-profile/1\",\"steps\":3,\"layers\":1,\"series\":[{\"kind\":\"Q\"}]}");
        e = assertThrows(IOException.class, () -> RedundancyProfile.readJson(f));
        assertTrue(e.getMessage().contains("\"kind\" is \"Q\""), e.getMessage());
        Files.writeString(f, "{not json");
        assertThrows(IOException.class, () -> RedundancyProfile.readJson(f));
    }

    /** A one-series profile file, as JSON to edit. */
    private static ObjectNode oneSeries(Path dir) throws IOException {
        RedundancyProfile p = empty();
        p.add(K_L1, 0, 1, 0.25);
        p.countRun();
        Path f = dir.resolve("one.json");
        p.writeJson(f);
        return (ObjectNode) new ObjectMapper().readTree(f.toFile());
    }

    private static String readFails(Path f, ObjectNode root) throws IOException {
        Files.writeString(f, root.toString());
        String m = assertThrows(IOException.class, () -> RedundancyProfile.readJson(f)).getMessage();
        assertTrue(m.startsWith(f + ": "), m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @Test
    void aRepeatedSeriesIsRefusedNamingIt(@TempDir Path dir) throws IOException {
        ObjectNode root = oneSeries(dir);
        ArrayNode series = (ArrayNode) root.get("series");
        series.add(series.get(0).deepCopy());
        String m = readFails(dir.resolve("twice.json"), root);
        assertTrue(m.contains("series[1] repeats series K/IMAGE/COND/L1_MEAN of series[0]"), m);
    }

    @Test
    void aModelThatIsNotAnObjectIsNamedNotLeftToJackson(@TempDir Path dir) throws IOException {
        ObjectNode root = oneSeries(dir);
        root.put("model", "dit-xl");
        assertTrue(readFails(dir.resolve("m.json"), root).contains("key \"model\" is \"dit-xl\", expected an object"));
        root = oneSeries(dir);
        root.putArray("scheduler").add(1);
        assertTrue(readFails(dir.resolve("s.json"), root).contains("key \"scheduler\" is [1], expected an object"));
    }

    @Test
    void countsThatAreNotIntegersAreRefusedNotTruncated(@TempDir Path dir) throws IOException {
        ObjectNode root = oneSeries(dir);
        root.put("steps", 4.5);
        assertTrue(readFails(dir.resolve("f.json"), root).contains("key \"steps\" is 4.5, expected an integer"));
        root = oneSeries(dir);
        root.put("layers", 10_000_000_000L);
        assertTrue(readFails(dir.resolve("l.json"), root).contains("key \"layers\" is 10000000000"));
        root = oneSeries(dir);
        root.put("runs", -1);
        assertTrue(readFails(dir.resolve("r.json"), root).contains("key \"runs\" is -1, expected an integer >= 0"));
    }

    @Test
    void parserErrorsAreOneLineFromTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("broken.json");
        Files.writeString(f, "{\"format\": \"ditcache-profile/1\",\n \"steps\": }");
        String m = assertThrows(IOException.class, () -> RedundancyProfile.readJson(f)).getMessage();
        assertTrue(m.startsWith(f + ": not valid JSON at line 2, column"), m);
        assertFalse(m.contains("\n") || m.contains("[Source"), m);
        Files.writeString(f, "{\"format\": \"ditcache-profile/1\", \"steps\": 3, \"steps\": 3}");
        assertTrue(assertThrows(IOException.class, () -> RedundancyProfile.readJson(f)).getMessage()
                .contains("Duplicate field 'steps'"));
        Files.writeString(f, "[]");
        assertTrue(assertThrows(IOException.class, () -> RedundancyProfile.readJson(f)).getMessage()
                .contains("expected a JSON object"));
    }

    @Test
    void mergeRejectsDifferentShapesAndModels() {
        RedundancyProfile a = empty();
        assertThrows(IllegalArgumentException.class,
                () -> a.merge(new RedundancyProfile(Map.of("name", "toy"), Map.of("name", "ddim"), 3, 4)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> a.merge(new RedundancyProfile(Map.of("name", "other"), Map.of("name", "ddim"), 2, 4)));
        assertTrue(e.getMessage().contains("different models"));
        assertFalse(a.hasNonFinite());
    }

    @Test
    void samplesAreCountedMergedAndKeptInTheFile(@TempDir Path dir) throws IOException {
        RedundancyProfile a = empty();
        for (int sample = 0; sample < 10; sample++) {
            a.add(K_L1, 0, 1, 0.1 * (sample + 1));
        }
        a.countRun(10);
        RedundancyProfile b = empty();
        b.add(K_L1, 0, 1, 0.5);
        b.countRun();
        assertEquals(10, a.samples());
        assertEquals(1, a.runs());
        RedundancyProfile ab = a.merge(b);
        assertEquals(11, ab.samples());
        assertEquals(2, ab.runs());
        Path f = dir.resolve("profile.json");
        ab.writeJson(f);
        assertEquals(11, RedundancyProfile.readJson(f).samples());
        assertThrows(IllegalArgumentException.class, () -> a.countRun(-1));

        // a file from before samples were recorded: the most observations any cell holds
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(f.toFile());
        root.remove("samples");
        json.writeValue(f.toFile(), root);
        assertEquals(11, RedundancyProfile.readJson(f).samples());
        root.put("samples", "ten");
        json.writeValue(f.toFile(), root);
        IOException bad = assertThrows(IOException.class, () -> RedundancyProfile.readJson(f));
        assertTrue(bad.getMessage().contains("key \"samples\" is \"ten\", expected an integer >= 0"),
                bad.getMessage());
    }
}
