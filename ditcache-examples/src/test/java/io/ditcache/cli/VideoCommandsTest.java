package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A video family on the command line (the tiny Mochi of the diffusers fixtures) in a checkpoint folder laid out as
 * genmo publishes it, with its own scheduler config: frames chosen with {@code --frames}, and the pipeline's
 * sigmas used whatever the folder's scheduler config says.
 */
class VideoCommandsTest {
    @TempDir
    static Path dir;
    static Path mochi;
    static Path prompts;

    @BeforeAll
    static void files() throws IOException {
        mochi = dir.resolve("mochi");
        Files.createDirectories(mochi.resolve("scheduler"));
        for (String f : List.of("config.json", "model.safetensors")) {
            try (InputStream in = VideoCommandsTest.class.getResourceAsStream("/fixtures/mochi/" + f)) {
                Files.copy(in, mochi.resolve(f.equals("config.json") ? f : FixtureDit.WEIGHTS));
            }
        }
        // genmo/mochi-1-preview's scheduler/scheduler_config.json: the inverted clock MochiPipeline overrides
        Files.writeString(mochi.resolve("scheduler/scheduler_config.json"), "{\"_class_name\": "
                + "\"FlowMatchEulerDiscreteScheduler\", \"invert_sigmas\": true, \"num_train_timesteps\": 1000, "
                + "\"shift\": 1.0, \"use_dynamic_shifting\": false}");
        prompts = dir.resolve("prompts.safetensors");
        new SafetensorsWriter()
                .put("encoder_hidden_states", TextModelCommandsTest.values(2 * 5 * 16, 1), 2, 5, 16)
                .put("encoder_attention_mask", new long[] {1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, 2, 5).write(prompts);
    }

    @Test
    void mochiProfilesWithThePipelinesSigmasAndTheFramesAskedFor() throws IOException {
        Path out = dir.resolve("profile");
        CliRun r = CliRun.of("profile", "--model", mochi.toString(), "--embeddings", prompts.toString(), "--frames",
                "2", "--steps", "3", "--guidance", "1", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        JsonNode p = new ObjectMapper().readTree(out.resolve("profile.json").toFile());
        assertTrue(p.toString().contains("linear_quadratic"), "the pipeline's sigmas: " + p.get("run"));
        Path gen = dir.resolve("generate");
        r = CliRun.of("generate", "--model", mochi.toString(), "--embeddings", prompts.toString(), "--frames", "3",
                "--steps", "2", "--guidance", "1", "--out", gen.toString());
        assertEquals(0, r.exitCode(), r.toString());
        try (SafetensorsFile f = SafetensorsFile.open(gen.resolve("latents.safetensors"))) {
            long[] shape = f.info("latents").dims();
            assertEquals(3, shape[2], "frames asked for: " + java.util.Arrays.toString(shape));
        }
    }
}
