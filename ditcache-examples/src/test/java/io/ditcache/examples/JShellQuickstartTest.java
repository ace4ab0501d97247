package io.ditcache.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the {@code jshell} block of the README's "Use from JShell" section in a real JShell. The jar the README
 * names only exists after {@code package}, so JShell gets this test's class path (core, examples and every
 * dependency) instead, and runs in a temporary directory so the report lands there.
 */
class JShellQuickstartTest {
    static final Path README = Path.of("..", "README.md");
    static final String SECTION = "## Use from JShell";
    static final String COMMAND = "OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 jshell "
            + "--class-path ditcache-examples/target/ditcache.jar";
    static final long TIMEOUT_MINUTES = 5;

    @Test
    void readmeSnippetRunsAndWritesTheReport(@TempDir Path dir) throws Exception {
        String section = section(Files.readString(README));
        assertTrue(section.contains("mvn -q -B -DskipTests package\n" + COMMAND + "\n"),
                "the section starts JShell with: " + COMMAND);
        String snippet = codeBlock(section, "jshell");
        assertTrue(snippet.strip().endsWith("/exit"), "the snippet ends with /exit");
        Path script = Files.writeString(dir.resolve("quickstart.jsh"), snippet);

        String output = runJShell(script, dir);
        assertFalse(output.contains("Error") || output.toLowerCase().contains("exception"), output);
        assertTrue(output.contains("6 layers x 10 steps"), output);
        assertTrue(Files.exists(dir.resolve("jshell-report").resolve("report.html")), output);
    }

    /** From the section heading to the next heading of the same level. */
    static String section(String readme) {
        int start = readme.indexOf("\n" + SECTION + "\n");
        assertTrue(start >= 0, "README.md has a section " + SECTION);
        int end = readme.indexOf("\n## ", start + 1);
        return readme.substring(start + 1, end < 0 ? readme.length() : end);
    }

    /** The content of the one fenced block of {@code language}. */
    static String codeBlock(String text, String language) {
        String open = "```" + language + "\n";
        int start = text.indexOf(open);
        assertTrue(start >= 0, "a ```" + language + " block");
        assertEquals(-1, text.indexOf(open, start + 1), "exactly one ```" + language + " block");
        int end = text.indexOf("\n```", start + open.length());
        assertTrue(end >= 0, "the ```" + language + " block is closed");
        return text.substring(start + open.length(), end + 1);
    }

    static String runJShell(Path script, Path workDir) throws IOException, InterruptedException {
        String classPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .map(e -> Path.of(e).toAbsolutePath().toString())
                .collect(Collectors.joining(File.pathSeparator));
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "jshell").toString(),
                // JShell keeps its settings in java.util.prefs; keep them out of the user's home.
                "-J-Djava.util.prefs.userRoot=" + workDir.resolve("prefs"),
                "-R-Djava.util.prefs.userRoot=" + workDir.resolve("prefs"),
                "--class-path", classPath, script.toString()));
        Path log = workDir.resolve("jshell.log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().put("OMP_NUM_THREADS", "2");
        pb.environment().put("OPENBLAS_NUM_THREADS", "2");
        Process p = pb.start();
        boolean finished = p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
        if (!finished) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log);
        assertTrue(finished, "jshell did not finish in " + TIMEOUT_MINUTES + " minutes:\n" + output);
        assertEquals(0, p.exitValue(), "jshell exit code; output:\n" + output);
        return output;
    }
}
