package io.ditcache.cli;

import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.sample.PromptEmbeddings;
import io.ditcache.sample.Sampler;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** {@code --frames N}: the latent frames a video family samples (its default size otherwise). */
final class FramesOption {
    @Option(names = "--frames", paramLabel = "N",
            description = "latent frames for a video model (default: the model's own; the family refuses a count "
                    + "it cannot make)")
    Integer frames;

    /**
     * The latent size the conditions ask for: empty without {@code --frames}; else {@code N} frames at the model's
     * default height and width, checked by the family.
     *
     * @throws CommandLine.ParameterException for a class-label or image model, or a count the family refuses
     */
    Optional<LatentSize> size(CommandLine cl, Denoiser model, PromptEmbeddings prompts, double guidance) {
        if (frames == null) {
            return Optional.empty();
        }
        OptionChecks.count(cl, "--frames", frames, 1, Integer.MAX_VALUE, null);
        String name = model.info().className();
        if (prompts == null) {
            throw new CommandLine.ParameterException(cl, "--frames " + frames + ": " + name
                    + " is conditioned on class labels and makes images (one frame)");
        }
        long[] shape = Sampler.latentShape(model, prompts.prompt(0, Optional.empty()), guidance);
        if (shape.length < 4 && frames != 1) {
            throw new CommandLine.ParameterException(cl, "--frames " + frames + ": " + name
                    + " makes images (one frame)");
        }
        LatentSize size = new LatentSize(frames, shape[shape.length - 2], shape[shape.length - 1]);
        try {
            Sampler.latentShape(model, prompts.prompt(0, Optional.of(size)), guidance);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, "--frames " + frames + ": " + e.getMessage());
        }
        return Optional.of(size);
    }
}
