package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ComputeMaskTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** 4 steps x 3 layers, 8 of 12 computed. */
    private static ComputeMask sample(ComputeMask.Criterion criterion) {
        boolean[][] c = {{true, true, true}, {false, true, false}, {true, false, true}, {true, true, false}};
        return new ComputeMask(c, criterion, 0.25, "synthetic/ddim-4");
    }

    @Test
    void roundTripsBothCriteria() throws IOException {
        for (ComputeMask.Criterion c : List.of(new ComputeMask.Budget(0.7), new ComputeMask.TargetError(0.3))) {
            ComputeMask mask = sample(c);
            Path file = dir.resolve("mask.json");
            mask.write(file);
            ComputeMask back = ComputeMask.read(file);
            assertEquals(mask, back);
            assertEquals(mask.hashCode(), back.hashCode());
            assertEquals(c, back.criterion());
        }
    }

    @Test
    void theFileIsTheDocumentedFormatWithOneLinePerStep() throws IOException {
        Path file = dir.resolve("mask.json");
        sample(new ComputeMask.Budget(0.7)).write(file);
        ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
        assertEquals(ComputeMask.FORMAT, root.get("format").asText());
        assertEquals(4, root.get("steps").asInt());
        assertEquals(3, root.get("layers").asInt());
        assertEquals(8.0 / 12, root.get("computed_fraction").asDouble());
        assertEquals(0.25, root.get("estimated_error").asDouble());
        assertEquals(0.7, root.get("criterion").get("budget").asDouble());
        assertEquals("synthetic/ddim-4", root.get("source").asText());
        assertEquals("[0,1,0]", root.get("compute").get(1).toString());
        String text = Files.readString(file);
        assertTrue(text.contains("\n    [0, 1, 0],\n    [1, 0, 1],\n"), text);
        ObjectNode target = (ObjectNode) JSON.readTree(write(sample(new ComputeMask.TargetError(0.3))).toFile());
        assertEquals(0.3, target.get("criterion").get("target_error").asDouble());
    }

    @Test
    void fractionsAndTheGrid() {
        ComputeMask mask = sample(new ComputeMask.Budget(0.7));
        assertEquals(8, mask.computedCount());
        assertEquals(8.0 / 12, mask.computedFraction());
        assertTrue(mask.computes(0, 1));
        assertFalse(mask.computes(1, 0));
        assertEquals("  012\n0 ###\n1 .#.\n2 #.#\n3 ##.\n", mask.grid());
        assertTrue(mask.toString().contains("4 steps x 3 layers"), mask.toString());
        assertTrue(mask.toString().contains("budget 0.7"), mask.toString());
        // the mask is a copy, and hands out copies
        boolean[][] grid = mask.compute();
        grid[1][0] = true;
        assertFalse(mask.computes(1, 0));
    }

    @Test
    void invalidMasksAreRefused() {
        boolean[][] ok = {{true, true}, {false, true}};
        ComputeMask.Budget budget = new ComputeMask.Budget(1);
        assertThrows(IllegalArgumentException.class,
                () -> new ComputeMask(new boolean[][] {{true, false}, {true, true}}, budget, 0, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new ComputeMask(new boolean[][] {{true, true}, {true}}, budget, 0, "x"));
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask(new boolean[0][0], budget, 0, "x"));
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask(ok, budget, Double.NaN, "x"));
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask(ok, budget, -1, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new ComputeMask(ok, new ComputeMask.Budget(0.5), 0, "x"));
        assertThrows(IllegalArgumentException.class,
                () -> new ComputeMask(ok, new ComputeMask.TargetError(0.1), 0.2, "x"));
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask.Budget(0));
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask.Budget(1.5));
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask.TargetError(-0.1));
    }

    @Test
    void notJson() throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, "{ \"format\": ");
        assertReadFails(file, "not valid JSON");
        Files.writeString(file, "[1, 2]");
        assertReadFails(file, "expected a JSON object");
    }

    @Test
    void badFormatTag() throws IOException {
        assertReadFails(edit(r -> r.put("format", "ditcache-profile/1")), "key \"format\"",
                "\"ditcache-profile/1\"", "expected \"ditcache-mask/1\"");
        assertReadFails(edit(r -> r.remove("format")), "key \"format\" is null");
    }

    @Test
    void badStepsAndLayers() throws IOException {
        assertReadFails(edit(r -> r.put("steps", 0)), "key \"steps\" is 0", "expected an integer >= 1");
        assertReadFails(edit(r -> r.put("steps", "4")), "key \"steps\" is \"4\"");
        assertReadFails(edit(r -> r.put("layers", 2.5)), "key \"layers\" is 2.5");
        assertReadFails(edit(r -> r.put("steps", 5)), "key \"compute\" has 4 steps", "expected a [5][3] array");
        assertReadFails(edit(r -> r.put("layers", 4)), "compute[0] is [1,1,1]", "expected an array of 4 layers");
    }

    @Test
    void hugeClaimedDimensionsInATinyFileAreRefusedBeforeAllocating() throws IOException {
        Path file = dir.resolve("hostile.json");
        String head = "{\"format\":\"ditcache-mask/1\",\"computed_fraction\":1,\"estimated_error\":0,"
                + "\"criterion\":{\"budget\":1},\"source\":\"x\",\"compute\":[[1]],";
        Files.writeString(file, head + "\"steps\":1,\"layers\":2147483647}");
        assertTrue(Files.size(file) < 200);
        assertTimeoutPreemptively(Duration.ofSeconds(10), () -> assertReadFails(file,
                "key \"layers\" is 2147483647", "at most " + ComputeMask.MAX_LAYERS));
        Files.writeString(file, head + "\"steps\":2147483647,\"layers\":1}");
        assertReadFails(file, "key \"steps\" is 2147483647", "at most " + ComputeMask.MAX_STEPS);
        // within the bounds, the claim is checked against the entries present before a row is allocated
        Files.writeString(file, head + "\"steps\":1,\"layers\":10000}");
        assertReadFails(file, "compute[0] is [1], expected an array of 10000 layers (key \"layers\")");
        IOException viaPolicy = assertThrows(IOException.class, () -> PolicyFile.read(file, null));
        assertTrue(viaPolicy.getMessage().startsWith(file + ": compute[0]"), viaPolicy.getMessage());
    }

    @Test
    void policyFileParserErrorsAreOneLineFromTheFile() throws IOException {
        Path file = dir.resolve("policy.json");
        Files.writeString(file, "{\"name\": \"fora\",\n \"interval\": }");
        String m = assertThrows(IOException.class, () -> PolicyFile.read(file, null)).getMessage();
        assertTrue(m.startsWith(file + ": not valid JSON at line 2, column"), m);
        assertFalse(m.contains("\n") || m.contains("[Source"), m);
    }

    @Test
    void repeatedKeysAreRefused() throws IOException {
        Path file = dir.resolve("twice.json");
        Files.writeString(file, Files.readString(write(sample(new ComputeMask.Budget(0.7))))
                .replaceFirst("\"steps\" : 4,", "\"steps\" : 4, \"steps\" : 4,"));
        assertReadFails(file, "not valid JSON at line", "Duplicate field 'steps'");
    }

    @Test
    void badComputeGrid() throws IOException {
        assertReadFails(edit(r -> r.put("compute", "all")), "key \"compute\" is \"all\"", "expected a [4][3] array");
        assertReadFails(edit(r -> ((ArrayNode) r.get("compute").get(2)).remove(0)), "compute[2] is [0,1]",
                "expected an array of 3 layers");
        assertReadFails(edit(r -> ((ArrayNode) r.get("compute").get(1)).set(2, 2)), "compute[1][2] is 2",
                "expected 0 or 1");
        assertReadFails(edit(r -> ((ArrayNode) r.get("compute").get(1)).set(0, JSON.getNodeFactory().booleanNode(
                true))), "compute[1][0] is true", "expected 0 or 1");
        assertReadFails(edit(r -> ((ArrayNode) r.get("compute").get(3)).set(1, 0.5)), "compute[3][1] is 0.5");
    }

    @Test
    void stepZeroMustComputeEveryBlock() throws IOException {
        assertReadFails(edit(r -> ((ArrayNode) r.get("compute").get(0)).set(1, 0)), "compute[0][1] is 0",
                "expected 1", "step 0");
    }

    @Test
    void computedFractionMustMatchTheGrid() throws IOException {
        assertReadFails(edit(r -> r.put("computed_fraction", 0.5)), "key \"computed_fraction\" is 0.5",
                "expected 0.666", "8 of 12");
        assertReadFails(edit(r -> r.remove("computed_fraction")), "key \"computed_fraction\" is null");
        // a rounded decimal of the right fraction is fine
        ObjectNode root = valid();
        root.put("computed_fraction", 0.6666666666667);
        assertEquals(8, assertDoesNotFail(root).computedCount());
    }

    @Test
    void badEstimatedError() throws IOException {
        assertReadFails(edit(r -> r.put("estimated_error", -0.5)), "key \"estimated_error\" is -0.5",
                "expected a finite number >= 0");
        assertReadFails(edit(r -> r.put("estimated_error", "0.2")), "key \"estimated_error\" is \"0.2\"");
        assertReadFails(edit(r -> r.remove("estimated_error")), "key \"estimated_error\" is null");
    }

    @Test
    void badCriterion() throws IOException {
        String expected = "expected {\"budget\": F}";
        assertReadFails(edit(r -> r.remove("criterion")), "key \"criterion\" is null", expected);
        assertReadFails(edit(r -> r.putObject("criterion").put("budget", 1.5)),
                "key \"criterion\" is {\"budget\":1.5}", expected);
        assertReadFails(edit(r -> r.putObject("criterion").put("budget", 0)), "{\"budget\":0}", expected);
        assertReadFails(edit(r -> r.putObject("criterion").put("target_error", -1)), "{\"target_error\":-1}",
                expected);
        assertReadFails(edit(r -> r.putObject("criterion").put("speed", 2)), "{\"speed\":2}", expected);
        assertReadFails(edit(r -> r.putObject("criterion").put("budget", 1).put("target_error", 1)),
                "{\"budget\":1,\"target_error\":1}", expected);
        assertReadFails(edit(r -> r.putObject("criterion").put("budget", "half")), "{\"budget\":\"half\"}",
                expected);
    }

    @Test
    void theMaskMustMeetItsCriterion() throws IOException {
        assertReadFails(edit(r -> r.putObject("criterion").put("budget", 0.5)),
                "key \"computed_fraction\" is 0.666", "at most the criterion's budget 0.5");
        assertReadFails(edit(r -> r.putObject("criterion").put("target_error", 0.1)),
                "key \"estimated_error\" is 0.25", "at most the criterion's target_error 0.1");
    }

    @Test
    void sourceMustBeAString() throws IOException {
        assertReadFails(edit(r -> r.remove("source")), "key \"source\" is null", "expected a string");
        assertReadFails(edit(r -> r.put("source", 3)), "key \"source\" is 3", "expected a string");
    }

    @Test
    void weightedMasksAreTheirOwnFormatAndOldFilesStillRead() throws IOException {
        boolean[][] c = {{true, true, true}, {false, true, false}, {true, false, true}, {true, true, false}};
        ComputeMask weighted = new ComputeMask(c, new double[] {1, 2, 1}, new ComputeMask.Budget(0.7), 0.25, "w");
        assertEquals((4 + 2 + 2 + 3) / 16.0, weighted.computedFraction(), 1e-12, "cells weighed by cost");
        Path file = write(weighted);
        ObjectNode root = (ObjectNode) JSON.readTree(file.toFile());
        assertEquals(ComputeMask.WEIGHTED_FORMAT, root.get("format").asText());
        assertEquals("[1.0,2.0,1.0]", root.get("layer_costs").toString());
        assertEquals(weighted, ComputeMask.read(file));
        // equal costs are no weights: the first format, read back as the unweighted mask
        ComputeMask alike = new ComputeMask(c, new double[] {5, 5, 5}, new ComputeMask.Budget(0.7), 0.25, "w");
        assertEquals(ComputeMask.FORMAT, JSON.readTree(write(alike).toFile()).get("format").asText());
        assertEquals(new ComputeMask(c, new ComputeMask.Budget(0.7), 0.25, "w"), alike);
        assertReadFails(edit(r -> r.putArray("layer_costs").add(1).add(2).add(1)), "key \"layer_costs\" is present",
                "ditcache-mask/2");
        assertReadFails(edit(r -> r.put("format", ComputeMask.WEIGHTED_FORMAT)), "key \"layer_costs\" is null",
                "an array of 3 finite numbers > 0");
        assertReadFails(edit(r -> {
            r.put("format", ComputeMask.WEIGHTED_FORMAT);
            r.putArray("layer_costs").add(1).add(-2).add(1);
        }), "layer_costs[1] is -2", "a finite number > 0");
    }

    private Path write(ComputeMask mask) throws IOException {
        Path file = Files.createTempFile(dir, "mask", ".json");
        mask.write(file);
        return file;
    }

    private ObjectNode valid() throws IOException {
        return (ObjectNode) JSON.readTree(write(sample(new ComputeMask.Budget(0.7))).toFile());
    }

    /** A file of the sample mask with one change. */
    private Path edit(Consumer<ObjectNode> change) throws IOException {
        ObjectNode root = valid();
        change.accept(root);
        Path file = Files.createTempFile(dir, "edited", ".json");
        JSON.writeValue(file.toFile(), root);
        return file;
    }

    private ComputeMask assertDoesNotFail(ObjectNode root) throws IOException {
        Path file = Files.createTempFile(dir, "edited", ".json");
        JSON.writeValue(file.toFile(), root);
        return ComputeMask.read(file);
    }

    /** Reading fails with one message naming the file and every fragment. */
    private static void assertReadFails(Path file, String... fragments) {
        IOException e = assertThrows(IOException.class, () -> ComputeMask.read(file));
        String m = e.getMessage();
        assertTrue(m.startsWith(file.toString() + ": "), m);
        for (String f : fragments) {
            assertTrue(m.contains(f), "missing '" + f + "' in: " + m);
        }
        assertFalse(m.contains("\n"), m);
    }
}
