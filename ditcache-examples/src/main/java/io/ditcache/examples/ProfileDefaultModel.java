package io.ditcache.examples;

import io.ditcache.RedundancyProfile;
import io.ditcache.model.DefaultModel;
import io.ditcache.model.Denoiser;
import io.ditcache.report.ProfileReport;
import io.ditcache.report.SummaryTable;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import io.ditcache.study.Profiling;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Profiles the embedded default model through the public API: DDIM, classes 0..3 with seeds 0 and 1,
 * classifier-free guidance 4 (so both branches are measured); writes {@code profile.json} and the report.
 *
 * <pre>java -cp ditcache-examples/target/ditcache.jar io.ditcache.examples.ProfileDefaultModel [steps] [out]</pre>
 */
public final class ProfileDefaultModel {
    /** Class labels profiled. */
    static final List<Integer> LABELS = List.of(0, 1, 2, 3);
    /** Noise seeds profiled, each with every label. */
    static final List<Long> SEEDS = List.of(0L, 1L);

    private ProfileDefaultModel() {
    }

    /** Profiles {@code steps} DDIM steps, writes {@code out/profile.json} and the report into {@code out}. */
    public static RedundancyProfile profile(int steps, Path out) throws IOException {
        Denoiser model = DefaultModel.load();
        Scheduler ddim = Schedulers.create("ddim", Map.of());
        SamplingOptions options = new SamplingOptions(SamplingOptions.grid(LABELS, SEEDS), steps,
                SamplingOptions.DEFAULT_GUIDANCE);
        RedundancyProfile profile = Profiling.run(model, DefaultModel.NAME, ddim, options, null);
        Files.createDirectories(out);
        profile.writeJson(out.resolve("profile.json"));
        ProfileReport.write(profile, out);
        return profile;
    }

    public static void main(String[] args) throws IOException {
        int steps = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        Path out = Path.of(args.length > 1 ? args[1] : "default-model-report");
        System.out.print(SummaryTable.format(profile(steps, out)));
        System.out.println("wrote " + out.toAbsolutePath().resolve(ProfileReport.PAGE));
    }
}
