package io.ditcache.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.CheckpointException;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTFamily;
import io.ditcache.model.dit.DiTModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Families are found through {@link ServiceLoader} by {@code _class_name}; an unknown one is named with those known. */
class ModelFamiliesTest {

    @Test
    void serviceLoaderFindsTheDiTFamily() {
        List<DenoiserFamily> found = ServiceLoader.load(DenoiserFamily.class).stream()
                .map(ServiceLoader.Provider::get).toList();
        assertTrue(found.stream().anyMatch(f -> f instanceof DiTFamily), found.toString());
        assertEquals(Set.of(DiTConfig.CLASS_NAME), new DiTFamily().classNames());
        // the families of the main resources (DiT, FLUX, PixArt, SD3, ...), the toy one of the test resources, sorted
        List<String> names = List.copyOf(ModelLoader.classNames());
        assertTrue(names.containsAll(List.of("CogVideoXTransformer3DModel", "DiTTransformer2DModel",
                "FluxTransformer2DModel",
                "LatteTransformer3DModel", "MochiTransformer3DModel", "PixArtTransformer2DModel",
                "SD3Transformer2DModel", "ToyTransformer2DModel")), names.toString());
        assertEquals(names.stream().sorted().toList(), names);
    }

    @Test
    void aDiTCheckpointLoadsAsADenoiserThatDescribesItself(@TempDir Path dir) throws Exception {
        Denoiser d = ModelLoader.load(Fixtures.ditCheckpoint(dir.resolve("dit")));
        DiTModel dit = assertInstanceOf(DiTModel.class, d);
        DenoiserInfo info = d.info();
        assertEquals(DiTConfig.CLASS_NAME, info.className());
        assertEquals(dit.config().diffusersConfig(), info.config());
        assertEquals(List.copyOf(dit.config().diffusersConfig().keySet()), List.copyOf(info.config().keySet()),
                "key order is the file's");
        assertEquals(dit.parameterShapes().values().stream().mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b))
                .sum(), info.parameterCount());
        assertEquals(dit.config().numClasses(), info.classes());
        assertEquals(dit.config().inChannels(), info.inChannels());
        assertEquals(dit.config().learnedSigma(), info.learnedSigma());
        assertEquals(PredictionType.EPSILON, info.prediction());
        assertEquals(dit.config().numLayers(), d.layers());
    }

    @Test
    void anUnknownClassNameIsOneLineListingTheKnownOnes(@TempDir Path dir) throws Exception {
        Path ckpt = Fixtures.ditCheckpoint(dir.resolve("dit"));
        Path config = ckpt.resolve("config.json");
        Files.writeString(config, Files.readString(config).replace("DiTTransformer2DModel", "UNet2DModel"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> ModelLoader.load(ckpt));
        assertTrue(e.getMessage().endsWith("config.json: unknown model type \"UNet2DModel\" in _class_name, "
                + "expected one of " + ModelLoader.classNames()), e.getMessage());
        for (String known : List.of("CogVideoXTransformer3DModel", "DiTTransformer2DModel", "FluxTransformer2DModel",
                "LatteTransformer3DModel",
                "MochiTransformer3DModel", "PixArtTransformer2DModel", "SD3Transformer2DModel")) {
            assertTrue(e.getMessage().contains(known), known + " in " + e.getMessage());
        }
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
