package io.ditcache.cuda;

/** The element types the distance kernels read; each is widened to float32 as it is loaded. */
public enum ElementType {
    FLOAT32(0, 4),
    FLOAT16(1, 2),
    BFLOAT16(2, 2);

    private final int code;
    private final int bytes;

    ElementType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** The kernels' code of this type (the {@code type} field of a pair). */
    int code() {
        return code;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
