package io.ditcache.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** One in-process run of the {@code ditcache} command line: its exit code and what it printed. */
record CliRun(int exitCode, String out, String err) {
    static CliRun of(String... args) {
        return of(DitCacheCommand.commandLine(), args);
    }

    /** A run of {@code cl}, a command line made by {@link DitCacheCommand#commandLine()} (perhaps with more commands). */
    static CliRun of(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    /** A run and the progress lines it wrote to {@code System.err} (where progress goes), those of {@code task}. */
    record WithProgress(CliRun run, List<String> progress) {
    }

    /** Runs the command with {@code System.err} captured; no terminal here, so progress is one line per unit. */
    static WithProgress withProgress(String task, String... args) {
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stderr = System.err;
        System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
        CliRun r;
        try {
            r = of(args);
        } finally {
            System.setErr(stderr);
        }
        return new WithProgress(r, captured.toString(java.nio.charset.StandardCharsets.UTF_8).lines()
                .filter(l -> l.startsWith(task + ": ")).toList());
    }

    List<String> errLines() {
        return err.lines().toList();
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
}
