package io.ditcache.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * OpenMP reads its settings once, when libtorch loads. Spin-waiting threads cost about 6× on small machines, so
 * the launcher makes sure {@code OMP_WAIT_POLICY=PASSIVE} and thread counts are in the environment before the
 * JVM loads libtorch, and that the Vector API module (the SIMD distance kernel) is present: if either is
 * missing it starts itself again with them.
 */
final class NativeEnvironment {
    static final String MARKER = "ditcache.relaunched";
    static final String VECTOR_MODULE = "jdk.incubator.vector";

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
        return out;
    }

    /**
     * Runs this program again with the missing settings when {@code OMP_WAIT_POLICY} is not set.
     *
     * @return the child's exit code, or -1 when no relaunch was needed or possible
     */
    static int relaunchIfNeeded(Class<?> mainClass, String[] args) {
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
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
        pb.environment().putAll(missing(System.getenv(), Runtime.getRuntime().availableProcessors()));
        try {
            return pb.start().waitFor();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        }
    }
}
