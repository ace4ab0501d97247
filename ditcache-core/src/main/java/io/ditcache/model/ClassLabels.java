package io.ditcache.model;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Class labels, one per row (DiT). Which labels a model knows, and which one it uses as the null class of
 * classifier-free guidance, is the model's business ({@link DenoiserInfo#classes()},
 * {@link Denoiser#unconditional}); here a label only has to be non-negative.
 *
 * @param labels one label per row, >= 0 (copied)
 * @param size   the latent size asked for; empty for the model's default
 */
public record ClassLabels(long[] labels, Optional<LatentSize> size) implements Conditioning {
    public ClassLabels {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(size, "size");
        if (labels.length == 0) {
            throw new IllegalArgumentException("class_labels is empty, expected one label per row");
        }
        labels = labels.clone();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("class_labels[" + i + "] is " + labels[i] + ", expected >= 0");
            }
        }
    }

    /** Labels at the model's default latent size. */
    public static ClassLabels of(long... labels) {
        return new ClassLabels(labels, Optional.empty());
    }

    /** These labels at latent size {@code size}. */
    public ClassLabels at(LatentSize size) {
        return new ClassLabels(labels, Optional.of(size));
    }

    @Override
    public long[] labels() {
        return labels.clone();
    }

    /** Label of row {@code row}. */
    public long label(int row) {
        return labels[row];
    }

    @Override
    public int rows() {
        return labels.length;
    }

    @Override
    public Conditioning concat(Conditioning next) {
        if (!(next instanceof ClassLabels other)) {
            throw new IllegalArgumentException("cannot stack class labels with " + next.getClass().getSimpleName()
                    + " in one batch");
        }
        return concat(List.of(this, other));
    }

    static ClassLabels concat(List<ClassLabels> parts) {
        long[] all = new long[parts.stream().mapToInt(ClassLabels::rows).sum()];
        int at = 0;
        for (ClassLabels p : parts) {
            Conditioning.checkSameSize(parts.get(0), p);
            System.arraycopy(p.labels, 0, all, at, p.labels.length);
            at += p.labels.length;
        }
        return new ClassLabels(all, parts.get(0).size());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassLabels c && Arrays.equals(labels, c.labels) && size.equals(c.size);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(labels) + size.hashCode();
    }

    @Override
    public String toString() {
        return "ClassLabels" + Arrays.toString(labels) + size.map(s -> " at " + s).orElse("");
    }
}
