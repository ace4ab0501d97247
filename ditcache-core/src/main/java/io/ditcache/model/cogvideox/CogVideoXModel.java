package io.ditcache.model.cogvideox;

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
import io.ditcache.model.layers.PatchProjection;
import io.ditcache.model.layers.RuntimeForward;
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
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * CogVideoX (1.0 and 1.5) in diffusers' {@code CogVideoXTransformer3DModel} layout, with diffusers' state-dict
 * keys: patch embedding ({@code patch_embed.proj}: a convolution per frame, or in 1.5 a Linear over
 * {@code (c, pt, ph, pw)} temporal patches) and text projection ({@code patch_embed.text_proj}), the 3-D sin-cos
 * table added to the video tokens when the model has no RoPE, the timestep embedding, the blocks
 * ({@link CogVideoXBlock}: one attention over {@code [text; video]}), {@code norm_final} then {@code norm_out}
 * (shift, scale), {@code proj_out} (channels {@code (c, [pt,] ph, pw)}) and unpatchify.
 *
 * <p>Latents are {@code [N, F, C, H, W]} (frames before channels, as diffusers takes them); the text must have
 * {@code max_text_seq_length} tokens. With {@code use_rotary_positional_embeddings} the RoPE tables are the
 * pipeline's ({@link CogVideoXPositions#rope}) unless given. As a {@link Denoiser} it predicts v. Not
 * thread-safe; callers own the native memory of inputs and outputs (wrap calls in a {@code PointerScope}).
 */
public final class CogVideoXModel extends Module implements Denoiser, DiffusersForward {
    /** The inputs of {@link #forward(SafetensorsFile, Path, ActivationProbe)}, in diffusers' names. */
    public static final List<String> INPUT_NAMES = List.of("hidden_states", "encoder_hidden_states", "timestep");
    /** The optional RoPE tables, as the pipeline passes {@code image_rotary_emb = (cos, sin)}. */
    public static final List<String> OPTIONAL_INPUT_NAMES = List.of("image_rotary_emb.cos", "image_rotary_emb.sin");
    /**
     * CogVideoX-5b's {@code scheduler_config.json} values: as CogVideoX-2b's (scaled_linear 0.00085..0.012,
     * v_prediction, zero-terminal-SNR rescale, trailing, no clipping) but {@code snr_shift_scale} 1.0 (2b: 3.0).
     */
    public static final Map<String, Object> SCHEDULER_CONFIG = schedulerConfig();
    /** diffusers' {@code CogVideoXPipeline}: CogVideoXDDIMScheduler, 50 steps, classifier-free guidance 6. */
    public static final SamplingDefaults SAMPLING = new SamplingDefaults("CogVideoXDDIMScheduler", SCHEDULER_CONFIG,
            50, 6.0, SamplingDefaults.Guidance.CLASSIFIER_FREE);
    private final CogVideoXConfig config;
    private final PatchProjection patchConv;
    private final LinearImpl patchLinear;
    private final LinearImpl textProj;
    private final TimestepEmbedding timeEmbedding;
    private final List<CogVideoXBlock> blocks = new ArrayList<>();
    private final AffineLayerNorm normFinal;
    private final CogVideoXNormOut normOut;
    private final LinearImpl projOut;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module patchEmbed;
    private final Module blockList;
    private final DenoiserInfo info;

    /** A model with zero (and unit-norm) parameters; load weights with {@link CogVideoXFamily#load}. */
    public CogVideoXModel(CogVideoXConfig config) {
        this.config = config;
        long d = config.innerDim();
        patchEmbed = register_module("patch_embed", new Module());
        if (config.temporalPatches()) {
            patchConv = null;
            patchLinear = patchEmbed.register_module("proj", Linears.of(config.patchFeatures(), d, true));
        } else {
            patchConv = patchEmbed.register_module("proj", new PatchProjection(d, config.inChannels(),
                    config.patchSize()));
            patchLinear = null;
        }
        textProj = patchEmbed.register_module("text_proj", Linears.of(config.textEmbedDim(), d, true));
        timeEmbedding = register_module("time_embedding", new TimestepEmbedding(d, config.timeEmbedDim()));
        blockList = register_module("transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(blockList.register_module(Integer.toString(i), new CogVideoXBlock(config, i)));
        }
        normFinal = register_module("norm_final", new AffineLayerNorm(d, config.normEps()));
        normOut = register_module("norm_out", new CogVideoXNormOut(config.timeEmbedDim(), d, config.normEps()));
        projOut = register_module("proj_out", Linears.of(d, config.projOutFeatures(), true));
        eval();
        info = new DenoiserInfo(CogVideoXConfig.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.V_PREDICTION, false, config.inChannels(), 0);
    }

