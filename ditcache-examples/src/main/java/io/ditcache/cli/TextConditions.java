package io.ditcache.cli;

import io.ditcache.model.Denoiser;
import io.ditcache.sample.PromptEmbeddings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;

/**
 * What the commands condition a model on: class labels for a class-conditional model (DiT), prompts' text
 * embeddings from {@code --embeddings FILE} for a text model (PixArt, SD3, FLUX). Options of the other kind are
 * refused with one line naming the model.
 */
final class TextConditions {
    /** What an embeddings file holds, for messages. */
    static final String FILE_HINT = "(safetensors: encoder_hidden_states, pooled_projections, ...)";

    private TextConditions() {
    }

    /** Whether {@code model} is conditioned on text embeddings (it knows no class labels). */
    static boolean text(Denoiser model) {
        return !model.info().classConditional();
    }

    /** Refuses an {@code --embeddings} file that is not there, before any model is loaded. */
    static void checkFile(CommandLine cl, Path embeddings) {
        if (embeddings != null && !Files.isRegularFile(embeddings)) {
            throw new CommandLine.ParameterException(cl, "--embeddings " + embeddings + ": no such file (expected "
                    + "prompt embeddings " + FILE_HINT + ")");
        }
    }

    /**
     * The prompts for a text model, or null for a class-conditional one; options of the other kind are refused.
     *
     * @param modelName   how the user named the model
     * @param classLabels whether {@code --class-labels} was given
     * @throws CommandLine.ParameterException for a text model without {@code --embeddings}, class labels for a text
     *                                        model, embeddings for a class-conditional one
     * @throws IllegalArgumentException       for a file the reader or the model refuses, naming the file
     */
    static PromptEmbeddings prepare(CommandLine cl, Denoiser model, String modelName, Path embeddings,
            boolean classLabels) throws IOException {
        String cls = model.info().className();
        if (text(model)) {
            if (classLabels) {
                throw new CommandLine.ParameterException(cl, "--class-labels: " + modelName + " (" + cls + ") is "
                        + "conditioned on text embeddings, not class labels; give --embeddings FILE " + FILE_HINT);
            }
            if (embeddings == null) {
                throw new CommandLine.ParameterException(cl, modelName + ": " + cls + " is conditioned on text "
                        + "embeddings; give --embeddings FILE " + FILE_HINT);
            }
            return read(embeddings, model);
        }
        if (embeddings != null) {
            throw new CommandLine.ParameterException(cl, "--embeddings " + embeddings + ": " + modelName + " (" + cls
                    + ") is conditioned on class labels, not text embeddings; give --class-labels (or neither)");
        }
        return null;
    }

    /** Reads {@code file} and checks it against {@code model}; every refusal names the file. */
    static PromptEmbeddings read(Path file, Denoiser model) throws IOException {
        PromptEmbeddings e = PromptEmbeddings.read(file);
        try {
            e.checkAgainst(model);
        } catch (RuntimeException x) {
            e.close();
            throw x;
        }
        return e;
    }

    /** What identifies the prompts in a study: file name, digest of its bytes, counts. */
    static Map<String, Object> identity(PromptEmbeddings e) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", e.file().getFileName().toString());
        m.put("sha256", sha256(e.file()).substring(0, 16));
        m.put("count", e.prompts());
        m.put("negatives", e.hasNegatives());
        return m;
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException x) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", x);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), sha)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
