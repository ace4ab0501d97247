package io.ditcache.model.flux;

import io.ditcache.model.Conditioning;
import io.ditcache.model.TextEmbeddings;

/**
 * What FLUX is conditioned on while sampling: {@link TextEmbeddings} of {@code joint_attention_dim} with the pooled
 * vector of {@code pooled_projection_dim}, and an embedded guidance scale exactly when the model has
 * {@code guidance_embeds}.
 */
final class FluxConditioning {
    private FluxConditioning() {
    }

    /** {@code c} as text embeddings this model takes, checked (widths, pooled vector, guidance). */
    static TextEmbeddings text(Conditioning c, FluxConfig config) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.jointAttentionDim()) {
            throw new IllegalArgumentException("encoder_hidden_states have width " + text.width()
                    + ", expected joint_attention_dim " + config.jointAttentionDim() + " of " + FluxConfig.CLASS_NAME);
        }
        if (text.pooled().isEmpty()) {
            throw new IllegalArgumentException("pooled_projections are missing: " + FluxConfig.CLASS_NAME
                    + " takes the pooled text vector (width pooled_projection_dim " + config.pooledProjectionDim()
                    + ")");
        }
        long pooled = text.pooled().get().size(1);
        if (pooled != config.pooledProjectionDim()) {
            throw new IllegalArgumentException("pooled_projections have width " + pooled
                    + ", expected pooled_projection_dim " + config.pooledProjectionDim() + " of "
                    + FluxConfig.CLASS_NAME);
        }
        if (config.guidanceEmbeds() && text.guidance().isEmpty()) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " has guidance_embeds: its guidance scale is "
                    + "an input; give it with TextEmbeddings.withGuidance (FLUX.1-dev samples with 3.5)");
        }
        if (!config.guidanceEmbeds() && text.guidance().isPresent()) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " has no guidance_embeds (FLUX.1-schnell): "
                    + "it takes no guidance scale, but the text embeddings carry " + text.guidance().getAsDouble());
        }
        return text;
    }
}
