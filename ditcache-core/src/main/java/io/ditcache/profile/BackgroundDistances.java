package io.ditcache.profile;

import io.ditcache.backend.DistanceAccumulator;
import io.ditcache.backend.DistanceSums;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.bytedeco.pytorch.Tensor;

/**
 * The CPU backend's accumulator that sums on a thread of its own, beside the model's next work: {@link #addRows}
 * takes a reference to both tensors (into a tensor handle made once per queue slot, so nothing is allocated per
 * call), copies the offsets and returns; the worker runs {@link FusedDistances#computeRows} on each queued pair in
 * the order added. The results are the bits the calling thread would get: the same kernel over the same ranges,
 * summed in the same order.
 *
 * <p>The worker only reads: the producer drops the references of finished comparisons at its next call. So memory
 * is freed on the thread that allocated it, as without a profiler (a free from another thread takes the C
 * library's lock on the allocating thread's arena, which the model's own allocations then wait for).
 *
 * <p>One producer (the profiler, which is not thread-safe) and one worker share a ring of {@value #SLOTS} slots; a
 * full ring makes the producer wait. The worker thread ({@code ditcache-distances}, a daemon) starts on the first
 * comparison and ends after {@value #IDLE_MILLIS} ms without work (a parked one is woken once {@value #WAKE_BATCH}
 * comparisons wait, at each {@link #submit()} and by {@link #drain()}), so an accumulator that is never closed leaves no
 * thread behind. An error in the kernel is rethrown by the next {@link #drain()}.
 */
final class BackgroundDistances implements DistanceAccumulator {
    /** Queued comparisons at most: a site's rows per slot, so about two steps of a 6-block model's 37 sites. */
    static final int SLOTS = 64;
    /**
     * Comparisons queued before a parked worker is woken (and at every {@link #submit()}, once a step): waking a
     * thread costs the profiling thread a system call and, on a small machine, often its core for a moment.
     */
    static final int WAKE_BATCH = 8;
    /** How long the worker waits for work before its thread ends. */
    static final long IDLE_MILLIS = 1000;
    private static final long WAIT_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    /** One queued comparison: references to both tensors (handles reused from call to call) and its ranges. */
    private static final class Slot {
        final Tensor a = held();
        final Tensor b = held();
        long[] aOffsets = new long[16];
        long[] bOffsets = new long[16];
        long aNumel;
        long bNumel;
        int count;
        long length;

        private static Tensor held() {
            Tensor t = new Tensor();
            t.retainReference(); // outlives the caller's pointer scope, freed by close()
            return t;
        }
    }

    private final Slot[] slots = new Slot[SLOTS];
    /** Written by the worker only, read by the producer once the worker is done ({@link #awaitIdle}). */
    private final SumsQueue results = new SumsQueue();
    private final Object lifecycle = new Object();
    /** Comparisons queued; written by the producer only. */
    private volatile long submitted;
    /** Comparisons done; written by the worker only. */
    private volatile long completed;
    /** Comparisons whose tensor references the producer has dropped; the producer's own. */
    private long released;
    /** Whether the worker is parked or gone: the producer then wakes or starts it (under {@link #lifecycle}). */
    private volatile boolean idle = true;
    /** The worker thread, or null while there is none; changed under {@link #lifecycle}. */
    private Thread worker;
    /** A producer waiting for the worker (for a free slot, or for every result). */
    private volatile Thread waiting;
    private volatile Throwable failure;
    private boolean closed;

    @Override
    public void add(Tensor a, long aOffset, Tensor b, long bOffset, long length) {
        addRows(a, new long[] {aOffset}, b, new long[] {bOffset}, 1, length);
    }