    private static Map<String, Object> schedulerConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", 1000);
        m.put("beta_start", 0.00085);
        m.put("beta_end", 0.012);
        m.put("beta_schedule", "scaled_linear");
        m.put("clip_sample", false);
        m.put("set_alpha_to_one", true);
        m.put("steps_offset", 0);
        m.put("prediction_type", "v_prediction");
        m.put("timestep_spacing", "trailing");
        m.put("rescale_betas_zero_snr", true);
        m.put("snr_shift_scale", 1.0);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The configuration the model was built from. */
    public CogVideoXConfig config() {
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

    /** Block {@code layer}, in execution order. */
    CogVideoXBlock block(int layer) {
        return blocks.get(layer);
    }

    /** The blocks as a cache sees them ({@link CogVideoXConfig#blockLayout()}). */
    public BlockLayout blockLayout() {
        return config.blockLayout();
    }

    /** The parameters by diffusers key (the model's own tensors). */
    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.stateDict(this);
    }

    /**
     * diffusers' forward.
     *
     * @param latents       {@code hidden_states [N, F, C, H, W]}
     * @param timesteps     {@code [N]} or {@code [1]}: the scheduler's integer timesteps
     * @param encoderStates {@code [N, max_text_seq_length, text_embed_dim]}
     * @param rope          the video rows' RoPE tables, or null (the pipeline's when the config has RoPE)
     * @return {@code [N, F, out_channels, H, W]} float32
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor encoderStates, CogVideoXPositions.Rope rope,
            Step step, ActivationProbe probe) {
        Embedded e = embed(latents, timesteps, encoderStates, rope);
        Tensor x = e.video();
        Tensor c = e.text();
        for (CogVideoXBlock block : blocks) {
            Streams out = block.forward(x, c, e.temb(), e.rope(), step, probe, Map.of(), null);
            x = out.image();
            c = out.context();
        }
        return head(x, e.temb(), latents);
    }

    /** The model's inputs embedded: video and text tokens, the timestep embedding and the RoPE tables. */
    private record Embedded(Tensor video, Tensor text, Tensor temb, CogVideoXPositions.Rope rope) {
    }

    private Embedded embed(Tensor latents, Tensor timesteps, Tensor encoderStates, CogVideoXPositions.Rope rope) {
        check(latents, timesteps, encoderStates, rope);
        long[] s = Tensors.shape(latents);
        long n = s[0];
        int p = config.patchSize();
        int pt = config.framesPerPatch();
        int frames = (int) (s[1] / pt);
        int rows = (int) (s[3] / p);
        int cols = (int) (s[4] / p);
        ScalarType dtype = computeType();
        Tensor t = timesteps.numel() == 1 ? timesteps.reshape(1).expand(n) : timesteps.reshape(n);
        Tensor temb = timeEmbedding.forward(Timesteps.sinusoid(t, config.innerDim(), config.flipSinToCos(),
                config.freqShift(), 1).to(dtype));
        Tensor x = latents.to(dtype);
        Tensor video;
        if (patchConv != null) {
            video = patchConv.forward(x.reshape(n * s[1], s[2], s[3], s[4])).reshape(n, s[1] * rows * cols, -1);
        } else {
            Tensor patches = x.permute(0, 1, 3, 4, 2).reshape(n, frames, pt, rows, p, cols, p, s[2])
                    .permute(0, 1, 3, 5, 7, 2, 4, 6).reshape(n, (long) frames * rows * cols, config.patchFeatures());
            video = patchLinear.forward(patches);
        }
        if (!config.rope()) {
            video = video.add(CogVideoXPositions.sinCos(config, frames, rows, cols).to(dtype));
        } else if (rope == null) {
            rope = CogVideoXPositions.rope(config, frames, rows, cols);
        }
        Tensor text = textProj.forward(encoderStates.to(dtype));
        return new Embedded(video.contiguous(), text, temb, rope);
    }

