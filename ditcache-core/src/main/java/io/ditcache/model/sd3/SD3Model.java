package io.ditcache.model.sd3;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockLayout;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import io.ditcache.cache.CacheRuntime;
import io.ditcache.cache.Streams;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.CachedForward;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserInfo;
import io.ditcache.model.DiffusersForward;
import io.ditcache.model.LatentSize;
import io.ditcache.model.PredictionType;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.model.layers.RuntimeForward;
import io.ditcache.model.layers.AdaLayerNormContinuous;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.TextProjection;
import io.ditcache.model.layers.TimestepEmbedding;
import io.ditcache.model.layers.Timesteps;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Stable Diffusion 3 / 3.5's MM-DiT in diffusers' {@code SD3Transformer2DModel} layout, with diffusers' state-dict
 * keys: patch embedding with the stored position table cropped to the grid, time and pooled-text embedding, the
 * context embedder, the joint blocks ({@link JointBlock}), {@code norm_out}, {@code proj_out} and unpatchify.
 *
 * <p>Sites per block: image K, V (after {@code norm_k}; SD3 has no rotary embedding), ATTN_OUT, MLP_OUT, BLOCK_OUT,
 * BLOCK_RESIDUAL; text stream ({@link io.ditcache.TokenStream#TEXT}) K, V (after {@code norm_added_k}), ATTN_OUT
 * (after {@code to_add_out}; the raw attention output in the last block), MLP_OUT, BLOCK_OUT, BLOCK_RESIDUAL (not
 * in the last block, whose context stream ends in its attention); block 0's MODULATED_INPUT.
 *
 * <p>As a {@link Denoiser} it is conditioned on {@link TextEmbeddings} with a pooled vector and predicts the
 * flow velocity; the timesteps it is given are the scheduler's ({@code sigma * 1000}), as diffusers'
 * {@code StableDiffusion3Pipeline} passes them. Not thread-safe; callers own the native memory of inputs and
 * outputs (wrap calls in a {@code PointerScope}).
 */
public final class SD3Model extends Module implements Denoiser, DiffusersForward {
    /** The inputs of {@link #forward(SafetensorsFile, Path, ActivationProbe)}, in diffusers' names. */
    public static final List<String> INPUT_NAMES = List.of("hidden_states", "encoder_hidden_states",
            "pooled_projections", "timestep");
    /** diffusers' {@code StableDiffusion3Pipeline}: flow matching with shift 3, 28 steps, guidance 7. */
    public static final SamplingDefaults SAMPLING = new SamplingDefaults("FlowMatchEulerDiscreteScheduler",
            Map.of("shift", 3.0), 28, 7.0, SamplingDefaults.Guidance.CLASSIFIER_FREE);
    private final SD3Config config;
    private final SD3PatchEmbed patchEmbed;
    private final TimestepEmbedding timestepEmbedder;
    private final TextProjection textEmbedder;
    private final LinearImpl contextEmbedder;
    private final List<JointBlock> blocks = new ArrayList<>();
    private final AdaLayerNormContinuous normOut;
    private final LinearImpl projOut;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module timeTextEmbed;
    private final Module blockList;
    private final DenoiserInfo info;

    /** A model with all parameters zero; load weights with {@link SD3Family#load}. */
    public SD3Model(SD3Config config) {
        this.config = config;
        long d = config.innerDim();
        patchEmbed = register_module("pos_embed", new SD3PatchEmbed(config));
        timeTextEmbed = register_module("time_text_embed", new Module());
        timestepEmbedder = timeTextEmbed.register_module("timestep_embedder",
                new TimestepEmbedding(SD3Config.TIME_CHANNELS, d));
        textEmbedder = timeTextEmbed.register_module("text_embedder",
                new TextProjection(config.pooledProjectionDim(), d, d, "silu"));
        contextEmbedder = register_module("context_embedder",
                Linears.of(config.jointAttentionDim(), config.captionProjectionDim(), true));
        blockList = register_module("transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(blockList.register_module(Integer.toString(i), new JointBlock(config, i)));
        }
        normOut = register_module("norm_out", new AdaLayerNormContinuous(d, d));
        long p = config.patchSize();
        projOut = register_module("proj_out", Linears.of(d, p * p * config.outChannels(), true));
        eval();
        info = new DenoiserInfo(SD3Config.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.FLOW, false, config.inChannels(), 0);
    }

    /** The configuration the model was built from. */
    public SD3Config config() {
        return config;
    }

    /**
     * What the model is; its parameter count is diffusers' ({@code num_parameters()}), without the stored
     * position table, which is a buffer.
     */
    @Override
    public DenoiserInfo info() {
        return info;
    }

    @Override
    public int layers() {
        return blocks.size();
    }

    /** Block {@code layer}, in execution order. */
    JointBlock block(int layer) {
        return blocks.get(layer);
    }

    /** The blocks as a cache sees them ({@link SD3Config#blockLayout()}). */
    public BlockLayout blockLayout() {
        return config.blockLayout();
    }

    /**
     * The parameters and the stored position table {@code pos_embed.pos_embed} by diffusers key: what a checkpoint
     * holds. The tensors are the model's own (not copies).
     */
    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put(SD3PatchEmbed.TABLE_KEY, patchEmbed.table());
        out.putAll(Weights.stateDict(this));
        return out;
    }

    /**
     * diffusers' forward.
     *
     * @param latents        {@code hidden_states [N, in_channels, H, W]}, H and W multiples of the patch size
     *                       with at most {@code pos_embed_max_size} patches per side
     * @param timesteps      {@code [N]} or {@code [1]}: the scheduler's timesteps (0..1000)
     * @param encoderStates  {@code [N, T, joint_attention_dim]}
     * @param pooled         {@code [N, pooled_projection_dim]}
     * @return {@code [N, out_channels, H, W]} float32
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor encoderStates, Tensor pooled, Step step,
            ActivationProbe probe) {
        Embedded e = embed(latents, timesteps, encoderStates, pooled);
        Tensor x = e.x();
        Tensor c = e.context();
        for (JointBlock block : blocks) {
            Streams out = block.forward(x, c, e.temb(), step, probe, Map.of(), null);
            x = out.image();
            c = out.context();
        }
        return head(x, e.temb(), latents.size(2), latents.size(3));
    }

    /** The model's inputs embedded: image tokens, context tokens and the conditioning vector. */
    private record Embedded(Tensor x, Tensor context, Tensor temb) {
    }

    private Embedded embed(Tensor latents, Tensor timesteps, Tensor encoderStates, Tensor pooled) {
        check(latents, timesteps, encoderStates, pooled);
        long n = latents.size(0);
        Tensor t = timesteps.numel() == 1 ? timesteps.reshape(1).expand(n) : timesteps.reshape(n);
        ScalarType dtype = computeType();
        Tensor p = pooled.to(dtype);
        Tensor temb = timestepEmbedder.forward(Timesteps.sinusoid(t, SD3Config.TIME_CHANNELS, true, 0, 1)
                .to(dtype)).add(textEmbedder.forward(p));
        Tensor x = patchEmbed.forward(latents.to(dtype)).contiguous();
        Tensor c = contextEmbedder.forward(encoderStates.to(dtype));
        return new Embedded(x, c, temb);
    }

    /** {@code norm_out}, {@code proj_out}, unpatchify ({@code einsum("nhwpqc->nchpwq")}). */
    private Tensor head(Tensor x, Tensor temb, long height, long width) {
        x = projOut.forward(normOut.forward(x, temb));
        long n = x.size(0);
        long p = config.patchSize();
        long c = config.outChannels();
        long h = height / p;
        long w = width / p;
        return x.reshape(n, h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, h * p, w * p)
                .to(ScalarType.Float);
    }

    /** The dtype the weights are held in and the blocks compute with (float32 unless loaded otherwise). */
    private ScalarType computeType() {
        return projOut.weight().scalar_type().intern();
    }

    private void check(Tensor latents, Tensor timesteps, Tensor encoderStates, Tensor pooled) {
        long[] s = Tensors.shape(latents);
        long p = config.patchSize();
        long max = config.posEmbedMaxSize();
        if (!isFloat(latents) || s.length != 4 || s[1] != config.inChannels() || s[2] < p || s[3] < p
                || s[2] % p != 0 || s[3] % p != 0 || s[2] / p > max || s[3] / p > max) {
            throw new IllegalArgumentException("hidden_states has " + latents.scalar_type().intern() + " shape "
                    + Arrays.toString(s) + ", expected a float [N, " + config.inChannels() + " (in_channels), H, W]"
                    + " with H and W positive multiples of patch_size " + p + ", at most " + max * p
                    + " (pos_embed_max_size " + max + " patches)");
        }
        long n = s[0];
        long[] e = Tensors.shape(encoderStates);
        if (!isFloat(encoderStates) || e.length != 3 || e[0] != n || e[1] < 1 || e[2] != config.jointAttentionDim()) {
            throw new IllegalArgumentException("encoder_hidden_states has " + encoderStates.scalar_type().intern()
                    + " shape " + Arrays.toString(e) + ", expected a float [" + n + ", tokens, "
                    + config.jointAttentionDim() + " (joint_attention_dim)]");
        }
        long[] q = Tensors.shape(pooled);
        if (!isFloat(pooled) || q.length != 2 || q[0] != n || q[1] != config.pooledProjectionDim()) {
            throw new IllegalArgumentException("pooled_projections has " + pooled.scalar_type().intern() + " shape "
                    + Arrays.toString(q) + ", expected a float [" + n + ", " + config.pooledProjectionDim()
                    + " (pooled_projection_dim)]");
        }
        if (timesteps.numel() != n && timesteps.numel() != 1) {
            throw new IllegalArgumentException("timestep has " + timesteps.numel() + " elements, expected " + n
                    + " or 1");
        }
    }

    private static boolean isFloat(Tensor t) {
        ScalarType s = t.scalar_type().intern();
        return s == ScalarType.Float || s == ScalarType.Half || s == ScalarType.BFloat16 || s == ScalarType.Double;
    }

    /**
     * {@code [in_channels, H, W]}: {@code sample_size} square, or the conditioning's size (one frame, sides
     * multiples of {@code patch_size} with at most {@code pos_embed_max_size} patches each).
     *
     * @throws IllegalArgumentException for a conditioning other than {@link TextEmbeddings} with a pooled vector
     *                                  of this model's widths, or a size it cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        if (text.size().isEmpty()) {
            return new long[] {config.inChannels(), config.sampleSize(), config.sampleSize()};
        }
        LatentSize size = text.size().get();
        long p = config.patchSize();
        long max = config.posEmbedMaxSize();
        if (!size.isImage() || size.height() % p != 0 || size.width() % p != 0 || size.height() / p > max
                || size.width() / p > max) {
            throw new IllegalArgumentException(SD3Config.CLASS_NAME + " cannot make latent size " + size
                    + ": expected 1 frame with height and width multiples of patch_size " + p + ", at most "
                    + max * p + " (pos_embed_max_size " + max + " patches)");
        }
        return new long[] {config.inChannels(), size.height(), size.width()};
    }

    /** Image tokens after patching: {@code (H / p) (W / p)}. */
    @Override
    public long imageTokens(long[] latentShape) {
        long p = config.patchSize();
        return (latentShape[1] / p) * (latentShape[2] / p);
    }

    /**
     * Zero text embeddings and a zero pooled vector of the same shapes, at the same size. diffusers' pipeline
     * encodes the empty negative prompt instead; where the user gives negative prompt embeddings, the command
     * line passes those as the unconditional rows rather than these zeros.
     */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        return new TextEmbeddings(torch.zeros_like(text.hiddenStates()), text.mask(),
                text.pooled().map(torch::zeros_like), text.size());
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        TextEmbeddings text = text(batch);
        return forward(latents, timesteps, text.hiddenStates(), text.pooled().get(), step, probe);
    }

    /** {@code FlowMatchEulerDiscreteScheduler} with shift 3, 28 steps, classifier-free guidance 7. */
    @Override
    public SamplingDefaults samplingDefaults() {
        return SAMPLING;
    }

    /**
     * Each joint block computed, reused whole (both streams' residuals) or reused in parts per row through a
     * {@link CacheRuntime}.
     */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        CacheRuntime cache = new CacheRuntime(policy, stats, blockLayout(), steps, rows);
        return new RuntimeForward(SD3Config.CLASS_NAME, cache,
                (runtime, latents, timesteps, batch, step) -> {
                    TextEmbeddings text = text(batch);
                    Embedded e = embed(latents, timesteps, text.hiddenStates(), text.pooled().get());
                    Streams s = Streams.joint(e.x(), e.context());
                    for (JointBlock block : blocks) {
                        s = runtime.block(step, block.layer(), s, block.cacheCall(e.temb(), step));
                    }
                    return head(s.image(), e.temb(), latents.size(2), latents.size(3));
                });
    }

    @Override
    public List<String> inputNames() {
        return INPUT_NAMES;
    }

    /** Checks the inputs with {@link SD3Inputs#check}, then runs them. */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        SD3Inputs.check(inputs, config, modelDir);
        Tensor x = inputs.load("hidden_states");
        return forward(x, inputs.load("timestep"), inputs.load("encoder_hidden_states"),
                inputs.load("pooled_projections"), Step.conditional(0, 1, 0, (int) x.size(0)), probe);
    }

    /** The text conditioning, checked against this model's widths. */
    private TextEmbeddings text(Conditioning c) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(SD3Config.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.jointAttentionDim()) {
            throw new IllegalArgumentException("encoder_hidden_states has width " + text.width() + ", expected "
                    + config.jointAttentionDim() + " (joint_attention_dim of " + SD3Config.CLASS_NAME + ")");
        }
        Optional<Tensor> pooled = text.pooled();
        if (pooled.isEmpty()) {
            throw new IllegalArgumentException("pooled_projections is missing, expected [rows, "
                    + config.pooledProjectionDim() + "] (pooled_projection_dim of " + SD3Config.CLASS_NAME + ")");
        }
        if (pooled.get().size(1) != config.pooledProjectionDim()) {
            throw new IllegalArgumentException("pooled_projections has width " + pooled.get().size(1) + ", expected "
                    + config.pooledProjectionDim() + " (pooled_projection_dim of " + SD3Config.CLASS_NAME + ")");
        }
        if (text.guidance().isPresent()) {
            throw new IllegalArgumentException(SD3Config.CLASS_NAME + " takes no embedded guidance scale (guidance "
                    + text.guidance().getAsDouble() + "); it is guided classifier-free");
        }
        if (text.mask().isPresent() && text.mask().get().eq(new org.bytedeco.pytorch.Scalar(0)).any().item_bool()) {
            throw new IllegalArgumentException("encoder_attention_mask masks tokens out, but " + SD3Config.CLASS_NAME
                    + " attends to every text token (as diffusers' pipeline runs it): pass no mask");
        }
        return text;
    }

    @Override
    public String toString() {
        return SD3Config.CLASS_NAME + config;
    }
}
