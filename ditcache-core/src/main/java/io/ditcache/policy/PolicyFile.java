package io.ditcache.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.ditcache.CachePolicy;
import io.ditcache.RedundancyProfile;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.JsonFiles;
import io.ditcache.io.Messages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * A cache policy as a JSON file: either a compute mask ({@value ComputeMask#FORMAT},
 * {@value ComputeMask#WEIGHTED_FORMAT} or {@value ComputeMask#DECISIONS_FORMAT}, made by the {@code policy}
 * command; read as a {@link ProfileGuidedPolicy}) or a policy description, the object
 * {@link CachePolicy#describe()} returns ({@code {"name": "fora", "interval": 3}}; read with
 * {@link Policies#create(String, Map, RedundancyProfile)}).
 */
public final class PolicyFile {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PolicyFile() {
    }

    /**
     * Reads a policy.
     *
     * @param profile for descriptions of policies that learn from a profile (TeaCache, MagCache) and give no
     *                coefficients or ratios; may be null
     * @throws IOException naming the file and what is wrong with it
     */
    public static CachePolicy read(Path file, RedundancyProfile profile) throws IOException {
        JsonNode root = JsonFiles.readTree(JSON, file);
        if (root == null || !root.isObject()) {
            throw new IOException(file + ": expected a JSON object (a compute mask or a policy description)");
        }
        String format = root.path("format").asText(null);
        if (ComputeMask.FORMAT.equals(format) || ComputeMask.WEIGHTED_FORMAT.equals(format)
                || ComputeMask.DECISIONS_FORMAT.equals(format)) {
            CachePolicy mask = new ProfileGuidedPolicy(ComputeMask.read(file));
            JsonNode approx = root.get("approximation");
            return approx == null ? mask : Policies.withApproximation(mask, approximation(file, approx));
        }
        if (!root.path("name").isTextual()) {
            throw new IOException(file + ": key \"name\" is " + root.get("name") + ", expected a policy name (one of "
                    + Policies.names() + ") or \"format\": \"" + ComputeMask.FORMAT + "\"");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> params = JSON.convertValue(root, Map.class);
        String name = (String) params.remove("name");
        try {
            return Policies.create(name, params, profile);
        } catch (IllegalArgumentException e) {
            throw new IOException(Messages.oneLine(file + ": " + e.getMessage()), e);
        }
    }

    /** Writes {@code policy.describe()} as a policy description, atomically. */
    public static void write(CachePolicy policy, Path file) throws IOException {
        AtomicFiles.write(file, tmp -> JSON.writeValue(tmp.toFile(), policy.describe()));
    }

    private static io.ditcache.Approximation approximation(Path file, JsonNode n) throws IOException {
        if (!n.canConvertToInt() || n.asInt() < 0 || n.asInt() > 2) {
            throw new IOException(file + ": key \"approximation\" is " + n + ", expected 0 (reuse), 1 or 2 (Taylor "
                    + "order)");
        }
        return new io.ditcache.Approximation(n.asInt());
    }
}
