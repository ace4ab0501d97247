package io.ditcache.profile;

import io.ditcache.ActivationProbe;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A probe that keeps a float32 copy of selected activations of one call, named as {@code run --capture} writes
 * them: {@code block.{i}.k}, {@code block.{i}.v}, {@code block.{i}.a}, ..., and for the text stream of joint
 * models {@code block.{i}.ek}, {@code .ev}, {@code .ea} (the paper's names) and {@code .out_ctx} The copies belong to the capture;
 * {@link #close()} releases them.
 */
public final class ActivationCapture implements ActivationProbe, AutoCloseable {
    private static final Map<SiteKind, String> SUFFIX = new EnumMap<>(Map.of(SiteKind.K, "k", SiteKind.V, "v",
            SiteKind.ATTN_OUT, "a", SiteKind.MLP_OUT, "mlp", SiteKind.BLOCK_OUT, "out", SiteKind.BLOCK_RESIDUAL,
            "residual", SiteKind.MODULATED_INPUT, "modulated_input"));
    private static final Map<SiteKind, String> TEXT = new EnumMap<>(Map.of(SiteKind.K, "ek", SiteKind.V, "ev",
            SiteKind.ATTN_OUT, "ea"));
    private final Set<SiteKind> kinds;
    private final Map<String, Tensor> captured = new LinkedHashMap<>();

    public ActivationCapture(Set<SiteKind> kinds) {
        this.kinds = Set.copyOf(kinds);
    }

    /** The capture name of a site: {@code block.{layer}.{k|v|a|mlp|out|residual|modulated_input}}. */
    public static String name(Site site) {
        String base = "block." + site.layer() + ".";
        if (site.stream() == io.ditcache.TokenStream.TEXT) {
            // the paper's ek, ev, ea for a joint model's text stream; other kinds as diffusers' out_ctx
            String text = TEXT.get(site.kind());
            return base + (text != null ? text : SUFFIX.get(site.kind()) + "_ctx");
        }
        return base + SUFFIX.get(site.kind());
    }

    @Override
    public boolean wants(Site site) {
        return kinds.contains(site.kind());
    }

    @Override
    public void observe(Step step, Site site, Tensor activation) {
        Tensor copy = activation.to(ScalarType.Float).contiguous().clone();
        copy.retainReference();
        Tensor old = captured.put(name(site), copy);
        if (old != null) {
            old.releaseReference();
        }
    }

    /** Captured tensors in observation order (still owned by this capture). */
    public Map<String, Tensor> tensors() {
        return java.util.Collections.unmodifiableMap(captured);
    }

    @Override
    public void close() {
        captured.values().forEach(Tensor::releaseReference);
        captured.clear();
    }
}
