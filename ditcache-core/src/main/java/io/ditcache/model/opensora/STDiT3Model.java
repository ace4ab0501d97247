package io.ditcache.model.opensora;

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
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Open-Sora 1.2's {@code STDiT3} (spatial-temporal DiT), with Open-Sora's state-dict keys. Ported from
 * hpcaitech/Open-Sora at commit {@code 8d132d7a84a0fd1966bc4a83a7628d409f453e37} (the last before the 1.3 upload):
 * {@code opensora/models/stdit/stdit3.py}, {@code opensora/models/layers/blocks.py},
 * {@code opensora/schedulers/rf/__init__.py}, {@code opensora/schedulers/rf/rectified_flow.py} and
 * {@code configs/opensora-v1-2/inference/sample.py}.
 *
 * <p>Forward ({@code STDiT3.forward(x, timestep, y, mask, fps, height, width)}): {@code x_embedder} patches the
 * latents {@code [B, C, F, H, W]} into {@code T x S} tokens; every frame gets the 2-D sin-cos table
 * ({@link SpatialPositions}, base size {@code round(sqrt(S))}, scale {@code sqrt(height * width) / input_sq_size});
 * {@code t = t_embedder(timestep) + fps_embedder(fps)}, {@code t_block} (SiLU, linear) makes the six modulation
 * vectors shared by the blocks (adaLN-single); {@code y_embedder.y_proj} projects the caption; then spatial block i
 * and temporal block i in turn ({@link STDiT3Block}), the final layer ({@code T2IFinalLayer}: {@code
 * scale_shift_table} + t gives shift and scale, LayerNorm, {@code linear}) and unpatchify. Sizes must be multiples
 * of the patch (Open-Sora pads others), and the frame mask {@code x_mask} of video conditioning is not supported.
 *
 * <p>As a {@link Denoiser}: conditioned on {@link TextEmbeddings} of width {@code caption_channels} with an
 * optional mask (1 = attend); the latent of one sample is {@code [C, F, H, W]}; the video's pixel size is taken
 * as {@value #VAE_SCALE_FACTOR} pixels per latent element (Open-Sora's VAE) and fps as {@value #FPS} (the 1.2
 * sample config). The unconditional branch is Open-Sora's: the learned null caption {@code y_embedder.y_embedding}
 * with the prompt's own mask (Open-Sora repeats the mask over both halves of the batch).
 *
 * <p><b>Sign.</b> Open-Sora's network predicts {@code x0 - noise} (its training target; sampling steps
 * {@code z += v * dt} with t falling). ditcache's {@link PredictionType#FLOW} is {@code noise - x0}, so
 * {@link #forward(Tensor, Tensor, Conditioning, Step, ActivationProbe)} returns the network's first
 * {@code in_channels} channels negated; the {@link DiffusersForward} forward returns the raw output (learned sigma
 * included, unnegated), as Open-Sora does. Timesteps are in {@code [0, num_timesteps]}, as Open-Sora passes them.
 *
 * <p>Not thread-safe; one forward at a time. Callers own the native memory of inputs and outputs.
 */
public final class STDiT3Model extends Module implements Denoiser, DiffusersForward {
    /** Pixels per latent element of Open-Sora 1.2's VAE (spatial). */
    public static final int VAE_SCALE_FACTOR = 8;
    /** The fps the 1.2 sample config conditions on. */
    public static final int FPS = 24;
    /** Key of the null caption, a stored buffer. */
    static final String Y_EMBEDDING = "y_embedder.y_embedding";
    /** Inputs of the DiffusersForward, named as STDiT3.forward's arguments. */
    public static final List<String> INPUTS = List.of("x", "timestep", "y");
    /** Optional inputs: caption mask, fps, pixel height and width (defaults: none, {@value #FPS}, latent x 8). */
    public static final List<String> OPTIONAL = List.of("mask", "fps", "height", "width");

    private final STDiT3Config config;
    private final Tensor freqs;
    private final PatchEmbed3D xEmbedder;
    private final TimestepEmbedder tEmbedder;
    private final TimestepEmbedder fpsEmbedder;
    private final LinearImpl tBlock;
    private final Mlp yProj;
    private final Tensor yEmbedding;
    private final List<STDiT3Block> blocks = new ArrayList<>();
    private final LinearImpl finalLinear;
    private final Tensor finalTable;
    /** Containers, kept: JavaCPP holds a Java-made module weakly. */
    private final List<Module> containers = new ArrayList<>();
    private final DenoiserInfo info;

    /** A model with zero weights (rope.freqs at their defaults); {@link STDiT3Family#load} loads a checkpoint. */
    public STDiT3Model(STDiT3Config config) {
        this.config = config;
        int d = config.hiddenSize();
        Module rope = container("rope");
        rope.register_parameter("freqs", Tensors.fromFloats(TemporalRope.defaultFreqs(config.headDim()),
                config.headDim() / 2), false);
        freqs = new Tensor(rope.parameters().get(0));
        xEmbedder = register_module("x_embedder", new PatchEmbed3D(d, config.inChannels(), config.patchSize()));
        tEmbedder = register_module("t_embedder", new TimestepEmbedder(d));
        fpsEmbedder = register_module("fps_embedder", new TimestepEmbedder(d));
        tBlock = container("t_block").register_module("1", Linears.of(d, 6L * d, true));
        Module y = container("y_embedder");
        yProj = y.register_module("y_proj", new Mlp(config.captionChannels(), d, d));
        y.register_buffer("y_embedding", torch.zeros(config.modelMaxLength(), config.captionChannels()));
        yEmbedding = new Tensor(y.buffers().get(0));
        Module spatial = container("spatial_blocks");
        Module temporal = container("temporal_blocks");
        List<STDiT3Block> s = new ArrayList<>();
        List<STDiT3Block> t = new ArrayList<>();
        for (int i = 0; i < config.depth(); i++) {
            s.add(spatial.register_module(Integer.toString(i), new STDiT3Block(config, 2 * i, false)));
        }
        for (int i = 0; i < config.depth(); i++) {
            t.add(temporal.register_module(Integer.toString(i), new STDiT3Block(config, 2 * i + 1, true)));
        }
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(s.get(i));
            blocks.add(t.get(i));
        }
        Module fin = container("final_layer");
        fin.register_parameter("scale_shift_table", torch.zeros(2, d));
        finalTable = new Tensor(fin.parameters().get(0));
        finalLinear = fin.register_module("linear", Linears.of(d, (long) config.patchVolume() * config.outChannels(),
                true));
        eval();
        info = new DenoiserInfo(STDiT3Config.CLASS_NAME, config.diffusersConfig(), config.parameterCount(),
                PredictionType.FLOW, config.predSigma(), config.inChannels(), 0);
    }

    private Module container(String name) {
        Module m = register_module(name, new Module());
        containers.add(m);
        return m;
    }

    /** The configuration the model was built from. */
    public STDiT3Config config() {
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

    /** The blocks as a cache sees them ({@link STDiT3Config#blockLayout()}). */
    public BlockLayout blockLayout() {
        return config.blockLayout();
    }

    /** Parameter names (Open-Sora's keys) with their shapes, in registration order. */
    public Map<String, long[]> parameterShapes() {
        return Weights.parameterShapes(this);
    }

    @Override
    public Map<String, Tensor> stateDict() {
        return Weights.parametersAndBuffers(this);
    }

    /** The patch embedding; for tests. */
    PatchEmbed3D xEmbedder() {
        return xEmbedder;
    }

    /** The blocks in execution order (spatial 0, temporal 0, spatial 1, ...); for tests. */
    List<STDiT3Block> blocks() {
        return blocks;
    }

    /** How the blocks run, from the first hidden state to the last. */
    interface Blocks {
        Tensor run(Tensor x, STDiT3Block.Inputs inputs);
    }

    /** What the blocks take, for one call; for tests. */
    record Prepared(Tensor x, STDiT3Block.Inputs inputs, Tensor t) {
    }

    /**
     * Embeds the inputs as STDiT3.forward does before its blocks.
     *
     * @param x        {@code [B, C, F, H, W]}
     * @param timestep {@code [B]} or {@code [1]}
     * @param y        {@code [B, L, caption_channels]} or {@code [B, 1, L, caption_channels]}
     * @param mask     {@code [B, L]} (nonzero = attend) or null
     * @param fps      {@code [B]} or {@code [1]}, or null for {@value #FPS}
     * @param height   the video's pixel height (Open-Sora reads the first row's)
     * @param width    the video's pixel width
     */
    Prepared prepare(Tensor x, Tensor timestep, Tensor y, Tensor mask, Tensor fps, double height, double width) {
        STDiT3Inputs.check(config, x, timestep, y, mask);
        long b = x.size(0);
        int[] p = config.patchSize();
        long frames = x.size(2) / p[0];
        long h = x.size(3) / p[1];
        long w = x.size(4) / p[2];
        long patches = h * w;
        ScalarType dtype = xEmbedder.weightType();
        long baseSize = (long) Math.rint(Math.sqrt(patches));
        double scale = Math.sqrt(height * width) / config.inputSqSize();
        Tensor pos = SpatialPositions.table(config.hiddenSize(), h, w, scale, baseSize);
        Tensor tokens = xEmbedder.forward(x.to(dtype)).view(b, frames, patches, config.hiddenSize());
        tokens = tokens.add(pos).to(dtype).view(b, frames * patches, config.hiddenSize());
        Tensor ts = rows(timestep, b);
        Tensor f = fps == null ? torch.full(new long[] {b}, new Scalar((double) FPS)) : rows(fps, b);
        Tensor t = tEmbedder.forward(ts, finalTable).add(fpsEmbedder.forward(f, finalTable));
        Tensor t6 = tBlock.forward(torch.silu(t));
        Tensor caption = yProj.forward(y.to(dtype).reshape(b, -1, config.captionChannels()));
        Tensor m = mask == null ? null : mask.ne(new Scalar(0)).view(b, 1, 1, -1);
        return new Prepared(tokens, new STDiT3Block.Inputs(frames, patches, t6, caption, m, freqs), t);
    }

    private static Tensor rows(Tensor v, long b) {
        return v.numel() == 1 ? v.reshape(1).expand(b).to(ScalarType.Float) : v.reshape(b).to(ScalarType.Float);
    }

    /** The raw forward: {@code [B, out_channels, F, H, W]} float32. */
    Tensor forward(Tensor x, Tensor timestep, Tensor y, Tensor mask, Tensor fps, double height, double width,
            Blocks body) {
        Prepared in = prepare(x, timestep, y, mask, fps, height, width);
        Tensor h = body.run(in.x(), in.inputs());
        return head(h, in.t(), x.size(0), in.inputs().frames(), x.size(3) / config.patchSize()[1],
                x.size(4) / config.patchSize()[2]);
    }

    /** T2IFinalLayer and unpatchify. */
    Tensor head(Tensor x, Tensor t, long b, long frames, long h, long w) {
        TensorVector shiftScale = finalTable.unsqueeze(0).add(t.unsqueeze(1)).chunk(2, 1);
        x = finalLinear.forward(Norms.modulate(Norms.layerNorm(x, 1e-6), shiftScale.get(0), shiftScale.get(1)));
        int[] p = config.patchSize();
        long c = config.outChannels();
        return x.reshape(b, frames, h, w, p[0], p[1], p[2], c).permute(0, 7, 1, 4, 2, 5, 3, 6)
                .reshape(b, c, frames * p[0], h * p[1], w * p[2]).to(ScalarType.Float);
    }

    /**
     * Open-Sora's forward with the probe at every block: the raw output (learned sigma channels included).
     *
     * @return {@code [B, out_channels, F, H, W]} float32
     */
    public Tensor forward(Tensor x, Tensor timestep, Tensor y, Tensor mask, Tensor fps, double height, double width,
            Step step, ActivationProbe probe) {
        return forward(x, timestep, y, mask, fps, height, width, (h, in) -> {
            for (STDiT3Block block : blocks) {
                h = block.forward(h, in, step, probe, null, null, null, null);
            }
            return h;
        });
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        TextEmbeddings text = rows(batch, latents);
        return prediction(forward(latents, timesteps, text.hiddenStates(), text.mask().orElse(null), null,
                pixels(latents.size(3)), pixels(latents.size(4)), step, probe));
    }

    /** Each block computed, reused whole or reused in parts per row, through a {@link CacheRuntime}. */
    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        return new RuntimeForward(STDiT3Config.CLASS_NAME, new CacheRuntime(policy, stats, blockLayout(), steps, rows),
                (runtime, latents, timesteps, batch, step) -> {
                    TextEmbeddings text = rows(batch, latents);
                    return prediction(forward(latents, timesteps, text.hiddenStates(), text.mask().orElse(null),
                            null, pixels(latents.size(3)), pixels(latents.size(4)), (h, in) -> {
                                for (STDiT3Block block : blocks) {
                                    h = runtime.block(step, block.layer(), Streams.of(h), block.cacheCall(in))
                                            .image();
                                }
                                return h;
                            }));
                });
    }

    private static double pixels(long latent) {
        return (double) latent * VAE_SCALE_FACTOR;
    }

    /** The FLOW prediction {@code noise - x0}: the first {@code in_channels} channels, negated. */
    private Tensor prediction(Tensor out) {
        return out.narrow(1, 0, config.inChannels()).neg();
    }

    /**
     * {@code [C, F, H, W]}: {@code input_size}, or the conditioning's size (each a positive multiple of the patch).
     *
     * @throws IllegalArgumentException for a conditioning other than text embeddings of width caption_channels, or
     *                                  a size that is not a multiple of the patch
     */
    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        long[] size = config.inputSize();
        if (text.size().isPresent()) {
            LatentSize s = text.size().get();
            size = new long[] {s.frames(), s.height(), s.width()};
        }
        int[] p = config.patchSize();
        for (int i = 0; i < 3; i++) {
            if (size[i] % p[i] != 0) {
                throw new IllegalArgumentException(STDiT3Config.CLASS_NAME + " cannot make latent size [F, H, W] = "
                        + Arrays.toString(size) + ": expected multiples of patch_size " + Arrays.toString(p));
            }
        }
        return new long[] {config.inChannels(), size[0], size[1], size[2]};
    }

    /**
     * Open-Sora's unconditional caption: the first L tokens of the learned {@code y_embedder.y_embedding} for
     * every row, with the same mask and size.
     *
     * @throws IllegalArgumentException for more caption tokens than {@code model_max_length}
     */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        long len = text.tokens();
        if (len > config.modelMaxLength()) {
            throw new IllegalArgumentException("encoder_hidden_states has " + len + " tokens, but "
                    + STDiT3Config.CLASS_NAME + "'s null caption y_embedding has model_max_length "
                    + config.modelMaxLength());
        }
        Tensor nul = yEmbedding.narrow(0, 0, len).unsqueeze(0).expand(text.rows(), len, config.captionChannels())
                .to(text.hiddenStates().scalar_type().intern()).contiguous();
        return new TextEmbeddings(nul, text.mask(), Optional.empty(), text.size());
    }

    /**
     * Open-Sora 1.2's sampling: rectified flow ({@code rflow}) with the timestep transform, 30 steps,
     * classifier-free guidance 7.0. The transform's resolution ratio is taken from {@link #imageTokens}: the base
     * is 512 x 512 pixels, one frame, i.e. {@code (input_sq_size / 8)^2 / prod(patch_size)} tokens (1024 for
     * STDiT3-XL/2).
     */
    @Override
    public SamplingDefaults samplingDefaults() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("num_train_timesteps", 1000);
        m.put("use_timestep_transform", true);
        double side = (double) config.inputSqSize() / VAE_SCALE_FACTOR;
        m.put("base_image_seq_len", side * side / config.patchVolume());
        return new SamplingDefaults("RFLOW", m, 30, 7.0, SamplingDefaults.Guidance.CLASSIFIER_FREE);
    }

    /**
     * The patch tokens of one sample, {@code (F/pt)(H/ph)(W/pw)}. With {@link #samplingDefaults()}'s base this
     * gives Open-Sora's {@code sqrt(height * width / 512^2) * sqrt(latent frames)}: Open-Sora computes the frames
     * as {@code num_frames // 17 * 5}, the latent frame count of its VAE for frame counts that are multiples of 17
     * (and 1 for one frame, as here).
     */
    @Override
    public long imageTokens(long[] latentShape) {
        int[] p = config.patchSize();
        return (latentShape[1] / p[0]) * (latentShape[2] / p[1]) * (latentShape[3] / p[2]);
    }

    @Override
    public List<String> inputNames() {
        return INPUTS;
    }

    @Override
    public List<String> optionalInputNames() {
        return OPTIONAL;
    }

    /** Checks the inputs, then runs Open-Sora's forward (raw output) with the probe. */
    @Override
    public Tensor forward(SafetensorsFile inputs, Path modelDir, ActivationProbe probe) throws IOException {
        STDiT3Inputs.check(inputs, modelDir);
        Tensor x = inputs.load("x");
        Tensor mask = inputs.contains("mask") ? inputs.load("mask") : null;
        Tensor fps = inputs.contains("fps") ? inputs.load("fps") : null;
        double height = inputs.contains("height") ? inputs.doubles("height")[0] : pixels(x.size(3));
        double width = inputs.contains("width") ? inputs.doubles("width")[0] : pixels(x.size(4));
        Step step = Step.conditional(0, 1, 0, (int) x.size(0));
        return forward(x, inputs.load("timestep"), inputs.load("y"), mask, fps, height, width, step, probe);
    }

    private TextEmbeddings rows(Conditioning batch, Tensor latents) {
        TextEmbeddings text = text(batch);
        if (text.rows() != latents.size(0)) {
            throw new IllegalArgumentException("y has " + text.rows() + " rows, x " + latents.size(0)
                    + "; expected one prompt per latent");
        }
        return text;
    }

    private TextEmbeddings text(Conditioning c) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(STDiT3Config.CLASS_NAME + " is conditioned on text embeddings, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != config.captionChannels()) {
            throw new IllegalArgumentException("y has width " + text.width() + ", but " + STDiT3Config.CLASS_NAME
                    + " takes caption_channels " + config.captionChannels() + " (the text encoder's width)");
        }
        return text;
    }

    @Override
    public String toString() {
        return STDiT3Config.CLASS_NAME + "[depth " + config.depth() + ", hidden " + config.hiddenSize() + "]";
    }
}
