package io.ditcache.bench;

import java.lang.management.ManagementFactory;

/**
 * How busy the machine was while a shootout timed its runs: the one-minute load average (runnable threads,
 * this process's included) seen at the start, after each case and at the end, against the cores. A load above
 * the cores means threads waited for a core, and wall times then measure the queue as much as the work.
 *
 * @param cores the processors the JVM sees
 * @param start the load average when timing began (NaN where the system does not report one)
 * @param max   the highest load average seen
 * @param end   the load average when timing ended
 */
public record MachineLoad(int cores, double start, double max, double end) {
    /** Load figures that were not taken. */
    public static final MachineLoad UNKNOWN = new MachineLoad(Runtime.getRuntime().availableProcessors(), Double.NaN,
            Double.NaN, Double.NaN);

    /** Whether the load average went above the cores at any reading. */
    public boolean busy() {
        return max > cores;
    }

    /** The load average now, NaN where the system does not report one. */
    public static double now() {
        double v = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return v < 0 ? Double.NaN : v;
    }

    /** A first reading. */
    static MachineLoad begin() {
        double v = now();
        return new MachineLoad(Runtime.getRuntime().availableProcessors(), v, v, v);
    }

    /** With one more reading. */
    MachineLoad read() {
        double v = now();
        return new MachineLoad(cores, start, Double.isNaN(max) ? v : Double.isNaN(v) ? max : Math.max(max, v), v);
    }

    /** One sentence for reports. */
    public String describe() {
        if (Double.isNaN(max)) {
            return "machine load not known (no load average on this system)";
        }
        return String.format(java.util.Locale.ROOT, "load average %.2f at the start, at most %.2f, on %d cores%s",
                start, max, cores, busy() ? ": the machine was too busy to time reliably (threads waited for a "
                        + "core); speedups are noisy, and rows above what their skipped share allows are flagged"
                        : "");
    }
}
