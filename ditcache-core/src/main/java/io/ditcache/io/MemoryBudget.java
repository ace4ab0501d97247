package io.ditcache.io;

import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.Locale;

/**
 * The memory a size read from a file is checked against before anything is allocated: the JVM's max heap (for
 * Java arrays) and the machine's physical memory (for libtorch's native tensors, which the heap limit does not
 * cover).
 *
 * @param heapBytes     {@link Runtime#maxMemory()}
 * @param physicalBytes total physical memory, or {@link Long#MAX_VALUE} where the JVM cannot tell
 */
public record MemoryBudget(long heapBytes, long physicalBytes) {
    public MemoryBudget {
        if (heapBytes < 1 || physicalBytes < 1) {
            throw new IllegalArgumentException("memory budget needs positive sizes, got heap " + heapBytes
                    + " and physical " + physicalBytes);
        }
    }

    /** This JVM's max heap and this machine's physical memory. */
    public static MemoryBudget ofThisMachine() {
        long physical = Long.MAX_VALUE;
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof com.sun.management.OperatingSystemMXBean sun && sun.getTotalMemorySize() > 0) {
            physical = sun.getTotalMemorySize();
        }
        return new MemoryBudget(Runtime.getRuntime().maxMemory(), physical);
    }

    /**
     * Why {@code heap} bytes of Java arrays plus {@code nativeBytes} of tensors do not fit, or null when they do.
     * A negative size stands for one past {@link Long#MAX_VALUE} (an overflowed product).
     */
    public String shortfall(long heap, long nativeBytes) {
        if (heap < 0 || heap > heapBytes) {
            return "needs " + bytes(heap) + " of Java heap, more than the JVM's max heap of " + bytes(heapBytes)
                    + " (-Xmx)";
        }
        long total = plus(heap, nativeBytes);
        if (total < 0 || total > physicalBytes) {
            return "needs " + bytes(total) + " of memory, more than this machine's physical memory of "
                    + bytes(physicalBytes);
        }
        return null;
    }

    /** Bytes as an exact count with a readable size beside it, e.g. {@code 3000000000 bytes (2.8 GiB)}. */
    public static String bytes(long n) {
        if (n < 0) {
            return "more than " + Long.MAX_VALUE + " bytes";
        }
        if (n == Long.MAX_VALUE) {
            return "an unknown amount";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return n + " bytes" + (u < 0 ? "" : String.format(Locale.ROOT, " (%.1f %s)", v, units[u]));
    }

    /** {@code a * b}, or -1 when the product overflows a long (see {@link #shortfall}). */
    public static long times(long a, long b) {
        try {
            return a < 0 || b < 0 ? -1 : Math.multiplyExact(a, b);
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** {@code a + b}, or -1 when either is -1 or the sum overflows. */
    public static long plus(long a, long b) {
        try {
            return a < 0 || b < 0 ? -1 : Math.addExact(a, b);
        } catch (ArithmeticException e) {
            return -1;
        }
    }
}
