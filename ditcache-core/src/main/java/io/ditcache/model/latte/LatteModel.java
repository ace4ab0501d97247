package io.ditcache.model.latte;

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
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Norms;
import io.ditcache.model.layers.RuntimeForward;
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
 * A Latte video transformer in diffusers' {@code LatteTransformer3DModel} layout, with diffusers' state-dict keys.
 * Latents are {@code [B, C, F, H, W]}. Each layer runs a spatial block (attention over one frame's patches, then
 * cross-attention to the caption) and a temporal block (attention over the frames of one patch position); they
 * are numbered in execution order, spatial {@code 2i} and temporal {@code 2i + 1}, and reported to the
 * {@link ActivationProbe} as separate layers: K, V and ATTN_OUT of the self-attention, MLP_OUT, BLOCK_OUT,
 * BLOCK_RESIDUAL, and block 0's MODULATED_INPUT, each with one row per sample ({@code [B, F*N, D]} spatial,
 * {@code [B, N*F, D]} temporal: diffusers' {@code [B*F, N, D]} and {@code [B*N, F, D]} in the same memory).
 *
 * <p>As diffusers: the caption is projected once and repeated per frame; all blocks share {@code adaln_single}'s
 * modulation; {@code temp_pos_embed} is added once, before the first temporal block, when F &gt; 1 (and then F
 * must equal {@code video_length}); the final modulation's chunks are (shift, scale). As a {@link Denoiser} it
 * predicts the noise: the learned-sigma channels are dropped (LattePipeline keeps channels {@code [:in_channels]}),
 * while the {@link DiffusersForward} forward keeps them. An {@code encoder_attention_mask} (1 = attend) becomes an
 * additive bias of -10000 on the dropped caption tokens of every frame, as PixArt's; diffusers' Latte forward passes
 * the mask to the attention unconverted and LattePipeline never passes one.
 *
 * <p>Not thread-safe; one forward at a time. Callers own the native memory of inputs and outputs (wrap calls in a
 * {@code PointerScope}).
 */
public final class LatteModel extends Module implements Denoiser, DiffusersForward {
    /**
     * diffusers' {@code LattePipeline} defaults with Latte-1's scheduler (DDIM, linear betas 1e-4 to 0.02 over 1000
     * training steps, epsilon, no sample clipping): 50 steps, guidance 7.5, classifier-free. The pipeline keeps the
     * learned-sigma channels only for a scheduler whose config has a learned {@code variance_type}; DDIMScheduler
     * registers no {@code variance_type} (a hub config's is dropped as unused), so the channels are dropped, as the
     * {@link Denoiser} forward does.
     */
    public static final SamplingDefaults SAMPLING_DEFAULTS = new SamplingDefaults("DDIMScheduler",
            schedulerConfig(), 50, 7.5, SamplingDefaults.Guidance.CLASSIFIER_FREE);
    /** The diffusers forward's names: {@code hidden_states}, {@code encoder_hidden_states}, {@code timestep}. */
    public static final List<String> INPUTS = List.of("hidden_states", "encoder_hidden_states", "timestep");
    /** Taken when present: {@code encoder_attention_mask} ({@code [B, L]}, 1 = attend). */
    public static final List<String> OPTIONAL_INPUTS = List.of("encoder_attention_mask");
    private static final double NORM_OUT_EPS = 1e-6;
    private static final double MASK_BIAS = -10000.0;

    private final LatteConfig config;
    private final SinCosPatchEmbed patchEmbed;
    private final List<LatteBlock> spatial = new ArrayList<>();
    private final List<LatteBlock> temporal = new ArrayList<>();
    private final LinearImpl projOut;
    private final AdaLayerNormSingle adaln;
    private final TextProjection captionProjection;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module spatialList;
    private final Module temporalList;
    private final Tensor scaleShiftTable;
    private final Tensor tempPosEmbed;
    private final DenoiserInfo info;
    private LatteBlock.CrossAttentionObserver crossObserver;

