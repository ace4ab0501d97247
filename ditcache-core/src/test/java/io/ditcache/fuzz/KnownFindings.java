package io.ditcache.fuzz;

import io.ditcache.fuzz.ContractViolation.Kind;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Contract violations found by fuzzing whose fix has not landed yet, each with its reproducer in
 * {@code fuzz/findings/<target>/<id>} and a line in {@code fuzz/findings/README.md}. They are tolerated (logged once, counted) so that {@code mvn test} stays green on
 * the current readers and a fuzzing run gets past them to new findings; with {@code DITCACHE_FUZZ_STRICT=1} in the
 * environment (what {@code fuzz/run} sets unless given {@code --tolerate-known}) they fail like any other.
 *
 * <p>When a fix lands: delete its entry here, move its reproducer into the target's seed folder, run
 * {@code DITCACHE_FUZZ_STRICT=1 mvn test}. A finding matches on the fuzz target, the kind of violation, the
 * throwable's type and the first frame of ditcache code that threw it (and, where those say too little, the
 * message), so that a new bug elsewhere, or of another kind at the same place, still fails.
 */
public final class KnownFindings {
    private static final Logger LOG = LoggerFactory.getLogger(KnownFindings.class);
    private static final boolean STRICT = ParserContract.truthy(System.getenv("DITCACHE_FUZZ_STRICT"))
            || Boolean.getBoolean("ditcache.fuzz.strict");
    private static final Map<String, AtomicLong> SEEN = new ConcurrentHashMap<>();

    /**
     * One open finding; a field left null matches anything.
     *
     * @param id      its reproducer's file name under {@code fuzz/findings/<target>/}
     * @param target  regular expression over {@code FuzzTestClass#method}
     * @param kind    how the contract was broken
     * @param type    the throwable thrown (for a message violation, the documented one with the bad message); an
     *                {@code OutOfMemoryError} often comes without a stack trace, so leave its site null
     * @param site    regular expression over {@code package.Class.method}, the first ditcache frame of that throwable
     * @param message regular expression found in the violation's message
     * @param what    one line: what is wrong
     */
    record Finding(String id, String target, Kind kind, Class<? extends Throwable> type, String site, String message,
            String what) {
        boolean matches(String calledFrom, Kind k, Throwable broken, Throwable thrown) {
            return k == kind && calledFrom.matches(target)
                    && (type == null || thrown != null && thrown.getClass() == type)
                    && (site == null || thrown != null && siteOf(thrown).matches(site))
                    && (message == null || Pattern.compile(message).matcher(String.valueOf(broken.getMessage()))
                            .find());
        }
    }

    /**
     * None open: every finding of the first fuzzing runs (fuzz/findings/README.md) is fixed, and its reproducer is
     * in its target's seed corpus, so {@code mvn test} replays it on every build.
     */
    static final List<Finding> OPEN = List.of();

    private KnownFindings() {
    }

    /** Whether {@code broken}, thrown or found in fuzz target {@code target}, is an open finding to tolerate. */
    static boolean tolerates(String target, Throwable broken) {
        if (STRICT) {
            return false;
        }
        Kind kind = broken instanceof ContractViolation v ? v.kind() : Kind.UNDOCUMENTED_TYPE;
        Throwable thrown = broken instanceof ContractViolation ? broken.getCause() : broken;
        for (Finding f : OPEN) {
            if (f.matches(target, kind, broken, thrown)) {
                if (SEEN.computeIfAbsent(f.id(), id -> new AtomicLong()).getAndIncrement() == 0) {
                    LOG.warn("known finding {} tolerated in {} (reproducer: fuzz/findings/*/{}): {}; "
                            + "DITCACHE_FUZZ_STRICT=1 fails on it", f.id(), target, f.id(), f.what());
                }
                return true;
            }
        }
        return false;
    }

    /** How often each open finding was tolerated in this JVM, by id. */
    public static Map<String, Long> seen() {
        Map<String, Long> out = new java.util.TreeMap<>();
        SEEN.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** {@code package.Class.method} of the first frame of {@code t} in ditcache's own (non-test) code. */
    static String siteOf(Throwable t) {
        for (StackTraceElement e : t.getStackTrace()) {
            String c = e.getClassName();
            if (c.startsWith("io.ditcache.") && !c.startsWith("io.ditcache.fuzz.") && !c.endsWith("FuzzTest")
                    && !c.contains("FuzzTest$")) {
                return c + "." + e.getMethodName();
            }
        }
        return "?";
    }
}
