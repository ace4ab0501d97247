package io.ditcache.model.dit;

import io.ditcache.ActivationProbe;
import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Step;
import io.ditcache.cache.Streams;
import io.ditcache.internal.StateDictCheck;
import io.ditcache.internal.Tensors;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.model.CachedForward;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserInfo;
import io.ditcache.model.DiffusersForward;
import io.ditcache.model.LatentSize;
import io.ditcache.model.PredictionType;
import io.ditcache.model.layers.Linears;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.LinearImpl;
import org.bytedeco.pytorch.Module;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.StringTensorDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * A class-conditional DiT in diffusers' {@code DiTTransformer2DModel} layout, with diffusers' state-dict keys.
 * It calls the {@link ActivationProbe} at every site of every block (K, V, ATTN_OUT, MLP_OUT, BLOCK_OUT,
 * BLOCK_RESIDUAL, and block 0's MODULATED_INPUT).
 *
 * <p>As a {@link Denoiser} it is conditioned on {@link ClassLabels} (label {@code num_embeds_ada_norm} is the
 * null class of guidance's unconditional branch) and predicts the noise; its {@code forward} on a
 * {@link Conditioning} drops the learned-sigma channels, while {@link #forward(Tensor, Tensor, Tensor, Step,
 * ActivationProbe)} on a label tensor returns diffusers' raw output.
 *
 * <p>Not thread-safe; one forward at a time. Callers own the native memory of inputs and outputs (wrap calls in a
 * {@code PointerScope}).
 */
public final class DiTModel extends Module implements Denoiser, DiffusersForward {
    private static final double NORM_OUT_EPS = 1e-6;
    private final DiTConfig config;
    private final PatchEmbed patchEmbed;
    private final List<DiTBlock> blocks = new ArrayList<>();
    private final LinearImpl projOut1;
    private final LinearImpl projOut2;
    /** Container module, kept: JavaCPP holds a Java-made module weakly, and a collected one breaks eval(). */
    private final Module blockList;
    private final DenoiserInfo info;

    /** A model with all parameters zero; load weights with {@link #loadStateDict}. */
    public DiTModel(DiTConfig config) {
        this.config = config;
        int d = config.innerDim();
        patchEmbed = register_module("pos_embed", new PatchEmbed(config));
        blockList = register_module("transformer_blocks", new Module());
        for (int i = 0; i < config.numLayers(); i++) {
            blocks.add(blockList.register_module(Integer.toString(i), new DiTBlock(config, i)));
        }
        projOut1 = register_module("proj_out_1", Linears.of(d, 2L * d, true));
        long p = config.patchSize();
        projOut2 = register_module("proj_out_2", Linears.of(d, p * p * config.outChannels(), true));
        eval();
        long parameters = parameterShapes().values().stream()
                .mapToLong(shape -> Arrays.stream(shape).reduce(1, Math::multiplyExact)).sum();
        info = new DenoiserInfo(DiTConfig.CLASS_NAME, config.diffusersConfig(), parameters, PredictionType.EPSILON,
                config.learnedSigma(), config.inChannels(), config.numClasses());
    }

    public DiTConfig config() {
        return config;
    }

    @Override
    public DenoiserInfo info() {
        return info;
    }

    /** Number of transformer blocks. */
    @Override
    public int layers() {
        return blocks.size();
    }

    /**
     * The blocks as a cache sees them: {@link Block#plain} blocks (self-attention and feed-forward, image stream
     * only), each weighing its multiply-adds per token, {@code 4 d^2} for the attention projections and
     * {@code 8 d^2} for the feed-forward.
     */
    public BlockLayout blockLayout() {
        return config.blockLayout();
    }

    /**
     * A cache session for one run of {@code steps} calls over {@code rows}: pass it to
     * {@link #forward(Tensor, Tensor, Tensor, Step, CacheSession)} each step, close it after the run.
     *
     * @param probe receives each block's output and residual as cached sampling produced them
     */
    public CacheSession cacheSession(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows,
            ActivationProbe probe) {
        return CacheSession.of(this, policy, stats, steps, rows, probe);
    }

    /** Parameter names (diffusers keys) with their shapes, in registration order. */
    public Map<String, long[]> parameterShapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        StringTensorDict params = named_parameters(true);
        for (long i = 0; i < params.size(); i++) {
            out.put(params.get(i).key().getString(), Tensors.shape(params.get(i).value()));
        }
        return out;
    }

    /** Parameters by diffusers key; the tensors are the model's own (not copies). */
    @Override
    public Map<String, Tensor> stateDict() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        StringTensorDict params = named_parameters(true);
        for (long i = 0; i < params.size(); i++) {
            // an item's value lives in the dict: hand out our own handle to the same storage
            out.put(params.get(i).key().getString(), new Tensor(params.get(i).value()));
        }
        return out;
    }

    /**
     * Copies {@code state} into the parameters. Every parameter must be present with its exact shape, and no
     * other key may be present.
     *
     * @param source names the origin in error messages (a file or directory)
     * @throws IllegalArgumentException naming the source, the keys and the expected shapes
     */
    public void loadStateDict(Map<String, Tensor> state, String source) {
        Map<String, Tensor> params = stateDict();
        Map<String, long[]> have = new LinkedHashMap<>();
        state.forEach((k, v) -> have.put(k, Tensors.shape(v)));
        String mismatch = StateDictCheck.mismatch(parameterShapes(), have, source, DiTConfig.CLASS_NAME);
        if (mismatch != null) {
            throw new IllegalArgumentException(mismatch);
        }
        try (NoGradGuard guard = new NoGradGuard()) {
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                e.getValue().copy_(state.get(e.getKey()).to(ScalarType.Float));
            }
        }
    }

    /**
     * One forward pass.
     *
     * @param latents   {@code [N, in_channels, H, W]} float32, H and W multiples of the patch size
     * @param timesteps {@code [N]} or {@code [1]} (broadcast) timesteps, any numeric dtype
     * @param labels    {@code [N]} int64 class labels in {@code [0, num_classes]}; {@code num_classes} is the
     *                  null class
     * @param step      the call's step (passed through to the probe)
     * @param probe     receives the activations
     * @return {@code [N, out_channels, H, W]}
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor labels, Step step, ActivationProbe probe) {
        return forward(latents, timesteps, labels, (x, t, y) -> {
            for (DiTBlock block : blocks) {
                x = block.forward(x, t, y, step, probe);
            }
            return x;
        });
    }

    /**
     * One forward pass with a cache: each block is computed or reused as {@code cache}'s policy decides for each
     * row. Arguments as {@link #forward(Tensor, Tensor, Tensor, Step, ActivationProbe)}; {@code step} must be the
     * session's next step.
     */
    public Tensor forward(Tensor latents, Tensor timesteps, Tensor labels, Step step, CacheSession cache) {
        return forward(latents, timesteps, labels, (x, t, y) -> {
            for (DiTBlock block : blocks) {
                x = cache.runtime().block(step, block.layer(), Streams.of(x), block.cacheCall(t, y, step)).image();
            }
            return x;
        });
    }

    /** How the blocks run: from the first hidden state, per-row timesteps and labels, to the last hidden state. */
    private interface Blocks {
        Tensor run(Tensor x, Tensor t, Tensor y);
    }

    private Tensor forward(Tensor latents, Tensor timesteps, Tensor labels, Blocks blocksRun) {
        validate(latents, timesteps, labels);
        long n = latents.size(0);
        Tensor t = timesteps.numel() == 1 ? timesteps.reshape(1).expand(n) : timesteps.reshape(n);
        Tensor y = labels.reshape(n);
        long h = latents.size(2) / config.patchSize();
        long w = latents.size(3) / config.patchSize();
        Tensor x = blocksRun.run(embed(latents), t, y);
        return head(x, t, y, n, h, w);
    }

    /** The patch embedding of {@code latents} (with positions): the first hidden state. */
    Tensor embed(Tensor latents) {
        return patchEmbed.forward(latents.to(computeType()));
    }

    /** The dtype the weights are held in and the blocks compute with (float32 unless loaded otherwise). */
    ScalarType computeType() {
        return patchEmbed.weightType();
    }

    DiTBlock block(int layer) {
        return blocks.get(layer);
    }

    /** {@link #head(Tensor, Tensor, Tensor, long, long, long)} for the configured square sample size. */
    Tensor head(Tensor x, Tensor t, Tensor y) {
        long side = config.sampleSize() / config.patchSize();
        return head(x, t.numel() == 1 ? t.reshape(1).expand(x.size(0)) : t, y, x.size(0), side, side);
    }

    /** The final layer: norm, modulation by block 0's conditioning, projection, unpatchify. */
    private Tensor head(Tensor x, Tensor t, Tensor y, long n, long h, long w) {
        Tensor conditioning = blocks.get(0).embedding().forward(t, y);
        TensorVector shiftScale = projOut1.forward(torch.silu(conditioning)).chunk(2, 1);
        x = torch.layer_norm(x, new long[] {config.innerDim()}, new TensorOptional(), new TensorOptional(),
                NORM_OUT_EPS, false);
        x = DiTBlock.modulate(x, shiftScale.get(0).unsqueeze(1), shiftScale.get(1).unsqueeze(1));
        x = projOut2.forward(x);
        long p = config.patchSize();
        long c = config.outChannels();
        // unpatchify: einsum("nhwpqc->nchpwq")
        return x.reshape(n, h, w, p, p, c).permute(0, 5, 1, 3, 2, 4).reshape(n, c, h * p, w * p)
                .to(ScalarType.Float);
    }

    private void validate(Tensor latents, Tensor timesteps, Tensor labels) {
        // checked here, not left to libtorch: it would convert integer latents silently and name float labels
        // only as "argument #1 'indices'"
        ScalarType xt = latents.scalar_type().intern();
        if (xt != ScalarType.Float && xt != ScalarType.Half && xt != ScalarType.BFloat16 && xt != ScalarType.Double) {
            throw new IllegalArgumentException("hidden_states has dtype " + xt + ", expected a float dtype (Float, "
                    + "Half, BFloat16 or Double)");
        }
        ScalarType yt = labels.scalar_type().intern();
        if (yt != ScalarType.Long && yt != ScalarType.Int) {
            throw new IllegalArgumentException("class_labels has dtype " + yt + ", expected an integer dtype (Long "
                    + "or Int)");
        }
        long[] s = Tensors.shape(latents);
        if (s.length != 4 || s[1] != config.inChannels() || s[2] % config.patchSize() != 0
                || s[3] % config.patchSize() != 0 || s[2] == 0 || s[3] == 0) {
            throw new IllegalArgumentException("hidden_states has shape " + Arrays.toString(s) + ", expected [N, "
                    + config.inChannels() + ", H, W] with H and W positive multiples of patch_size "
                    + config.patchSize());
        }
        long tokens = (s[2] / config.patchSize()) * (s[3] / config.patchSize());
        if (tokens > DiTConfig.MAX_ARRAY / config.innerDim()) {
            throw new IllegalArgumentException("hidden_states has shape " + Arrays.toString(s) + ": " + tokens
                    + " tokens x inner dim " + config.innerDim() + " is a position table larger than a Java array ("
                    + DiTConfig.MAX_ARRAY + " floats)");
        }
        long n = s[0];
        if (timesteps.numel() != n && timesteps.numel() != 1) {
            throw new IllegalArgumentException("timestep has " + timesteps.numel() + " elements, expected " + n
                    + " or 1");
        }
        if (labels.numel() != n) {
            throw new IllegalArgumentException("class_labels has " + labels.numel() + " elements, expected " + n);
        }
        for (long label : Tensors.toLongs(labels)) {
            if (label < 0 || label > config.numClasses()) {
                throw new IllegalArgumentException("class label " + label + " out of range [0, "
                        + config.numClasses() + "] (" + config.numClasses() + " is the null class)");
            }
        }
    }

    /**
     * {@code [in_channels, H, W]}: {@code sample_size} square, or the conditioning's size (one frame, sides
     * positive multiples of {@code patch_size}).
     *
     * @throws IllegalArgumentException for a conditioning other than {@link ClassLabels}, a label outside
     *                                  {@code [0, num_embeds_ada_norm)} or a size the model cannot make
     */
    @Override
    public long[] latentShape(Conditioning c) {
        ClassLabels labels = classLabels(c);
        for (int r = 0; r < labels.rows(); r++) {
            if (labels.label(r) >= config.numClasses()) {
                throw new IllegalArgumentException("class label " + labels.label(r) + " out of range [0, "
                        + config.numClasses() + ") of this model");
            }
        }
        if (labels.size().isEmpty()) {
            return new long[] {config.inChannels(), config.sampleSize(), config.sampleSize()};
        }
        LatentSize size = labels.size().get();
        long p = config.patchSize();
        if (!size.isImage() || size.height() % p != 0 || size.width() % p != 0) {
            throw new IllegalArgumentException(DiTConfig.CLASS_NAME + " cannot make latent size " + size
                    + ": expected 1 frame with height and width multiples of patch_size " + p);
        }
        if ((size.height() / p) * (size.width() / p) > DiTConfig.MAX_ARRAY / config.innerDim()) {
            throw new IllegalArgumentException(DiTConfig.CLASS_NAME + " cannot make latent size " + size + ": "
                    + (size.height() / p) * (size.width() / p) + " tokens x inner dim " + config.innerDim()
                    + " is a position table larger than a Java array (" + DiTConfig.MAX_ARRAY + " floats)");
        }
        return new long[] {config.inChannels(), size.height(), size.width()};
    }

    /** The null class ({@code num_embeds_ada_norm}) for every row of {@code c}, at its size. */
    @Override
    public Conditioning unconditional(Conditioning c) {
        ClassLabels labels = classLabels(c);
        long[] nul = new long[labels.rows()];
        Arrays.fill(nul, config.numClasses());
        return new ClassLabels(nul, labels.size());
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        return prediction(forward(latents, timesteps, labelTensor(batch), step, probe));
    }

    /**
     * Each block computed, reused whole or reused in parts per row, through the {@link io.ditcache.cache.CacheRuntime}
     * of a {@link #cacheSession}.
     */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        CacheSession session = cacheSession(policy, stats, steps, rows, ActivationProbe.NONE);
        return new CachedForward() {
            private boolean closed;

            @Override
            public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step) {
                if (closed) {
                    throw new IllegalStateException("cached forward of " + DiTConfig.CLASS_NAME + " is closed");
                }
                return prediction(DiTModel.this.forward(latents, timesteps, labelTensor(batch), step, session));
            }

            @Override
            public void close() {
                if (!closed) {
                    closed = true;
                    session.close();
                }
            }
        };
    }

    @Override
    public List<String> inputNames() {
        return DiTInputs.NAMES;
    }

    /** Checks the inputs with {@link DiTInputs#check(SafetensorsFile, DiTConfig, Path)}, then runs them. */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        DiTInputs.check(inputs, config, modelDir);
        Tensor x = inputs.load("hidden_states");
        return forward(x, inputs.load("timestep"), inputs.load("class_labels"),
                Step.conditional(0, 1, 0, (int) x.size(0)), probe);
    }

    /** The noise prediction: the first {@code in_channels} of a learned-sigma output. */
    private Tensor prediction(Tensor out) {
        return config.learnedSigma() ? out.narrow(1, 0, config.inChannels()) : out;
    }

    private static Tensor labelTensor(Conditioning batch) {
        long[] labels = classLabels(batch).labels();
        return Tensors.fromLongs(labels, labels.length);
    }

    private static ClassLabels classLabels(Conditioning c) {
        if (c instanceof ClassLabels labels) {
            return labels;
        }
        throw new IllegalArgumentException(DiTConfig.CLASS_NAME + " is conditioned on class labels, not "
                + c.getClass().getSimpleName());
    }

    /** Key names in the order diffusers registers them. */
    public List<String> keys() {
        return Collections.unmodifiableList(new ArrayList<>(parameterShapes().keySet()));
    }
}
