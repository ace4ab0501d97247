package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The first-use notice of the native cache: said before the unpack, with size, place and how to move it. */
class NativeCacheTest {
    @Test
    void theJarOfANativeResourceIsNamedAsJavacppNamesItsCacheFolder() throws Exception {
        URL url = new URL("jar:file:/home/u/.m2/repository/org/bytedeco/pytorch/2.10.0-1.5.13/"
                + "pytorch-2.10.0-1.5.13-linux-x86_64.jar!/org/bytedeco/pytorch/linux-x86_64/");
        assertEquals(Optional.of("pytorch-2.10.0-1.5.13-linux-x86_64.jar"), NativeCache.jarName(url));
        assertEquals(Optional.empty(), NativeCache.jarName(new URL("file:/build/classes/org/bytedeco/")));
        assertEquals(Optional.empty(), NativeCache.jarName(null));
        Map<String, URL> found = Map.of("org/bytedeco/pytorch/linux-x86_64/", url);
        assertEquals(List.of("pytorch-2.10.0-1.5.13-linux-x86_64.jar"),
                NativeCache.jarsOf("linux-x86_64", found::get));
    }

    @Test
    void theNoticeComesOnlyWhileAJarHasNoFolderInTheCache(@TempDir Path cache) throws Exception {
        List<String> jars = List.of("javacpp-1.5.13-linux-x86_64.jar", "pytorch-2.10.0-1.5.13-linux-x86_64.jar");
        String notice = NativeCache.notice(cache, jars).orElseThrow();
        assertTrue(notice.contains(NativeCache.SIZE) && notice.contains(cache.toString())
                && notice.contains("-D" + NativeCache.PROPERTY + "=DIR")
                && notice.contains("DITCACHE_NATIVE_CACHE=DIR"),
                notice);
        Files.createDirectories(cache.resolve(jars.get(0)));
        assertTrue(NativeCache.notice(cache, jars).isPresent(), "libtorch still to unpack");
        Files.createDirectories(cache.resolve(jars.get(1)));
        assertEquals(Optional.empty(), NativeCache.notice(cache, jars), "everything unpacked: no word");
    }

    @Test
    void theCacheFolderFollowsJavacppsProperty(@TempDir Path elsewhere) {
        String before = System.getProperty(NativeCache.PROPERTY);
        try {
            System.setProperty(NativeCache.PROPERTY, elsewhere.toString());
            assertEquals(elsewhere, NativeCache.dir());
            System.clearProperty(NativeCache.PROPERTY);
            assertEquals(Path.of(System.getProperty("user.home"), ".javacpp", "cache"), NativeCache.dir());
        } finally {
            if (before != null) {
                System.setProperty(NativeCache.PROPERTY, before);
            }
        }
    }

    @Test
    void onlyCommandsThatLoadLibtorchAnnounceIt() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"--version"},
                new String[] {"profile", "--help"}, new String[] {"help", "profile"},
                new String[] {"merge", "--out", "x", "a"})) {
            CommandLine cl = DitCacheCommand.commandLine();
            assertEquals(false, DitCacheCommand.needsNatives(cl.parseArgs(args)), String.join(" ", args));
        }
        CommandLine cl = DitCacheCommand.commandLine();
        assertEquals(true, DitCacheCommand.needsNatives(cl.parseArgs("profile", "--steps", "3")));
    }
}
