package io.ditcache.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CachePolicy.Decision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Masks of per-cell decisions: their file ({@value ComputeMask#DECISIONS_FORMAT}) round-trips and old masks keep
 * their format; the computed fraction counts the parts that run; the profile-guided policy maps each cell onto its
 * block and declares only the decisions its mask uses.
 */
class DecisionMaskTest {
    private static final BlockLayout LAYOUT = new BlockLayout(List.of(Block.plain(0, 1),
            new Block(1, BlockGroup.PLAIN, EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.CROSS_ATTENTION,
                    BlockPart.FEED_FORWARD), false, true, 2)));

    private static CellDecision[][] grid(String... rows) {
        CellDecision[][] out = new CellDecision[rows.length][];
        for (int t = 0; t < rows.length; t++) {
            out[t] = new CellDecision[rows[t].length()];
            for (int l = 0; l < rows[t].length(); l++) {
                out[t][l] = CellDecision.of(rows[t].charAt(l));
            }
        }
        return out;
    }

    @Test
    void aDecisionMaskRoundTripsAndCountsThePartsThatRun(@TempDir Path dir) throws IOException {
        ComputeMask mask = new ComputeMask(grid("CC", "AF", "PB", "TA"), LAYOUT, new ComputeMask.Budget(0.6), 0.25,
                "test");
        // layer 0 (cost 1): 1 + 1/2 + 0 + 0; layer 1 (cost 2, 3 parts): 1 + 2/3 + 0 + 1/3
        assertEquals((1.5 + 2 * 2.0) / (4 * 3), mask.computedFraction(), 1e-15);
        assertEquals(2, mask.computedCount(), "step 0 computes both blocks whole");
        assertTrue(mask.hasDecisions());
        Path file = dir.resolve("mask.json");
        mask.write(file);
        String text = Files.readString(file);
        assertTrue(text.contains("\"" + ComputeMask.DECISIONS_FORMAT + "\"") && text.contains("\"AF\""), text);
        assertTrue(text.contains("\"cross_attention\""), text);
        assertEquals(mask, ComputeMask.read(file));
        assertEquals("  01\n0 ##\n1 af\n2 p.\n3 ta\n", mask.grid());
        CachePolicy read = PolicyFile.read(file, null);
        assertInstanceOf(ProfileGuidedPolicy.class, read);
        assertEquals(mask, ((ProfileGuidedPolicy) read).mask());
    }

    @Test
    void aMaskOfComputeAndReuseKeepsItsOldFormat(@TempDir Path dir) throws IOException {
        ComputeMask mask = new ComputeMask(grid("CC", "BC", "CB"), BlockLayout.plain(2), new ComputeMask.Budget(0.7),
                0, "test");
        assertFalse(mask.hasDecisions());
        assertEquals(new ComputeMask(new boolean[][] {{true, true}, {false, true}, {true, false}},
                new ComputeMask.Budget(0.7), 0, "test"), mask);
        Path file = dir.resolve("mask.json");
        mask.write(file);
        assertTrue(Files.readString(file).contains("\"" + ComputeMask.FORMAT + "\""));
        assertEquals(mask, ComputeMask.read(file));
    }

    @Test
    void badDecisionFilesNameTheKey(@TempDir Path dir) throws IOException {
        ComputeMask mask = new ComputeMask(grid("CC", "AB"), LAYOUT, new ComputeMask.Budget(1), 0, "test");
        Path file = dir.resolve("mask.json");
        mask.write(file);
        String good = Files.readString(file);
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, good.replace("\"AB\"", "\"AX\""));
        IOException e = assertThrows(IOException.class, () -> ComputeMask.read(bad));
        assertTrue(e.getMessage().contains("decisions[1][1]") && e.getMessage().contains("'X'"), e.getMessage());
        Files.writeString(bad, good.replace("\"CC\"", "\"CB\""));
        e = assertThrows(IOException.class, () -> ComputeMask.read(bad));
        assertTrue(e.getMessage().contains("decisions[0][1]"), e.getMessage());
        Files.writeString(bad, good.replace("\"cross_attention\"", "\"crosstalk\""));
        e = assertThrows(IOException.class, () -> ComputeMask.read(bad));
        assertTrue(e.getMessage().contains("layer_parts[1]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new ComputeMask(grid("C", "A"),
                BlockLayout.wholeModel(), new ComputeMask.Budget(1), 0, "test"), "a block without parts");
    }

    @Test
    void theGuidedPolicyMapsCellsOntoBlocksAndDeclaresOnlyWhatItUses() {
        ComputeMask mask = new ComputeMask(grid("CC", "AC", "CT", "AB"), LAYOUT, new ComputeMask.Budget(1), 0,
                "test");
        ProfileGuidedPolicy policy = new ProfileGuidedPolicy(mask);
        assertEquals(Set.of(Decision.COMPUTE, Decision.reuse(BlockPart.SELF_ATTENTION)),
                policy.decisions(LAYOUT.block(0)));
        assertEquals(Set.of(Decision.COMPUTE, Decision.forecastBlock(1), Decision.REUSE_BLOCK),
                policy.decisions(LAYOUT.block(1)));
        CachePolicy.Query q = new CachePolicy.Query(1, 4, 0, LAYOUT, 0, Branch.COND, 0);
        assertEquals(Decision.reuse(BlockPart.SELF_ATTENTION), policy.decide(q));
        CachePolicy.Query q2 = new CachePolicy.Query(2, 4, 0, LAYOUT, 1, Branch.UNCOND, 3);
        assertEquals(Decision.forecastBlock(1), policy.decide(q2));
        assertEquals(2, ((java.util.Map<?, ?>) policy.describe().get("decisions")).get("reuse_attention"));
    }
}
