package io.ditcache.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The launch's chunking and the descriptors' bytes, which the kernels read as {@code struct Pair}. */
class LaunchPlanTest {

    @Test
    void eachPairStartsWhereThePreviousPairsChunksEnd() {
        LaunchPlan plan = new LaunchPlan(List.of(
                new LaunchPlan.Pair(0x1000, 0x2000, 0, 1, ElementType.FLOAT32, 0),
                new LaunchPlan.Pair(0x1000, 0x2000, 0, 0, ElementType.FLOAT16, 1),
                new LaunchPlan.Pair(0x1000, 0x2000, 0x3000, 2L * LaunchPlan.CHUNK + 1, ElementType.BFLOAT16, 2),
                new LaunchPlan.Pair(0x1000, 0x2000, 0, LaunchPlan.CHUNK, ElementType.FLOAT32, 3)));
        assertEquals(0, plan.firstChunk(0));
        assertEquals(1, plan.firstChunk(1));
        assertEquals(1, plan.firstChunk(2), "an empty pair has no chunk: the next starts at the same block");
        assertEquals(4, plan.firstChunk(3));
        assertEquals(5, plan.chunks());
    }

    @Test
    void descriptorsAreTheKernelsStructLittleEndian() {
        LaunchPlan plan = new LaunchPlan(List.of(
                new LaunchPlan.Pair(0x1111, 0x2222, 0, 5, ElementType.FLOAT32, 7),
                new LaunchPlan.Pair(0xaaaaL << 32, 0xbbbb, 0xcccc, 9, ElementType.BFLOAT16, 8)));
        ByteBuffer d = plan.descriptors();
        assertEquals(2 * LaunchPlan.PAIR_BYTES, d.remaining());
        int o = LaunchPlan.PAIR_BYTES;
        assertEquals(0x1111, d.getLong(0));
        assertEquals(0xaaaaL << 32, d.getLong(o));
        assertEquals(0xbbbb, d.getLong(o + 8));
        assertEquals(0xcccc, d.getLong(o + 16));
        assertEquals(9, d.getLong(o + 24));
        assertEquals(1, d.getLong(o + 32), "first chunk");
        assertEquals(2, d.getInt(o + 40), "bfloat16's code");
        assertEquals(8, d.getInt(o + 44), "slot");
        assertEquals(5, d.get(24), "the first pair's n, little-endian, at byte 24");
    }

    @Test
    void constantsMatchTheKernelSource() throws Exception {
        String cu = Files.readString(Path.of("src/main/cuda/distances.cu"));
        assertEquals(LaunchPlan.THREADS, define(cu, "THREADS"));
        assertEquals(LaunchPlan.CHUNK, LaunchPlan.THREADS * define(cu, "PER_THREAD"));
        assertEquals(LaunchPlan.SUMS, define(cu, "SUMS"));
        assertTrue(cu.contains("int type;          // " + ElementType.FLOAT32.code() + " float32, "
                + ElementType.FLOAT16.code() + " float16, " + ElementType.BFLOAT16.code() + " bfloat16"));
    }

    @Test
    void emptyLaunchIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LaunchPlan(List.of()));
    }

    private static int define(String source, String name) {
        Matcher m = Pattern.compile("#define " + name + " (\\d+)").matcher(source);
        assertTrue(m.find(), "#define " + name + " in distances.cu");
        return Integer.parseInt(m.group(1));
    }
}
