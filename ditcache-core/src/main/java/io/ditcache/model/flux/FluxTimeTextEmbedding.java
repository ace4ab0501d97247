package io.ditcache.model.flux;

import io.ditcache.model.layers.TextProjection;
import io.ditcache.model.layers.TimestepEmbedding;
import io.ditcache.model.layers.Timesteps;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code CombinedTimestepTextProjEmbeddings}, or {@code CombinedTimestepGuidanceTextProjEmbeddings}
 * when the model embeds guidance: the timestep's 256 sinusoidal features (cosines first, no frequency shift)
 * through {@code timestep_embedder}, the guidance scale's through {@code guidance_embedder}, plus the pooled text
 * vector through {@code text_embedder} (SiLU): FLUX's {@code temb}, what every block is modulated by.
 */
final class FluxTimeTextEmbedding extends Module {
    private final TimestepEmbedding timestep;
    private final TimestepEmbedding guidance;
    private final TextProjection text;

    FluxTimeTextEmbedding(FluxConfig c) {
        long d = c.innerDim();
        timestep = register_module("timestep_embedder", new TimestepEmbedding(FluxConfig.TIME_CHANNELS, d));
        guidance = c.guidanceEmbeds()
                ? register_module("guidance_embedder", new TimestepEmbedding(FluxConfig.TIME_CHANNELS, d)) : null;
        text = register_module("text_embedder", new TextProjection(c.pooledProjectionDim(), d, d, "silu"));
    }

    /**
     * @param t        {@code [N]} float32 timesteps on the model's scale (the pipeline's {@code t / 1000} times
     *                 1000)
     * @param g        {@code [N]} float32 guidance times 1000, or null for a model without guidance embedding
     * @param pooled   {@code [N, pooled_projection_dim]} in the compute dtype
     * @return {@code [N, inner dim]}
     */
    Tensor forward(Tensor t, Tensor g, Tensor pooled) {
        ScalarType dtype = pooled.scalar_type().intern();
        Tensor emb = timestep.forward(features(t, dtype));
        if (guidance != null) {
            emb = emb.add(guidance.forward(features(g, dtype)));
        }
        return emb.add(text.forward(pooled));
    }

    /** The sinusoid in float32, then in the pooled vector's dtype, as diffusers casts it. */
    private static Tensor features(Tensor t, ScalarType dtype) {
        return Timesteps.sinusoid(t, FluxConfig.TIME_CHANNELS, true, 0, 1).to(dtype);
    }
}
