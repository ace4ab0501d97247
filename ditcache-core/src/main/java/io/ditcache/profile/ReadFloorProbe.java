package io.ditcache.profile;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The least that an exact step-to-step profile of the same sites costs on the CPU, as a probe: it keeps each wanted
 * site's previous activation exactly as {@link StreamingProfiler} does (by reference, {@link HeldActivation}) and
 * reads it and the current one once, side by side, adding the floats (one addition per vector) into a checksum
 * (a residual as the profiler takes it on the CPU: the block's output and input, four tensors per comparison),
 * and does nothing else: no per-sample sums, no profile. Any exact distance between two steps' activations has to
 * keep the earlier one and load both, so sampling with this probe against sampling without one measures the memory
 * traffic that no faster kernel removes; {@code ditcache overhead --floor} puts the profiler beside it.
 *
 * <p>With {@link Reads#CURRENT} it reads only what a per-step statistic needs: each activation once, as it is
 * reported (hot from the model), holding nothing; the difference between the two modes is what comparing with the
 * previous step costs in memory traffic alone.
 *
 * <p>Activations in host memory only (the floor of a device backend is another question). Not thread-safe.
 */
public final class ReadFloorProbe implements ActivationProbe, AutoCloseable {
    /** Floats per window of a read: a direct buffer holds at most 2 GiB. */
    private static final int WINDOW = 1 << 28;
    /** What the probe reads at each call. */
    public enum Reads {
        /** The site's previous activation and this one, the previous held by reference: any exact profile's floor. */
        PAIRS,
        /**
         * This activation only (a residual's output and input), nothing held: what any statistic of a single step
         * reads, such as the batch mean and variance that the seed study's tool records per step.
         */
        CURRENT
    }

    private final Set<SiteKind> kinds;
    private final Reads reads;
    final Map<Site, HeldActivation> held = new HashMap<>();
    /** The block inputs held beside residual sites' outputs ({@link #observeResidual}). */
    final Map<Site, HeldActivation> inputs = new HashMap<>();
    private double checksum;
    private long elementsRead;

    /**
     * Holds and reads the activations of the given kinds in pairs ({@link Reads#PAIRS}).
     *
     * @throws IllegalArgumentException when {@code kinds} is empty
     */
    public ReadFloorProbe(Set<SiteKind> kinds) {
        this(kinds, Reads.PAIRS);
    }

    /**
     * Reads the activations of the given kinds as {@code reads} says.
     *
     * @throws IllegalArgumentException when {@code kinds} is empty
     */
    public ReadFloorProbe(Set<SiteKind> kinds, Reads reads) {
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("kinds is empty, expected at least one of "
                    + EnumSet.allOf(SiteKind.class));
        }
        this.kinds = EnumSet.copyOf(kinds);
        this.reads = Objects.requireNonNull(reads, "reads");
    }

    @Override
    public boolean wants(Site site) {
        return kinds.contains(site.kind());
    }

    /**
     * Reads the site's activation of the previous step (when held, with as many elements) and this one, then holds
     * this one in its place; with {@link Reads#CURRENT}, reads this one only.
     *
     * @throws IllegalArgumentException when the activation is not in host memory
     */
    @Override
    public void observe(Step step, Site site, Tensor activation) {
        Tensor c = hostFloats(site, activation);
        long numel = c.numel();
        if (reads == Reads.CURRENT) {
            readCurrent(c, numel);
            return;
        }
        HeldActivation h = held.computeIfAbsent(site, s -> new HeldActivation());
        if (h.holds(step.index() - 1, numel)) {
            checksum += sumBoth(h.tensor.data_ptr_float(), c.data_ptr_float(), numel);
            elementsRead += 2 * numel;
        }
        h.release();
        h.hold(c, numel, step.index(), null);
    }

    /**
     * As the profiler takes a residual on the CPU: holds the block's output and input, and reads the previous
     * step's pair and this one (four tensors) instead of a stored residual; with {@link Reads#CURRENT}, reads this
     * step's output and input only.
     *
     * @throws IllegalArgumentException when a tensor is not in host memory
     */
    @Override
    public void observeResidual(Step step, Site site, Tensor output, Tensor input) {
        Tensor o = hostFloats(site, output);
        Tensor in = hostFloats(site, input);
        long numel = o.numel();
        if (reads == Reads.CURRENT) {
            readCurrent(o, numel);
            readCurrent(in, in.numel());
            return;
        }
        HeldActivation h = held.computeIfAbsent(site, s -> new HeldActivation());
        HeldActivation hi = inputs.computeIfAbsent(site, s -> new HeldActivation());
        if (h.holds(step.index() - 1, numel) && hi.holds(step.index() - 1, in.numel())) {
            checksum += sumBoth(h.tensor.data_ptr_float(), o.data_ptr_float(), numel)
                    + sumBoth(hi.tensor.data_ptr_float(), in.data_ptr_float(), in.numel());
            elementsRead += 2 * (numel + in.numel());
        }
        h.release();
        hi.release();
        h.hold(o, numel, step.index(), null);
        hi.hold(in, in.numel(), step.index(), null);
    }

    private void readCurrent(Tensor t, long numel) {
        checksum += sum(t.data_ptr_float(), numel);
        elementsRead += numel;
    }

    /** The tensor as contiguous float32 (itself where it is). */
    private static Tensor hostFloats(Site site, Tensor t) {
        if (!t.is_cpu()) {
            throw new IllegalArgumentException("read floor: the activation at " + site + " is on "
                    + t.device().type().intern() + ", expected host memory");
        }
        return t.scalar_type().intern() == ScalarType.Float && t.is_contiguous() ? t
                : t.to(ScalarType.Float).contiguous();
    }

    /** The sum of every float read so far (reading that nothing uses could be left out by the JIT). */
    public double checksum() {
        return checksum;
    }

    /**
     * The floats read so far: both activations of each comparison under {@link Reads#PAIRS}, each activation once
     * under {@link Reads#CURRENT}.
     */
    public long elementsRead() {
        return elementsRead;
    }

    /** Lets the held activations go: the next run starts afresh. */
    @Override
    public void endRun() {
        held.values().forEach(HeldActivation::release);
        inputs.values().forEach(HeldActivation::release);
    }

    /** Lets the held activations and their handles go. */
    @Override
    public void close() {
        held.values().forEach(HeldActivation::free);
        inputs.values().forEach(HeldActivation::free);
        held.clear();
        inputs.clear();
    }

    /** The sum of {@code length} floats of both, window by window. */
    static double sumBoth(FloatPointer a, FloatPointer b, long length) {
        double sum = 0;
        for (long at = 0; at < length; at += WINDOW) {
            int n = (int) Math.min(WINDOW, length - at);
            ByteBuffer wa = FusedDistances.window(a, at, n);
            ByteBuffer wb = FusedDistances.window(b, at, n);
            sum += FusedDistances.VECTOR ? VectorDistances.sumBoth(wa, wb, n) : scalarSum(wa, wb, n);
        }
        return sum;
    }

    /** The sum of {@code length} floats, window by window. */
    static double sum(FloatPointer a, long length) {
        double sum = 0;
        for (long at = 0; at < length; at += WINDOW) {
            int n = (int) Math.min(WINDOW, length - at);
            ByteBuffer wa = FusedDistances.window(a, at, n);
            sum += FusedDistances.VECTOR ? VectorDistances.sum(wa, n) : scalarSum(wa, n);
        }
        return sum;
    }

    private static double scalarSum(ByteBuffer a, int length) {
        FloatBuffer fa = a.order(ByteOrder.nativeOrder()).asFloatBuffer();
        float sa = 0;
        for (int i = 0; i < length; i++) {
            sa += fa.get(i);
        }
        return sa;
    }

    private static double scalarSum(ByteBuffer a, ByteBuffer b, int length) {
        FloatBuffer fa = a.order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatBuffer fb = b.order(ByteOrder.nativeOrder()).asFloatBuffer();
        float sa = 0;
        float sb = 0;
        for (int i = 0; i < length; i++) {
            sa += fa.get(i);
            sb += fb.get(i);
        }
        return (double) sa + sb;
    }
}
