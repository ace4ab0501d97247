package io.ditcache.cli;

import io.ditcache.sched.Schedulers;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
     * Throws unless {@code dir} is absent, empty, marked as {@code command}'s own by a file named {@code marker}
     * (which the command writes into every folder it makes), holds only files named in {@code outputs} (what the
     * command writes: a folder of an older version, before the marker), or {@code overwrite} is set: a command with
     * a default output folder must not write over a folder of other files by mistake.
     */
    static void ownFolder(CommandLine cl, String option, Path dir, String marker, java.util.Set<String> outputs,
            String command, boolean overwrite) {
        if (overwrite || !Files.isDirectory(dir) || Files.exists(dir.resolve(marker))) {
            return;
        }
        List<String> others;
        try (java.util.stream.Stream<Path> list = Files.list(dir)) {
            others = list.map(p -> p.getFileName().toString()).filter(n -> !outputs.contains(n)).sorted().toList();
        } catch (IOException e) {
            return; // unreadable: the write will say what is wrong
        }
        if (!others.isEmpty()) {
            throw new CommandLine.ParameterException(cl, option + " " + dir + ": a folder " + command + " did not "
                    + "make (no " + marker + " in it) that holds " + (others.size() == 1 ? "1 other entry, "
                    : others.size() + " other entries, the first ") + others.get(0) + "; give another " + option
                    + ", or --overwrite to write into it anyway");
        }
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

    /**
     * Throws unless the file system that will hold {@code target} has room for about {@code bytes} more, with a
     * margin of {@value #SPACE_MARGIN_PERCENT} % and at least {@value #SPACE_MARGIN_BYTES} bytes: the check of an
     * estimate, made once what a run writes can be sized (its model loaded) and before any sampling.
     *
     * @param what what the bytes are, for the message ("10 run files and the report", say)
     */
    static void space(CommandLine cl, String option, Path target, long bytes, String what) {
        Path p = nearestExisting(target);
        if (p == null) {
            return;
        }
        long usable;
        String store;
        try {
            FileStore fs = Files.getFileStore(p);
            usable = fs.getUsableSpace();
            store = fs.name();
        } catch (IOException e) {
            return; // no figure to check against: the write will say what is wrong
        }
        long need = bytes + Math.max(SPACE_MARGIN_BYTES, bytes / 100 * SPACE_MARGIN_PERCENT);
        if (usable < need) {
            throw new CommandLine.ParameterException(cl, option + " " + target + ": not enough space, this run writes "
                    + "about " + size(bytes) + " (" + what + ") and " + store + " has " + size(usable) + " free");
        }
    }

    /** Margin of {@link #space} over the estimate, percent. */
    static final long SPACE_MARGIN_PERCENT = 10;
    /** Least margin of {@link #space}: room for the small files no estimate counts. */
    static final long SPACE_MARGIN_BYTES = 1 << 20;

    /** A byte count for people: "512 B", "3.4 MiB", "1.2 GiB". */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /** The nearest path at or above {@code path} that exists, or null. */
    private static Path nearestExisting(Path path) {
        Path p = path.toAbsolutePath().normalize();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        return p;
    }

    /**
     * The nearest existing directory at or above {@code dir} must be writable and must take a new entry (tried:
     * a probe directory is made there and removed, which catches read-only and virtual file systems such as
     * {@code /proc} that permission bits do not show), and no file may be in the way.
     */
    private static void writableAncestor(CommandLine cl, String option, Path given, Path dir) {
        Path p = nearestExisting(dir);
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
        String refused = refusesNewEntries(p);
        if (refused != null) {
            String made = p.equals(given.toAbsolutePath().normalize()) ? "cannot write into the folder"
                    : p.equals(dir.toAbsolutePath().normalize()) ? "cannot write into " + p
                    : "cannot create " + (dir.equals(given) ? "the folder" : "the folder " + dir) + " in " + p;
            throw new CommandLine.ParameterException(cl, option + " " + given + ": " + made + " (" + refused + ")");
        }
    }

    /** Why a new entry cannot be made in directory {@code dir}, or null if a probe directory could be made. */
    private static String refusesNewEntries(Path dir) {
        Path probe = null;
        try {
            probe = Files.createTempDirectory(dir, ".ditcache-probe-");
            return null;
        } catch (FileSystemException e) {
            String type = storeType(dir);
            String reason = e.getReason() != null ? e.getReason().toLowerCase(Locale.ROOT)
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied" : null;
            if (reason == null || e instanceof java.nio.file.NoSuchFileException) {
                reason = "the file system takes no new entries";
            }
            return type == null ? reason : reason + "; a " + type + " file system";
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException ignored) {
                    // an empty hidden directory left behind does no harm
                }
            }
        }
    }

    private static String storeType(Path p) {
        try {
            String t = Files.getFileStore(p).type();
            return t == null || t.isBlank() ? null : t;
        } catch (IOException e) {
            return null;
        }
    }
}
