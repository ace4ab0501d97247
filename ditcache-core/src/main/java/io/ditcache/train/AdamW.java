package io.ditcache.train;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * AdamW (Loshchilov and Hutter) with decoupled weight decay and bias correction, over plain tensors so that its
 * state can be saved and resumed exactly. Betas 0.9 / 0.999, epsilon 1e-8 (PyTorch's defaults).
 */
public final class AdamW {
    static final double BETA1 = 0.9;
    static final double BETA2 = 0.999;
    static final double EPS = 1e-8;
    private final List<Tensor> params;
    final List<Tensor> m = new ArrayList<>();
    final List<Tensor> v = new ArrayList<>();

    /** Optimises {@code params} in place; moments start at zero (same shapes, same device). */
    public AdamW(List<Tensor> params) {
        this.params = params;
        for (Tensor p : params) {
            m.add(torch.zeros_like(p).detach());
            v.add(torch.zeros_like(p).detach());
        }
    }

    /** First moment of parameter {@code i}: the optimiser's own tensor, for saving and restoring its state. */
    public Tensor firstMoment(int i) {
        return m.get(i);
    }

    /** Second moment of parameter {@code i}: the optimiser's own tensor, for saving and restoring its state. */
    public Tensor secondMoment(int i) {
        return v.get(i);
    }

    /** One update with the gradients now held by the parameters; {@code t} counts updates from 1. */
    public void step(long t, double lr, double weightDecay) {
        double bc1 = 1 - Math.pow(BETA1, t);
        double bc2 = 1 - Math.pow(BETA2, t);
        try (NoGradGuard guard = new NoGradGuard()) {
            for (int i = 0; i < params.size(); i++) {
                Tensor p = params.get(i);
                Tensor g = p.grad();
                if (weightDecay != 0) {
                    p.mul_(new Scalar(1 - lr * weightDecay));
                }
                m.get(i).mul_(new Scalar(BETA1)).add_(g, new Scalar(1 - BETA1));
                v.get(i).mul_(new Scalar(BETA2)).addcmul_(g, g, new Scalar(1 - BETA2));
                Tensor denom = v.get(i).sqrt().div(new Scalar(Math.sqrt(bc2))).add(new Scalar(EPS));
                p.addcdiv_(m.get(i), denom, new Scalar(-lr / bc1));
                g.zero_();
            }
        }
    }
}
