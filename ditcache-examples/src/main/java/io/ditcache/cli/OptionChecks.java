package io.ditcache.cli;

import io.ditcache.sched.Schedulers;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine;

/**
 * Checks of options several commands share, made before any work starts; each failure is a one-line parameter
 * error (exit code 2) naming the option, the value and what was expected.
 */
final class OptionChecks {
    /** The most elements one Java array holds (a few below {@link Integer#MAX_VALUE}, as the JDK's own limit). */
    static final long ARRAY_LIMIT = Integer.MAX_VALUE - 8;

    private OptionChecks() {
    }

    static void guidance(CommandLine cl, double guidance) {
        if (!(guidance >= 1.0) || !Double.isFinite(guidance)) {
            throw new CommandLine.ParameterException(cl, "--guidance " + guidance
                    + ": expected a finite number >= 1 (1 = no guidance)");
        }
    }

    static void scheduler(CommandLine cl, String scheduler) {
        if (!Schedulers.names().contains(scheduler)) {
            throw new CommandLine.ParameterException(cl,
                    "--scheduler " + scheduler + ": unknown, expected one of " + Schedulers.names());
        }
    }

    /**
     * Throws unless {@code min <= value <= max}.
     *
     * @param why what the limits come from, or null
     */
    static void count(CommandLine cl, String option, long value, long min, long max, String why) {
        if (value < min || value > max) {
            throw new CommandLine.ParameterException(cl, option + " " + value + ": expected "
                    + (max == Long.MAX_VALUE ? ">= " + min : min + ".." + max) + (why == null ? "" : " (" + why + ")"));
        }
    }

    /**
     * The most items the process can hold when each item takes {@code valuesPerItem} elements of one shared Java
     * array and {@code bytesPerItem} bytes of heap in all: the lesser of the array limit and half the heap the JVM
     * may grow to (the other half is for the model and what the work needs besides).
     */
    static long maxItems(long valuesPerItem, long bytesPerItem) {
        return Math.min(ARRAY_LIMIT / valuesPerItem, Runtime.getRuntime().maxMemory() / 2 / bytesPerItem);
    }

    /** Why {@link #maxItems} is what it is, for messages. */
    static String itemLimit(String item, long valuesPerItem, long bytesPerItem) {
        long heap = Runtime.getRuntime().maxMemory();
        if (ARRAY_LIMIT / valuesPerItem <= heap / 2 / bytesPerItem) {
            return "each " + item + " takes " + valuesPerItem + " values of one Java array, which holds at most "
                    + ARRAY_LIMIT;
        }
        return String.format(Locale.ROOT, "each %s needs %.1f KiB of heap and the JVM may use %d MiB, half of it "
                + "for %ss; raise -Xmx with DITCACHE_JAVA_OPTS for more", item, bytesPerItem / 1024.0,
                heap / (1024 * 1024), item);
    }

    /**
     * Throws unless {@code dir} can be a directory this run writes into: an existing directory, or a path whose
     * nearest existing ancestor is a writable directory.
     */
    static void outputDirectory(CommandLine cl, String option, Path dir) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new CommandLine.ParameterException(cl, option + " " + dir + ": is a file, expected a directory "
                    + "(existing or to be made)");
        }
        writableAncestor(cl, option, dir, dir);
    }

    /**
     * Throws unless {@code file} can be a file this run writes: absent or a regular file, in a directory that
     * exists or can be made.
     */
    static void outputFile(CommandLine cl, String option, Path file) {
        if (Files.isDirectory(file)) {
            throw new CommandLine.ParameterException(cl, option + " " + file + ": is a directory, expected a file");
        }
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            // writing replaces the target: a device or a pipe must not be swapped for a file
            throw new CommandLine.ParameterException(cl, option + " " + file + ": is not a regular file (a device, "
                    + "pipe or socket), expected a file to write");
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            writableAncestor(cl, option, file, parent);
        }
    }

    /** The nearest existing directory at or above {@code dir} must be writable, and no file may be in the way. */
    private static void writableAncestor(CommandLine cl, String option, Path given, Path dir) {
        Path p = dir.toAbsolutePath().normalize();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return; // nothing exists up to the root: let the write say what is wrong
        }
        if (!Files.isDirectory(p)) {
            throw new CommandLine.ParameterException(cl, option + " " + given + ": " + p + " is a file, so no "
                    + "directory can be made there");
        }
        if (!Files.isWritable(p)) {
            throw new CommandLine.ParameterException(cl, option + " " + given + ": directory " + p
                    + " is not writable");
        }
    }
}
