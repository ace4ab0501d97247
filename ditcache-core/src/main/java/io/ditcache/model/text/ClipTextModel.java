package io.ditcache.model.text;

import io.ditcache.model.ComputeType;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Weights;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.EmbeddingImpl;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * CLIP's text tower in transformers' {@code CLIPTextModel} / {@code CLIPTextModelWithProjection} layout, with
 * transformers' state-dict keys ({@code text_model.*}, {@code text_projection.weight}): token and learned position
 * embeddings, pre-LayerNorm layers under a causal mask, the final LayerNorm, the pooled output at the first
 * end-of-text token and, with the projection, {@code text_embeds}.
 *
 * <p>Pooling follows transformers: where {@code eos_token_id} is 2 (the published CLIP-L and bigG configs, written
 * before the end-of-text id was recorded) the token with the highest id, else the first {@code eos_token_id}.
 * Padding is not masked unless an attention mask is given: the pipelines pad after the end-of-text token, which
 * the causal mask already hides from every earlier position.
 */
public final class ClipTextModel extends Module implements TextEncoder {
    private final ClipTextConfig config;
    private final ComputeType type;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module textModel;
    private final Module embeddings;
    private final Module encoder;
    private final Module layerList;
    private final EmbeddingImpl tokenEmbedding;
    private final EmbeddingImpl positionEmbedding;
    private final List<ClipEncoderLayer> layers = new ArrayList<>();
    private final LayerNorm finalNorm;
    private final LinearImpl projection;

    /** A model with initial weights in {@code type}; {@link TextEncoders#load} loads a checkpoint's into it. */
    ClipTextModel(ClipTextConfig config, ComputeType type) {
        this.config = config;
        this.type = type;
        long d = config.hiddenSize();
        textModel = register_module("text_model", new Module());
        embeddings = textModel.register_module("embeddings", new Module());
        tokenEmbedding = embeddings.register_module("token_embedding", new EmbeddingImpl(config.vocabSize(), d));
        positionEmbedding = embeddings.register_module("position_embedding",
                new EmbeddingImpl(config.maxPositions(), d));
        encoder = textModel.register_module("encoder", new Module());
        layerList = encoder.register_module("layers", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            layers.add(layerList.register_module(Integer.toString(i), new ClipEncoderLayer(config)));
        }
        finalNorm = textModel.register_module("final_layer_norm", new LayerNorm(d, config.eps()));
        projection = config.withProjection()
                ? register_module("text_projection", Linears.of(d, config.projectionDim(), false)) : null;
        eval();
    }

    /** The configuration the model was built from. */
    public ClipTextConfig config() {
        return config;
    }

    @Override
    public String className() {
        return config.className();
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int maxLength() {
        return config.maxPositions();
    }

    @Override
    public ComputeType computeType() {
        return type;
    }

    @Override
    public long parameterCount() {
        return TextEncoders.count(config.parameterShapes());
    }

    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.stateDict(this);
    }

    @Override
    public TextEncoderOutput forward(Tensor inputIds, Tensor attentionMask) {
        Tensor ids = TokenIds.check(inputIds, attentionMask, config.vocabSize(), config.maxPositions(), className());
        long n = ids.size(0);
        long len = ids.size(1);
        Tensor positions = torch.arange(new Scalar(len)).to(ScalarType.Long);
        Tensor x = tokenEmbedding.forward(ids).add(positionEmbedding.forward(positions));
        Tensor mask = TokenIds.additiveMask(attentionMask, len, true, type.scalarType());
        Tensor penultimate = null;
        for (int i = 0; i < layers.size(); i++) {
            if (i == layers.size() - 1) {
                penultimate = x;
            }
            x = layers.get(i).forward(x, mask);
        }
        Tensor last = finalNorm.forward(x);
        // transformers: the highest id under the legacy eos_token_id 2, else the first eos_token_id (0 if none)
        Tensor eos = config.eosTokenId() == ClipTextConfig.LEGACY_EOS_TOKEN_ID
                ? ids.argmax(new LongOptional(-1), false)
                : ids.eq(new Scalar((long) config.eosTokenId())).to(ScalarType.Int).argmax(new LongOptional(-1), false);
        Tensor index = eos.view(n, 1, 1).expand(n, 1, last.size(2));
        Tensor pooled = last.gather(1, index).squeeze(1);
        Tensor embeds = projection == null ? null : projection.forward(pooled).to(ScalarType.Float);
        return new TextEncoderOutput(last.to(ScalarType.Float), penultimate.to(ScalarType.Float),
                pooled.to(ScalarType.Float), embeds);
    }
}
