package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Whatever a command throws while running, exceptions and {@link Error}s alike, ends as one line on stderr and
 * exit code 1; no stack trace reaches the user.
 */
class ErrorsWhileRunningTest {
    /** A command that fails with what it is given. */
    @Command(name = "fail")
    static final class Failing implements Callable<Integer> {
        private final Supplier<Throwable> failure;

        Failing(Supplier<Throwable> failure) {
            this.failure = failure;
        }

        @Override
        public Integer call() throws Exception {
            Throwable t = failure.get();
            if (t instanceof Error e) {
                throw e;
            }
            throw (Exception) t;
        }
    }

    private static CliRun failWith(Supplier<Throwable> failure) {
        CommandLine cl = DitCacheCommand.commandLine();
        cl.addSubcommand("fail", new Failing(failure));
        return CliRun.of(cl, "fail");
    }

    private static String oneLine(CliRun r) {
        assertEquals(1, r.exitCode(), r::toString);
        assertEquals(1, r.errLines().size(), () -> "one line on stderr\n" + r);
        assertFalse(r.err().contains("\tat "), () -> "no stack trace\n" + r);
        return r.errLines().get(0);
    }

    @Test
    void outOfMemoryIsOneLineThatSaysHowToRaiseTheHeap() {
        String line = oneLine(failWith(() -> new OutOfMemoryError("Java heap space")));
        assertTrue(line.startsWith("fail: out of memory (Java heap space); raise"), line);
        assertTrue(line.contains("-Xmx") && line.contains("DITCACHE_JAVA_OPTS"), line);
        // JavaCPP's own limit on native memory
        String physical = oneLine(failWith(() -> new OutOfMemoryError("Physical memory usage is too high: "
                + "physicalBytes (137M) > maxPhysicalBytes (98304K)")));
        assertTrue(physical.startsWith("fail: out of memory (Physical memory usage is too high"), physical);
        assertTrue(physical.contains("-Dorg.bytedeco.javacpp.maxPhysicalBytes"), physical);
    }

    @Test
    void stackOverflowIsOneLine() {
        String line = oneLine(failWith(StackOverflowError::new));
        assertTrue(line.startsWith("fail: stack overflow"), line);
        assertTrue(line.contains("-Xss"), line);
    }

    @Test
    void otherErrorsAreOneLineNamingTheError() {
        String line = oneLine(failWith(() -> new NoClassDefFoundError("org/bytedeco/pytorch/Tensor")));
        assertEquals("fail: internal error: org/bytedeco/pytorch/Tensor (NoClassDefFoundError)", line);
        String init = oneLine(failWith(() -> new ExceptionInInitializerError(
                new IllegalStateException("no native library for linux-riscv64"))));
        assertEquals("fail: no native library for linux-riscv64", init);
    }

    @Test
    void fileSystemFailuresSayWhatIsWrongWithTheFile() {
        assertEquals("fail: /data/x.png: no such file or directory",
                oneLine(failWith(() -> new NoSuchFileException("/data/x.png"))));
        assertEquals("fail: /data/x.png: no such file or directory", oneLine(failWith(
                () -> new UncheckedIOException(new NoSuchFileException("/data/x.png")))));
        assertEquals("fail: /data/x.png: Read-only file system", oneLine(failWith(
                () -> new java.nio.file.FileSystemException("/data/x.png", null, "Read-only file system"))));
    }
}
