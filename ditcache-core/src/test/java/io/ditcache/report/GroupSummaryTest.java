package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.Block;
import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.RedundancyProfile;
import java.io.InputStream;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Blocks by group, from a profile's recorded model: what the reports label and summarise per group. */
class GroupSummaryTest {
    @SuppressWarnings("unchecked")
    static Map<String, Object> sd3Identity() throws Exception {
        Map<String, Object> config;
        try (InputStream in = GroupSummaryTest.class.getResourceAsStream("/fixtures/diffusers/sd3/config.json")) {
            config = new ObjectMapper().readValue(in, Map.class);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "sd3");
        m.put("class_name", config.get("_class_name"));
        m.put("config", config);
        return m;
    }

    @Test
    void theRecordedConfigGivesTheFamilysGroups() throws Exception {
        Optional<BlockLayout> layout = GroupSummary.layout(sd3Identity());
        assertTrue(layout.isPresent());
        assertEquals(List.of(new GroupSummary.Range("joint", 0, 3)), GroupSummary.ranges(layout, 4));
        RedundancyProfile p = new RedundancyProfile(sd3Identity(), Map.of("name", "flowmatch"), 4, 3);
        assertArrayEquals(new String[] {"joint", "joint", "joint", "joint"}, LayerCurves.groupLabels(p));
    }

    @Test
    void consecutiveBlocksOfAGroupAreOneRange() {
        EnumSet<BlockPart> parts = EnumSet.of(BlockPart.SELF_ATTENTION, BlockPart.FEED_FORWARD);
        BlockLayout flux = BlockLayout.of(5, i -> new Block(i, i < 2 ? BlockGroup.DOUBLE : BlockGroup.SINGLE, parts,
                i < 2, true, 1));
        List<GroupSummary.Range> r = GroupSummary.ranges(Optional.of(flux), 5);
        assertEquals(List.of(new GroupSummary.Range("double", 0, 1), new GroupSummary.Range("single", 2, 4)), r);
        assertEquals("blocks 0-1 double", r.get(0).toString());
        assertEquals("block 3 single", new GroupSummary.Range("single", 3, 3).toString());
    }

    @Test
    void anUnknownModelIsOnePlainGroupWithoutPanelLabels() {
        Map<String, Object> toy = Map.of("name", "x", "class_name", "NoSuchModel", "config",
                Map.of("_class_name", "NoSuchModel"));
        assertEquals(Optional.empty(), GroupSummary.layout(toy));
        assertEquals(List.of(new GroupSummary.Range("plain", 0, 2)), GroupSummary.ranges(Optional.empty(), 3));
        RedundancyProfile p = new RedundancyProfile(toy, Map.of("name", "ddim"), 3, 3);
        assertArrayEquals(new String[] {"", "", ""}, LayerCurves.groupLabels(p));
        StringBuilder h = new StringBuilder();
        GroupSummary.table(h, "x", p);
        assertTrue(h.toString().contains("<td>x</td><td>0-2</td><td>plain</td><td class=\"n\"></td>"), h.toString());
    }
}
