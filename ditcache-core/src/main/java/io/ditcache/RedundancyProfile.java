package io.ditcache;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Mergeable redundancy statistics of one model under one sampling setup: for every {@link SeriesKey}, a
 * {@code [layer][step]} grid of per-cell count, mean and M2 over samples. Step {@code s} is the transition from
 * call {@code s} to call {@code s+1}, so an N-step run fills {@code N-1} columns.
 *
 * <p>A run is one sampling call; it may draw several samples side by side (one per condition), and each sample
 * adds one observation per cell. {@link #runs()} counts the calls, {@link #samples()} the trajectories, which is
 * what the per-cell statistics are taken over.
 *
 * <p>Profiles made on different machines merge exactly ({@link #merge}). Files: {@link #writeJson} (format
 * {@value #FORMAT}) and {@link #writeCsv}.
 */
public final class RedundancyProfile {
    /** The JSON format tag. */
    public static final String FORMAT = "ditcache-profile/1";
    private static final int STREAMS = TokenStream.values().length;
    private static final int BRANCHES = Branch.values().length;
    private static final int METRICS = DistanceMetric.values().length;

    private final Map<String, Object> model;
    private final Map<String, Object> scheduler;
    private final int layers;
    private final int steps;
    private final TreeMap<SeriesKey, ProfileSeries> series = new TreeMap<>();
    /**
     * The same series by their keys' ordinals ({@link #slot}), for the per-observation lookup of {@link #add}: no
     * hashing (a record's hash code is worked out anew at each call).
     */
    private final ProfileSeries[] index = new ProfileSeries[SiteKind.values().length * STREAMS * BRANCHES * METRICS];
    private long runs;
    private long samples;

    /**
     * An empty profile.
     *
     * @param model     model identity (free-form, JSON-friendly values)
     * @param scheduler scheduler identity and settings (free-form, JSON-friendly values)
     * @param layers    number of blocks
     * @param steps     number of sampling steps N (the grid has N-1 columns)
     */
    public RedundancyProfile(Map<String, Object> model, Map<String, Object> scheduler, int layers, int steps) {
        if (layers < 1) {
            throw new IllegalArgumentException("layers must be >= 1, got " + layers);
        }
        if (steps < 2) {
            throw new IllegalArgumentException("steps must be >= 2 (a profile measures transitions), got " + steps);
        }
        this.model = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(model, "model")));
        this.scheduler = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(scheduler, "scheduler")));
        this.layers = layers;
        this.steps = steps;
    }

    public Map<String, Object> model() {
        return model;
    }

    public Map<String, Object> scheduler() {
        return scheduler;
    }

    public int layers() {
        return layers;
    }

    /** Sampling steps N; the matrices have {@code N-1} columns. */
    public int steps() {
        return steps;
    }

    /** Number of completed runs (sampling calls) folded in. */
    public long runs() {
        return runs;
    }

    /**
     * Number of samples (trajectories) folded in over all runs: what the per-cell means, standard deviations
     * and CVs are taken over.
     */
    public long samples() {
        return samples;
    }

    /** Records that one more run of one sample has been folded in. */
    public void countRun() {
        countRun(1);
    }

    /**
     * Records that one more run has been folded in, which drew {@code samples} samples side by side.
     *
     * @throws IllegalArgumentException if {@code samples < 0}
     */
    public void countRun(long samples) {
        if (samples < 0) {
            throw new IllegalArgumentException("samples must be >= 0, got " + samples);
        }
        runs++;
        this.samples += samples;
    }

    /** Adds one observation; non-finite values are counted apart, never averaged in. */
    public void add(SeriesKey key, int layer, int step, double value) {
        if (layer < 0 || layer >= layers) {
            throw new IndexOutOfBoundsException("layer " + layer + " not in [0, " + layers + ")");
        }
        if (step < 0 || step >= steps - 1) {
            throw new IndexOutOfBoundsException("step " + step + " not in [0, " + (steps - 1) + ")");
        }
        ProfileSeries s = index[slot(key)];
        if (s == null) {
            s = new ProfileSeries(key, layers, steps - 1);
            putSeries(s);
        }
        s.add(layer, step, value);
    }

    /** All series, ordered by kind, stream, branch, metric. */
    public List<ProfileSeries> series() {
        return List.copyOf(series.values());
    }

    public Optional<ProfileSeries> series(SeriesKey key) {
        return Optional.ofNullable(series.get(key));
    }

    /** The paper's scalar summary for one series: mean of the per-cell CVs. */
    public double meanCv(SeriesKey key) {
        return series(key).map(ProfileSeries::meanCv).orElse(Double.NaN);
    }

    /** Whether any cell of any series saw a NaN or infinite distance. */
    public boolean hasNonFinite() {
        return series.values().stream().anyMatch(ProfileSeries::hasNonFinite);
    }

    /**
     * A new profile holding both profiles' statistics. Both must describe the same model, scheduler, layers
     * and steps.
     */
    public RedundancyProfile merge(RedundancyProfile other) {
        if (layers != other.layers || steps != other.steps) {
            throw new IllegalArgumentException("cannot merge profiles of " + layers + " layers x " + steps
                    + " steps with " + other.layers + " layers x " + other.steps + " steps");
        }
        if (!model.equals(other.model)) {
            throw new IllegalArgumentException("cannot merge profiles of different models: " + model + " vs "
                    + other.model);
        }
        if (!scheduler.equals(other.scheduler)) {
            throw new IllegalArgumentException("cannot merge profiles of different schedulers: " + scheduler
                    + " vs " + other.scheduler);
        }
        RedundancyProfile out = new RedundancyProfile(model, scheduler, layers, steps);
        for (ProfileSeries s : series.values()) {
            out.putSeries(s.copy());
        }
        for (ProfileSeries s : other.series.values()) {
            ProfileSeries mine = out.index[slot(s.key())];
            if (mine == null) {
                mine = new ProfileSeries(s.key(), layers, steps - 1);
                out.putSeries(mine);
            }
            mine.merge(s);
        }
        out.runs = runs + other.runs;
        out.samples = samples + other.samples;
        return out;
    }

    /** Writes the JSON file atomically (temporary file, then move). */
    public void writeJson(Path file) throws IOException {
        ProfileCodec.writeJson(this, file);
    }

    /** Writes one CSV row per series and cell, atomically. */
    public void writeCsv(Path file) throws IOException {
        ProfileCodec.writeCsv(this, file);
    }

    /** Reads a profile JSON file, validating format, shapes and statistics. */
    public static RedundancyProfile readJson(Path file) throws IOException {
        return ProfileCodec.readJson(file);
    }

    void putSeries(ProfileSeries s) {
        if (s.layers() != layers || s.steps() != steps - 1) {
            throw new IllegalArgumentException("series " + s.key() + " is " + s.layers() + "x" + s.steps()
                    + ", profile needs " + layers + "x" + (steps - 1));
        }
        series.put(s.key(), s);
        index[slot(s.key())] = s;
    }

    /** Where a key's series sits in {@link #index}. */
    private static int slot(SeriesKey k) {
        return ((k.kind().ordinal() * STREAMS + k.stream().ordinal()) * BRANCHES + k.branch().ordinal()) * METRICS
                + k.metric().ordinal();
    }

    void setRuns(long runs) {
        this.runs = runs;
    }

    void setSamples(long samples) {
        this.samples = samples;
    }

    List<SeriesKey> keys() {
        return new ArrayList<>(series.keySet());
    }
}
