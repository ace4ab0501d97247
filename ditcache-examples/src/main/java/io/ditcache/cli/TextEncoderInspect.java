package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.text.TextEncoderDescription;
import io.ditcache.model.text.TextEncoders;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;

/** {@code inspect} of a text encoder: its class and parameter count from the config, and the weights' headers. */
final class TextEncoderInspect {
    private TextEncoderInspect() {
    }

    /**
     * Prints the encoder of the folder {@code model}, or of the config file {@code config} when {@code model} is
     * null.
     */
    static void print(PrintWriter o, Path model, Path config) throws IOException {
        if (model == null) {
            print(o, DiffusersConfig.read(config));
            return;
        }
        try (Checkpoint ckpt = Checkpoint.open(model)) {
            TextEncoderDescription d = print(o, ckpt.config());
            InspectCommand.weights(o, ckpt, d.parameterCount());
        }
    }

    private static TextEncoderDescription print(PrintWriter o, DiffusersConfig config) throws IOException {
        TextEncoderDescription d = TextEncoders.describe(config);
        o.println("config: " + config.source());
        o.println("class: " + d.className() + " (text encoder)");
        o.println("vocabulary: " + d.vocabSize());
        o.println("parameters: " + d.parameterCount());
        o.println("parameter tensors: " + d.parameters().size());
        return d;
    }
}
