package io.ditcache.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * OpenMP reads its settings once, when libtorch loads. Spin-waiting threads cost about 6× on small machines, so
 * the launcher makes sure {@code OMP_WAIT_POLICY=PASSIVE} and thread counts are in the environment before the
 * JVM loads libtorch, and that the Vector API module (the SIMD distance kernel) is present: if either is
 * missing it starts itself again with them.
 *
 * <p>The launcher and its child end together: a launcher ended by SIGTERM, SIGINT (Ctrl-C) or SIGHUP stops the
 * child before it exits, and a child whose launcher disappears (SIGKILL) notices within
 * {@value #WATCH_INTERVAL_MS} ms and exits, so no orphan goes on writing outputs. The example programs' mains use
 * it too.
 */
public final class NativeEnvironment {
    static final String MARKER = "ditcache.relaunched";
    static final String VECTOR_MODULE = "jdk.incubator.vector";
    /** The launcher's pid, given to the child so that it can end with it. */
    static final String LAUNCHER_PID = "ditcache.launcher.pid";
    /** Exit status of a child whose launcher is gone: as if terminated (128 + SIGTERM). */
    static final int ORPHANED = 143;
    static final long WATCH_INTERVAL_MS = 200;
    /** How long a child asked to end may take before it is killed. */
    static final long STOP_GRACE_MS = 5_000;

    /**
     * glibc malloc settings (ignored by other C libraries): freed memory stays in the process for the next step's
     * tensors instead of going back to the kernel and returning as fresh pages, each faulted in and zeroed. Without
     * them the default model's steps fault about 80 MB of pages each on a DiT-XL shape, and more while a profiler
     * holds every site's activation for a step: up to 4.5 % of a step. Allocations over 32 MiB (glibc's highest
     * threshold) are still mapped on their own; the heap keeps its peak size.
     */
    static final Map<String, String> MALLOC = Map.of(
            "MALLOC_MMAP_THRESHOLD_", Long.toString(32L << 20),
            "MALLOC_TRIM_THRESHOLD_", Long.toString(4L << 30),
            "MALLOC_TOP_PAD_", Long.toString(64L << 20));

    private NativeEnvironment() {
    }

    /** The settings to add to {@code env}: those it lacks. */
    static Map<String, String> missing(Map<String, String> env, int threads) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        String n = Integer.toString(threads);
        for (String key : List.of("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")) {
            if (!env.containsKey(key)) {
                out.put(key, n);
            }
        }
        if (!env.containsKey("OMP_WAIT_POLICY")) {
            out.put("OMP_WAIT_POLICY", "PASSIVE");
        }
        new java.util.TreeMap<>(MALLOC).forEach((key, value) -> {
            if (!env.containsKey(key)) {
                out.put(key, value);
            }
        });
        return out;
    }

    /**
     * Runs this program again with the missing settings when {@code OMP_WAIT_POLICY} is not set, and waits for
     * it; should this JVM be asked to end meanwhile, the child is stopped first.
     *
     * @return the child's exit code, or -1 when no relaunch was needed or possible
     */
    public static int relaunchIfNeeded(Class<?> mainClass, String[] args) {
        boolean vector = ModuleLayer.boot().findModule(VECTOR_MODULE).isPresent();
        if (System.getProperty(MARKER) != null || (System.getenv("OMP_WAIT_POLICY") != null && vector)) {
            return -1;
        }
        String java = ProcessHandle.current().info().command().orElse(null);
        if (java == null) {
            return -1;
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        if (!vector) {
            cmd.add("--add-modules");
            cmd.add(VECTOR_MODULE);
        }
        cmd.add("-D" + MARKER + "=true");
        cmd.add("-D" + LAUNCHER_PID + "=" + ProcessHandle.current().pid());
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().putAll(missing(System.getenv(), Runtime.getRuntime().availableProcessors()));
        Process child;
        try {
            child = pb.start();
        } catch (IOException e) {
            return -1;
        }
        // SIGTERM, SIGINT and SIGHUP run shutdown hooks: the child goes with us (SIGKILL is the watcher's part)
        Thread stopChild = new Thread(() -> stop(child), "ditcache-stop-child");
        Runtime.getRuntime().addShutdownHook(stopChild);
        try {
            return child.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stop(child);
            return 130;
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(stopChild);
            } catch (IllegalStateException e) {
                // shutting down: the hook is running or has run
            }
        }
    }

    /** Asks the child to end (its own shutdown runs), and kills it if it has not within the grace. */
    static void stop(Process child) {
        child.destroy();
        try {
            if (!child.waitFor(STOP_GRACE_MS, TimeUnit.MILLISECONDS)) {
                child.destroyForcibly().waitFor(STOP_GRACE_MS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            child.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * In a relaunched child, ends this JVM soon after its launcher ends. A launcher killed with SIGKILL cannot stop
     * its child, and a child left running goes on writing into folders that a restarted command then races; so
     * the child watches the launcher's pid and halts (status {@value #ORPHANED}) once it is gone. Writes are
     * atomic, so what it leaves is whole. Does nothing in a JVM that was not relaunched.
     */
    public static void endWithLauncher() {
        String pid = System.getProperty(LAUNCHER_PID);
        if (System.getProperty(MARKER) == null || pid == null) {
            return;
        }
        long expected;
        try {
            expected = Long.parseLong(pid);
        } catch (NumberFormatException e) {
            return;
        }
        // the launcher started us, so it is our parent until it ends (then the OS reparents us)
        ProcessHandle launcher = ProcessHandle.current().parent().filter(p -> p.pid() == expected).orElse(null);
        if (launcher == null) {
            orphaned(pid);
            return;
        }
        Thread watch = new Thread(() -> {
            // isAlive compares start times too, so a reused pid does not count as the launcher
            while (launcher.isAlive()) {
                try {
                    Thread.sleep(WATCH_INTERVAL_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
            orphaned(pid);
        }, "ditcache-launcher-watch");
        watch.setDaemon(true);
        watch.start();
    }

    private static void orphaned(String pid) {
        System.err.println("ditcache: launcher (pid " + pid + ") ended; stopping");
        // halt, not exit: the main thread would go on computing and writing while shutdown hooks ran, and an
        // orphan has nobody to run them for (writes are atomic, the OS drops the study folder's lock)
        Runtime.getRuntime().halt(ORPHANED);
    }
}
