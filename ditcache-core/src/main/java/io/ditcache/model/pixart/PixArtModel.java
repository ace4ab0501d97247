package io.ditcache.model.pixart;

import io.ditcache.model.layers.AdaLayerNormSingle;
import io.ditcache.model.layers.SinCosPatchEmbed;
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
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.TextProjection;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A PixArt-α transformer in diffusers' {@code PixArtTransformer2DModel} layout, with diffusers' state-dict keys.
 * It calls the {@link ActivationProbe} at every block: K, V and ATTN_OUT of the self-attention, MLP_OUT,
 * BLOCK_OUT, BLOCK_RESIDUAL, and block 0's MODULATED_INPUT. The cross-attention's keys and values come from the
 * caption, which does not change while sampling, and are not reported.
 *
 * <p>As a {@link Denoiser} it is conditioned on {@link TextEmbeddings}: {@code encoder_hidden_states} of width
 * {@code caption_channels} (T5-XXL's 4096 for PixArt-XL-2) with an optional {@code encoder_attention_mask}
 * (1 = attend), which diffusers turns into an additive bias of -10000 on the dropped tokens. It predicts the
 * noise; learned-sigma channels are dropped by {@link #forward(Tensor, Tensor, Conditioning, Step,
 * ActivationProbe)} and kept by the {@link DiffusersForward} forward. With {@code use_additional_conditions}
 * (PixArt-XL-2-1024-MS) the resolution and aspect ratio of the image, {@value #VAE_SCALE_FACTOR} pixels per latent
 * element as PixArt's VAE makes them, are embedded with the timestep, as diffusers' pipeline passes them.
 *
 * <p>Loaded in bfloat16 or float16 ({@link io.ditcache.model.ComputeType}) it holds its weights in and computes
 * with that dtype, converting its inputs at entry (as diffusers does to {@code hidden_states.dtype}); its outputs
 * are float32 whatever the compute type.
 *
 * <p>Not thread-safe; one forward at a time. Callers own the native memory of inputs and outputs (wrap calls in a
 * {@code PointerScope}).
 */
public final class PixArtModel extends Module implements Denoiser, DiffusersForward {
    /** Pixels per latent element of PixArt's VAE (diffusers' {@code vae_scale_factor}). */
    public static final int VAE_SCALE_FACTOR = 8;
    /**
     * diffusers' {@code PixArtAlphaPipeline} with PixArt-XL-2-1024-MS's scheduler: DPM-Solver++ (order 2, linear
     * betas 1e-4 to 0.02 over 1000 training steps, epsilon), 20 steps, guidance 4.5.
     */
    public static final SamplingDefaults SAMPLING_DEFAULTS = new SamplingDefaults("DPMSolverMultistepScheduler",
            schedulerConfig(), 20, 4.5, SamplingDefaults.Guidance.CLASSIFIER_FREE);
    private static final double NORM_OUT_EPS = 1e-6;
    private static final double MASK_BIAS = -10000.0;

    private final PixArtConfig config;
    private final SinCosPatchEmbed patchEmbed;
    private final List<PixArtBlock> blocks = new ArrayList<>();
    private final LinearImpl projOut;
    private final AdaLayerNormSingle adaln;
    private final TextProjection captionProjection;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module blockList;
    private final Tensor scaleShiftTable;
    private final DenoiserInfo info;
    private PixArtBlock.CrossAttentionObserver crossObserver;

    /** A model with all parameters zero; {@link PixArtFamily#load} loads a checkpoint's weights into it. */
    public PixArtModel(PixArtConfig config) {
        this.config = config;
        int d = config.innerDim();
        register_parameter("scale_shift_table", torch.zeros(2, d));
        patchEmbed = register_module("pos_embed", new SinCosPatchEmbed(config.innerDim(), config.inChannels(), config.patchSize(),
                config.gridSize(), config.interpolationScale()));
        blockList = register_module("transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(blockList.register_module(Integer.toString(i), new PixArtBlock(config, i)));
        }
        long p = config.patchSize();
        projOut = register_module("proj_out", Linears.of(d, p * p * config.outChannels(), true));
        adaln = register_module("adaln_single", new AdaLayerNormSingle(config.innerDim(), config.useAdditionalConditions(),
                config.sizeEmbeddingDim()));
        captionProjection = register_module("caption_projection",
                new TextProjection(config.captionChannels(), d, d, "gelu_tanh"));
        // a handle of our own, sharing storage: register_parameter's reference moves as the table grows
        scaleShiftTable = new Tensor(named_parameters(false).get(0).value());
        eval();
        info = new DenoiserInfo(PixArtConfig.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.EPSILON, config.learnedSigma(), config.inChannels(), 0);
    }

    private static Map<String, Object> schedulerConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", 1000);
        m.put("beta_start", 0.0001);
        m.put("beta_end", 0.02);
        m.put("beta_schedule", "linear");
        m.put("prediction_type", "epsilon");
        m.put("algorithm_type", "dpmsolver++");
        m.put("solver_order", 2);
        return m;
    }

    /** The configuration the model was built from. */
    public PixArtConfig config() {
        return config;
    }

    @Override
    public DenoiserInfo info() {
        return info;
    }

    @Override
    public int layers() {
        return blocks.size();
    }

    /** The blocks as a cache sees them ({@link PixArtConfig#blockLayout()}). */
    public BlockLayout blockLayout() {
        return config.blockLayout();
    }

    /** Parameter names (diffusers keys) with their shapes, in registration order. */
    public Map<String, long[]> parameterShapes() {
        return Weights.parameterShapes(this);
    }

    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.stateDict(this);
    }

    /** The dtype the weights are held in and the blocks compute with (float32 unless loaded otherwise). */
    ScalarType computeType() {
        return patchEmbed.weightType();
    }

    SinCosPatchEmbed patchEmbed() {
        return patchEmbed;
    }

    AdaLayerNormSingle adaln() {
        return adaln;
    }

    TextProjection captionProjection() {
        return captionProjection;
    }

    /** Receives every block's cross-attention q, k, v and output from now on (null: none); for tests. */
    void observeCrossAttention(PixArtBlock.CrossAttentionObserver observer) {
        this.crossObserver = observer;
    }

    /**
     * diffusers' forward: the raw output, learned-sigma channels included.
     *
     * @param latents   {@code [N, in_channels, H, W]}, a float dtype, H and W multiples of the patch size
     * @param timesteps {@code [N]} or {@code [1]} (broadcast), any numeric dtype
     * @param text      {@code encoder_hidden_states [N, L, caption_channels]}, a float dtype
     * @param mask      {@code encoder_attention_mask [N, L]} (1 = attend), or null
     * @param step      the call (for the probe)
     * @param probe     receives the activations
     * @return {@code [N, out_channels, H, W]} float32
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor text, Tensor mask, Step step,
            ActivationProbe probe) {
        return forward(latents, timesteps, text, mask, null, null, (x, c) -> {
            for (PixArtBlock block : blocks) {
                x = block.forward(x, c.t6(), c.text(), c.bias(), step, probe, crossObserver, null, null, null, null);
            }
            return x;
        });
    }

    /** What every block of one call takes beside its input: per row, the modulation, caption and its bias. */
    private record BlockInputs(Tensor t6, Tensor text, Tensor bias) {
    }

    /** How the blocks run: from the first hidden state to the last. */
    private interface Blocks {
        Tensor run(Tensor x, BlockInputs inputs);
    }

    /**
     * @param resolution  {@code [N, 2]} pixel height and width, or null for the latents' own (additional
     *                    conditions only)
     * @param aspectRatio {@code [N, 1]} height / width, or null for the latents' own
     */
    private Tensor forward(Tensor latents, Tensor timesteps, Tensor text, Tensor mask, Tensor resolution,
            Tensor aspectRatio, Blocks run) {
        PixArtInputs.check(config, latents, timesteps, text, mask);
        long n = latents.size(0);
        long h = latents.size(2);
        long w = latents.size(3);
        Tensor t = timesteps.numel() == 1 ? timesteps.reshape(1).expand(n) : timesteps.reshape(n);
        ScalarType dtype = computeType();
        Tensor x = patchEmbed.forward(latents.to(dtype));
        AdaLayerNormSingle.Conditioning c = adaln.additionalConditions()
                ? adaln.forward(t, resolution(resolution, n, h, w), aspectRatio(aspectRatio, n, h, w))
                : adaln.forward(t, null, null);
        Tensor caption = captionProjection.forward(text.to(dtype)).view(n, -1, config.innerDim());
        Tensor bias = mask == null ? null
                : mask.to(dtype).neg().add(new Scalar(1.0)).mul(new Scalar(MASK_BIAS)).view(n, 1, 1, -1);
        x = run.run(x, new BlockInputs(c.t6(), caption, bias));
        return head(x, c.embedded(), n, h / config.patchSize(), w / config.patchSize());
    }

    /** {@code [N, 2]}: the given resolution, or the latents' pixel height and width as diffusers' pipeline. */
    private static Tensor resolution(Tensor given, long n, long h, long w) {
        if (given != null) {
            return given.to(ScalarType.Float).reshape(n, 2);
        }
        float[] pixels = {(float) (h * VAE_SCALE_FACTOR), (float) (w * VAE_SCALE_FACTOR)};
        return Tensors.fromFloats(pixels, 1, 2).expand(n, 2);
    }

    /** {@code [N, 1]}: the given aspect ratio, or the latents' height / width as diffusers' pipeline. */
    private static Tensor aspectRatio(Tensor given, long n, long h, long w) {
        if (given != null) {
            return given.to(ScalarType.Float).reshape(n, 1);
        }
        return Tensors.fromFloats(new float[] {(float) ((double) h / w)}, 1, 1).expand(n, 1);
    }

    /** The final layer: norm, modulation by the embedded timestep and {@code scale_shift_table}, projection and
     * unpatchify. */
    private Tensor head(Tensor x, Tensor embedded, long n, long h, long w) {
        TensorVector shiftScale = scaleShiftTable.unsqueeze(0).add(embedded.unsqueeze(1)).chunk(2, 1);
        x = Norms.modulate(Norms.layerNorm(x, NORM_OUT_EPS), shiftScale.get(0), shiftScale.get(1));
        x = projOut.forward(x);
        long p = config.patchSize();
        long c = config.outChannels();
        // unpatchify: einsum("nhwpqc->nchpwq")
        return x.reshape(n, h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, h * p, w * p)
                .to(ScalarType.Float);
    }

    /**
     * {@code [in_channels, H, W]}: {@code sample_size} square, or the conditioning's size (one frame, sides
     * positive multiples of {@code patch_size}).
     *
     * @throws IllegalArgumentException for a conditioning other than {@link TextEmbeddings}, embeddings of the
     *                                  wrong width, or a size the model cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        if (text.size().isEmpty()) {
            return new long[] {config.inChannels(), config.sampleSize(), config.sampleSize()};
        }
        LatentSize size = text.size().get();
        long p = config.patchSize();
        if (!size.isImage() || size.height() % p != 0 || size.width() % p != 0) {
            throw new IllegalArgumentException(PixArtConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected 1 frame with height and width multiples of patch_size " + p);
        }
        long tokens = (size.height() / p) * (size.width() / p);
        if (tokens > PixArtConfig.MAX_ARRAY / config.innerDim()) {
            throw new IllegalArgumentException(PixArtConfig.CLASS_NAME + " cannot make latent size " + size + ": "
                    + tokens + " tokens x inner dim " + config.innerDim() + " is a position table larger than "
                    + PixArtConfig.MAX_ARRAY + " floats");
        }
        return new long[] {config.inChannels(), size.height(), size.width()};
    }

    /**
     * Zero embeddings of the same shape, with the same mask and size. PixArt's unconditional branch is really the
     * empty prompt's T5 embeddings, which cannot be made without the text encoder: a caller who has them passes
     * them as the negative prompt's embeddings instead.
     */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        return new TextEmbeddings(torch.zeros_like(text.hiddenStates()), text.mask(), Optional.empty(),
                text.size());
    }

    @Override
    public SamplingDefaults samplingDefaults() {
        return SAMPLING_DEFAULTS;
    }

    /** The patch tokens of one sample: {@code (H / patch_size) * (W / patch_size)}. */
    @Override
    public long imageTokens(long[] latentShape) {
        long p = config.patchSize();
        return (latentShape[1] / p) * (latentShape[2] / p);
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        TextEmbeddings text = rows(batch, latents);
        return prediction(forward(latents, timesteps, text.hiddenStates(), text.mask().orElse(null), step, probe));
    }

    /** Each block computed, reused whole or reused in parts per row, through a {@link CacheRuntime}. */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        return new RuntimeForward(PixArtConfig.CLASS_NAME, new CacheRuntime(policy, stats, blockLayout(), steps, rows),
                (runtime, latents, timesteps, batch, step) -> {
                    TextEmbeddings text = rows(batch, latents);
                    return prediction(PixArtModel.this.forward(latents, timesteps, text.hiddenStates(),
                            text.mask().orElse(null), null, null, (x, c) -> {
                                for (PixArtBlock block : blocks) {
                                    x = runtime.block(step, block.layer(), Streams.of(x),
                                            block.cacheCall(c.t6(), c.text(), c.bias())).image();
                                }
                                return x;
                            }));
                });
    }

    /** {@link PixArtInputs#NAMES}: {@code hidden_states}, {@code encoder_hidden_states}, {@code timestep}. */
    @Override
    public List<String> inputNames() {
        return PixArtInputs.NAMES;
    }

    /**
     * The inputs this forward also takes when present ({@link PixArtInputs#OPTIONAL}): {@code
     * encoder_attention_mask}, and with additional conditions {@code resolution} and {@code aspect_ratio} (the
     * keys of diffusers' {@code added_cond_kwargs}; without them the latents' own size, as the pipeline passes).
     */
    @Override
    public List<String> optionalInputNames() {
        return PixArtInputs.OPTIONAL;
    }

    /** Checks the inputs ({@link PixArtInputs#check}), then runs diffusers' forward on them. */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        PixArtInputs.check(inputs, config, modelDir);
        Tensor x = inputs.load("hidden_states");
        Tensor mask = inputs.contains("encoder_attention_mask") ? inputs.load("encoder_attention_mask") : null;
        Tensor res = inputs.contains("resolution") ? inputs.load("resolution") : null;
        Tensor ar = inputs.contains("aspect_ratio") ? inputs.load("aspect_ratio") : null;
        Step step = Step.conditional(0, 1, 0, (int) x.size(0));
        return forward(x, inputs.load("timestep"), inputs.load("encoder_hidden_states"), mask, res, ar, (h, c) -> {
            for (PixArtBlock block : blocks) {
                h = block.forward(h, c.t6(), c.text(), c.bias(), step, probe, crossObserver, null, null, null, null);
            }
            return h;
        });
    }

    /** The noise prediction: the first {@code in_channels} of a learned-sigma output. */
    private Tensor prediction(Tensor out) {
        return config.learnedSigma() ? out.narrow(1, 0, config.inChannels()) : out;
    }

    /** {@code batch} as text embeddings with one row per latent. */
    private TextEmbeddings rows(Conditioning batch, Tensor latents) {
        TextEmbeddings text = text(batch);
        if (latents.dim() > 0 && text.rows() != latents.size(0)) {
            throw new IllegalArgumentException("encoder_hidden_states has " + text.rows() + " rows, hidden_states "
                    + latents.size(0) + "; expected one prompt per latent");
        }
        return text;
    }

    private TextEmbeddings text(Conditioning c) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(PixArtConfig.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.captionChannels()) {
            throw new IllegalArgumentException("encoder_hidden_states has width " + text.width() + ", but "
                    + PixArtConfig.CLASS_NAME + " takes caption_channels " + config.captionChannels()
                    + " (the text encoder's width)");
        }
        return text;
    }

    @Override
    public String toString() {
        return PixArtConfig.CLASS_NAME + "[layers " + config.numLayers() + ", inner dim " + config.innerDim() + "]";
    }
}
