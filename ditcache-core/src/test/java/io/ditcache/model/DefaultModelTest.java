package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.ditcache.internal.Tensors;
import io.ditcache.model.dit.DiTModel;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

/** The shipped default checkpoint is exactly what its documented recipe makes. */
class DefaultModelTest {
    @Test
    void embeddedWeightsEqualTheRecipeBitForBit() throws Exception {
        DiTModel shipped = DefaultModel.load();
        DiTModel recipe = DefaultModel.recipe();
        assertEquals(DefaultModel.CONFIG, shipped.config());
        Map<String, Tensor> a = shipped.stateDict();
        Map<String, Tensor> b = recipe.stateDict();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(Tensors.toFloats(b.get(k)), Tensors.toFloats(a.get(k)), 0f, k);
        }
    }
}
