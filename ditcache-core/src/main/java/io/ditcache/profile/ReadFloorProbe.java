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
 * <p>Activations in host memory only (the floor of a device backend is another question). Not thread-safe.
 */
public final class ReadFloorProbe implements ActivationProbe, AutoCloseable {
    /** Floats per window of a read: a direct buffer holds at most 2 GiB. */
    private static final int WINDOW = 1 << 28;
    private final Set<SiteKind> kinds;
    private final Map<Site, HeldActivation> held = new HashMap<>();
    /** The block inputs held beside residual sites' outputs ({@link #observeResidual}). */
    private final Map<Site, HeldActivation> inputs = new HashMap<>();
    private double checksum;
    private long elementsRead;

    /**
     * Holds and reads the activations of the given kinds.
     *
     * @throws IllegalArgumentException when {@code kinds} is empty
     */
    public ReadFloorProbe(Set<SiteKind> kinds) {
        if (kinds.isEmpty()) {
            throw new IllegalArgumentException("kinds is empty, expected at least one of "
                    + EnumSet.allOf(SiteKind.class));
        }
        this.kinds = EnumSet.copyOf(kinds);
    }

    @Override
    public boolean wants(Site site) {
        return kinds.contains(site.kind());
    }

    /**
     * Reads the site's activation of the previous step (when held, with as many elements) and this one, then holds
     * this one in its place.
     *
     * @throws IllegalArgumentException when the activation is not in host memory
     */
    @Override
    public void observe(Step step, Site site, Tensor activation) {
        Tensor c = hostFloats(site, activation);
        long numel = c.numel();
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
     * step's pair and this one (four tensors) instead of a stored residual.
     *
     * @throws IllegalArgumentException when a tensor is not in host memory
     */
    @Override
    public void observeResidual(Step step, Site site, Tensor output, Tensor input) {
        Tensor o = hostFloats(site, output);
        Tensor in = hostFloats(site, input);
        long numel = o.numel();
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

    /** The floats read so far, both activations of each comparison counted. */
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
