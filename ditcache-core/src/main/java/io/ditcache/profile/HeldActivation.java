package io.ditcache.profile;

import org.bytedeco.pytorch.Tensor;

/**
 * One call's activation of a site, kept until the same site's next call: its elements per row, its step and its
 * rows. The activation is held by a tensor handle of its own, made once and assigned each call (it shares the
 * activation's storage, nothing is copied): holding an activation then allocates nothing, not even a JavaCPP object
 * (each of which costs a check of the process's memory use). Models must therefore not modify an activation in
 * place after reporting it (ditcache's models never do).
 */
final class HeldActivation {
    /** The handle, made on first use; defined while an activation is held. */
    Tensor tensor;
    boolean held;
    long perRow;
    int step = -1;
    /** The call's row layout, where the holder keeps one. */
    RowLayout rows;

    void hold(Tensor activation, long perRow, int step, RowLayout rows) {
        if (tensor == null) {
            tensor = new Tensor();
            tensor.retainReference(); // outlives the caller's pointer scope
        }
        tensor.put(activation);
        held = true;
        this.perRow = perRow;
        this.step = step;
        this.rows = rows;
    }

    /** Whether this holds the activation of {@code atStep} with {@code withPerRow} elements per row. */
    boolean holds(int atStep, long withPerRow) {
        return held && step == atStep && perRow == withPerRow;
    }

    /** Lets the activation go (the handle stays for the next call). */
    void release() {
        if (held) {
            tensor.reset();
        }
        held = false;
        step = -1;
        rows = null;
    }

    /** Lets the activation and the handle go. */
    void free() {
        release();
        if (tensor != null) {
            tensor.releaseReference();
            tensor = null;
        }
    }
}
