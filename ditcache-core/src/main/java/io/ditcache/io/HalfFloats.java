package io.ditcache.io;

/** The 16-bit float formats widened to float32, exactly, as checkpoints store them and GPU kernels load them. */
public final class HalfFloats {
    private HalfFloats() {
    }

    /** IEEE 754 binary16 to binary32, exact for every value (subnormals, infinities and NaN included). */
    public static float float16(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // Zero or subnormal: mant * 2^-24, exact in float32.
            float v = mant * 0x1p-24f;
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** bfloat16 (the upper half of a float32) to float32. */
    public static float bfloat16(short h) {
        return Float.intBitsToFloat((h & 0xffff) << 16);
    }
}
