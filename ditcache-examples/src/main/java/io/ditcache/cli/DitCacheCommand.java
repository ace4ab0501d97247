package io.ditcache.cli;

import java.io.PrintWriter;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ditcache} command line. */
@Command(name = "ditcache", mixinStandardHelpOptions = true, version = "ditcache 0.1.0",
        description = "Measures step-to-step redundancy in Diffusion Transformers.",
        subcommands = {RunCommand.class, ProfileCommand.class, StudyCommand.class, MergeCommand.class, BenchCommand.class,
                OverheadCommand.class, TrainCommand.class, GenerateCommand.class, PolicyCommand.class,
                InspectCommand.class, TokenizeCommand.class, CommandLine.HelpCommand.class})
public final class DitCacheCommand implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(DitCacheCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (run, profile, study, "
                + "merge, policy, bench, train, generate, inspect, tokenize)");
    }

    /**
     * A command line whose errors are one line on stderr with a non-zero exit code: 2 for bad arguments, 1 for a
     * failure while running, whether the failure is an exception or an {@link Error} such as running out of memory.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new DitCacheCommand());
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println(ex.getCommandLine().getCommandName() + ": " + ex.getMessage());
            err.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            LOG.debug("failure", ex);
            PrintWriter err = commandLine.getErr();
            err.println(commandLine.getCommandName() + ": " + oneLine(ex));
            err.flush();
            return 1;
        });
        // picocli hands only Exceptions to the handler above; an Error would leave execute() as a stack trace
        CommandLine.IExecutionStrategy strategy = cl.getExecutionStrategy();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return strategy.execute(parseResult);
            } catch (Error e) {
                CommandLine.ParseResult last = parseResult;
                while (last.hasSubcommand()) {
                    last = last.subcommand();
                }
                LOG.debug("failure", e);
                CommandLine commandLine = last.commandSpec().commandLine();
                PrintWriter err = commandLine.getErr();
                err.println(commandLine.getCommandName() + ": " + oneLine(e));
                err.flush();
                return 1;
            }
        });
        return cl;
    }

    /** The first line of a failure's message, worded for the user: no class names, no backtraces. */
    static String oneLine(Throwable ex) {
        if (ex instanceof OutOfMemoryError) {
            // JavaCPP's limit on native memory follows -Xmx unless set itself, so -Xmx is the one knob for both
            String nativeLimit = firstLine(ex).contains("maxPhysicalBytes")
                    ? " (or -Dorg.bytedeco.javacpp.maxPhysicalBytes for native memory alone)" : "";
            return "out of memory (" + firstLine(ex) + "); raise the Java heap limit (-Xmx" + maxHeapMiB()
                    + "m now) with DITCACHE_JAVA_OPTS, for example DITCACHE_JAVA_OPTS=-Xmx" + 2 * maxHeapMiB()
                    + "m" + nativeLimit + ", or ask for less work (fewer samples, conditions or a smaller batch)";
        }
        if (ex instanceof StackOverflowError) {
            return "stack overflow (a recursion too deep for the thread stack); raise it with -Xss in "
                    + "DITCACHE_JAVA_OPTS, for example DITCACHE_JAVA_OPTS=-Xss16m";
        }
        Throwable cause = ex.getCause();
        if (cause != null && cause != ex && (ex instanceof ExceptionInInitializerError || ex.getMessage() == null
                || ex.getMessage().equals(cause.toString()))) {
            return oneLine(cause); // a wrapper that says nothing of its own (UncheckedIOException(e), ...)
        }
        if (ex instanceof Error) {
            return "internal error: " + firstLine(ex) + " (" + ex.getClass().getSimpleName() + ")";
        }
        if (ex instanceof FileSystemException fs && fs.getReason() == null) {
            return firstLine(ex) + ": " + reason(fs);
        }
        return firstLine(ex);
    }

    /** What a file-system failure that carries only the file name means. */
    private static String reason(FileSystemException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        } else if (e instanceof FileAlreadyExistsException) {
            return "already exists (a file is in the way)";
        } else if (e instanceof DirectoryNotEmptyException) {
            return "a directory is in the way";
        } else if (e instanceof NotDirectoryException) {
            return "not a directory";
        } else if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return "cannot be accessed";
    }

    private static long maxHeapMiB() {
        return Runtime.getRuntime().maxMemory() / (1024 * 1024);
    }

    private static String firstLine(Throwable ex) {
        String m = ex.getMessage();
        if (m == null || m.isBlank()) {
            m = ex.getClass().getSimpleName();
        }
        // libtorch messages carry a C++ backtrace after the first line
        int nl = m.indexOf('\n');
        while (nl == 0) {
            m = m.substring(1);
            nl = m.indexOf('\n');
        }
        return nl > 0 ? m.substring(0, nl) : m;
    }

    public static void main(String[] args) {
        NativeEnvironment.endWithLauncher();
        int relaunched = NativeEnvironment.relaunchIfNeeded(DitCacheCommand.class, args);
        if (relaunched >= 0) {
            System.exit(relaunched);
        }
        CommandLine cl = commandLine();
        CommandLine.IExecutionStrategy strategy = cl.getExecutionStrategy();
        cl.setExecutionStrategy(parseResult -> {
            // a command is about to run (not help or a usage error): libtorch loads, perhaps for the first time
            if (needsNatives(parseResult)) {
                NativeCache.firstUseNotice().ifPresent(System.err::println);
            }
            return strategy.execute(parseResult);
        });
        System.exit(cl.execute(args));
    }

    /** Whether the parsed command runs a command that loads libtorch: not help, version or merge. */
    static boolean needsNatives(CommandLine.ParseResult parseResult) {
        CommandLine.ParseResult last = parseResult;
        while (true) {
            if (last.isUsageHelpRequested() || last.isVersionHelpRequested()) {
                return false;
            }
            if (!last.hasSubcommand()) {
                break;
            }
            last = last.subcommand();
        }
        String name = last.commandSpec().name();
        return last != parseResult && !name.equals("help") && !name.equals("merge");
    }
}
