package io.ditcache.profile;

import io.ditcache.SeriesKey;
import java.util.Arrays;

/**
 * Where the comparisons queued in a distance backend go once read back, in the order queued: the series keys of the
 * branch, the layer and the column, and the forecast numerator where one was taken. Parallel arrays that grow to a
 * run's size and are reused, so that queuing allocates nothing per row.
 */
final class PendingCells {
    SeriesKey[][] keys = new SeriesKey[256][];
    int[] layer = new int[256];
    int[] step = new int[256];
    /** {@code sum|b - (2a - p)|}, or NaN with {@link #hasForecast} false. */
    double[] forecast = new double[256];
    boolean[] hasForecast = new boolean[256];
    int size;

    void add(SeriesKey[] seriesKeys, int atLayer, int atStep, boolean withForecast, double forecastSum) {
        if (size == layer.length) {
            int n = 2 * size;
            keys = Arrays.copyOf(keys, n);
            layer = Arrays.copyOf(layer, n);
            step = Arrays.copyOf(step, n);
            forecast = Arrays.copyOf(forecast, n);
            hasForecast = Arrays.copyOf(hasForecast, n);
        }
        keys[size] = seriesKeys;
        layer[size] = atLayer;
        step[size] = atStep;
        hasForecast[size] = withForecast;
        forecast[size] = withForecast ? forecastSum : Double.NaN;
        size++;
    }

    void clear() {
        Arrays.fill(keys, 0, size, null);
        size = 0;
    }
}
