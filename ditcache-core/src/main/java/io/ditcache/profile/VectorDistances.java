package io.ditcache.profile;

import io.ditcache.backend.DistanceSums;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD form of {@link FusedDistances}' scalar loop: the same five sums with the JDK's Vector API (incubating in
 * Java 17, so only used when the JVM runs with {@code --add-modules jdk.incubator.vector}). Floats are widened to
 * double lanes before any arithmetic, so differences and products are exact and only the order of the double
 * additions differs from the scalar loop: COSINE, which subtracts from 1, keeps its precision for nearly equal
 * activations.
 */
final class VectorDistances {
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    /** Floats of half the width, so that one load widens into one full double vector. */
    private static final VectorSpecies<Float> FLOATS =
            VectorSpecies.of(float.class, VectorShape.forBitSize(DOUBLES.vectorBitSize() / 2));

    private VectorDistances() {
    }

    /**
     * The sums straight from native memory (no copies): {@code length} floats at byte offsets {@code aOffset} and
     * {@code bOffset}, in the platform's byte order.
     */
    static DistanceSums direct(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset, int length) {
        double[] s = new double[5];
        directInto(a, aOffset, b, bOffset, length, s, 0);
        return new DistanceSums(length, s[0], s[1], s[2], s[3], s[4]);
    }

    /**
     * As {@link #direct}, with the five sums written to {@code out[slot .. slot+4]} in {@link DistanceSums}' order
     * instead of a new record (the same arithmetic, so the same bits).
     */
    static void directInto(ByteBuffer a, int aOffset, ByteBuffer b, int bOffset, int length, double[] out, int slot) {
        ByteOrder order = ByteOrder.nativeOrder();
        DoubleVector vd = DoubleVector.zero(DOUBLES);
        DoubleVector vabs = DoubleVector.zero(DOUBLES);
        DoubleVector vdot = DoubleVector.zero(DOUBLES);
        DoubleVector vaa = DoubleVector.zero(DOUBLES);
        DoubleVector vbb = DoubleVector.zero(DOUBLES);
        int lanes = FLOATS.length();
        int i = 0;
        for (; i + lanes <= length; i += lanes) {
            DoubleVector va = (DoubleVector) FloatVector.fromByteBuffer(FLOATS, a, aOffset + 4 * i, order)
                    .castShape(DOUBLES, 0);
            DoubleVector vb = (DoubleVector) FloatVector.fromByteBuffer(FLOATS, b, bOffset + 4 * i, order)
                    .castShape(DOUBLES, 0);
            vd = vd.add(vb.sub(va).abs());
            vabs = vabs.add(va.abs());
            vdot = va.fma(vb, vdot);
            vaa = va.fma(va, vaa);
            vbb = vb.fma(vb, vbb);
        }
        // the sums are reduced here, not in a shared method: vectors passed to a call that is not inlined are
        // boxed, which once made this loop ten times slower
        out[slot] = vd.reduceLanes(VectorOperators.ADD);
        out[slot + 1] = vabs.reduceLanes(VectorOperators.ADD);
        out[slot + 2] = vdot.reduceLanes(VectorOperators.ADD);
        out[slot + 3] = vaa.reduceLanes(VectorOperators.ADD);
        out[slot + 4] = vbb.reduceLanes(VectorOperators.ADD);
        if (i < length) {
            ByteBuffer at = a.duplicate().order(order);
            ByteBuffer bt = b.duplicate().order(order);
            for (; i < length; i++) {
                tail(at.getFloat(aOffset + 4 * i), bt.getFloat(bOffset + 4 * i), out, slot);
            }
        }
    }

