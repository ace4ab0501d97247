package io.ditcache.model.text;

import io.ditcache.model.Fixtures;
import java.nio.file.Path;
import org.bytedeco.pytorch.Tensor;

/** The pipeline fixtures' tiny CLIP and T5 (transformers, random weights, trained tokenizers) as folders. */
final class TextFixtures {
    static final String ROOT = "/fixtures/pipeline/";
    static final String[] FILES = {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "prompts.json"};

    private TextFixtures() {
    }

    /** The fixture {@code name} (clip or t5) copied into {@code dir}, golden.safetensors left out. */
    static Path folder(String name, Path dir) {
        for (String f : FILES) {
            Fixtures.copy(ROOT + name + "/" + f, dir.resolve(f));
        }
        return dir;
    }

    /** The fixture's golden.safetensors, copied into {@code dir}. */
    static Path golden(String name, Path dir) {
        return Fixtures.copy(ROOT + name + "/golden.safetensors", dir.resolve(name + "-golden.safetensors"));
    }

    /** max |a - b| over every element, in float32. */
    static double maxAbs(Tensor a, Tensor b) {
        return a.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).sub(b).abs().max().item_double();
    }
}
