package io.ditcache.model;

import io.ditcache.ActivationProbe;
import io.ditcache.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * A {@link Denoiser} that can run diffusers' forward on inputs named as its forward arguments, and return its
 * raw output: what the {@code run} command compares with diffusers.
 */
public interface DiffusersForward {
    /** The forward arguments it takes, e.g. {@code [hidden_states, timestep, class_labels]}. */
    List<String> inputNames();

    /** Forward arguments it also takes when given (e.g. PixArt's {@code encoder_attention_mask}); none by default. */
    default List<String> optionalInputNames() {
        return List.of();
    }

    /**
     * One forward on the tensors of {@code inputs} (exactly {@link #inputNames()}), each checked (dtype, shape,
     * range, memory) before it is loaded.
     *
     * @param modelDir the checkpoint directory (its scheduler config bounds the timesteps); null for defaults
     * @return diffusers' output {@code sample}, learned variance channels included
     * @throws IllegalArgumentException naming the file, the tensor and the bad value
     */
    Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException;
}
