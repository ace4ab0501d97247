package io.ditcache.study;

import io.ditcache.internal.Tensors;
import io.ditcache.model.Denoiser;
import io.ditcache.sched.Schedulers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.bytedeco.pytorch.Tensor;

/**
 * A model as a study records it: a label (used in file names and tables), a fingerprint of its weights (so that
 * shards of different models never merge) and its identity as profiles record it.
 *
 * @param label       letters, digits, '.', '_' and '-'
 * @param fingerprint first 16 hex digits of SHA-256 over the parameters (float32, key order)
 * @param identity    {@link Profiling#describe} of the model under {@code label}
 * @param schedulerConfig the keys of the checkpoint's {@code scheduler_config.json} (empty: diffusers'
 *                    defaults); its class decides which schedulers the model's training objective allows
 */
public record StudyModel(String label, String fingerprint, Map<String, Object> identity,
        Map<String, Object> schedulerConfig) {
    /** The identity key of the prompts a text model's conditions come from (file name, digest, count). */
    public static final String PROMPTS = "prompts";
    private static final Pattern LABEL = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    public StudyModel {
        Objects.requireNonNull(label, "label");
        if (!LABEL.matcher(label).matches() || label.startsWith(".")) {
            throw new IllegalArgumentException("model label \"" + label
                    + "\": expected 1 to 100 letters, digits, '.', '_' or '-', not starting with '.'");
        }
        Objects.requireNonNull(fingerprint, "fingerprint");
        identity = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(identity));
        schedulerConfig = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(schedulerConfig));
    }

    /**
     * The schedulers this model's training objective allows: a scheduler made for one objective alone for a
     * model whose scheduler config is of its class ({@code flowmatch} for {@code FlowMatchEulerDiscreteScheduler},
     * {@code cogvideox-ddim} for CogVideoX's SNR-shifted, zero-terminal-SNR {@code CogVideoXDDIMScheduler},
     * {@code rflow} for Open-Sora's {@code RFLOW}); every other one for a DDPM-trained model.
     */
    public List<String> allowedSchedulers() {
        String own = OWN_SCHEDULERS.get(String.valueOf(schedulerConfig.get("_class_name")));
        if (own != null) {
            return List.of(own);
        }
        return Schedulers.names().stream().filter(n -> !OWN_SCHEDULERS.containsValue(n)).toList();
    }

    /** Schedulers made for one training objective, by the scheduler config class that names it. */
    private static final Map<String, String> OWN_SCHEDULERS = Map.of("FlowMatchEulerDiscreteScheduler", "flowmatch",
            "CogVideoXDDIMScheduler", "cogvideox-ddim", "RFLOW", "rflow");

    /** Describes {@code model} under {@code label}. */
    public static StudyModel of(String label, Denoiser model, Map<String, Object> schedulerConfig) {
        return new StudyModel(label, fingerprint(model), Profiling.describe(model, label), schedulerConfig);
    }

    /**
     * Describes a text model under {@code label} whose conditions come from {@code prompts} (recorded in its
     * identity under {@value #PROMPTS}: a study resumed or merged with other prompts is refused).
     */
    public static StudyModel of(String label, Denoiser model, Map<String, Object> schedulerConfig,
            Map<String, Object> prompts) {
        Map<String, Object> identity = new java.util.LinkedHashMap<>(Profiling.describe(model, label));
        identity.put(PROMPTS, new java.util.LinkedHashMap<>(prompts));
        return new StudyModel(label, fingerprint(model), identity, schedulerConfig);
    }

    /** A label made of the allowed characters of {@code name} (others become '_'). */
    public static String labelFor(String name) {
        String s = name.replaceAll("[^A-Za-z0-9._-]", "_");
        if (s.isEmpty() || s.startsWith(".")) {
            s = "m" + s;
        }
        return s.length() > 100 ? s.substring(0, 100) : s;
    }

    static String fingerprint(Denoiser model) {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
        for (Map.Entry<String, Tensor> e : model.stateDict().entrySet()) {
            sha.update(e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            float[] values = Tensors.toFloats(e.getValue());
            ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            sha.update(b.array());
        }
        return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    }
}
