package io.ditcache.model.mochi;

import io.ditcache.model.layers.Attention;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.TimestepEmbedding;
import io.ditcache.model.layers.Timesteps;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarTypeOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * diffusers' {@code MochiCombinedTimestepCaptionEmbedding}: the conditioning vector {@code temb} is the timestep
 * embedding ({@code Timesteps(time_embed_dim, flip_sin_to_cos, shift 0)} then {@code timestep_embedder}) plus
 * {@code pooler}, an 8-head {@code MochiAttentionPool} over the text; the text stream starts as
 * {@code caption_proj} of the text tokens (to {@code pooled_projection_dim}).
 */
final class MochiTimeEmbedding extends Module {
    private final int timeChannels;
    private final TimestepEmbedding timestepEmbedder;
    private final Module pooler;
    private final LinearImpl toKv;
    private final LinearImpl toQ;
    private final LinearImpl toOut;
    private final LinearImpl captionProj;

    /** The conditioning vector and the projected text stream. */
    record Embedded(Tensor temb, Tensor caption) {
    }

    MochiTimeEmbedding(MochiConfig c) {
        long d = c.innerDim();
        long e = c.textEmbedDim();
        timeChannels = c.timeEmbedDim();
        timestepEmbedder = register_module("timestep_embedder", new TimestepEmbedding(c.timeEmbedDim(), d));
        pooler = register_module("pooler", new Module());
        toKv = pooler.register_module("to_kv", Linears.of(e, 2 * e, true));
        toQ = pooler.register_module("to_q", Linears.of(e, e, true));
        toOut = pooler.register_module("to_out", Linears.of(e, d, true));
        captionProj = register_module("caption_proj", Linears.of(e, c.pooledProjectionDim(), true));
    }

    /**
     * @param t    {@code [N]} the model's timesteps
     * @param text {@code [N, T, text_embed_dim]}
     * @param mask {@code [N, T]} bool, true = a real token
     */
    Embedded forward(Tensor t, Tensor text, Tensor mask, ScalarType dtype) {
        Tensor time = timestepEmbedder.forward(Timesteps.sinusoid(t, timeChannels, true, 0, 1).to(dtype));
        return new Embedded(time.add(pool(text, mask)), captionProj.forward(text));
    }

    /** {@code MochiAttentionPool}: the masked mean token queries itself and the tokens. */
    Tensor pool(Tensor x, Tensor mask) {
        long n = x.size(0);
        long e = x.size(2);
        long hd = e / MochiConfig.POOL_HEADS;
        Tensor weights = mask.unsqueeze(2).to(x.scalar_type().intern());
        weights = weights.div(weights.sum(new long[] {1}, true, new ScalarTypeOptional()).clamp_min(new Scalar(1)));
        Tensor mean = x.mul(weights).sum(new long[] {1}, true, new ScalarTypeOptional());
        Tensor all = torch.cat(new TensorVector(mean, x), 1);
        long l = all.size(1);
        // [N, 1+L, 2, H, hd] -> [N, H, 2, 1+L, hd]
        Tensor kv = toKv.forward(all).view(n, l, 2, MochiConfig.POOL_HEADS, hd).transpose(1, 3);
        Tensor k = kv.select(2, 0);
        Tensor v = kv.select(2, 1);
        Tensor q = toQ.forward(mean.squeeze(1)).view(n, MochiConfig.POOL_HEADS, 1, hd);
        Tensor attend = torch.constant_pad_nd(mask.to(ScalarType.Bool).to(ScalarType.Long), new long[] {1, 0},
                new Scalar(1)).to(ScalarType.Bool).view(n, 1, 1, l);
        Tensor o = Attention.sdpaHeads(q, k, v, attend);
        return toOut.forward(o.squeeze(2).reshape(n, e));
    }
}
