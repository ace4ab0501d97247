package io.ditcache.model.dit;

import org.bytedeco.pytorch.Tensor;

/** Test access to package-private parts of the DiT. */
public final class DiTModelAccess {
    private DiTModelAccess() {
    }

    public static Tensor positions(DiTModel model, int h, int w) {
        return SinCosPositions.table(model.config().innerDim(), h, w, model.config().gridSize());
    }
}
