package io.ditcache.model.toy;

import io.ditcache.internal.StateDictCheck;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserFamily;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Loads {@link ToyDenoiser}; registered in the test resources' {@code META-INF/services}. */
public final class ToyFamily implements DenoiserFamily {
    @Override
    public Set<String> classNames() {
        return Set.of(ToyDenoiser.CLASS_NAME);
    }

    @Override
    public io.ditcache.model.ModelDescription describe(DiffusersConfig config) throws IOException {
        int layers = small(config, "num_layers");
        return new io.ditcache.model.ModelDescription(ToyDenoiser.CLASS_NAME, ToyDenoiser.shapes(small(config,
                "in_channels"), small(config, "width"), layers, small(config, "text_width")),
                io.ditcache.BlockLayout.plain(layers));
    }

    @Override
    public Denoiser load(Checkpoint ckpt, DiffusersConfig config, MemoryBudget budget) throws IOException {
        int channels = small(config, "in_channels");
        int width = small(config, "width");
        int layers = small(config, "num_layers");
        int textWidth = small(config, "text_width");
        Map<String, long[]> want = ToyDenoiser.shapes(channels, width, layers, textWidth);
        Map<String, long[]> have = new LinkedHashMap<>();
        for (String name : ckpt.names()) {
            have.put(name, ckpt.info(name).dims());
        }
        String mismatch = StateDictCheck.mismatch(want, have, ckpt.source(), config.className());
        if (mismatch != null) {
            throw new CheckpointException(mismatch);
        }
        Map<String, Tensor> weights = new LinkedHashMap<>();
        for (String name : want.keySet()) {
            Tensor t = ckpt.load(name).to(ScalarType.Float).clone();
            t.retainReference(); // the model outlives any scope the caller loads in
            weights.put(name, t);
        }
        return new ToyDenoiser(channels, width, layers, textWidth, small(config, "sample_height"),
                small(config, "sample_width"), weights);
    }

    /** A toy's sizes stay small: nothing to check against memory beyond that. */
    private static int small(DiffusersConfig c, String key) throws CheckpointException {
        int v = c.intValue(key);
        if (v < 1 || v > 256) {
            throw new CheckpointException(c.source() + ": " + key + " is " + v + ", expected 1 to 256");
        }
        return v;
    }
}
