package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The {@code ./ditcache} launcher's build output: Maven's log, filtered by {@code maven-progress.awk}, becomes one
 * line per module with its goals, a count of downloads, and every error; nothing else.
 */
class LauncherBuildOutputTest {
    static final Path FILTER = Path.of("src/launcher/maven-progress.awk");

    private static List<String> filter(String mavenLog) throws Exception {
        Process p = new ProcessBuilder("awk", "-f", FILTER.toString()).redirectErrorStream(true).start();
        p.getOutputStream().write(mavenLog.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return out.lines().toList();
    }

    @Test
    void oneLinePerModuleWithItsGoalsDownloadsCountedErrorsKept() throws Exception {
        assertTrue(Files.isRegularFile(FILTER), "the launcher's filter is in the repository");
        StringBuilder log = new StringBuilder("""
                [INFO] Scanning for projects...
                [INFO] ---------------------< io.ditcache:ditcache-core >----------------------
                [INFO] Building ditcache-core 0.1.0-SNAPSHOT                              [4/6]
                [INFO] --------------------------------[ jar ]---------------------------------
                """);
        for (int i = 0; i < 60; i++) {
            log.append("[INFO] Downloaded from central: https://repo/x").append(i).append(".jar (1 kB at 1 kB/s)\n");
        }
        log.append("""
                [INFO] --- maven-resources-plugin:3.3.1:resources (default-resources) @ ditcache-core ---
                [INFO] Copying 12 resources
                [INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ ditcache-core ---
                [INFO] Compiling 310 source files with javac [debug release 17] to target/classes
                [INFO] --- maven-jar-plugin:3.4.1:jar (default-jar) @ ditcache-core ---
                [INFO] ---------------------< io.ditcache:ditcache-examples >------------------
                [INFO] Building ditcache-examples 0.1.0-SNAPSHOT                          [6/6]
                [INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ ditcache-examples ---
                [ERROR] /src/Foo.java:[3,1] cannot find symbol
                [INFO] BUILD FAILURE
                """);
        assertEquals(List.of(
                "ditcache:   [4/6] ditcache-core:",
                "ditcache:   downloading dependencies into ~/.m2 (1 files so far) ...",
                "ditcache:   downloading dependencies into ~/.m2 (51 files so far) ...",
                "ditcache:   [4/6] ditcache-core: resources compile jar",
                "ditcache:   [6/6] ditcache-examples: compile",
                "[ERROR] /src/Foo.java:[3,1] cannot find symbol",
                "[INFO] BUILD FAILURE",
                "ditcache:   downloaded 60 files"), filter(log.toString()));
    }

    @Test
    void aBuildWithoutDownloadsIsOneLinePerModule() throws Exception {
        assertEquals(List.of("ditcache:   [1/2] ditcache-core: resources compile jar",
                "ditcache:   [2/2] ditcache-examples: compile"), filter("""
                [INFO] Building ditcache-core 0.1.0-SNAPSHOT                              [1/2]
                [INFO] --- maven-resources-plugin:3.3.1:resources (default-resources) @ ditcache-core ---
                [INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ ditcache-core ---
                [INFO] --- maven-jar-plugin:3.4.1:jar (default-jar) @ ditcache-core ---
                [INFO] Building jar: /work/ditcache/ditcache-core/target/ditcache-core-0.1.0-SNAPSHOT.jar
                [INFO] Building ditcache-examples 0.1.0-SNAPSHOT                          [2/2]
                [INFO] --- maven-compiler-plugin:3.13.0:compile (default-compile) @ ditcache-examples ---
                """));
    }
}
