package io.ditcache.io;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Element types of safetensors files, under their safetensors names; all little-endian. */
public enum DType {
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    F64(8, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** True for F32, F16, BF16 and F64: these load as float32. The others load as int64 (BOOL as bool). */
    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The name used in safetensors headers, for example {@code "BF16"}. */
    public String safetensorsName() {
        return name();
    }

    /**
     * The type with the given safetensors name (case-sensitive, as the format writes it).
     *
     * @throws IllegalArgumentException for a name that is not one of {@link #values()}
     */
    public static DType parse(String name) {
        for (DType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("unknown dtype '" + name + "', expected one of "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
}
