package io.ditcache.model.dit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import io.ditcache.ActivationProbe;
import io.ditcache.Step;
import io.ditcache.internal.Tensors;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A model survives the garbage collector: the patch embedding's weight handles were references into a native
 * vector it freed (the process then crashed or computed garbage), and grouping modules made in Java and held
 * only by libtorch were collected, after which {@code eval()} failed.
 */
class DiTModelLifetimeTest {

    @Test
    void forwardAndEvalWorkAfterTheGarbageCollectorRan() throws InterruptedException {
        DiTModel model = DefaultDiT.randomReference();
        float[] before = forward(model);
        collectGarbage(model);
        model.eval();
        assertArrayEquals(before, forward(model));
    }

    private static void collectGarbage(DiTModel model) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50); // JavaCPP frees collected pointers on its deallocator thread
            for (int j = 0; j < 100; j++) { // reuse freed native memory
                try (PointerScope scope = new PointerScope()) {
                    model.parameterShapes();
                }
            }
        }
    }

    private static float[] forward(DiTModel model) {
        try (InferenceMode mode = new InferenceMode(); PointerScope scope = new PointerScope()) {
            float[] noise = new float[28 * 28];
            for (int i = 0; i < noise.length; i++) {
                noise[i] = (float) Math.sin(i);
            }
            Tensor x = Tensors.fromFloats(noise, 1, 1, 28, 28);
            Tensor t = Tensors.fromFloats(new float[] {500}, 1);
            Tensor label = Tensors.fromLongs(new long[] {3}, 1);
            return Tensors.toFloats(model.forward(x, t, label, Step.conditional(0, 1, 500, 1), ActivationProbe.NONE));
        }
    }
}