    /** {@code norm_final}, {@code norm_out}, {@code proj_out}, unpatchify to {@code [N, F, C, H, W]}. */
    private Tensor head(Tensor x, Tensor temb, Tensor latents) {
        x = projOut.forward(normOut.forward(normFinal.forward(x), temb));
        long[] s = Tensors.shape(latents);
        long n = s[0];
        long p = config.patchSize();
        long c = config.outChannels();
        long h = s[3] / p;
        long w = s[4] / p;
        Tensor out;
        if (!config.temporalPatches()) {
            out = x.reshape(n, s[1], h, w, c, p, p).permute(0, 1, 4, 2, 5, 3, 6);
        } else {
            long pt = config.patchSizeT();
            out = x.reshape(n, s[1] / pt, h, w, c, pt, p, p).permute(0, 1, 5, 4, 2, 6, 3, 7);
        }
        return out.reshape(n, s[1], c, h * p, w * p).to(ScalarType.Float);
    }

    /** The dtype the weights are held in and the blocks compute with (float32 unless loaded otherwise). */
    private ScalarType computeType() {
        return projOut.weight().scalar_type().intern();
    }

    private void check(Tensor latents, Tensor timesteps, Tensor encoderStates, CogVideoXPositions.Rope rope) {
        long[] s = Tensors.shape(latents);
        long p = config.patchSize();
        long pt = config.framesPerPatch();
        if (!isFloat(latents) || s.length != 5 || s[0] < 1 || s[1] < 1 || s[1] % pt != 0
                || s[2] != config.inChannels() || s[3] < p || s[4] < p || s[3] % p != 0 || s[4] % p != 0) {
            throw new IllegalArgumentException("hidden_states has " + latents.scalar_type().intern() + " shape "
                    + Arrays.toString(s) + ", expected a float [N, F, " + config.inChannels() + " (in_channels), H, W]"
                    + " ([B, F, C, H, W] layout) with F a positive multiple of " + pt + (config.temporalPatches()
                    ? " (patch_size_t)" : "") + " and H, W positive multiples of patch_size " + p);
        }
        long n = s[0];
        long[] e = Tensors.shape(encoderStates);
        if (!isFloat(encoderStates) || e.length != 3 || e[0] != n || e[1] != config.maxTextSeqLength()
                || e[2] != config.textEmbedDim()) {
            throw new IllegalArgumentException("encoder_hidden_states has " + encoderStates.scalar_type().intern()
                    + " shape " + Arrays.toString(e) + ", expected a float [" + n + ", " + config.maxTextSeqLength()
                    + " (max_text_seq_length), " + config.textEmbedDim() + " (text_embed_dim)]");
        }
        if (timesteps.numel() != n && timesteps.numel() != 1) {
            throw new IllegalArgumentException("timestep has " + timesteps.numel() + " elements, expected " + n
                    + " or 1");
        }
        if (rope != null) {
            long tokens = (s[1] / pt) * (s[3] / p) * (s[4] / p);
            for (Tensor t : List.of(rope.cos(), rope.sin())) {
                long[] r = Tensors.shape(t);
                if (!isFloat(t) || r.length != 2 || r[0] != tokens || r[1] != config.headDim()) {
                    throw new IllegalArgumentException("image_rotary_emb has shape " + Arrays.toString(r)
                            + ", expected a float [" + tokens + " (video tokens), " + config.headDim()
                            + " (attention_head_dim)]");
                }
            }
        }
    }

    private static boolean isFloat(Tensor t) {
        ScalarType s = t.scalar_type().intern();
        return s == ScalarType.Float || s == ScalarType.Half || s == ScalarType.BFloat16 || s == ScalarType.Double;
    }

    /**
     * {@code [F, in_channels, H, W]} for one sample: the config's default ({@code (sample_frames - 1) / ratio + 1}
     * latent frames, rounded up to a multiple of {@code patch_size_t} as the 1.5 pipeline pads them,
     * {@code sample_height x sample_width}) or the conditioning's {@link LatentSize}.
     *
     * @throws IllegalArgumentException for a conditioning other than {@link TextEmbeddings} of this model's
     *                                  width and text length, or a size it cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        long pt = config.framesPerPatch();
        if (text.size().isEmpty()) {
            long f = (config.defaultLatentFrames() + pt - 1) / pt * pt;
            return new long[] {f, config.inChannels(), config.sampleHeight(), config.sampleWidth()};
        }
        LatentSize size = text.size().get();
        long p = config.patchSize();
        if (size.frames() % pt != 0 || size.height() % p != 0 || size.width() % p != 0) {
            throw new IllegalArgumentException(CogVideoXConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected frames a multiple of " + pt + " and height and width multiples of patch_size " + p);
        }
        return new long[] {size.frames(), config.inChannels(), size.height(), size.width()};
    }

    /** Video tokens after patching: {@code (F / pt) (H / p) (W / p)}. */
    @Override
    public long imageTokens(long[] latentShape) {
        long p = config.patchSize();
        return (latentShape[0] / config.framesPerPatch()) * (latentShape[2] / p) * (latentShape[3] / p);
    }

