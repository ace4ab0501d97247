package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.pipeline.PipelineFolder;
import io.ditcache.model.text.TextEncoders;
import io.ditcache.model.vae.Vaes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.Locale;

/**
 * {@code inspect --model PIPELINE_DIR}: every component of {@code model_index.json} with its class and, for the
 * transformer, the text encoders and the VAE, its parameter count from its config alone; then the transformer as
 * {@code inspect} describes a transformer folder.
 */
final class PipelineInspect {
    private PipelineInspect() {
    }

    static void print(PrintWriter o, PipelineFolder p) throws IOException {
        o.println("pipeline: " + p.dir() + " (" + p.className() + ")");
        long total = 0;
        for (PipelineFolder.Component c : p.components().values()) {
            String what;
            Long params = null;
            java.nio.file.Path config = c.dir().resolve(Checkpoint.CONFIG);
            if (c.name().equals(PipelineFolder.TRANSFORMER)) {
                params = InspectCommand.describe(read(config, c)).parameterCount();
            } else if (c.name().startsWith("text_encoder")) {
                DiffusersConfig dc = read(config, c);
                if (TextEncoders.isTextEncoder(dc)) {
                    params = TextEncoders.describe(dc).parameterCount();
                }
            } else if (c.name().equals(PipelineFolder.VAE)) {
                DiffusersConfig dc = read(config, c);
                if (Vaes.isVae(dc)) {
                    params = Vaes.describe(dc).parameterCount();
                }
            }
            what = params == null ? (c.name().startsWith("text_encoder") || c.name().equals(PipelineFolder.VAE)
                    ? "not loaded by ditcache" : "no parameters")
                    : String.format(Locale.ROOT, "parameters: %d", params);
            if (params != null) {
                total += params;
            }
            o.println("  " + c.name() + ": " + c.className() + " (" + c.library() + "), " + what);
        }
        o.println("parameters: " + total + " (all components)");
    }

    private static DiffusersConfig read(java.nio.file.Path config, PipelineFolder.Component c) throws IOException {
        if (!Files.isRegularFile(config)) {
            throw new CheckpointException(c.dir() + ": no " + Checkpoint.CONFIG + " for component \"" + c.name()
                    + "\" (" + c.className() + ")");
        }
        return DiffusersConfig.read(config);
    }
}
