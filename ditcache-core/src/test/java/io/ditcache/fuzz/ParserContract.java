package io.ditcache.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Pointer;

/**
 * What every parser of untrusted input promises, checked once per fuzz input: it returns, or it throws one of its
 * documented error types with a one-line message that names the file; and it allocates no more than the input
 * justifies. Anything else (a {@code NullPointerException}, an {@code ArrayIndexOutOfBoundsException}, a raw
 * Jackson exception, an {@code OutOfMemoryError}, a message without the file) escapes and is a finding.
 *
 * <p>"Justifies" is a budget, not an exact bound: {@value #HEAP_BYTES_PER_INPUT_BYTE} bytes of Java heap per input
 * byte (a JSON tree costs tens of bytes per input byte, a widened tensor up to 8) plus {@value #HEAP_BYTES_FIXED}
 * bytes for caches filled on first use, and for native memory (libtorch) a resident-set growth of at most
 * {@value #NATIVE_BYTES_FIXED} bytes plus the same per-byte share. A runaway allocation, a size read from the file
 * and believed, is gigabytes and lands far outside.
 */
public final class ParserContract {
    /** Java heap a parse may allocate per byte of input. */
    public static final long HEAP_BYTES_PER_INPUT_BYTE = 256;
    /** Java heap a parse may allocate whatever the input (first-use caches of Jackson, JavaCPP). */
    public static final long HEAP_BYTES_FIXED = 64L << 20;
    /** Resident-set growth a parse may cause whatever the input (heap expansion, libtorch arenas). */
    public static final long NATIVE_BYTES_FIXED = 512L << 20;

    /**
     * While fuzzing, above this growth of the resident set since the first input the garbage is collected before a
     * parse: libtorch memory of models earlier inputs dropped is freed only after a collection, and a small heap
     * rarely collects, so it would pile up until an innocent input could not allocate.
     */
    static final long RECLAIM_ABOVE = 512L << 20;
    private static final boolean FUZZING = truthy(System.getenv("JAZZER_FUZZ"))
            || truthy(System.getProperty("JAZZER_FUZZ"));
    private static long firstResidentSet = -1;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static Path scratchRoot;

    private ParserContract() {
    }

    /** A parse of one fuzz input. */
    @FunctionalInterface
    public interface Parse {
        void run() throws Exception;
    }

    /**
     * Runs {@code parse} on an input of {@code inputBytes} bytes. Throwables of the {@code documented} types are
     * accepted when their message is one line and contains {@code mustName} (the file or source name the parser was
     * given; null: no name required). Anything else breaks the contract: an undocumented throwable is rethrown as
     * it is, the rest as a {@link ContractViolation}; unless it is one of the {@link KnownFindings} and those are
     * tolerated.
     */
    @SafeVarargs
    public static void check(long inputBytes, String mustName, Parse parse,
            Class<? extends Throwable>... documented) throws Throwable {
        String target = callerTarget();
        reclaim();
        long heapBefore = THREADS.getCurrentThreadAllocatedBytes();
        long rssBefore = Pointer.physicalBytes();
        Throwable broken = null;
        try {
            parse.run();
        } catch (Throwable t) {
            broken = isDocumented(t, documented) ? messageViolation(t, mustName) : t;
        }
        long heap = THREADS.getCurrentThreadAllocatedBytes() - heapBefore;
        long rss = Pointer.physicalBytes() - rssBefore;
        long share = Math.multiplyExact(inputBytes, HEAP_BYTES_PER_INPUT_BYTE);
        if (broken == null && heap > HEAP_BYTES_FIXED + share) {
            broken = new ContractViolation(ContractViolation.Kind.RUNAWAY_HEAP, "the parse allocated " + heap
                    + " bytes of Java heap for an input of " + inputBytes + " bytes (budget "
                    + (HEAP_BYTES_FIXED + share) + ")", null);
        }
        if (broken == null && rss > NATIVE_BYTES_FIXED + share) {
            broken = new ContractViolation(ContractViolation.Kind.RUNAWAY_NATIVE, "the resident set grew by " + rss
                    + " bytes during the parse of an input of " + inputBytes + " bytes (budget "
                    + (NATIVE_BYTES_FIXED + share) + ")", null);
        }
        if (broken != null && !KnownFindings.tolerates(target, broken)) {
            throw broken;
        }
    }

    private static void reclaim() throws InterruptedException {
        long rss = Pointer.physicalBytes();
        if (firstResidentSet < 0) {
            firstResidentSet = rss;
        } else if (FUZZING && rss - firstResidentSet > RECLAIM_ABOVE) {
            System.gc();
            Thread.sleep(50); // JavaCPP frees collected pointers on its deallocator thread
        }
    }

