package io.ditcache.model.mochi;

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
import io.ditcache.model.layers.AdaLayerNormContinuous;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.PatchProjection;
import io.ditcache.model.layers.RuntimeForward;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Mochi 1 in diffusers' {@code MochiTransformer3DModel} layout, with diffusers' state-dict keys: latents
 * {@code [N, C, F, H, W]} patched frame by frame ({@code patch_embed}), the timestep and attention-pooled text
 * embedding with the text projection ({@link MochiTimeEmbedding}), the learned rotary table ({@link MochiRope}),
 * the joint blocks ({@link MochiBlock}; video width {@code H x D}, text width {@code pooled_projection_dim}),
 * {@code norm_out} (scale, shift), {@code proj_out} and unpatchify. Video tokens are ordered (frame, row, column).
 *
 * <p>Sites per block: video K (after {@code norm_k}, before the rotary embedding), V, ATTN_OUT ({@code to_out}),
 * MLP_OUT, BLOCK_OUT, BLOCK_RESIDUAL; text stream ({@link io.ditcache.TokenStream#TEXT}) K (after
 * {@code norm_added_k}), V, ATTN_OUT ({@code to_add_out}; the raw attention rows in the last block), MLP_OUT,
 * BLOCK_OUT, BLOCK_RESIDUAL (not in the last block, whose text stream ends in its attention); block 0's
 * MODULATED_INPUT.
 *
 * <p><b>As a {@link Denoiser}</b> it takes {@link TextEmbeddings} of width {@code text_embed_dim} with an optional
 * mask (bool or integer, 1 = attend; none = every token), and predicts the flow velocity {@code noise - x0}
 * ({@link PredictionType#FLOW}) for the scheduler's timesteps {@code sigma * 1000}, sigma falling from 1 (noise)
 * to 0. Mochi itself runs on the reversed clock: MochiPipeline (with the checkpoint's
 * {@code invert_sigmas} scheduler) hands the transformer {@code (1 - sigma) * 1000} and steps
 * {@code x + (sigma - sigma_next) * output}, so the transformer's own output is {@code x0 - noise}. This class
 * therefore passes {@code 1000 - t} to the transformer and returns the negated output: a standard flow-matching
 * Euler step on it is MochiPipeline's step. {@link #samplingDefaults()} gives the pipeline's linear-quadratic
 * sigmas. The raw diffusers forward ({@link #forward(Tensor, Tensor, Tensor, Tensor, Step, ActivationProbe)},
 * {@code run}) takes and returns diffusers' values unchanged.
 *
 * <p>Not thread-safe; callers own the native memory of inputs and outputs (wrap calls in a {@code PointerScope}).
 */
public final class MochiModel extends Module implements Denoiser, DiffusersForward {
    /** The inputs of {@link #forward(SafetensorsFile, Path, ActivationProbe)}, in diffusers' names. */
    public static final List<String> INPUT_NAMES = List.of("hidden_states", "encoder_hidden_states", "timestep",
            "encoder_attention_mask");
    /** Timesteps of the transformer's clock: the scheduler's {@code t} reaches it as {@code TRAIN_STEPS - t}. */
    static final double TRAIN_STEPS = 1000;
    /**
     * diffusers' {@code MochiPipeline}: {@code FlowMatchEulerDiscreteScheduler} fed the linear-quadratic sigmas
     * (threshold noise 0.025, half the steps linear), 64 steps, classifier-free guidance 4.5.
     */
    public static final SamplingDefaults SAMPLING = new SamplingDefaults("FlowMatchEulerDiscreteScheduler",
            Map.of("sigma_schedule", "linear_quadratic", "threshold_noise", 0.025), 64, 4.5,
            SamplingDefaults.Guidance.CLASSIFIER_FREE);
    private final MochiConfig config;
    private final PatchProjection patchEmbed;
    private final MochiTimeEmbedding timeEmbed;
    private final Tensor posFrequencies;
    private final List<MochiBlock> blocks = new ArrayList<>();
    private final AdaLayerNormContinuous normOut;
    private final LinearImpl projOut;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module patchModule;
    private final Module blockList;
    private final DenoiserInfo info;

    /** A model with all parameters zero; load weights with {@link MochiFamily#load}. */
    public MochiModel(MochiConfig config) {
        this.config = config;
        long d = config.innerDim();
        patchModule = register_module("patch_embed", new Module());
        patchEmbed = patchModule.register_module("proj", new PatchProjection(d, config.inChannels(),
                config.patchSize()));
        timeEmbed = register_module("time_embed", new MochiTimeEmbedding(config));
        register_parameter("pos_frequencies", torch.zeros(3, config.numHeads(), config.headDim() / 2));
        posFrequencies = Weights.stateDict(this).get("pos_frequencies");
        blockList = register_module("transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(blockList.register_module(Integer.toString(i), new MochiBlock(config, i)));
        }
        normOut = register_module("norm_out", new AdaLayerNormContinuous(d, d));
        long p = config.patchSize();
        projOut = register_module("proj_out", Linears.of(d, p * p * config.outChannels(), true));
        eval();
        info = new DenoiserInfo(MochiConfig.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.FLOW, false, config.inChannels(), 0);
    }

    /** The configuration the model was built from. */
    public MochiConfig config() {
        return config;
    }

    /** What the model is; its parameter count is diffusers' ({@code num_parameters()}). */
    @Override
    public DenoiserInfo info() {
        return info;
    }

    @Override
    public int layers() {
        return blocks.size();
    }

    /** Block {@code layer}, in execution order. */
    MochiBlock block(int layer) {
        return blocks.get(layer);
    }

    /** The blocks as a cache sees them ({@link MochiConfig#blockLayout()}). */
    public BlockLayout blockLayout() {
        return config.blockLayout();
    }

    /** The parameters by diffusers key: the model's own tensors (not copies). */
    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.stateDict(this);
    }

    /**
     * diffusers' forward.
     *
     * @param latents   {@code hidden_states [N, in_channels, F, H, W]}, H and W multiples of the patch size
     * @param timesteps {@code [N]} or {@code [1]}: the transformer's own timesteps (MochiPipeline's {@code t})
     * @param text      {@code encoder_hidden_states [N, T, text_embed_dim]}
     * @param mask      {@code encoder_attention_mask [N, T]}, bool or integer (1 = attend), or null for all
     * @return {@code [N, out_channels, F, H, W]} float32
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor text, Tensor mask, Step step,
            ActivationProbe probe) {
        Embedded e = embed(latents, timesteps, text, mask);
        Tensor x = e.x();
        Tensor c = e.context();
        for (MochiBlock block : blocks) {
            Streams out = block.forward(x, c, e.temb(), e.mask(), e.rope(), step, probe, Map.of(), null);
            x = out.image();
            c = out.context();
        }
        return head(x, e.temb(), latents);
    }

    /**
     * The model's inputs embedded: video tokens, text tokens, conditioning vector, bool mask (null when every text
     * token is attended to), rotary table.
     */
    private record Embedded(Tensor x, Tensor context, Tensor temb, Tensor mask, MochiRope.Table rope) {
    }

    private Embedded embed(Tensor latents, Tensor timesteps, Tensor text, Tensor mask) {
        check(latents, timesteps, text, mask);
        long n = latents.size(0);
        long f = latents.size(2);
        long p = config.patchSize();
        long hp = latents.size(3) / p;
        long wp = latents.size(4) / p;
        Tensor t = timesteps.numel() == 1 ? timesteps.reshape(1).expand(n) : timesteps.reshape(n);
        Tensor m = mask == null ? torch.ones(new long[] {n, text.size(1)}, new TensorOptions(ScalarType.Bool))
                : mask.ne(new Scalar(0));
        ScalarType dtype = computeType();
        MochiTimeEmbedding.Embedded te = timeEmbed.forward(t, text.to(dtype), m, dtype);
        Tensor frames = latents.to(dtype).permute(0, 2, 1, 3, 4).reshape(n * f, latents.size(1), latents.size(3),
                latents.size(4));
        Tensor x = patchEmbed.forward(frames).reshape(n, f * hp * wp, config.innerDim());
        // one check per forward, not one host synchronisation per block: null when every text token counts
        Tensor attended = mask == null || m.all().item_bool() ? null : m;
        return new Embedded(x, te.caption(), te.temb(), attended, MochiRope.of(posFrequencies, f, hp, wp));
    }

    /** {@code norm_out}, {@code proj_out}, unpatchify to {@code [N, C, F, H, W]}. */
    private Tensor head(Tensor x, Tensor temb, Tensor latents) {
        x = projOut.forward(normOut.forward(x, temb));
        long n = latents.size(0);
        long f = latents.size(2);
        long p = config.patchSize();
        long h = latents.size(3) / p;
        long w = latents.size(4) / p;
        long c = config.outChannels();
        return x.reshape(n, f, h, w, p, p, c).permute(0, 6, 1, 2, 4, 3, 5).reshape(n, c, f, h * p, w * p)
                .to(ScalarType.Float);
    }

    /** The dtype the weights are held in and the blocks compute with (float32 unless loaded otherwise). */
    private ScalarType computeType() {
        return projOut.weight().scalar_type().intern();
    }

    private void check(Tensor latents, Tensor timesteps, Tensor text, Tensor mask) {
        long[] s = Tensors.shape(latents);
        long p = config.patchSize();
        if (!isFloat(latents) || s.length != 5 || s[0] < 1 || s[1] != config.inChannels() || s[2] < 1 || s[3] < p
                || s[4] < p || s[3] % p != 0 || s[4] % p != 0) {
            throw new IllegalArgumentException("hidden_states has " + latents.scalar_type().intern() + " shape "
                    + Arrays.toString(s) + ", expected a float [N, " + config.inChannels() + " (in_channels), F, H, W]"
                    + " with H and W positive multiples of patch_size " + p);
        }
        long n = s[0];
        long[] e = Tensors.shape(text);
        if (!isFloat(text) || e.length != 3 || e[0] != n || e[1] < 1 || e[2] != config.textEmbedDim()) {
            throw new IllegalArgumentException("encoder_hidden_states has " + text.scalar_type().intern()
                    + " shape " + Arrays.toString(e) + ", expected a float [" + n + ", tokens, "
                    + config.textEmbedDim() + " (text_embed_dim)]");
        }
        if (mask != null) {
            long[] m = Tensors.shape(mask);
            if (isFloat(mask) || m.length != 2 || m[0] != n || m[1] != e[1]) {
                throw new IllegalArgumentException("encoder_attention_mask has " + mask.scalar_type().intern()
                        + " shape " + Arrays.toString(m) + ", expected a bool or integer [" + n + ", " + e[1]
                        + "] (1 = attend)");
            }
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
     * {@code [in_channels, F, H, W]}: MochiPipeline's default video (19 frames of 480 x 848 pixels, i.e.
     * {@value MochiConfig#DEFAULT_FRAMES} x {@value MochiConfig#DEFAULT_HEIGHT} x {@value MochiConfig#DEFAULT_WIDTH}
     * latents), or the conditioning's size (height and width multiples of {@code patch_size}).
     *
     * @throws IllegalArgumentException for a conditioning other than {@link TextEmbeddings} of this model's width,
     *                                  or a size it cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        if (text.size().isEmpty()) {
            return new long[] {config.inChannels(), MochiConfig.DEFAULT_FRAMES, MochiConfig.DEFAULT_HEIGHT,
                MochiConfig.DEFAULT_WIDTH};
        }
        LatentSize size = text.size().get();
        long p = config.patchSize();
        if (size.height() % p != 0 || size.width() % p != 0) {
            throw new IllegalArgumentException(MochiConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected height and width multiples of patch_size " + p);
        }
        return new long[] {config.inChannels(), size.frames(), size.height(), size.width()};
    }

    /** Video tokens after patching: {@code F (H / p) (W / p)}. */
    @Override
    public long imageTokens(long[] latentShape) {
        long p = config.patchSize();
        return latentShape[1] * (latentShape[2] / p) * (latentShape[3] / p);
    }

    /**
     * Zero text embeddings of the same shape, with the same mask, at the same size. MochiPipeline encodes the empty
     * negative prompt instead; where the user gives negative prompt embeddings, the command line passes those as
     * the unconditional rows rather than these zeros.
     */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        return new TextEmbeddings(torch.zeros_like(text.hiddenStates()), text.mask(), text.pooled(), text.size());
    }

    /** The flow velocity {@code noise - x0} for the scheduler's timesteps (see the class comment). */
    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        TextEmbeddings text = text(batch);
        return forward(latents, modelTimesteps(timesteps), text.hiddenStates(), text.mask().orElse(null), step,
                probe).neg();
    }

    /** The transformer's clock: {@code 1000 - t} in float32, as MochiPipeline's inverted schedule gives it. */
    static Tensor modelTimesteps(Tensor schedulerTimesteps) {
        return schedulerTimesteps.to(ScalarType.Float).neg().add(new Scalar(TRAIN_STEPS));
    }

    /** MochiPipeline's sampling: linear-quadratic flow-matching sigmas, 64 steps, classifier-free guidance 4.5. */
    @Override
    public SamplingDefaults samplingDefaults() {
        return SAMPLING;
    }

    /**
     * MochiPipeline's sigmas whatever the checkpoint's scheduler config says: the linear-quadratic schedule, not
     * inverted (genmo's {@code scheduler_config.json} has {@code invert_sigmas: true}; the inversion is the
     * transformer's clock, which this Denoiser applies itself).
     */
    @Override
    public Map<String, Object> pipelineSchedulerKeys() {
        return Map.of("sigma_schedule", "linear_quadratic", "invert_sigmas", false);
    }

    /**
     * Each joint block computed, reused whole (both streams' residuals) or reused in parts per row through a
     * {@link CacheRuntime}; the output is the velocity of {@link #forward(Tensor, Tensor, Conditioning, Step,
     * ActivationProbe)}.
     */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        CacheRuntime cache = new CacheRuntime(policy, stats, blockLayout(), steps, rows);
        return new RuntimeForward(MochiConfig.CLASS_NAME, cache,
                (runtime, latents, timesteps, batch, step) -> {
                    TextEmbeddings text = text(batch);
                    Embedded e = embed(latents, modelTimesteps(timesteps), text.hiddenStates(),
                            text.mask().orElse(null));
                    Streams s = Streams.joint(e.x(), e.context());
                    for (MochiBlock block : blocks) {
                        s = runtime.block(step, block.layer(), s, block.cacheCall(e.temb(), e.mask(), e.rope(),
                                step));
                    }
                    return head(s.image(), e.temb(), latents).neg();
                });
    }

    @Override
    public List<String> inputNames() {
        return INPUT_NAMES;
    }

    /** Checks the inputs with {@link MochiInputs#check}, then runs diffusers' forward on them. */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        MochiInputs.check(inputs, config);
        Tensor x = inputs.load("hidden_states");
        return forward(x, inputs.load("timestep"), inputs.load("encoder_hidden_states"),
                inputs.load("encoder_attention_mask"), Step.conditional(0, 1, 0, (int) x.size(0)), probe);
    }

    /** The text conditioning, checked against this model's widths. */
    private TextEmbeddings text(Conditioning c) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(MochiConfig.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.textEmbedDim()) {
            throw new IllegalArgumentException("encoder_hidden_states has width " + text.width() + ", expected "
                    + config.textEmbedDim() + " (text_embed_dim of " + MochiConfig.CLASS_NAME + ")");
        }
        if (text.pooled().isPresent()) {
            throw new IllegalArgumentException(MochiConfig.CLASS_NAME + " takes no pooled_projections (it pools "
                    + "the text tokens itself); pass text embeddings and a mask only");
        }
        if (text.guidance().isPresent()) {
            throw new IllegalArgumentException(MochiConfig.CLASS_NAME + " takes no embedded guidance scale (guidance "
                    + text.guidance().getAsDouble() + "); it is guided classifier-free");
        }
        return text;
    }

    @Override
    public String toString() {
        return MochiConfig.CLASS_NAME + config;
    }
}
