package io.ditcache.model;

import io.ditcache.internal.Tensors;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A text encoder's output, one prompt per row (PixArt, SD3, FLUX, CogVideoX, Latte, Mochi, Open-Sora), under
 * diffusers' argument names. The tensors are the caller's; {@link #concat} makes new ones in the current
 * {@code PointerScope}.
 *
 * @param hiddenStates {@code encoder_hidden_states}: {@code [rows, tokens, width]}, a float dtype
 * @param mask         {@code encoder_attention_mask}: {@code [rows, tokens]}, bool or integer (1 = attend), for
 *                     models that mask padding tokens; empty if every token counts
 * @param pooled       {@code pooled_projections}: {@code [rows, pooled width]}, a float dtype (SD3's and FLUX's
 *                     pooled CLIP vector); empty for models that take none
 * @param size         the latent size asked for; empty for the model's default
 * @param guidance     the guidance scale for models that take it as an input (FLUX.1-dev's distilled guidance,
 *                     {@code guidance} in diffusers), the same for every row; empty for the others
 */
public record TextEmbeddings(Tensor hiddenStates, Optional<Tensor> mask, Optional<Tensor> pooled,
        Optional<LatentSize> size, OptionalDouble guidance) implements Conditioning {
    private static final Set<ScalarType> FLOATS = Set.of(ScalarType.Float, ScalarType.Half, ScalarType.BFloat16,
            ScalarType.Double);
    private static final Set<ScalarType> MASKS = Set.of(ScalarType.Bool, ScalarType.Long, ScalarType.Int,
            ScalarType.Short, ScalarType.Char, ScalarType.Byte);

    public TextEmbeddings {
        Objects.requireNonNull(hiddenStates, "encoder_hidden_states");
        Objects.requireNonNull(mask, "mask");
        Objects.requireNonNull(pooled, "pooled");
        Objects.requireNonNull(size, "size");
        Objects.requireNonNull(guidance, "guidance");
        if (guidance.isPresent() && !Double.isFinite(guidance.getAsDouble())) {
            throw new IllegalArgumentException("guidance is " + guidance.getAsDouble() + ", expected a finite number");
        }
        long[] h = Tensors.shape(hiddenStates);
        dtype("encoder_hidden_states", hiddenStates, FLOATS);
        if (h.length != 3 || h[0] < 1 || h[1] < 1 || h[2] < 1) {
            throw new IllegalArgumentException("encoder_hidden_states has shape " + Arrays.toString(h)
                    + ", expected [rows, tokens, width] with each >= 1");
        }
        if (h[0] > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("encoder_hidden_states has " + h[0] + " rows, expected at most "
                    + Integer.MAX_VALUE);
        }
        if (mask.isPresent()) {
            long[] m = Tensors.shape(mask.get());
            dtype("encoder_attention_mask", mask.get(), MASKS);
            if (m.length != 2 || m[0] != h[0] || m[1] != h[1]) {
                throw new IllegalArgumentException("encoder_attention_mask has shape " + Arrays.toString(m)
                        + ", expected [" + h[0] + ", " + h[1] + "] (rows and tokens of encoder_hidden_states)");
            }
        }
        if (pooled.isPresent()) {
            long[] p = Tensors.shape(pooled.get());
            dtype("pooled_projections", pooled.get(), FLOATS);
            if (p.length != 2 || p[0] != h[0] || p[1] < 1) {
                throw new IllegalArgumentException("pooled_projections has shape " + Arrays.toString(p)
                        + ", expected [" + h[0] + ", width] (one vector per row of encoder_hidden_states)");
            }
        }
    }

    /** Embeddings without an embedded guidance scale. */
    public TextEmbeddings(Tensor hiddenStates, Optional<Tensor> mask, Optional<Tensor> pooled,
            Optional<LatentSize> size) {
        this(hiddenStates, mask, pooled, size, OptionalDouble.empty());
    }

    /** Embeddings alone (no mask, no pooled vector) at the model's default latent size. */
    public static TextEmbeddings of(Tensor hiddenStates) {
        return new TextEmbeddings(hiddenStates, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** These embeddings at latent size {@code size}. */
    public TextEmbeddings at(LatentSize size) {
        return new TextEmbeddings(hiddenStates, mask, pooled, Optional.of(size), guidance);
    }

    /** These embeddings with the embedded guidance scale {@code scale} (FLUX.1-dev). */
    public TextEmbeddings withGuidance(double scale) {
        return new TextEmbeddings(hiddenStates, mask, pooled, size, OptionalDouble.of(scale));
    }

    /** Tokens per row. */
    public long tokens() {
        return hiddenStates.size(1);
    }

    /** Width of each token's embedding. */
    public long width() {
        return hiddenStates.size(2);
    }

    @Override
    public int rows() {
        return (int) hiddenStates.size(0);
    }

    @Override
    public Conditioning concat(Conditioning next) {
        if (!(next instanceof TextEmbeddings o)) {
            throw new IllegalArgumentException("cannot stack text embeddings with " + next.getClass().getSimpleName()
                    + " in one batch");
        }
        Conditioning.checkSameSize(this, o);
        if (o.tokens() != tokens() || o.width() != width()) {
            throw new IllegalArgumentException("encoder_hidden_states of " + tokens() + " tokens x " + width()
                    + " and of " + o.tokens() + " tokens x " + o.width() + " cannot share a batch (pad the prompts "
                    + "to one length)");
        }
        if (mask.isPresent() != o.mask.isPresent()) {
            throw new IllegalArgumentException("encoder_attention_mask is given for one part and not the other");
        }
        if (pooled.isPresent() != o.pooled.isPresent()
                || pooled.isPresent() && pooled.get().size(1) != o.pooled.get().size(1)) {
            throw new IllegalArgumentException("pooled_projections differ between the parts (" + describe(pooled)
                    + " vs " + describe(o.pooled) + ")");
        }
        if (!guidance.equals(o.guidance)) {
            throw new IllegalArgumentException("guidance is " + guidance + " in one part and " + o.guidance
                    + " in the other; one batch has one embedded guidance scale");
        }
        return new TextEmbeddings(cat(hiddenStates, o.hiddenStates), mask.map(m -> cat(m, o.mask.get())),
                pooled.map(p -> cat(p, o.pooled.get())), size, guidance);
    }

    private static String describe(Optional<Tensor> t) {
        return t.map(x -> "width " + x.size(1)).orElse("none");
    }

    private static Tensor cat(Tensor a, Tensor b) {
        return torch.cat(new TensorVector(a, b), 0);
    }

    private static void dtype(String field, Tensor t, Set<ScalarType> allowed) {
        ScalarType s = t.scalar_type().intern();
        if (!allowed.contains(s)) {
            throw new IllegalArgumentException(field + " has dtype " + s + ", expected one of " + allowed.stream()
                    .map(Enum::name).sorted().toList());
        }
    }
}
