package io.ditcache.cli;

import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.vae.VaeConfig;
import io.ditcache.model.vae.VaeDescription;
import io.ditcache.model.vae.Vaes;
import java.io.PrintWriter;

/** {@code inspect} on a VAE ({@code AutoencoderKL}): its sizes and parameter counts, from the config alone. */
final class VaeInspect {
    private VaeInspect() {
    }

    /**
     * Prints what {@code config} defines and returns the parameter count.
     *
     * @throws CheckpointException as {@link Vaes#config}
     */
    static long print(PrintWriter o, DiffusersConfig config) throws CheckpointException {
        VaeConfig c = Vaes.config(config);
        VaeDescription d = Vaes.describe(config);
        o.println("config: " + config.source());
        o.println("class: " + d.className() + " (vae)");
        o.println("latent channels: " + c.latentChannels() + ", image channels: " + c.inChannels() + " in, "
                + c.outChannels() + " out, downsampling x" + (1 << c.downsamplings()));
        o.println("blocks: " + c.blocks() + " down, " + c.blocks() + " up, widths " + c.blockOutChannels()
                + ", layers_per_block " + c.layersPerBlock());
        o.println("scaling_factor: " + c.scalingFactor() + ", shift_factor: " + c.shiftFactor());
        o.println("parameters: " + d.parameterCount());
        o.println("encoder parameters: " + d.parameterCount("encoder."));
        o.println("decoder parameters: " + d.parameterCount("decoder."));
        o.println("parameter tensors: " + d.parameters().size());
        return d.parameterCount();
    }
}
