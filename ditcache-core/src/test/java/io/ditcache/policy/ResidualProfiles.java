package io.ditcache.policy;

import io.ditcache.RedundancyProfile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;

/** Profiles for the planner's tests: synthetic ones with known distances, and trimmed real ones. */
final class ResidualProfiles {
    private ResidualProfiles() {
    }

    /** A profile whose {@link ReuseErrorModel#SERIES} mean at {@code [layer][s]} is {@code distances[layer][s]}. */
    static RedundancyProfile of(double[][] distances) {
        RedundancyProfile p = new RedundancyProfile(Map.of("name", "synthetic"), Map.of("name", "ddim"),
                distances.length, distances[0].length + 1);
        for (int l = 0; l < distances.length; l++) {
            for (int s = 0; s < distances[l].length; s++) {
                p.add(ReuseErrorModel.SERIES, l, s, distances[l][s]);
            }
        }
        p.countRun();
        return p;
    }

    /** A real profile of the default model, e.g. {@code ddim-50} (see fixtures/profiles/README.md). */
    static RedundancyProfile real(String schedulerAndSteps) {
        String name = "/fixtures/profiles/default-" + schedulerAndSteps + "-block-residual.json";
        try {
            return RedundancyProfile.readJson(Path.of(ResidualProfiles.class.getResource(name).toURI()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(name, e);
        }
    }

    /** {@code rows} rows of {@code columns} copies of {@code value}. */
    static double[][] uniform(int rows, int columns, double value) {
        double[][] d = new double[rows][columns];
        for (double[] r : d) {
            java.util.Arrays.fill(r, value);
        }
        return d;
    }
}
