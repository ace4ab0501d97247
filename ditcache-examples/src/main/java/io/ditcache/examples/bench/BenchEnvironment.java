package io.ditcache.examples.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** What a benchmark figure depends on (JDK, CPU, thread settings), plus the process RSS and a median. */
public final class BenchEnvironment {
    private static final List<String> THREAD_VARS =
            List.of("OMP_WAIT_POLICY", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS");

    private BenchEnvironment() {
    }

    /** A few lines naming the JDK, the CPU, the core count and the thread environment variables. */
    public static String describe() {
        String env = THREAD_VARS.stream().map(v -> v + "=" + System.getenv().getOrDefault(v, "(unset)"))
                .collect(Collectors.joining(" "));
        return "JDK: " + System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                + "\nCPU: " + cpuModel() + ", " + Runtime.getRuntime().availableProcessors() + " cores visible to the JVM"
                + ", common ForkJoinPool parallelism " + java.util.concurrent.ForkJoinPool.getCommonPoolParallelism()
                + "\nthreads: " + env
                + "\nload average at start (other processes on this machine): " + loadAverage();
    }

    /** The 1, 5 and 15 minute load averages of /proc/loadavg, or "unknown". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** CPU time of this process in nanoseconds, all threads (native ones included), or -1 when unknown. */
    public static long processCpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    /** The {@code model name} line of /proc/cpuinfo, or "unknown". */
    public static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The resident set size of this process in bytes ({@code VmRSS} of /proc/self/status). */
    public static long rssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] f = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(f[0]) * 1024;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new IllegalStateException("no VmRSS line in /proc/self/status");
    }

    /** The committed Java heap in bytes (heap pages count in RSS once touched). */
    public static long heapCommittedBytes() {
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }

    /**
     * RSS less the committed Java heap, after a full collection and once G1 has given the freed heap back (it
     * uncommits concurrently): an estimate of native memory that young-generation churn does not move.
     */
    public static long settledNativeBytes() {
        System.gc();
        long last = Long.MIN_VALUE;
        for (int i = 0; i < 20; i++) { // at most 2 s
            long now = rssBytes() - heapCommittedBytes();
            if (Math.abs(now - last) < (1 << 20)) {
                return now;
            }
            last = now;
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return last;
    }

    /** The median of {@code values} (the mean of the middle two for an even count). */
    public static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
}
