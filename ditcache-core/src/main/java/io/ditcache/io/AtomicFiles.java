package io.ditcache.io;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Writes files so that a failure never leaves a half-written target: temporary file, then move. */
public final class AtomicFiles {

    /** Writes the content of a file to the given path. */
    @FunctionalInterface
    public interface Writer {
        void write(Path temporary) throws IOException;
    }

    private AtomicFiles() {
    }

    /**
     * Calls {@code writer} on a temporary file beside {@code target}, then moves it onto {@code target}.
     * On any failure the temporary file is deleted and {@code target} is left as it was.
     */
    public static void write(Path target, Writer writer) throws IOException {
        Path abs = target.toAbsolutePath();
        // Moving a file onto a device node (as root) would replace the device; onto a directory it fails late.
        if (Files.exists(abs) && !Files.isRegularFile(abs)) {
            throw new IOException(abs + ": " + (Files.isDirectory(abs) ? "is a directory"
                    : "is not a regular file (a device, pipe or socket)") + ", expected a file to write");
        }
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
        try {
            writer.write(tmp);
            makeReadable(tmp);
            try {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw named(abs, e);
        } catch (RuntimeException | Error e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    /** The exception, or one that names the target first when its message does not (a full disk, say). */
    private static IOException named(Path target, IOException e) {
        String m = e.getMessage();
        if (m != null && m.contains(target.toString())) {
            return e;
        }
        return new IOException(target + ": " + (m == null ? e.getClass().getSimpleName() : m), e);
    }

    /** Temporary files are created owner-only; a finished output gets the usual rw-r--r--. */
    private static void makeReadable(Path file) throws IOException {
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    /** Writes {@code text} (UTF-8) atomically. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, tmp -> Files.writeString(tmp, text));
    }
}
