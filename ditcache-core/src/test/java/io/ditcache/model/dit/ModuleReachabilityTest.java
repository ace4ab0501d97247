package io.ditcache.model.dit;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.ditcache.model.DefaultModel;
import org.junit.jupiter.api.Test;

/**
 * JavaCPP holds a module made in Java weakly; when the GC collects a container module only the native tree
 * still refers to, libtorch's virtual {@code train()} calls back into a dead object (NullPointerException).
 * Every module of a model must stay reachable from the model.
 */
class ModuleReachabilityTest {
    @Test
    void trainAndEvalSurviveGarbageCollection() throws InterruptedException {
        DiTModel model = new DiTModel(DefaultModel.CONFIG);
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(20);
        }
        assertDoesNotThrow(() -> model.train(true));
        assertDoesNotThrow(model::eval);
        assertFalse(model.is_training());
    }
}
