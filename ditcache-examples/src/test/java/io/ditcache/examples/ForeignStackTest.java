package io.ditcache.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.ActivationProbe;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.RedundancyProfile;
import io.ditcache.SiteKind;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.Policies;
import io.ditcache.policy.ProfileGuidedPolicy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ForeignStack}: its files, each policy's figures, bit-identity of every policy's compute-everything setting
 * with uncached sampling at both granularities, and the size of its glue.
 */
class ForeignStackTest {
    /** The figure of merit: lines a foreign stack writes to use the runtime. */
    static final int GLUE_LIMIT = 60;

    @Test
    void writesTheProfileAndEachPolicysFigures(@TempDir Path dir) throws IOException {
        ForeignStack.Figures figures = ForeignStack.run(dir);
        RedundancyProfile profile = RedundancyProfile.readJson(dir.resolve("profile.json"));
        assertEquals(ForeignStack.BLOCKS, profile.layers());
        assertEquals(ForeignStack.STEPS, profile.steps());
        assertFalse(profile.hasNonFinite());
        for (SiteKind kind : List.of(SiteKind.K, SiteKind.V, SiteKind.ATTN_OUT, SiteKind.MLP_OUT, SiteKind.BLOCK_OUT,
                SiteKind.BLOCK_RESIDUAL, SiteKind.MODULATED_INPUT)) {
            assertTrue(profile.series().stream().anyMatch(s -> s.key().kind() == kind), "profiled " + kind);
        }
        assertEquals(1, RedundancyProfile.readJson(dir.resolve("step-profile.json")).layers());

        JsonNode doc = new ObjectMapper().readTree(dir.resolve("policies.json").toFile());
        JsonNode policies = doc.get("policies");
        List<String> names = new ArrayList<>();
        policies.forEach(p -> names.add(p.get("granularity").asText() + ":" + p.get("name").asText()));
        assertEquals(List.of("block:fora", "block:fbcache", "block:teacache", "block:magcache", "block:taylorseer",
                "block:profile-guided", "step:fora", "step:teacache", "step:magcache"), names);
        assertEquals(figures.policies().size(), policies.size());
        double scale = figures.referenceMaxAbs();
        assertTrue(scale > 0.5 && scale < 100, "uncached latents of a sane size: " + scale);
        for (int i = 0; i < policies.size(); i++) {
            JsonNode p = policies.get(i);
            ForeignStack.PolicyFigures f = figures.policies().get(i);
            double skipped = p.get("skipped_fraction").asDouble();
            double error = p.get("max_abs_error").asDouble();
            assertEquals(f.skippedFraction(), skipped);
            assertEquals(f.maxAbsError(), error);
            assertTrue(skipped > 0.1 && skipped < 0.9, names.get(i) + " skipped " + skipped);
            // reuse moves the trajectory, but not by more than the latents' own size
            assertTrue(error > 0 && error < scale, names.get(i) + " max abs error " + error + " vs " + scale);
        }
        assertEquals(1 - ForeignStack.MASK_BUDGET, figures.policies().get(5).skippedFraction(), 0.05,
                "the mask skips what its budget leaves");
    }

    @Test
    void computeEverythingSettingsAreBitIdenticalToUncachedSampling() {
        ForeignStack stack = new ForeignStack(3);
        float[] uncached = stack.sampleUncached();
        RedundancyProfile profile = ForeignStack.profile(ForeignStack.BLOCKS, stack::sampleBlocks);
        RedundancyProfile steps = ForeignStack.profile(1, stack::sampleSteps);
        List<CachePolicy> block = List.of(CachePolicy.none(), Policies.create("fora", Map.of("interval", 1)),
                Policies.create("fbcache", Map.of("threshold", 0)),
                Policies.create("teacache", Map.of("threshold", 0, "degree", 2), profile),
                Policies.create("magcache", Map.of("threshold", 0), profile),
                Policies.create("taylorseer", Map.of("interval", 1, "warmupSteps", 0, "order", 2)),
                new ProfileGuidedPolicy(MaskPlanner.forBudget(profile, ForeignStack.LAYOUT, ForeignStack.STEPS, 1)));
        for (CachePolicy p : block) {
            CacheStats stats = new CacheStats();
            assertArrayEquals(uncached, stack.sampleBlocks(p, stats, ActivationProbe.NONE), 0f, "block " + p);
            assertEquals(0.0, stats.skippedFraction(), "block " + p);
        }
        List<CachePolicy> step = List.of(CachePolicy.none(), Policies.create("fora", Map.of("interval", 1)),
                Policies.create("teacache", Map.of("threshold", 0, "degree", 2), steps),
                Policies.create("magcache", Map.of("threshold", 0), steps));
        for (CachePolicy p : step) {
            CacheStats stats = new CacheStats();
            assertArrayEquals(uncached, stack.sampleSteps(p, stats, ActivationProbe.NONE), 0f, "step " + p);
            assertEquals(0.0, stats.skippedFraction(), "step " + p);
        }
    }

    @Test
    void theGlueStaysUnderTheLimit() throws IOException {
        Path source = Path.of("src/main/java/io/ditcache/examples/ForeignStack.java");
        int glue = glueLines(Files.readAllLines(source));
        assertTrue(glue > 20, "the glue markers enclose the runtime calls, found " + glue + " lines");
        assertTrue(glue < GLUE_LIMIT, "ForeignStack needs " + glue + " lines of glue, the aim is under "
                + GLUE_LIMIT);
    }

    /** Non-blank, non-comment lines between {@code // glue:begin} and {@code // glue:end} markers. */
    static int glueLines(List<String> lines) {
        int n = 0;
        boolean inside = false;
        boolean comment = false;
        for (String line : lines) {
            String t = line.strip();
            if (t.startsWith("// glue:begin")) {
                assertFalse(inside, "nested glue:begin");
                inside = true;
            } else if (t.startsWith("// glue:end")) {
                assertTrue(inside, "glue:end without glue:begin");
                inside = false;
            } else if (inside && comment) {
                comment = !t.contains("*/");
            } else if (inside && t.startsWith("/*")) {
                comment = !t.contains("*/");
            } else if (inside && !t.isEmpty() && !t.startsWith("//")) {
                n++;
            }
        }
        assertFalse(inside, "glue:begin without glue:end");
        return n;
    }

    @Test
    void glueCountingSkipsBlanksAndComments() {
        assertEquals(2, glueLines(List.of("int a;", "// glue:begin", "  /**", "   * doc", "   */", "", "int b;",
                "// why", "/* one line */", "int c;", "// glue:end", "int d;")));
    }
}
