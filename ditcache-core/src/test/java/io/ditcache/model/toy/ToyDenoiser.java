package io.ditcache.model.toy;

import io.ditcache.ActivationProbe;
import io.ditcache.Branch;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.model.CachedForward;
import io.ditcache.model.Conditioning;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DenoiserInfo;
import io.ditcache.model.LatentSize;
import io.ditcache.model.PredictionType;
import io.ditcache.model.TextEmbeddings;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A text-conditioned toy transformer written from plain libtorch ops, with no ditcache model class: tokens are
 * latent pixels, each block adds {@code tanh(W h + b + cond)}, where {@code cond} is the timestep's and the
 * prompt's (masked mean) projection. It predicts epsilon, makes non-square images and calls the probe at each
 * block's output and residual. What a foreign family needs to be sampled, profiled and studied by the core.
 */
public final class ToyDenoiser implements Denoiser {
    static final String CLASS_NAME = "ToyTransformer2DModel";
    private final Map<String, Object> config;
    private final Map<String, Tensor> weights;
    private final int channels;
    private final int layers;
    private final long height;
    private final long width;
    private final long textWidth;

    /** Weights as {@link #shapes} names them, float32, owned by this model. */
    ToyDenoiser(int channels, int width, int layers, int textWidth, int height, int latentWidth,
            Map<String, Tensor> weights) {
        this.channels = channels;
        this.layers = layers;
        this.height = height;
        this.width = latentWidth;
        this.textWidth = textWidth;
        this.weights = new LinkedHashMap<>(weights);
        config = new LinkedHashMap<>();
        config.put("_class_name", CLASS_NAME);
        config.put("in_channels", channels);
        config.put("width", width);
        config.put("num_layers", layers);
        config.put("text_width", textWidth);
        config.put("sample_height", height);
        config.put("sample_width", latentWidth);
    }

    /** The parameter shapes of a configuration, in key order. */
    static Map<String, long[]> shapes(int channels, int width, int layers, int textWidth) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("proj_in.weight", new long[] {width, channels});
        m.put("time_proj.weight", new long[] {width, 1});
        m.put("text_proj.weight", new long[] {width, textWidth});
        for (int i = 0; i < layers; i++) {
            m.put("blocks." + i + ".weight", new long[] {width, width});
            m.put("blocks." + i + ".bias", new long[] {width});
        }
        m.put("proj_out.weight", new long[] {channels, width});
        return m;
    }

    @Override
    public DenoiserInfo info() {
        long count = weights.values().stream().mapToLong(Tensor::numel).sum();
        return new DenoiserInfo(CLASS_NAME, config, count, PredictionType.EPSILON, false, channels, 0);
    }

    @Override
    public int layers() {
        return layers;
    }

    @Override
    public Map<String, Tensor> stateDict() {
        return new LinkedHashMap<>(weights);
    }

    @Override
    public long[] latentShape(Conditioning c) {
        TextEmbeddings text = text(c);
        LatentSize size = text.size().orElse(LatentSize.image(height, width));
        if (!size.isImage()) {
            throw new IllegalArgumentException(CLASS_NAME + " makes images, not " + size.frames() + " frames");
        }
        return new long[] {channels, size.height(), size.width()};
    }

    /** The empty prompt: zero embeddings, every token masked in. */
    @Override
    public Conditioning unconditional(Conditioning c) {
        TextEmbeddings text = text(c);
        return new TextEmbeddings(torch.zeros_like(text.hiddenStates()), text.mask().map(torch::ones_like),
                Optional.empty(), text.size());
    }

    @Override
    public Tensor forward(Tensor latents, Tensor timesteps, Conditioning batch, Step step, ActivationProbe probe) {
        TextEmbeddings text = text(batch);
        long n = latents.size(0);
        long h = latents.size(2);
        long w = latents.size(3);
        Tensor x = linear(latents.to(ScalarType.Float).flatten(2, 3).transpose(1, 2), "proj_in.weight");
        Tensor t = timesteps.to(ScalarType.Float).reshape(-1, 1).div(new Scalar(1000.0)).expand(n, 1);
        Tensor states = text.hiddenStates().to(ScalarType.Float);
        Tensor prompt = text.mask().isPresent()
                ? maskedMean(states, text.mask().get().to(ScalarType.Float)) : states.mean(1);
        Tensor cond = linear(t, "time_proj.weight").add(linear(prompt, "text_proj.weight")).unsqueeze(1);
        for (int i = 0; i < layers; i++) {
            Tensor out = x.add(linear(x, "blocks." + i + ".weight").add(weights.get("blocks." + i + ".bias"))
                    .add(cond).tanh());
            observe(probe, step, Site.of(i, SiteKind.BLOCK_OUT), out);
            Site residual = Site.of(i, SiteKind.BLOCK_RESIDUAL);
            if (probe.wants(residual)) {
                probe.observe(step, residual, out.sub(x));
            }
            x = out;
        }
        return linear(x, "proj_out.weight").transpose(1, 2).reshape(n, channels, h, w);
    }

    @Override
    public CachedForward cached(CachePolicy policy, CacheStats stats, int steps, List<Branch> rows) {
        throw new UnsupportedOperationException(CLASS_NAME + " has no cache points");
    }

    private Tensor linear(Tensor x, String weight) {
        return x.matmul(weights.get(weight).t());
    }

    private static Tensor maskedMean(Tensor states, Tensor mask) {
        Tensor sum = states.mul(mask.unsqueeze(2)).sum(1);
        return sum.div(mask.sum(1).unsqueeze(1).clamp_min(new Scalar(1.0)));
    }

    private static void observe(ActivationProbe probe, Step step, Site site, Tensor value) {
        if (probe.wants(site)) {
            probe.observe(step, site, value);
        }
    }

    private TextEmbeddings text(Conditioning c) {
        if (!(c instanceof TextEmbeddings text)) {
            throw new IllegalArgumentException(CLASS_NAME + " is conditioned on text, not "
                    + c.getClass().getSimpleName());
        }
        if (text.width() != textWidth) {
            throw new IllegalArgumentException("encoder_hidden_states width " + text.width() + ", " + CLASS_NAME
                    + " expects " + textWidth);
        }
        return text;
    }

    /** Random weights of a configuration (for tests that build a checkpoint). */
    static Map<String, Tensor> randomWeights(int channels, int width, int layers, int textWidth, long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        var gen = new org.bytedeco.pytorch.GeneratorOptional(torch.createCPUGenerator(seed));
        for (Map.Entry<String, long[]> e : shapes(channels, width, layers, textWidth).entrySet()) {
            long[] s = e.getValue();
            double scale = 0.5 / Math.sqrt(s.length == 2 ? s[1] : 1);
            out.put(e.getKey(), torch.randn(s, gen, new TensorOptions(ScalarType.Float)).mul(new Scalar(scale)));
        }
        return out;
    }

    @Override
    public String toString() {
        return CLASS_NAME + Arrays.asList(channels, layers, height, width);
    }
}
