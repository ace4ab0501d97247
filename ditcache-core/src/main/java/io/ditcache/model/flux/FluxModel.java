package io.ditcache.model.flux;

import io.ditcache.ActivationProbe;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import io.ditcache.cache.BlockCall;
import io.ditcache.cache.BlockOutput;
import io.ditcache.cache.CacheRuntime;
import io.ditcache.cache.Streams;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.CachedForward;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserInfo;
import io.ditcache.model.DiffusersForward;
import io.ditcache.model.PredictionType;
import io.ditcache.model.SamplingDefaults;
import io.ditcache.model.TextEmbeddings;
import io.ditcache.model.layers.RuntimeForward;
import io.ditcache.model.layers.AdaLayerNormContinuous;
import io.ditcache.model.layers.Linears;
import io.ditcache.model.layers.Weights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * FLUX.1 in diffusers' {@code FluxTransformer2DModel} layout, with diffusers' state-dict keys: {@code num_layers}
 * double-stream blocks, then {@code num_single_layers} single-stream blocks over [text; image], numbered in that
 * execution order ({@code 0 .. num_layers-1} are the double blocks).
 *
 * <p><b>Sampling view</b> ({@link Denoiser}). The latent is the unpacked VAE latent {@code [in_channels / 4, H, W]}
 * (H and W even): {@code forward} packs 2x2 patches into tokens as FluxPipeline's {@code _pack_latents} does, builds
 * the image ids {@code (0, row, col)} of the token grid ({@code _prepare_latent_image_ids}) and zero text ids, and
 * unpacks the prediction (a rectified-flow velocity). It receives the scheduler's timestep (0 to 1000) and, as
 * FluxPipeline and the model do, divides it by 1000 and multiplies it back in float32. It is conditioned on
 * {@link TextEmbeddings} with the pooled CLIP vector; a model with {@code guidance_embeds} (FLUX.1-dev) also takes
 * {@link TextEmbeddings#guidance()}, embedded like the timestep (times 1000). An attention mask is not used: FLUX
 * attends to every text token, as FluxPipeline does. The default latent is 128 x 128
 * (1024 x 1024 pixels, 4096 tokens) at the published width (inner dim 3072 or more), 8 x 8 (a 4 x 4 token grid)
 * for smaller test models.
 *
 * <p><b>Sites.</b> Double blocks: see {@link FluxDoubleBlock} (image and {@link io.ditcache.TokenStream#TEXT}
 * streams; block 0's {@code norm1} output is MODULATED_INPUT). Single blocks: while sampling, K, V, ATTN_OUT and
 * MLP_OUT are reported per stream (the image tokens at the IMAGE site, the text tokens at the TEXT site), as
 * DESIGN.md has the profiler measure them; {@link #forward(SafetensorsFile, Path, ActivationProbe)} (diffusers'
 * forward, what {@code run --capture} records) reports them over the whole [text; image] sequence at the IMAGE
 * site, as diffusers' hooks capture them. The two forwards differ only in that flag.
 *
 * <p>Loaded in bfloat16 or float16 ({@link io.ditcache.model.ComputeType}), it converts its inputs at entry as
 * diffusers does (the timestep features after the sinusoid, RoPE applied in float32 and cast back) and returns
 * float32.
 *
 * <p>Not thread-safe; one forward at a time. Callers own the native memory of inputs and outputs.
 */
public final class FluxModel extends Module implements Denoiser, DiffusersForward {
    /** The inner dim from which a model gets the published default latent size. */
    static final int PUBLISHED_WIDTH = 3072;
    private final FluxConfig config;
    private final FluxTimeTextEmbedding timeTextEmbed;
    private final LinearImpl contextEmbedder;
    private final LinearImpl xEmbedder;
    /** Container modules, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module doubleList;
    private final Module singleList;
    private final List<FluxDoubleBlock> doubles = new ArrayList<>();
    private final List<FluxSingleBlock> singles = new ArrayList<>();
    private final AdaLayerNormContinuous normOut;
    private final LinearImpl projOut;
    private final BlockLayout layout;
    private final DenoiserInfo info;

    /** A model with libtorch's initial parameters; {@link FluxFamily#load} copies a checkpoint's in. */
    public FluxModel(FluxConfig config) {
        this.config = config;
        int d = config.innerDim();
        timeTextEmbed = register_module("time_text_embed", new FluxTimeTextEmbedding(config));
        contextEmbedder = register_module("context_embedder", Linears.of(config.jointAttentionDim(), d, true));
        xEmbedder = register_module("x_embedder", Linears.of(config.inChannels(), d, true));
        doubleList = register_module("transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            doubles.add(doubleList.register_module(Integer.toString(i), new FluxDoubleBlock(config, i)));
        }
        singleList = register_module("single_transformer_blocks", new Module());
        for (int i = 0; i < config.numSingleLayers(); i++) {
            singles.add(singleList.register_module(Integer.toString(i),
                    new FluxSingleBlock(config, config.numLayers() + i)));
        }
        normOut = register_module("norm_out", new AdaLayerNormContinuous(d, d));
        long p = config.patchSize();
        projOut = register_module("proj_out", Linears.of(d, p * p * config.outChannels(), true));
        eval();
        layout = config.blockLayout();
        info = new DenoiserInfo(FluxConfig.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.FLOW, false, config.packable() ? config.inChannels() / 4 : config.inChannels(), 0);
    }

    /** The configuration the model was built from. */
    public FluxConfig config() {
        return config;
    }

    @Override
    public DenoiserInfo info() {
        return info;
    }

    /** Double then single blocks. */
    @Override
    public int layers() {
        return layout.size();
    }

    /** The blocks as a cache sees them ({@link FluxConfig#blockLayout()}). */
    public BlockLayout blockLayout() {
        return layout;
    }

    /** Parameter names (diffusers keys) with their shapes, in registration order. */
    public Map<String, long[]> parameterShapes() {
        return Weights.parameterShapes(this);
    }

    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.stateDict(this);
    }

    // ---- diffusers' forward ------------------------------------------------------------------------------------

    /**
     * diffusers' forward on packed tokens.
     *
     * @param hiddenStates {@code [N, S, in_channels]}
     * @param context      {@code encoder_hidden_states}, {@code [N, T, joint_attention_dim]}
     * @param pooled       {@code pooled_projections}, {@code [N, pooled_projection_dim]}
     * @param timestep     {@code [N]} or {@code [1]}, on the pipeline's scale ({@code t / 1000}); the model
     *                     multiplies by 1000
     * @param imgIds       {@code [S, axes]}
     * @param txtIds       {@code [T, axes]}
     * @param guidance     {@code [N]} or {@code [1]} guidance scales (multiplied by 1000); null without
     *                     {@code guidance_embeds}
     * @param wholeSequence report the single blocks' K, V, ATTN_OUT and MLP_OUT over the whole sequence at the
     *                      IMAGE site (diffusers' captures) rather than per stream (the profiler's view)
     * @return {@code [N, S, out_channels]} float32 (whatever the compute type)
     */
    public Tensor forward(Tensor hiddenStates, Tensor context, Tensor pooled, Tensor timestep, Tensor imgIds,
            Tensor txtIds, Tensor guidance, Step step, ActivationProbe probe, boolean wholeSequence) {
        return run(hiddenStates, context, pooled, timestep, imgIds, txtIds, guidance, (x, c, temb, rope) -> {
            for (FluxDoubleBlock b : doubles) {
                Tensor[] io = {x, c};
                inBlockScope(io, () -> {
                    Streams s = b.forward(io[0], io[1], temb, rope, step, probe, Map.of(), null);
                    io[0] = s.image();
                    io[1] = s.context();
                });
                x = io[0];
                c = io[1];
            }
            if (singles.isEmpty()) {
                return x;
            }
            long t = c.size(1);
            Tensor[] seq = {torch.cat(new TensorVector(c, x), 1)};
            for (FluxSingleBlock b : singles) {
                inBlockScope(seq, () -> seq[0] = b.forward(seq[0], t, temb, rope, step, probe, wholeSequence,
                        Map.of(), null));
            }
            return FluxSingleBlock.image(seq[0], t);
        });
    }

    /**
     * Runs one block's work in a scope of its own, so that its intermediates (at FLUX's width, hundreds of MB per
     * block) are freed when it ends rather than when the caller's scope does; the tensors {@code block} leaves in
     * {@code io} are handed to the caller's scope. Probes copy what they keep ({@link ActivationProbe}), so this
     * is safe for them. Without a caller's scope everything is left to the garbage collector, as before. (The
     * cached forward does not do this: the cache runtime keeps tensors of one block for the next.)
     */
    private static void inBlockScope(Tensor[] io, Runnable block) {
        PointerScope outer = PointerScope.getInnerScope();
        if (outer == null) {
            block.run();
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            block.run();
            for (Tensor t : io) {
                outer.attach(t);
            }
        }
    }

    /** How the blocks run: from the embedded image and context streams, {@code temb} and RoPE, to the image. */
    private interface Blocks {
        Tensor run(Tensor x, Tensor context, Tensor temb, FluxRope rope);
    }

    private Tensor run(Tensor hiddenStates, Tensor context, Tensor pooled, Tensor timestep, Tensor imgIds,
            Tensor txtIds, Tensor guidance, Blocks blocks) {
        long n = hiddenStates.size(0);
        ScalarType dtype = computeType();
        Tensor x = xEmbedder.forward(hiddenStates.to(dtype));
        Tensor t = perRow(timestep, n).mul(new Scalar(1000.0f));
        Tensor g = guidance == null ? null : perRow(guidance, n).mul(new Scalar(1000.0f));
        Tensor temb = timeTextEmbed.forward(t, g, pooled.to(dtype));
        Tensor c = contextEmbedder.forward(context.to(dtype));
        FluxRope rope = FluxRope.of(torch.cat(new TensorVector(txtIds.to(ScalarType.Float),
                imgIds.to(ScalarType.Float)), 0), config.axesDimsRope());
        x = blocks.run(x, c, temb, rope);
        return projOut.forward(normOut.forward(x, temb)).to(ScalarType.Float);
    }

    /** The dtype the weights are held in and the blocks compute with (float32 unless loaded otherwise). */
    private ScalarType computeType() {
        return projOut.weight().scalar_type().intern();
    }

    private static Tensor perRow(Tensor t, long n) {
        Tensor f = t.to(ScalarType.Float).reshape(-1);
        return f.size(0) == n ? f : f.expand(n).contiguous();
    }

    @Override
    public List<String> inputNames() {
        return FluxInputs.names(config);
    }

    /**
     * Checks the inputs ({@link FluxInputs#check}), then runs diffusers' forward, reporting the single blocks'
     * K, V, ATTN_OUT and MLP_OUT over the whole [text; image] sequence at their IMAGE sites.
     */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        FluxInputs.check(inputs, config, modelDir);
        Tensor x = inputs.load("hidden_states");
        return forward(x, inputs.load("encoder_hidden_states"), inputs.load("pooled_projections"),
                inputs.load("timestep"), inputs.load("img_ids"), inputs.load("txt_ids"),
                config.guidanceEmbeds() ? inputs.load("guidance") : null,
                Step.conditional(0, 1, 0, (int) x.size(0)), probe, true);
    }

    // ---- sampling view -----------------------------------------------------------------------------------------

    /**
     * {@code [in_channels / 4, H, W]}: the conditioning's size (one frame, H and W even), or the default (see the
     * class comment).
     *
     * @throws IllegalArgumentException for a conditioning other than {@link TextEmbeddings}, embeddings of the
     *                                  wrong width, no pooled vector, a missing (or, without
     *                                  {@code guidance_embeds}, a present) guidance scale, or a size the model
     *                                  cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        if (!config.packable()) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " with in_channels " + config.inChannels()
                    + " and out_channels " + config.outChannels() + " has no VAE latent: sampling packs 2x2 patches"
                    + " into tokens, so in_channels must be a multiple of 4 and out_channels equal to it");
        }
        if (config.axesDimsRope().size() != 3) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " with axes_dims_rope "
                    + config.axesDimsRope() + " cannot be sampled: FluxPipeline's position ids have 3 axes (0, row, "
                    + "col), so axes_dims_rope must have 3 entries");
        }
        long channels = config.inChannels() / 4;
        if (text.size().isEmpty()) {
            long side = config.innerDim() >= PUBLISHED_WIDTH ? 128 : 8;
            return new long[] {channels, side, side};
        }
        var size = text.size().get();
        if (!size.isImage() || size.height() % 2 != 0 || size.width() % 2 != 0) {
            throw new IllegalArgumentException(FluxConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected 1 frame with even height and width (2x2 patches are packed into tokens)");
        }
        FluxInputs.checkTokens((size.height() / 2) * (size.width() / 2), text.tokens(), config,
                "latent size " + size);
        return new long[] {channels, size.height(), size.width()};
    }

    /** Packed tokens: {@code (H / 2) * (W / 2)}. */
    @Override
    public long imageTokens(long[] latentShape) {
        return (latentShape[1] / 2) * (latentShape[2] / 2);
    }

    /**
     * Zeros of the same shapes (hidden states, pooled vector), same mask, size and guidance. FLUX.1-dev is
     * sampled without classifier-free guidance (its guidance is embedded, {@link #samplingDefaults()}), so this
     * branch only runs where a caller asks for a guidance scale above 1 in the sampling options.
     */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        return new TextEmbeddings(torch.zeros_like(text.hiddenStates()), text.mask(),
                text.pooled().map(torch::zeros_like), text.size(), text.guidance());
    }

    /**
     * FluxPipeline's sampling: FlowMatchEulerDiscreteScheduler with FLUX.1-dev's scheduler config (shift 3,
     * dynamic shifting from base_shift 0.5 at 256 tokens to max_shift 1.15 at 4096), 28 steps and embedded
     * guidance 3.5 for a model with {@code guidance_embeds}; FLUX.1-schnell's (shift 1, no dynamic shifting), 4
     * steps and no guidance for one without.
     */
    @Override
    public SamplingDefaults samplingDefaults() {
        Map<String, Object> sched = new java.util.LinkedHashMap<>();
        sched.put("base_image_seq_len", 256);
        sched.put("base_shift", 0.5);
        sched.put("max_image_seq_len", 4096);
        sched.put("max_shift", 1.15);
        sched.put("num_train_timesteps", 1000);
        if (config.guidanceEmbeds()) {
            sched.put("shift", 3.0);
            sched.put("use_dynamic_shifting", true);
            return new SamplingDefaults("FlowMatchEulerDiscreteScheduler", sched, 28, 3.5,
                    SamplingDefaults.Guidance.EMBEDDED);
        }
        sched.put("shift", 1.0);
        sched.put("use_dynamic_shifting", false);
        sched.putAll(pipelineSchedulerKeys());
        return new SamplingDefaults("FlowMatchEulerDiscreteScheduler", sched, 4, 0.0,
                SamplingDefaults.Guidance.NONE);
    }

    /**
     * FluxPipeline passes its own sigmas, {@code linspace(1, 1/n, n)}, whatever the checkpoint's scheduler config
     * says (with dynamic shifting the scheduler uses them anyway).
     */
    @Override
    public Map<String, Object> pipelineSchedulerKeys() {
        return Map.of("sigma_schedule", "flux");
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        Packed in = pack(latents, timesteps, batch);
        Tensor out = forward(in.tokens, in.context, in.pooled, in.timestep, in.imgIds, in.txtIds, in.guidance, step,
                probe, false);
        return FluxLatents.unpack(out, in.height, in.width);
    }

    /**
     * Each block computed, reused whole or reused in parts per row, through a {@link CacheRuntime} over
     * {@link #blockLayout()}: the double blocks with their image and context streams, the single blocks with the
     * [text; image] sequence as their one stream.
     */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        return new RuntimeForward(FluxConfig.CLASS_NAME, new CacheRuntime(policy, stats, layout, steps, rows),
                (runtime, latents, timesteps, batch, step) -> {
                    Packed in = pack(latents, timesteps, batch);
                    Tensor out = run(in.tokens, in.context, in.pooled, in.timestep, in.imgIds, in.txtIds, in.guidance,
                            (x, c, temb, rope) -> cachedBlocks(runtime, step, x, c, temb, rope));
                    return FluxLatents.unpack(out, in.height, in.width);
                });
    }

    private Tensor cachedBlocks(CacheRuntime runtime, Step step, Tensor x, Tensor c, Tensor temb, FluxRope rope) {
        for (FluxDoubleBlock b : doubles) {
            BlockCall call = BlockCall.of((rows, input, reused) -> {
                Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
                Streams out = b.forward(input.image(), input.context(), rows.select(temb), rope, step,
                        ActivationProbe.NONE, reused, parts);
                return new BlockOutput(out, parts);
            }, (rows, input) -> b.modulatedInput(input.image(), rows.select(temb)));
            Streams s = runtime.block(step, b.layer(), Streams.joint(x, c), call);
            x = s.image();
            c = s.context();
        }
        if (singles.isEmpty()) {
            return x;
        }
        long t = c.size(1);
        Tensor seq = torch.cat(new TensorVector(c, x), 1);
        for (FluxSingleBlock b : singles) {
            BlockCall call = (rows, input, reused) -> {
                Map<BlockPart, Tensor> parts = new EnumMap<>(BlockPart.class);
                Tensor out = b.forward(input.image(), t, rows.select(temb), rope, step, ActivationProbe.NONE,
                        false, reused, parts);
                return new BlockOutput(Streams.of(out), parts);
            };
            seq = runtime.block(step, b.layer(), Streams.of(seq), call).image();
        }
        return FluxSingleBlock.image(seq, t);
    }

    /** One sampling call's inputs in diffusers' packed form. */
    private record Packed(Tensor tokens, Tensor context, Tensor pooled, Tensor timestep, Tensor imgIds,
            Tensor txtIds, Tensor guidance, long height, long width) {
    }

    /** FluxPipeline's packing, ids, {@code timestep / 1000} and guidance for latents {@code [N, C, H, W]}. */
    private Packed pack(Tensor latents, Tensor timesteps, Conditioning batch) {
        TextEmbeddings text = text(batch);
        long[] s = Tensors.shape(latents);
        long channels = latentShape(text)[0];
        if (s.length != 4 || s[1] != channels || s[2] < 2 || s[3] < 2 || s[2] % 2 != 0 || s[3] % 2 != 0) {
            throw new IllegalArgumentException("latents have shape " + Arrays.toString(s) + ", expected [N, "
                    + channels + " (in_channels / 4), H, W] with H and W even");
        }
        if (!Tensors.isFloat(latents)) {
            throw new IllegalArgumentException("latents have dtype " + latents.scalar_type().intern()
                    + ", expected a float dtype");
        }
        long n = s[0];
        if (text.rows() != n) {
            throw new IllegalArgumentException("conditioning has " + text.rows() + " rows, latents " + n);
        }
        if (timesteps.numel() != n && timesteps.numel() != 1) {
            throw new IllegalArgumentException("timesteps have " + timesteps.numel() + " elements, expected " + n
                    + " or 1");
        }
        long h = s[2] / 2;
        long w = s[3] / 2;
        Tensor tokens = FluxLatents.pack(latents.to(ScalarType.Float));
        Tensor timestep = perRow(timesteps, n).div(new Scalar(1000.0f));
        Tensor guidance = config.guidanceEmbeds()
                ? torch.full(new long[] {n}, new Scalar((float) text.guidance().getAsDouble()),
                        new org.bytedeco.pytorch.TensorOptions(ScalarType.Float))
                : null;
        return new Packed(tokens, text.hiddenStates(), text.pooled().get(), timestep, FluxLatents.imageIds(h, w),
                torch.zeros(new long[] {text.tokens(), 3}, new org.bytedeco.pytorch.TensorOptions(
                        ScalarType.Float)), guidance, s[2], s[3]);
    }

    private TextEmbeddings text(Conditioning c) {
        return FluxConditioning.text(c, config);
    }
}