    /** A model with all parameters zero; {@link LatteFamily#load} loads a checkpoint's weights into it. */
    public LatteModel(LatteConfig config) {
        this.config = config;
        int d = config.innerDim();
        register_parameter("scale_shift_table", torch.zeros(2, d));
        patchEmbed = register_module("pos_embed", new SinCosPatchEmbed(config.innerDim(), config.inChannels(), config.patchSize(),
                config.gridSize(), config.interpolationScale()));
        spatialList = register_module("transformer_blocks", new Module());
        temporalList = register_module("temporal_transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            spatial.add(spatialList.register_module(Integer.toString(i), new LatteBlock(config, 2 * i, true)));
        }
        for (int i = 0; i < config.numLayers(); i++) {
            temporal.add(temporalList.register_module(Integer.toString(i), new LatteBlock(config, 2 * i + 1,
                    false)));
        }
        long p = config.patchSize();
        projOut = register_module("proj_out", Linears.of(d, p * p * config.outChannels(), true));
        adaln = register_module("adaln_single", new AdaLayerNormSingle(config.innerDim(), false, 0));
        captionProjection = register_module("caption_projection",
                new TextProjection(config.captionChannels(), d, d, "gelu_tanh"));
        // a handle of our own, sharing storage: register_parameter's reference moves as the table grows
        scaleShiftTable = new Tensor(named_parameters(false).get(0).value());
        tempPosEmbed = LatteTemporalPositions.table(d, config.videoLength());
        tempPosEmbed.retainReference();
        eval();
        info = new DenoiserInfo(LatteConfig.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.EPSILON, config.learnedSigma(), config.inChannels(), 0);
    }