    /**
     * As {@link #directInto} over two blocks' residuals, {@code aOut - aIn} against {@code bOut - bIn}, without
     * storing them: each input and output pair shares its byte offset. The differences are taken in float, as
     * libtorch's {@code sub} takes them, so the sums are the bits {@link #directInto} gives for the stored residuals.
     * Its loop repeats {@link #directInto}'s on purpose: a helper that took the vectors would box them.
     */
    static void residualInto(ByteBuffer aOut, ByteBuffer aIn, int aOffset, ByteBuffer bOut, ByteBuffer bIn,
            int bOffset, int length, double[] out, int slot) {
        ByteOrder order = ByteOrder.nativeOrder();
        DoubleVector vd = DoubleVector.zero(DOUBLES);
        DoubleVector vabs = DoubleVector.zero(DOUBLES);
        DoubleVector vdot = DoubleVector.zero(DOUBLES);
        DoubleVector vaa = DoubleVector.zero(DOUBLES);
        DoubleVector vbb = DoubleVector.zero(DOUBLES);
        int lanes = FLOATS.length();
        int i = 0;
        for (; i + lanes <= length; i += lanes) {
            int ao = aOffset + 4 * i;
            int bo = bOffset + 4 * i;
            DoubleVector va = (DoubleVector) FloatVector.fromByteBuffer(FLOATS, aOut, ao, order)
                    .sub(FloatVector.fromByteBuffer(FLOATS, aIn, ao, order)).castShape(DOUBLES, 0);
            DoubleVector vb = (DoubleVector) FloatVector.fromByteBuffer(FLOATS, bOut, bo, order)
                    .sub(FloatVector.fromByteBuffer(FLOATS, bIn, bo, order)).castShape(DOUBLES, 0);
            vd = vd.add(vb.sub(va).abs());
            vabs = vabs.add(va.abs());
            vdot = va.fma(vb, vdot);
            vaa = va.fma(va, vaa);
            vbb = vb.fma(vb, vbb);
        }
        out[slot] = vd.reduceLanes(VectorOperators.ADD);
        out[slot + 1] = vabs.reduceLanes(VectorOperators.ADD);
        out[slot + 2] = vdot.reduceLanes(VectorOperators.ADD);
        out[slot + 3] = vaa.reduceLanes(VectorOperators.ADD);
        out[slot + 4] = vbb.reduceLanes(VectorOperators.ADD);
        if (i < length) {
            ByteBuffer ao = aOut.duplicate().order(order);
            ByteBuffer ai = aIn.duplicate().order(order);
            ByteBuffer bo = bOut.duplicate().order(order);
            ByteBuffer bi = bIn.duplicate().order(order);
            for (; i < length; i++) {
                int ax = aOffset + 4 * i;
                int bx = bOffset + 4 * i;
                tail(ao.getFloat(ax) - ai.getFloat(ax), bo.getFloat(bx) - bi.getFloat(bx), out, slot);
            }
        }
    }

    /** Adds one element pair of the tail (after the last whole vector) to the sums at {@code out[slot ..]}. */
    private static void tail(double a0, double b0, double[] out, int slot) {
        out[slot] += Math.abs(b0 - a0);
        out[slot + 1] += Math.abs(a0);
        out[slot + 2] += a0 * b0;
        out[slot + 3] += a0 * a0;
        out[slot + 4] += b0 * b0;
    }

    /** Floats of the preferred width, for {@link #sumBoth}: the fewest loads per byte. */
    private static final VectorSpecies<Float> WIDE = FloatVector.SPECIES_PREFERRED;

    /**
     * The float sum of {@code length} floats from the start of both buffers, read side by side in one pass with one
     * addition per vector: {@link ReadFloorProbe}'s read, the least work that still loads every byte.
     */
    static double sumBoth(ByteBuffer a, ByteBuffer b, int length) {
        ByteOrder order = ByteOrder.nativeOrder();
        FloatVector sa = FloatVector.zero(WIDE);
        FloatVector sb = FloatVector.zero(WIDE);
        int lanes = WIDE.length();
        int i = 0;
        for (; i + lanes <= length; i += lanes) {
            sa = sa.add(FloatVector.fromByteBuffer(WIDE, a, 4 * i, order));
            sb = sb.add(FloatVector.fromByteBuffer(WIDE, b, 4 * i, order));
        }
        double sum = (double) sa.reduceLanes(VectorOperators.ADD) + sb.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            sum += a.getFloat(4 * i) + b.getFloat(4 * i);
        }
        return sum;
    }

    /** The float sum of {@code length} floats from the start of the buffer, one addition per vector. */
    static double sum(ByteBuffer a, int length) {
        ByteOrder order = ByteOrder.nativeOrder();
        FloatVector sa = FloatVector.zero(WIDE);
        int lanes = WIDE.length();
        int i = 0;
        for (; i + lanes <= length; i += lanes) {
            sa = sa.add(FloatVector.fromByteBuffer(WIDE, a, 4 * i, order));
        }
        double sum = sa.reduceLanes(VectorOperators.ADD);
        for (; i < length; i++) {
            sum += a.getFloat(4 * i);
        }
        return sum;
    }
}