    @Override
    public void addRows(Tensor a, long[] aOffsets, Tensor b, long[] bOffsets, int count, long length) {
        long aNumel = a.numel();
        long bNumel = b.numel();
        DistanceAccumulator.checkRows(aNumel, aOffsets, bNumel, bOffsets, count, length);
        if (closed) {
            throw new IllegalStateException("distance accumulator is closed");
        }
        if (count == 0) {
            return;
        }
        long n = submitted;
        while (n - completed >= SLOTS) {
            await(n - SLOTS + 1);
        }
        release();
        int at = (int) (n % SLOTS);
        Slot s = slots[at];
        if (s == null) {
            s = new Slot();
            slots[at] = s;
        }
        s.a.put(CpuDistanceBackend.onHost(a));
        s.b.put(CpuDistanceBackend.onHost(b));
        if (s.aOffsets.length < count) {
            s.aOffsets = new long[count];
            s.bOffsets = new long[count];
        }
        System.arraycopy(aOffsets, 0, s.aOffsets, 0, count);
        System.arraycopy(bOffsets, 0, s.bOffsets, 0, count);
        s.aNumel = aNumel;
        s.bNumel = bNumel;
        s.count = count;
        s.length = length;
        submitted = n + 1; // publishes the slot to the worker
        if (idle && n + 1 - completed >= WAKE_BATCH) {
            wake();
        }
    }

    /** Wakes the worker for what is queued (the profiler calls this once a step). */
    @Override
    public void submit() {
        if (idle && completed < submitted) {
            wake();
        }
    }

    /** Wakes the worker, or starts one where there is none. */
    private void wake() {
        synchronized (lifecycle) {
            if (worker == null) {
                worker = new Thread(this::work, "ditcache-distances");
                worker.setDaemon(true);
                idle = false;
                worker.start();
            } else {
                LockSupport.unpark(worker);
            }
        }
    }

    /** The worker's loop: every queued comparison in order; parks when there is none, ends when idle too long. */
    private void work() {
        long idleSince = System.nanoTime();
        while (true) {
            long done = completed;
            if (done < submitted) {
                run(slots[(int) (done % SLOTS)]);
                completed = done + 1;
                Thread w = waiting;
                if (w != null) {
                    LockSupport.unpark(w);
                }
                idleSince = System.nanoTime();
                continue;
            }
            idle = true; // then look again: a producer either sees idle or its slot is seen here
            if (completed < submitted) {
                idle = false;
                continue;
            }
            LockSupport.parkNanos(this, TimeUnit.MILLISECONDS.toNanos(IDLE_MILLIS));
            if (completed == submitted && System.nanoTime() - idleSince >= TimeUnit.MILLISECONDS.toNanos(
                    IDLE_MILLIS)) {
                synchronized (lifecycle) {
                    if (completed == submitted) {
                        worker = null; // idle stays true: the next comparison starts a new thread
                        return;
                    }
                }
            }
            idle = false;
        }
    }

    /** Sums one slot's rows into the results. */
    private void run(Slot s) {
        try {
            if (failure == null) {
                FusedDistances.computeRows(s.a.data_ptr_float(), s.aNumel, s.aOffsets, s.b.data_ptr_float(),
                        s.bNumel, s.bOffsets, s.count, s.length, results);
            }
        } catch (Throwable t) { // kept for drain(): later results would no longer line up with their comparisons
            failure = t;
        }
    }

    /** Drops the tensor references of the comparisons the worker has finished (on the producer's thread). */
    private void release() {
        long done = completed;
        for (; released < done; released++) {
            Slot s = slots[(int) (released % SLOTS)];
            s.a.reset();
            s.b.reset();
        }
    }

    /** Whether a worker thread is running (it ends after {@value #IDLE_MILLIS} ms without work). */
    boolean hasWorker() {
        synchronized (lifecycle) {
            return worker != null;
        }
    }

    /** Waits until at least {@code target} comparisons are done (the worker unparks a waiting producer). */
    private void await(long target) {
        waiting = Thread.currentThread();
        try {
            while (completed < target) {
                if (idle && completed < submitted) {
                    wake(); // a worker that ended between our slot and its start
                }
                LockSupport.parkNanos(this, WAIT_NANOS);
            }
        } finally {
            waiting = null;
        }
    }

    /**
     * Waits for every queued comparison and returns their sums in the order added.
     *
     * @throws IllegalStateException when the kernel failed on one of them
     */
    @Override
    public List<DistanceSums> drain() {
        await(submitted);
        release();
        Throwable t = failure;
        if (t != null) {
            failure = null;
            results.clear();
            throw new IllegalStateException("the distance worker failed: " + t, t);
        }
        return results.drain();
    }

    /** Waits for the comparisons in flight (they hold tensor references), then frees the slots' handles. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        await(submitted);
        release();
        closed = true;
        failure = null;
        results.clear();
        for (Slot s : slots) {
            if (s != null) {
                s.a.releaseReference();
                s.b.releaseReference();
            }
        }
    }
}
