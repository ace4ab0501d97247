package io.ditcache.cli;

import io.ditcache.model.Denoiser;

/**
 * What the commands write, sized from the model and the options before any sampling, for {@link
 * OptionChecks#space}: generous estimates measured on the embedded default (a 10-step profile writes 56 series,
 * 2.4 MB: JSON about 50 and CSV about 90 bytes per series cell, about 40 KB per PNG), not exact sizes.
 */
final class OutputSizes {
    /** Series of a profile per token stream: 7 site kinds x 2 branches x 4 metrics. */
    static final long SERIES_PER_STREAM = 56;
    /** Bytes of JSON and CSV per series cell (layer x step transition), with room. */
    static final long BYTES_PER_CELL = 200;
    /** Bytes of one figure (PNG), with room. */
    static final long BYTES_PER_FIGURE = 100_000;
    /** Bytes of a page and the small files beside it. */
    static final long BYTES_PER_PAGE = 200_000;

    private OutputSizes() {
    }

    /** Series a profile of {@code model} holds: text models are measured on two streams. */
    static long series(Denoiser model) {
        return SERIES_PER_STREAM * (TextConditions.text(model) ? 2 : 1);
    }

    /** A profile's files: JSON, CSV, a heatmap per series, curves and the page. */
    static long profile(Denoiser model, int steps) {
        long cells = series(model) * model.layers() * Math.max(1, steps - 1);
        return cells * BYTES_PER_CELL + (series(model) + 4) * BYTES_PER_FIGURE + BYTES_PER_PAGE;
    }

    /**
     * A study's files: each run's exact distances (doubles, every series cell), a profile per group, and the
     * report's figures.
     */
    static long study(Denoiser model, int steps, long runs, long groups) {
        long cells = series(model) * model.layers() * Math.max(1, steps - 1);
        return runs * (cells * Double.BYTES + 4096) + groups * cells * BYTES_PER_CELL
                + groups * 8 * BYTES_PER_FIGURE + BYTES_PER_PAGE;
    }

    /** Sample PNGs or latents of {@code samples} samples of {@code elements} values each. */
    static long samples(long samples, long elements) {
        return samples * elements * Float.BYTES + BYTES_PER_PAGE;
    }

    /**
     * One forward's output, float32 (twice the input for a learned variance), and with {@code capture} each block's
     * K, V and attention output {@code [batch, tokens, width]}: tokens are the input's positions over the patch
     * area ({@code patch_size}), width {@code num_attention_heads x attention_head_dim} of the config (1 where the
     * config does not say); the text stream of joint models is not counted.
     */
    static long forward(Denoiser model, long[] hiddenStates, boolean capture) {
        long numel = 1;
        for (long d : hiddenStates) {
            numel = Math.multiplyExact(numel, Math.max(1, d));
        }
        long bytes = 2 * numel * Float.BYTES;
        if (capture && hiddenStates.length >= 2) {
            java.util.Map<String, Object> c = model.info().config();
            long batch = Math.max(1, hiddenStates[0]);
            long channels = Math.max(1, hiddenStates.length == 3 ? hiddenStates[2] : hiddenStates.length == 5
                    ? hiddenStates[2] : hiddenStates[1]);
            long patch = Math.max(1, number(c, "patch_size"));
            long tokens = Math.max(1, numel / batch / channels / (hiddenStates.length == 3 ? 1 : patch * patch));
            long width = Math.max(1, number(c, "num_attention_heads") * number(c, "attention_head_dim"));
            bytes += 3L * model.layers() * batch * tokens * width * Float.BYTES;
        }
        return bytes;
    }

    private static long number(java.util.Map<String, Object> config, String key) {
        return config.get(key) instanceof Number n ? n.longValue() : 1;
    }

    /** A training run: train state (weights, EMA, two optimiser moments) and the model, float32. */
    static long training(long parameters) {
        return 5 * parameters * Float.BYTES + BYTES_PER_PAGE;
    }
}
