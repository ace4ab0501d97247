package io.ditcache.study;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process's claim on a study folder, held while it runs or merges a study there: an exclusive lock on
 * {@value #FILE} in the folder. A second process that asks for the folder is refused at once, with the holder's
 * pid, instead of computing every run again beside the first. The operating system drops the lock when the
 * holder ends, however it ends (kill -9 included), so a killed study never blocks the next one; the file stays,
 * since deleting it would let two processes lock two different files.
 */
public final class StudyFolderLock implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StudyFolderLock.class);

    /** The lock file inside a study folder. */
    public static final String FILE = ".study.lock";

    /**
     * The byte range locked: far past the holder's pid at the start of the file, so that the pid stays readable
     * where locks are mandatory (Windows).
     */
    private static final long LOCKED_AT = 1L << 40;

    /**
     * Lock files this JVM holds. POSIX drops all of a process's locks on a file when any of its descriptors of
     * that file closes, so a second claim from this JVM must be refused before opening the file.
     */
    private static final Set<Path> HELD = new HashSet<>();

    private final Path dir;
    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;
    private boolean closed;

    private StudyFolderLock(Path dir, Path file, FileChannel channel, FileLock lock) {
        this.dir = dir;
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Claims {@code dir} (created when missing) for this process.
     *
     * @throws IOException naming the folder and the pid of the process that holds it, when one does
     */
    public static StudyFolderLock acquire(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path key = dir.toRealPath().resolve(FILE);
        synchronized (HELD) {
            if (HELD.contains(key)) {
                throw busy(dir, Long.toString(ProcessHandle.current().pid()));
            }
            FileChannel channel = FileChannel.open(key, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock(LOCKED_AT, 1, false);
                if (lock == null) {
                    throw busy(dir, holder(channel));
                }
                channel.truncate(0);
                channel.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n")
                        .getBytes(StandardCharsets.US_ASCII)), 0);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            HELD.add(key);
            return new StudyFolderLock(dir, key, channel, lock);
        }
    }

    /** The folder claimed. */
    public Path dir() {
        return dir;
    }

    /**
     * Deletes the temporary files of writes that a killed holder left unfinished (AtomicFiles names them
     * {@code .NAME*.tmp} beside their target); while this claim is held nobody else can be writing them.
     *
     * @return how many were deleted
     */
    public int removeUnfinishedWrites() throws IOException {
        checkOpen();
        int removed = 0;
        try (Stream<Path> files = Files.walk(dir, 8)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String name = f.getFileName().toString();
                if (name.startsWith(".") && name.endsWith(".tmp") && Files.isRegularFile(f)
                        && Files.deleteIfExists(f)) {
                    removed++;
                }
            }
        }
        if (removed > 0) {
            LOG.info("{}: removed {} unfinished write(s) of an earlier, interrupted process", dir, removed);
        }
        return removed;
    }

    /** Releases the claim; closing twice is fine. */
    @Override
    public void close() throws IOException {
        synchronized (HELD) {
            if (closed) {
                return;
            }
            closed = true;
            try {
                channel.truncate(0); // the pid names a holder only while the lock is held
                lock.release();
            } finally {
                channel.close();
                HELD.remove(file);
            }
        }
    }

    private void checkOpen() {
        synchronized (HELD) {
            if (closed) {
                throw new IllegalStateException("the claim on study folder " + dir + " is released");
            }
        }
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            channel.read(b, 0);
            String pid = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return pid.matches("\\d{1,19}") ? pid : "unknown";
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static IOException busy(Path dir, String pid) {
        return new IOException(dir + " is in use by another study or merge (pid " + pid + ", lock " + FILE
                + "); wait for it to end or choose another --out");
    }
}