    /** Zero text embeddings of the same shape (the pipeline encodes the empty negative prompt instead). */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        return new TextEmbeddings(torch.zeros_like(text.hiddenStates()), text.mask(), text.pooled(), text.size());
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        return forward(latents, timesteps, text(batch).hiddenStates(), null, step, probe);
    }

    /** {@code CogVideoXDDIMScheduler} (CogVideoX-5b's config), 50 steps, classifier-free guidance 6. */
    @Override
    public SamplingDefaults samplingDefaults() {
        return SAMPLING;
    }

    /**
     * Each block computed, reused whole (the video and the text residual) or reused in parts per row through a
     * {@link CacheRuntime}, the text rows as the context stream.
     */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        CacheRuntime cache = new CacheRuntime(policy, stats, blockLayout(), steps, rows);
        return new RuntimeForward(CogVideoXConfig.CLASS_NAME, cache,
                (runtime, latents, timesteps, batch, step) -> {
                    Embedded e = embed(latents, timesteps, text(batch).hiddenStates(), null);
                    Streams s = Streams.joint(e.video(), e.text());
                    for (CogVideoXBlock block : blocks) {
                        s = runtime.block(step, block.layer(), s, block.cacheCall(e.temb(), e.rope(), step));
                    }
                    return head(s.image(), e.temb(), latents);
                });
    }

    @Override
    public List<String> inputNames() {
        return INPUT_NAMES;
    }

    @Override
    public List<String> optionalInputNames() {
        return OPTIONAL_INPUT_NAMES;
    }

    /** Checks the inputs with {@link CogVideoXInputs#check}, then runs them. */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        CogVideoXInputs.check(inputs, config, modelDir);
        Tensor x = inputs.load("hidden_states");
        CogVideoXPositions.Rope rope = inputs.contains(OPTIONAL_INPUT_NAMES.get(0))
                ? new CogVideoXPositions.Rope(inputs.load(OPTIONAL_INPUT_NAMES.get(0)),
                        inputs.load(OPTIONAL_INPUT_NAMES.get(1)))
                : null;
        return forward(x, inputs.load("timestep"), inputs.load("encoder_hidden_states"), rope,
                Step.conditional(0, 1, 0, (int) x.size(0)), probe);
    }

    /** The text conditioning, checked against this model's width and text length. */
    private TextEmbeddings text(Conditioning c) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(CogVideoXConfig.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.textEmbedDim()) {
            throw new IllegalArgumentException("encoder_hidden_states has width " + text.width() + ", expected "
                    + config.textEmbedDim() + " (text_embed_dim of " + CogVideoXConfig.CLASS_NAME + ")");
        }
        if (text.tokens() != config.maxTextSeqLength()) {
            throw new IllegalArgumentException("encoder_hidden_states has " + text.tokens() + " tokens, expected "
                    + config.maxTextSeqLength() + " (max_text_seq_length of " + CogVideoXConfig.CLASS_NAME
                    + "; the pipeline pads the prompt to it)");
        }
        if (text.pooled().isPresent()) {
            throw new IllegalArgumentException(CogVideoXConfig.CLASS_NAME + " takes no pooled text vector");
        }
        if (text.guidance().isPresent()) {
            throw new IllegalArgumentException(CogVideoXConfig.CLASS_NAME + " takes no embedded guidance scale "
                    + "(guidance " + text.guidance().getAsDouble() + "); it is guided classifier-free");
        }
        if (text.mask().isPresent() && text.mask().get().eq(new Scalar(0)).any().item_bool()) {
            throw new IllegalArgumentException("encoder_attention_mask masks tokens out, but "
                    + CogVideoXConfig.CLASS_NAME + " attends to every text token (as diffusers' pipeline runs it): "
                    + "pass no mask");
        }
        return text;
    }

    @Override
    public String toString() {
        return CogVideoXConfig.CLASS_NAME + config;
    }
}
