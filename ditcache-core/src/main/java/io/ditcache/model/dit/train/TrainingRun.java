package io.ditcache.model.dit.train;

import io.ditcache.data.ImageSet;
import io.ditcache.io.AtomicFiles;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.train.TrainingOptions;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A training run in a folder: resumes from {@value #STATE} when present, appends to {@value #LOSS} after every
 * step, and every {@code checkpointEvery} steps (and at the end) writes the state and the EMA model as a
 * diffusers checkpoint in {@value #MODEL}.
 */
public final class TrainingRun {
    public static final String STATE = "train-state.safetensors";
    public static final String LOSS = "loss.csv";
    public static final String MODEL = "model";
    private static final Logger LOG = LoggerFactory.getLogger(TrainingRun.class);

    /** Told after every step. */
    @FunctionalInterface
    public interface Listener {
        void stepDone(long step, double loss, double seconds);
    }

    private TrainingRun() {
    }

    /**
     * Trains up to {@code options.steps()} in {@code dir}.
     *
     * @return the trainer at the end (its {@link DiTTrainer#ema()} is the model to sample from)
     */
    public static DiTTrainer run(DiTConfig config, TrainingOptions options, ImageSet data, Path dir,
            int checkpointEvery, Listener listener) throws IOException {
        Files.createDirectories(dir);
        Path state = dir.resolve(STATE);
        DiTTrainer trainer;
        if (Files.exists(state)) {
            trainer = DiTTrainer.resume(config, options, state);
            LOG.info("resumed {} at step {}", state, trainer.step());
        } else {
            trainer = new DiTTrainer(config, options);
            Files.deleteIfExists(dir.resolve(LOSS));
        }
        truncateLoss(dir.resolve(LOSS), trainer.step());
        long start = System.nanoTime();
        while (trainer.step() < options.steps()) {
            double loss = trainer.trainStep(data);
            double seconds = (System.nanoTime() - start) / 1e9;
            Files.writeString(dir.resolve(LOSS), String.format(Locale.ROOT, "%d,%.6f,%.3g,%.1f%n", trainer.step(), loss,
                    options.learningRate(trainer.step() - 1), seconds), StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            listener.stepDone(trainer.step(), loss, seconds);
            if (trainer.step() % checkpointEvery == 0 || trainer.step() == options.steps()) {
                checkpoint(trainer, dir);
            }
        }
        return trainer;
    }

    static void checkpoint(DiTTrainer trainer, Path dir) throws IOException {
        trainer.saveState(dir.resolve(STATE));
        trainer.saveModel(dir.resolve(MODEL), Map.of());
    }

    /** Keeps the loss log consistent with the state a resumed run starts from. */
    private static void truncateLoss(Path loss, long step) throws IOException {
        StringBuilder keep = new StringBuilder();
        if (Files.exists(loss)) {
            for (String line : Files.readAllLines(loss)) {
                if (!line.isBlank() && Long.parseLong(line.substring(0, line.indexOf(','))) <= step) {
                    keep.append(line).append('\n');
                }
            }
        } else {
            keep.append("");
        }
        AtomicFiles.writeString(loss, keep.toString());
    }
}
