package io.ditcache.cli;

import java.io.PrintWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ditcache} command line. */
@Command(name = "ditcache", mixinStandardHelpOptions = true, version = "ditcache 0.1.0",
        description = "Measures step-to-step redundancy in Diffusion Transformers.",
        subcommands = {RunCommand.class, ProfileCommand.class, StudyCommand.class, MergeCommand.class, BenchCommand.class,
                TrainCommand.class, GenerateCommand.class, PolicyCommand.class,
                CommandLine.HelpCommand.class})
public final class DitCacheCommand implements Runnable {
    private static final Logger LOG = LoggerFactory.getLogger(DitCacheCommand.class);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (run, profile, study, merge, policy, bench, train, generate)");
    }

    /**
     * A command line whose errors are one line on stderr with a non-zero exit code: 2 for bad arguments, 1 for a
     * failure while running.
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
        return cl;
    }

    static String oneLine(Throwable ex) {
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
        System.exit(commandLine().execute(args));
    }
}