    static boolean truthy(String v) {
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("yes"));
    }

    /** A result the target found inconsistent with the input the parser accepted. */
    public static ContractViolation wrongResult(String message) {
        return wrongResult(message, null);
    }

    /** A result the target found inconsistent with the input the parser accepted, because of {@code cause}. */
    public static ContractViolation wrongResult(String message, Throwable cause) {
        return new ContractViolation(ContractViolation.Kind.WRONG_RESULT, message, cause);
    }

    /** True if {@code t} is an instance of one of {@code types}. */
    @SafeVarargs
    static boolean isDocumented(Throwable t, Class<? extends Throwable>... types) {
        for (Class<? extends Throwable> c : types) {
            if (c.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /** The house rule for errors a user sees: one line that names the file. Null when {@code t} keeps it. */
    static ContractViolation messageViolation(Throwable t, String mustName) {
        String m = t.getMessage();
        String type = t.getClass().getName();
        if (m == null || m.isBlank()) {
            return new ContractViolation(ContractViolation.Kind.NO_MESSAGE, type + " without a message", t);
        }
        if (m.indexOf('\n') >= 0 || m.indexOf('\r') >= 0) {
            return new ContractViolation(ContractViolation.Kind.MULTILINE_MESSAGE, type + " message spans lines: "
                    + m, t);
        }
        if (mustName != null && !m.contains(mustName)) {
            return new ContractViolation(ContractViolation.Kind.UNNAMED_FILE, type + " message does not name "
                    + mustName + ": " + m, t);
        }
        return null;
    }

    /** {@code Class#method} of the fuzz test that called {@link #check}. */
    private static String callerTarget() {
        return StackWalker.getInstance().walk(frames -> frames
                .filter(f -> !f.getClassName().equals(ParserContract.class.getName()))
                .filter(f -> f.getClassName().endsWith("FuzzTest"))
                .findFirst()
                .map(f -> f.getClassName().substring(f.getClassName().lastIndexOf('.') + 1) + "#" + f.getMethodName())
                .orElse("?"));
    }

    /**
     * A fresh, empty folder for one fuzz target, under {@code /dev/shm} where it exists (writing a file per input
     * then costs microseconds) and removed when the JVM exits.
     */
    public static synchronized Path scratch(String target) {
        try {
            if (scratchRoot == null) {
                Path shm = Path.of("/dev/shm");
                Path base = Files.isDirectory(shm) && Files.isWritable(shm) ? shm
                        : Path.of(System.getProperty("java.io.tmpdir"));
                scratchRoot = Files.createTempDirectory(base, "ditcache-fuzz-");
                Path root = scratchRoot;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(root)));
            }
            Path dir = scratchRoot.resolve(target);
            if (Files.exists(dir)) {
                clear(dir);
            } else {
                Files.createDirectories(dir);
            }
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Replaces {@code file} with {@code bytes}: written beside it, then renamed over it, so that a mapping an
     * earlier input left behind keeps its own (unlinked) file and never sees this one shrink under it.
     */
    public static Path write(Path file, byte[] bytes) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".part");
        Files.write(tmp, bytes);
        return Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Deletes every file in {@code dir} (not recursively: fuzz folders are flat). */
    public static void clear(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    /**
     * Splits a multi-file input at each {@link #FILE_SEPARATOR}: the first part, then the others in order. A
     * separator the fuzzer inserts or breaks adds or merges files, which is what a multi-file format needs.
     */
    public static List<byte[]> split(byte[] input, int maxParts) {
        byte[] sep = FILE_SEPARATOR;
        List<byte[]> parts = new ArrayList<>();
        int start = 0;
        for (int i = 0; i + sep.length <= input.length && parts.size() < maxParts - 1; i++) {
            if (regionMatches(input, i, sep)) {
                parts.add(java.util.Arrays.copyOfRange(input, start, i));
                start = i + sep.length;
                i = start - 1;
            }
        }
        parts.add(java.util.Arrays.copyOfRange(input, start, input.length));
        return parts;
    }

    /** Joins files into one multi-file input; the inverse of {@link #split}. */
    public static byte[] join(List<byte[]> parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < parts.size(); i++) {
            if (i > 0) {
                out.writeBytes(FILE_SEPARATOR);
            }
            out.writeBytes(parts.get(i));
        }
        return out.toByteArray();
    }

    /** Marks the boundary between files in a multi-file input. */
    public static final byte[] FILE_SEPARATOR = "\0--8<--\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private static boolean regionMatches(byte[] a, int at, byte[] b) {
        for (int j = 0; j < b.length; j++) {
            if (a[at + j] != b[j]) {
                return false;
            }
        }
        return true;
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> s = Files.walk(root)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // best effort at exit
        }
    }
}
