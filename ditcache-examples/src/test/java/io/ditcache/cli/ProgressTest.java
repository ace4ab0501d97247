package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Progress without a terminal (one line per finished unit) and on one (a bar whose counts move and add up). */
class ProgressTest {
    @Test
    void workThatGrowsCountsToItsNewTotal() {
        StringWriter log = new StringWriter();
        AtomicLong nanos = new AtomicLong();
        try (Progress p = new Progress("bench", "runs", 2, 0, 2, 0, false, new PrintWriter(log), nanos::get, 0)) {
            for (int run = 0; run < 4; run++) {
                if (run == 1) {
                    p.grow(4, 4); // a row re-measured with two more runs
                }
                nanos.addAndGet(1_000_000_000L);
                p.step();
                p.unitDone("");
            }
        }
        assertEquals(List.of("bench: 1/2 runs done, 0:00:01, about 0:00:01 left",
                "bench: 2/4 runs done, 0:00:02, about 0:00:02 left", "bench: 3/4 runs done, 0:00:03, about 0:00:01 left",
                "bench: 4/4 runs done, 0:00:04"), log.toString().lines().toList());
    }

    @Test
    void withoutATerminalEachFinishedUnitIsOneWholeLine() {
        StringWriter log = new StringWriter();
        AtomicLong nanos = new AtomicLong();
        // three runs of 10 steps, 1 s per step
        try (Progress p = new Progress("study 1/2", "runs", 30, 0, 3, 0, false, new PrintWriter(log),
                nanos::get, 0)) {
            for (int run = 0; run < 3; run++) {
                for (int s = 0; s < 10; s++) {
                    nanos.addAndGet(1_000_000_000L);
                    p.step();
                }
                p.unitDone("c" + run + " ddim 10 steps");
            }
        }
        assertEquals(List.of(
                "study 1/2: 1/3 runs done (c0 ddim 10 steps), 0:00:10, about 0:00:20 left",
                "study 1/2: 2/3 runs done (c1 ddim 10 steps), 0:00:20, about 0:00:10 left",
                "study 1/2: 3/3 runs done (c2 ddim 10 steps), 0:00:30"), log.toString().lines().toList());
    }

    @Test
    void aResumedSweepCountsWhatIsDone() {
        StringWriter log = new StringWriter();
        AtomicLong nanos = new AtomicLong();
        try (Progress p = new Progress("study 1/1", "runs", 40, 30, 4, 3, false, new PrintWriter(log), nanos::get,
                0)) {
            for (int s = 0; s < 10; s++) {
                nanos.addAndGet(500_000_000L);
                p.step();
            }
            p.unitDone("");
        }
        assertEquals(List.of("study 1/1: 3/4 runs already done, resuming", "study 1/1: 4/4 runs done, 0:00:05"),
                log.toString().lines().toList());
        StringWriter done = new StringWriter();
        new Progress("study 1/1", "runs", 40, 40, 4, 4, false, new PrintWriter(done)).close();
        assertEquals("study 1/1: all 4 runs already done", done.toString().strip());
    }

    @Test
    void onATerminalTheBarCountsStepsAndRunsIncludingThoseDoneBefore() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream before = System.err;
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try (Progress p = new Progress("study 1/1", "runs", 20, 10, 2, 1, true, new PrintWriter(new StringWriter()),
                System::nanoTime, 160)) {
            for (int s = 0; s < 10; s++) {
                p.step();
            }
            p.unitDone("c1 ddim 10 steps");
        } finally {
            System.setErr(before);
        }
        String bar = bytes.toString(StandardCharsets.UTF_8);
        String last = bar.substring(bar.lastIndexOf('\r') + 1);
        assertTrue(last.contains("20/20 steps"), bar);
        assertTrue(last.contains("2/2 runs done (c1 ddim 10 steps)"), bar);
        assertFalse(bar.contains("0/0"), "a resume never shows 0/0: " + bar);

        // nothing left: the bar is full and says so, with no unknown time left
        bytes.reset();
        System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            new Progress("study 1/1", "runs", 20, 20, 2, 2, true, new PrintWriter(new StringWriter()),
                    System::nanoTime, 160).close();
        } finally {
            System.setErr(before);
        }
        String full = bytes.toString(StandardCharsets.UTF_8);
        full = full.substring(full.lastIndexOf('\r') + 1);
        assertTrue(full.contains("100%") && full.contains("20/20 steps") && full.contains("2/2 runs done"), full);
        assertFalse(full.contains("?"), full);
    }

    @Test
    void clockTimeIsHoursMinutesSeconds() {
        assertEquals("0:00:00", Progress.clockTime(java.time.Duration.ZERO));
        assertEquals("1:02:03", Progress.clockTime(java.time.Duration.ofSeconds(3723)));
    }
}
