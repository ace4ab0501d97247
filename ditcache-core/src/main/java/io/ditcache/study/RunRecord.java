package io.ditcache.study;

import io.ditcache.Branch;
import io.ditcache.DistanceMetric;
import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.SiteKind;
import io.ditcache.TokenStream;
import io.ditcache.io.Messages;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The distances of one study run, exactly as measured: per series a {@code [layer][step]} matrix of float64
 * values (NaN where the distance was not finite). A study keeps these rather than running sums so that any
 * split into shards, and any interruption, folds the same values in the same order into bit-identical
 * statistics.
 *
 * <p>File: safetensors, one F64 tensor per series named {@code KIND/STREAM/BRANCH/METRIC}, metadata
 * {@code format} = {@value #FORMAT}, model label and fingerprint, scheduler, steps, condition.
 */
public final class RunRecord {
    /** Format tag in the file's metadata. */
    public static final String FORMAT = "ditcache-run/1";

    private final RunKey key;
    private final int layers;
    private final Map<SeriesKey, double[][]> values;

    /** A record of {@code key} with {@code values[series][layer][step]} (copied). */
    public RunRecord(RunKey key, int layers, Map<SeriesKey, double[][]> values) {
        this.key = key;
        this.layers = layers;
        TreeMap<SeriesKey, double[][]> copy = new TreeMap<>();
        values.forEach((k, m) -> copy.put(k, java.util.Arrays.stream(m).map(double[]::clone)
                .toArray(double[][]::new)));
        this.values = Collections.unmodifiableMap(copy);
    }

    /** The values of a profile holding exactly one run. */
    static RunRecord of(RunKey key, RedundancyProfile oneRun) {
        if (oneRun.runs() != 1) {
            throw new IllegalArgumentException("a run record holds one run, the profile holds " + oneRun.runs());
        }
        Map<SeriesKey, double[][]> v = new TreeMap<>();
        for (ProfileSeries s : oneRun.series()) {
            double[][] m = new double[s.layers()][s.steps()];
            for (int l = 0; l < s.layers(); l++) {
                for (int t = 0; t < s.steps(); t++) {
                    // one observation per cell: its value, or NaN when it was not finite
                    m[l][t] = s.count(l, t) == 1 ? s.mean(l, t) : Double.NaN;
                }
            }
            v.put(s.key(), m);
        }
        return new RunRecord(key, oneRun.layers(), v);
    }

    public RunKey key() {
        return key;
    }

    public int layers() {
        return layers;
    }

    public Map<SeriesKey, double[][]> values() {
        return values;
    }

    /** Adds this run's values to {@code profile} (one observation per cell) and counts the run. */
    void foldInto(RedundancyProfile profile) {
        values.forEach((k, m) -> {
            for (int l = 0; l < m.length; l++) {
                for (int t = 0; t < m[l].length; t++) {
                    profile.add(k, l, t, m[l][t]);
                }
            }
        });
        profile.countRun();
    }

    /** Writes the record atomically. */
    void write(Path file, StudyModel model) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .metadata("format", FORMAT)
                .metadata("model", model.label())
                .metadata("fingerprint", model.fingerprint())
                .metadata("scheduler", key.scheduler())
                .metadata("steps", Integer.toString(key.steps()))
                .metadata("condition", Integer.toString(key.condition()));
        values.forEach((k, m) -> {
            double[] flat = new double[layers * (key.steps() - 1)];
            for (int l = 0; l < layers; l++) {
                System.arraycopy(m[l], 0, flat, l * (key.steps() - 1), key.steps() - 1);
            }
            w.put(k.toString(), flat, layers, key.steps() - 1);
        });
        w.write(file);
    }

    /**
     * Reads a record and checks that it is the run {@code expected} of {@code model} with {@code layers} layers.
     *
     * @throws IOException naming the file, the key and what was expected
     */
    static RunRecord read(Path file, RunKey expected, StudyModel model, int layers) throws IOException {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            Map<String, String> meta = f.metadata();
            expect(file, meta, "format", FORMAT);
            expect(file, meta, "model", model.label());
            expect(file, meta, "fingerprint", model.fingerprint());
            expect(file, meta, "scheduler", expected.scheduler());
            expect(file, meta, "steps", Integer.toString(expected.steps()));
            expect(file, meta, "condition", Integer.toString(expected.condition()));
            if (f.names().isEmpty()) {
                throw failure(file + ": holds no series");
            }
            Map<SeriesKey, double[][]> v = new TreeMap<>();
            int cols = expected.steps() - 1;
            for (String name : f.names()) {
                SeriesKey k = parseKey(file, name);
                long[] dims = f.info(name).dims();
                if (dims.length != 2 || dims[0] != layers || dims[1] != cols) {
                    throw failure(file + ": tensor '" + name + "' has shape " + java.util.Arrays.toString(dims)
                            + ", expected [" + layers + ", " + cols + "]");
                }
                if (!f.info(name).dtype().isFloatingPoint()) {
                    throw failure(file + ": tensor '" + name + "' has dtype " + f.info(name).dtype()
                            + ", expected F64 (distances)");
                }
                double[] flat = f.doubles(name);
                double[][] m = new double[layers][];
                for (int l = 0; l < layers; l++) {
                    m[l] = java.util.Arrays.copyOfRange(flat, l * cols, (l + 1) * cols);
                }
                v.put(k, m);
            }
            return new RunRecord(expected, layers, v);
        }
    }

    private static void expect(Path file, Map<String, String> meta, String key, String want) throws IOException {
        String got = meta.get(key);
        if (!want.equals(got)) {
            throw failure(file + ": metadata \"" + key + "\" is " + (got == null ? "missing" : "\"" + got
                    + "\"") + ", expected \"" + want + "\"");
        }
    }

    private static SeriesKey parseKey(Path file, String name) throws IOException {
        String[] p = name.split("/", -1);
        try {
            if (p.length == 4) {
                return new SeriesKey(SiteKind.valueOf(p[0]), TokenStream.valueOf(p[1]), Branch.valueOf(p[2]),
                        DistanceMetric.valueOf(p[3]));
            }
        } catch (IllegalArgumentException e) {
            // reported below
        }
        throw failure(file + ": tensor '" + name + "' is not a series name KIND/STREAM/BRANCH/METRIC");
    }

    /** A reading error on one line, whatever names and values the file holds. */
    private static IOException failure(String message) {
        return new IOException(Messages.oneLine(message));
    }
}
