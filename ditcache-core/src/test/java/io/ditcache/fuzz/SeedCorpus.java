package io.ditcache.fuzz;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the committed seed corpus: small valid files made by the project's own writers, plus a few hostile ones,
 * into {@code src/test/resources/<package>/<Class>Inputs/<method>/}, where Jazzer's regression mode (every
 * {@code mvn test}) runs them and its fuzzing mode starts from them. Each fuzz test class lists its seeds in a
 * static {@code seeds(Sink)} method.
 *
 * <p>Run by {@code fuzz/run seeds}. Arguments: the module's test resource folder, then optionally the fuzz test
 * classes to write (default: all of {@link #CLASSES}).
 */
public final class SeedCorpus {
    /** The fuzz test classes, each with a {@code static void seeds(SeedCorpus.Sink)}. */
    static final List<String> CLASSES = List.of(
            "io.ditcache.io.SafetensorsFileFuzzTest",
            "io.ditcache.io.CheckpointFuzzTest",
            "io.ditcache.io.DiffusersConfigFuzzTest",
            "io.ditcache.model.ModelLoaderFuzzTest",
            "io.ditcache.sched.SchedulerConfigFuzzTest",
            "io.ditcache.ProfileFuzzTest",
            "io.ditcache.policy.PolicyFileFuzzTest",
            "io.ditcache.study.StudyFilesFuzzTest",
            "io.ditcache.data.IdxFileFuzzTest",
            "io.ditcache.model.text.TextEncoderFilesFuzzTest");

    private SeedCorpus() {
    }

    /** Receives the seeds of one fuzz test class. */
    public interface Sink {
        /** A seed of fuzz test {@code method} stored under {@code name}. */
        void add(String method, String name, byte[] bytes) throws IOException;

        default void add(String method, String name, String text) throws IOException {
            add(method, name, text.getBytes(StandardCharsets.UTF_8));
        }
    }

    public static void main(String[] args) throws Exception {
        Path resources = Path.of(args.length > 0 ? args[0] : "src/test/resources");
        List<String> classes = args.length > 1 ? List.of(args).subList(1, args.length) : CLASSES;
        for (String name : classes) {
            Class<?> c = Class.forName(name);
            Path inputs = resources.resolve(c.getPackageName().replace('.', '/')).resolve(c.getSimpleName() + "Inputs");
            Method seeds = c.getDeclaredMethod("seeds", Sink.class);
            seeds.setAccessible(true);
            int[] n = {0};
            seeds.invoke(null, (Sink) (method, seed, bytes) -> {
                Path dir = inputs.resolve(method);
                Files.createDirectories(dir);
                Files.write(dir.resolve(seed), bytes);
                n[0]++;
            });
            System.out.println(c.getSimpleName() + ": " + n[0] + " seeds in " + inputs);
        }
    }
}
