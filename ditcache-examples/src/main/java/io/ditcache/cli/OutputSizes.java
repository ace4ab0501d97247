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

    /** A training run: train state (weights, EMA, two optimiser moments) and the model, float32. */
    static long training(long parameters) {
        return 5 * parameters * Float.BYTES + BYTES_PER_PAGE;
    }
}