    private static Map<String, Object> schedulerConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", 1000);
        m.put("beta_start", 0.0001);
        m.put("beta_end", 0.02);
        m.put("beta_schedule", "linear");
        m.put("prediction_type", "epsilon");
        m.put("clip_sample", false);
        m.put("set_alpha_to_one", true);
        m.put("steps_offset", 0);
        m.put("timestep_spacing", "leading");
        return m;
    }

    /** The configuration the model was built from. */
    public LatteConfig config() {
        return config;
    }

    @Override
    public DenoiserInfo info() {
        return info;
    }

    /** Blocks in execution order: twice {@code num_layers}. */
    @Override
    public int layers() {
        return config.blocks();
    }

    /** The blocks as a cache sees them ({@link LatteConfig#blockLayout()}). */
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

    /** The temporal position table {@code [1, video_length, D]}. */
    Tensor temporalPositions() {
        return tempPosEmbed;
    }

    /** Receives every spatial block's cross-attention q, k, v and output from now on (null: none); for tests. */
    void observeCrossAttention(LatteBlock.CrossAttentionObserver observer) {
        this.crossObserver = observer;
    }

    /**
     * diffusers' forward: the raw output, learned-sigma channels included.
     *
     * @param latents   {@code [B, in_channels, F, H, W]}, a float dtype, H and W multiples of the patch size, F 1 or
     *                  {@code video_length}
     * @param timesteps {@code [B]} or {@code [1]} (broadcast), any numeric dtype
     * @param text      {@code encoder_hidden_states [B, L, caption_channels]}, a float dtype
     * @param mask      {@code encoder_attention_mask [B, L]} (1 = attend), or null
     * @param step      the call (for the probe)
     * @param probe     receives the activations
     * @return {@code [B, out_channels, F, H, W]} float32
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor text, Tensor mask, Step step,
            ActivationProbe probe) {
        return forward(latents, timesteps, text, mask, (block, x, c) -> block.forward(x, c.groups(block), c.t6(),
                block.spatial() ? c.text() : null, block.spatial() ? c.bias() : null, step, probe, crossObserver,
                null, null, null, null));
    }

    /** What every block of one call takes beside its input, per sample. */
    private record BlockInputs(Tensor t6, Tensor text, Tensor bias, long frames, long patches) {
        /** Groups of a block's rows: frames for a spatial block, patch positions for a temporal one. */
        long groups(LatteBlock block) {
            return block.spatial() ? frames : patches;
        }
    }

    /** How one block runs on one sample-per-row hidden state. */
    private interface BlockRun {
        Tensor run(LatteBlock block, Tensor x, BlockInputs inputs);
    }

    private Tensor forward(Tensor latents, Tensor timesteps, Tensor text, Tensor mask, BlockRun run) {
        checkInputs(latents, timesteps, text, mask);
        long b = latents.size(0);
        long c = latents.size(1);
        long f = latents.size(2);
        long p = config.patchSize();
        long hp = latents.size(3) / p;
        long wp = latents.size(4) / p;
        long n = hp * wp;
        long d = config.innerDim();
        Tensor t = timesteps.numel() == 1 ? timesteps.reshape(1).expand(b) : timesteps.reshape(b);
        ScalarType dtype = computeType();
        Tensor frames = latents.to(dtype).permute(0, 2, 1, 3, 4).reshape(b * f, c, latents.size(3),
                latents.size(4));
        // [B*F, N, D] in diffusers; one sample per row here: [B, F*N, D]
        Tensor x = patchEmbed.forward(frames).reshape(b, f * n, d);
        AdaLayerNormSingle.Conditioning cond = adaln.forward(t, null, null);
        Tensor caption = captionProjection.forward(text.to(dtype)).view(b, -1, d);
        Tensor bias = mask == null ? null
                : mask.to(dtype).neg().add(new Scalar(1.0)).mul(new Scalar(MASK_BIAS)).view(b, 1, 1, -1);
        BlockInputs inputs = new BlockInputs(cond.t6(), caption, bias, f, n);
        for (int i = 0; i < config.numLayers(); i++) {
            x = run.run(spatial.get(i), x, inputs);
            // (frame, patch) -> (patch, frame)
            x = x.reshape(b, f, n, d).permute(0, 2, 1, 3).reshape(b, n * f, d);
            if (i == 0 && f > 1) {
                x = x.reshape(b, n, f, d).add(tempPosEmbed.to(x.scalar_type().intern())).reshape(b, n * f, d);
            }
            x = run.run(temporal.get(i), x, inputs);
            x = x.reshape(b, n, f, d).permute(0, 2, 1, 3).reshape(b, f * n, d);
        }
        return head(x.reshape(b * f, n, d), cond.embedded(), b, f, hp, wp);
    }

    /**
     * The final layer: norm, modulation by the embedded timestep and {@code scale_shift_table} (chunks shift,
     * scale), projection, unpatchify per frame and back to {@code [B, C, F, H, W]}.
     */
    private Tensor head(Tensor x, Tensor embedded, long b, long f, long h, long w) {
        long d = config.innerDim();
        Tensor perFrame = embedded.unsqueeze(1).expand(b, f, d).reshape(b * f, d);
        TensorVector shiftScale = scaleShiftTable.unsqueeze(0).add(perFrame.unsqueeze(1)).chunk(2, 1);
        x = Norms.modulate(Norms.layerNorm(x, NORM_OUT_EPS), shiftScale.get(0), shiftScale.get(1));
        x = projOut.forward(x);
        long p = config.patchSize();
        long c = config.outChannels();
        // unpatchify: einsum("nhwpqc->nchpwq"), then [B, F, C, H, W] -> [B, C, F, H, W]
        return x.reshape(b, f, h, w, p, p, c).permute(0, 6, 1, 2, 4, 3, 5).reshape(b, c, f, h * p, w * p)
                .to(ScalarType.Float);
    }

    /** Checks the forward's tensors against the configuration, naming the tensor, its shape and what was expected. */
    private void checkInputs(Tensor latents, Tensor timesteps, Tensor text, Tensor mask) {
        long p = config.patchSize();
        long[] s = Tensors.shape(latents);
        if (s.length != 5 || s[0] < 1 || s[1] != config.inChannels() || s[2] < 1 || s[3] < p || s[4] < p
                || s[3] % p != 0 || s[4] % p != 0 || !Tensors.isFloat(latents)) {
            throw new IllegalArgumentException("hidden_states has shape " + Tensors.shapeString(latents)
                    + ", expected a float [B, " + config.inChannels() + " (in_channels), F, H, W] with H and W "
                    + "positive multiples of patch_size " + p);
        }
        checkFrames(s[2]);
        long b = s[0];
        long[] e = Tensors.shape(text);
        if (e.length != 3 || e[0] != b || e[1] < 1 || e[2] != config.captionChannels() || !Tensors.isFloat(text)) {
            throw new IllegalArgumentException("encoder_hidden_states has shape " + Tensors.shapeString(text)
                    + ", expected a float [" + b + ", tokens, " + config.captionChannels()
                    + "] (one caption per sample, caption_channels " + config.captionChannels() + ")");
        }
        if (timesteps.dim() > 1 || (timesteps.numel() != 1 && timesteps.numel() != b)) {
            throw new IllegalArgumentException("timestep has shape " + Tensors.shapeString(timesteps)
                    + ", expected [] or [1] (one for the batch) or [" + b + "] (one per sample)");
        }
        if (mask != null && (mask.dim() != 2 || mask.size(0) != b || mask.size(1) != e[1])) {
            throw new IllegalArgumentException("encoder_attention_mask has shape " + Tensors.shapeString(mask)
                    + ", expected [" + b + ", " + e[1] + "] (one flag per caption token, 1 = attend)");
        }
    }

    /** One frame, or exactly {@code video_length}: the temporal position table is that long. */
    private void checkFrames(long frames) {
        if (frames != 1 && frames != config.videoLength()) {
            throw new IllegalArgumentException(LatteConfig.CLASS_NAME + " takes 1 or video_length "
                    + config.videoLength() + " latent frames, got " + frames
                    + " (temp_pos_embed is video_length frames long)");
        }
    }

    /**
     * {@code [in_channels, F, H, W]}: {@code video_length} frames of {@code sample_size} square, or the
     * conditioning's size (F 1 or {@code video_length}, sides positive multiples of {@code patch_size}).
     *
     * @throws IllegalArgumentException for a conditioning other than {@link TextEmbeddings}, embeddings of the
     *                                  wrong width, or a size the model cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        if (text.size().isEmpty()) {
            return new long[] {config.inChannels(), config.videoLength(), config.sampleSize(), config.sampleSize()};
        }
        LatentSize size = text.size().get();
        long p = config.patchSize();
        if (size.height() % p != 0 || size.width() % p != 0) {
            throw new IllegalArgumentException(LatteConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected height and width multiples of patch_size " + p);
        }
        if (size.frames() != 1 && size.frames() != config.videoLength()) {
            throw new IllegalArgumentException(LatteConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected 1 frame or video_length " + config.videoLength()
                    + " (temp_pos_embed is video_length frames long)");
        }
        long tokens = (size.height() / p) * (size.width() / p);
        if (tokens > LatteConfig.MAX_ARRAY / config.innerDim()) {
            throw new IllegalArgumentException(LatteConfig.CLASS_NAME + " cannot make latent size " + size + ": "
                    + tokens + " tokens x inner dim " + config.innerDim() + " is a position table larger than "
                    + LatteConfig.MAX_ARRAY + " floats");
        }
        return new long[] {config.inChannels(), size.frames(), size.height(), size.width()};
    }

    /**
     * Zero embeddings of the same shape, with the same mask and size. Latte's unconditional branch is really the
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

    /** The patch tokens of one sample over all frames: {@code F * (H / patch_size) * (W / patch_size)}. */
    @Override
    public long imageTokens(long[] latentShape) {
        long p = config.patchSize();
        return latentShape[1] * (latentShape[2] / p) * (latentShape[3] / p);
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        TextEmbeddings text = rows(batch, latents);
        return prediction(forward(latents, timesteps, text.hiddenStates(), text.mask().orElse(null), step, probe));
    }

    /** Each block computed, reused whole or reused in parts per row, through a {@link CacheRuntime}. */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        return new RuntimeForward(LatteConfig.CLASS_NAME, new CacheRuntime(policy, stats, blockLayout(), steps, rows),
                (runtime, latents, timesteps, batch, step) -> {
                    TextEmbeddings text = rows(batch, latents);
                    return prediction(LatteModel.this.forward(latents, timesteps, text.hiddenStates(),
                            text.mask().orElse(null), (block, x, c) -> runtime.block(step, block.layer(),
                                    Streams.of(x), block.cacheCall(c.t6(), block.spatial() ? c.text() : null,
                                            block.spatial() ? c.bias() : null, c.groups(block))).image()));
                });
    }

    /** {@link #INPUTS}: {@code hidden_states}, {@code encoder_hidden_states}, {@code timestep}. */
    @Override
    public List<String> inputNames() {
        return INPUTS;
    }

    /** {@link #OPTIONAL_INPUTS}: {@code encoder_attention_mask}. */
    @Override
    public List<String> optionalInputNames() {
        return OPTIONAL_INPUTS;
    }

    /**
     * Checks the inputs (present, float where they must be, shapes against the configuration), then runs diffusers'
     * forward on them ({@code enable_temporal_attentions} always true).
     */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        String file = inputs.source() + ": ";
        for (String name : INPUTS) {
            if (!inputs.contains(name)) {
                throw new IllegalArgumentException(file + "no tensor '" + name + "', expected " + INPUTS
                        + " (and optionally " + OPTIONAL_INPUTS + ")");
            }
        }
        Tensor x = inputs.load("hidden_states");
        Tensor mask = inputs.contains("encoder_attention_mask") ? inputs.load("encoder_attention_mask") : null;
        Step step = Step.conditional(0, 1, 0, (int) Math.max(1, x.dim() > 0 ? x.size(0) : 1));
        try {
            return forward(x, inputs.load("timestep"), inputs.load("encoder_hidden_states"), mask, step, probe);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + e.getMessage(), e);
        }
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
            throw new IllegalArgumentException(LatteConfig.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.captionChannels()) {
            throw new IllegalArgumentException("encoder_hidden_states has width " + text.width() + ", but "
                    + LatteConfig.CLASS_NAME + " takes caption_channels " + config.captionChannels()
                    + " (the text encoder's width)");
        }
        return text;
    }

    @Override
    public String toString() {
        return LatteConfig.CLASS_NAME + "[layers " + config.numLayers() + " spatial + " + config.numLayers()
                + " temporal, inner dim " + config.innerDim() + "]";
    }
}
