package io.ditcache.sched;

import static io.ditcache.fuzz.ParserContract.check;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.ditcache.fuzz.ParserContract;
import io.ditcache.fuzz.SeedCorpus;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Fuzz target for a diffusers {@code scheduler_config.json}: {@link Schedulers#fromConfigFile} (that is
 * {@link Schedulers#readConfig} then {@link Schedulers#create}) under every scheduler name, then
 * {@link Scheduler#setTimesteps} for 1 and 10 steps, whose timesteps and initial sigma must be finite.
 *
 * <p>Documented errors: {@link IOException} and {@link IllegalArgumentException} naming the file from
 * {@code fromConfigFile}; {@link IllegalArgumentException} from {@code setTimesteps} when the configuration does not
 * support that count (its message names the scheduler, the file is not its argument).
 */
class SchedulerConfigFuzzTest {
    private static final Path DIR = ParserContract.scratch("scheduler");

    static {
        // Loading libtorch's classes allocates ~160 MB of Java heap once; not a parse's doing.
        for (String name : Schedulers.names()) {
            Schedulers.create(name, java.util.Map.of()).setTimesteps(10);
        }
    }

    @FuzzTest
    @DictionaryEntries({"\"num_train_timesteps\"", "\"beta_start\"", "\"beta_end\"", "\"beta_schedule\"",
        "\"linear\"", "\"scaled_linear\"", "\"squaredcos_cap_v2\"", "\"trained_betas\"", "\"prediction_type\"",
        "\"epsilon\"", "\"v_prediction\"", "\"sample\"", "\"timestep_spacing\"", "\"leading\"", "\"trailing\"",
        "\"linspace\"", "\"steps_offset\"", "\"set_alpha_to_one\"", "\"clip_sample\"", "\"solver_order\"",
        "\"algorithm_type\"", "\"dpmsolver++\"", "\"use_karras_sigmas\"", "\"shift\"", "\"_use_default_values\"",
        "\"_class_name\"", "Infinity", "-Infinity", "NaN", "2147483647", "1e308"})
    void config(byte[] input) throws Throwable {
        Path file = ParserContract.write(DIR.resolve("scheduler_config.json"), input);
        for (String name : Schedulers.names()) {
            Scheduler[] made = new Scheduler[1];
            check(input.length, file.toString(), () -> made[0] = Schedulers.fromConfigFile(name, file),
                    IOException.class, IllegalArgumentException.class);
            if (made[0] == null) {
                continue;
            }
            for (int steps : new int[] {1, 10}) {
                check(input.length, null, () -> {
                    made[0].setTimesteps(steps);
                    for (double t : made[0].timesteps()) {
                        if (!Double.isFinite(t)) {
                            throw ParserContract.wrongResult(file + ": " + name + " accepted the config and made timestep "
                                    + t + " for " + steps + " steps");
                        }
                    }
                    if (!Double.isFinite(made[0].initNoiseSigma())) {
                        throw ParserContract.wrongResult(file + ": " + name + " accepted the config and made initial "
                                + "sigma " + made[0].initNoiseSigma() + " for " + steps + " steps");
                    }
                }, IllegalArgumentException.class);
            }
        }
    }

    static void seeds(SeedCorpus.Sink sink) throws IOException {
        // Python's json writes bare Infinity; keep it that way
        ObjectMapper json = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .disable(JsonWriteFeature.WRITE_NAN_AS_STRINGS).build();
        Path fixtures = Path.of("src/test/resources/fixtures/schedulers");
        try (DirectoryStream<Path> files = Files.newDirectoryStream(fixtures, "*.json")) {
            for (Path f : files) {
                JsonNode config = json.readTree(f.toFile()).get("config");
                String name = f.getFileName().toString().replace("scheduler_", "").replace(".json", "");
                sink.add("config", name, json.writerWithDefaultPrettyPrinter().writeValueAsString(config));
            }
        }
        sink.add("config", "empty-object", "{}");
        sink.add("config", "python-infinity", "{\"beta_end\": Infinity, \"shift\": -Infinity}");
        // hostile: each must be refused with an IOException or IllegalArgumentException naming the file
        sink.add("config", "not-object", "[1, 2, 3]");
        sink.add("config", "not-json", "{\"num_train_timesteps\": ");
        sink.add("config", "zero-train-steps", "{\"num_train_timesteps\": 0}");
        sink.add("config", "fractional-steps", "{\"num_train_timesteps\": 999.5}");
        sink.add("config", "nan-beta", "{\"beta_start\": NaN}");
        sink.add("config", "unknown-schedule", "{\"beta_schedule\": \"sigmoid\"}");
        sink.add("config", "trained-betas", "{\"trained_betas\": [0.1, 0.2]}");
    }
}
