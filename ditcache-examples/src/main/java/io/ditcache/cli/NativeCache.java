package io.ditcache.cli;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * JavaCPP's cache of native libraries. The first time libtorch loads, JavaCPP unpacks the natives from their jars
 * (libtorch, OpenBLAS, JavaCPP's own; {@value #SIZE} on x86-64 Linux) into its cache folder, one subfolder per jar,
 * which takes a while and a lot of disk without a word. This says so before it happens, and how to move the cache
 * (the launcher's {@code DITCACHE_NATIVE_CACHE}, or the system property {@value #PROPERTY}).
 */
final class NativeCache {
    /** JavaCPP's system property for the cache folder. */
    static final String PROPERTY = "org.bytedeco.javacpp.cachedir";
    /** What the natives take once unpacked (libtorch 2.10 CPU, OpenBLAS, JavaCPP; x86-64 Linux). */
    static final String SIZE = "about 445 MB";
    /** The packages whose natives are unpacked; each lives in its own jar. */
    private static final List<String> PACKAGES = List.of("org/bytedeco/javacpp", "org/bytedeco/openblas",
            "org/bytedeco/pytorch");

    private NativeCache() {
    }

    /** The cache folder JavaCPP will use: {@value #PROPERTY}, else {@code ~/.javacpp/cache}. */
    static Path dir() {
        String set = System.getProperty(PROPERTY);
        return set != null && !set.isBlank() ? Path.of(set)
                : Path.of(System.getProperty("user.home"), ".javacpp", "cache");
    }

    /**
     * The notice to print before the natives load, or empty when every native jar already has its folder in the
     * cache (or when the natives are not found in jars, as in a build tree).
     */
    static Optional<String> firstUseNotice() {
        String platform = System.getProperty("org.bytedeco.javacpp.platform", platform());
        return notice(dir(), jarsOf(platform, resource -> NativeCache.class.getClassLoader().getResource(resource)));
    }

    /** The notice for native jars {@code jars} and cache {@code cache}: empty when each has its folder there. */
    static Optional<String> notice(Path cache, List<String> jars) {
        List<String> missing = jars.stream().filter(j -> !Files.isDirectory(cache.resolve(j))).toList();
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("ditcache: first use: unpacking the libtorch natives (" + SIZE + ") into " + cache
                + ", once (up to a minute). To keep them elsewhere: DITCACHE_NATIVE_CACHE=DIR ./ditcache ..., or "
                + "java -D" + PROPERTY + "=DIR ...");
    }

    /** File names of the jars that hold the natives of {@link #PACKAGES} for {@code platform}. */
    static List<String> jarsOf(String platform, Function<String, URL> find) {
        List<String> out = new ArrayList<>();
        for (String pkg : PACKAGES) {
            URL url = find.apply(pkg + "/" + platform + "/");
            jarName(url).ifPresent(out::add);
        }
        return out;
    }

    /** The file name of the jar of a {@code jar:file:...!/...} URL. */
    static Optional<String> jarName(URL url) {
        if (url == null || !"jar".equals(url.getProtocol())) {
            return Optional.empty();
        }
        String s = url.getPath();
        int bang = s.indexOf("!/");
        String file = bang < 0 ? s : s.substring(0, bang);
        int slash = file.lastIndexOf('/');
        return Optional.of(file.substring(slash + 1));
    }

    /** JavaCPP's platform name for this JVM ({@code linux-x86_64}, ...), without loading any native code. */
    private static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(java.util.Locale.ROOT);
        String o = os.startsWith("linux") ? "linux" : os.startsWith("mac") ? "macosx"
                : os.startsWith("windows") ? "windows" : os;
        String a = arch.equals("amd64") || arch.equals("x86_64") ? "x86_64"
                : arch.equals("aarch64") ? "arm64" : arch;
        return o + "-" + a;
    }
}
