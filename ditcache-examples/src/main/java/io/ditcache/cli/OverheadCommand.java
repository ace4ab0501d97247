package io.ditcache.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.examples.bench.BenchEnvironment;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.Checkpoint;
import io.ditcache.model.Denoiser;
import io.ditcache.sample.Condition;
import io.ditcache.sample.SamplingOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code overhead}: what the profiler costs per step, with and without it, interleaved; writes overhead.json. */
@Command(name = "overhead", mixinStandardHelpOptions = true,
        description = "Measures what profiling costs: samples the same conditions with and without the profiler, "
                + "in interleaved pairs after a warm-up; writes overhead.json and prints a table. Timings depend on "
                + "what else runs on the machine: the load average is recorded beside them.")
final class OverheadCommand implements Callable<Integer> {
    /** The file written into {@code --out}. */
    static final String FILE = "overhead.json";
    /** Untimed pairs before the timed ones. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ComputeTypeOption dtype = new ComputeTypeOption();

    @CommandLine.Mixin
    KindsOption kinds = new KindsOption();

    @Option(names = "--model", description = "diffusers checkpoint directory of a class-label model (default: the "
            + "embedded model)")
    Path model;

    @Option(names = "--steps", defaultValue = "50", description = "sampling steps, >= 2 (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--samples", defaultValue = "10", description = "conditions sampled side by side in one batch: "
            + "class i mod classes, seed i (default: ${DEFAULT-VALUE})")
    int samples;

    @Option(names = "--guidance", description = "guidance scale; 1 = none (default: "
            + GenerateCommand.DEFAULT_GUIDANCE + ")")
    Double guidance;

    @Option(names = "--repeats", defaultValue = "3", description = "timed pairs, each a run with the profiler "
            + "and one without (and one with the read-floor probe under --floor), each first in turn (default: ${DEFAULT-VALUE})")
    int repeats;

    @Option(names = "--warmups", defaultValue = "3", description = "untimed pairs first: the first runs are slower "
            + "while the JIT compiles (default: ${DEFAULT-VALUE})")
    int warmups;

    @Option(names = "--forecast-error", description = "measure the profiler with the forecast error on")
    boolean forecastError;

    @Option(names = "--floor", description = "two more runs per pair: a probe that only holds the same "
            + "activations and reads each consecutive pair once (the memory traffic that any exact step-to-step "
            + "profile pays, beside the profiler's cost), and one that reads each activation once and holds nothing "
            + "(what a statistic of single steps reads, such as the seed study's per-step mean and variance)")
    boolean floor;

    @Option(names = "--out", required = true, description = "output directory for " + FILE)
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        OptionChecks.count(cl, "--steps", steps, 2, ProfileCommand.MAX_STEPS, "a profile measures step-to-step "
                + "change");
        OptionChecks.count(cl, "--samples", samples, 1, 100_000, "conditions sampled side by side");
        OptionChecks.count(cl, "--repeats", repeats, 1, 1_000, "timed pairs");
        OptionChecks.count(cl, "--warmups", warmups, 0, 1_000, "untimed pairs");
        if (guidance != null) {
            OptionChecks.guidance(cl, guidance);
        }
        OptionChecks.outputDirectory(cl, "--out", out);
        Denoiser dit;
        Optional<Path> schedulerConfig;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            dit = dtype.load(ckpt);
            schedulerConfig = ckpt.schedulerConfig();
        }
        if (TextConditions.text(dit)) {
            throw new CommandLine.ParameterException(cl, "--model " + model + ": " + dit.info().className()
                    + " is conditioned on text; overhead samples class labels (a class-label model, such as a DiT)");
        }
        SamplingChoice choice = SamplingChoice.of(dit, schedulerConfig, null, steps, guidance,
                ProfileCommand.CLASS_MODEL);
        List<Condition> conds = new ArrayList<>();
        for (int i = 0; i < samples; i++) {
            conds.add(new Condition(i % dit.info().classes(), i));
        }
        SamplingOptions options = new SamplingOptions(conds, choice.steps(), choice.guidance());
        String loadBefore = BenchEnvironment.loadAverage();
        int perPair = ProbeOverhead.armsPerPair(floor);
        int total = perPair * (warmups + repeats);
        PrintWriter err = cl.getErr();
        ProbeOverhead.Figures f = ProbeOverhead.measure(dit, ModelSource.name(model), choice::create, options,
                kinds.kinds(), forecastError, floor, warmups, repeats, run -> {
                    err.printf(Locale.ROOT, "overhead: run %d of %d%s%n", run, total, run <= perPair * warmups
                            ? " (warm-up)" : "");
                    err.flush();
                });
        String loadAfter = BenchEnvironment.loadAverage();
        ObjectNode root = json(dit, options, f, loadBefore, loadAfter);
        Files.createDirectories(out);
        AtomicFiles.write(out.resolve(FILE), tmp -> JSON.writeValue(tmp.toFile(), root));
        PrintWriter o = cl.getOut();
        o.println(table(f, options));
        o.println("wrote " + out.toAbsolutePath().resolve(FILE));
        o.flush();
        return 0;
    }

    /** {@code value}, or null where it is not finite (JSON has no NaN or infinity). */
    private static void putFinite(ObjectNode n, String key, double value) {
        if (Double.isFinite(value)) {
            n.put(key, value);
        } else {
            n.putNull(key);
        }
    }

    private ObjectNode json(Denoiser dit, SamplingOptions options, ProbeOverhead.Figures f, String loadBefore,
            String loadAfter) {
        ObjectNode root = JSON.createObjectNode();
        root.put("with_probe_ms_per_step", ProbeOverhead.median(f.withProbe()));
        root.put("without_probe_ms_per_step", ProbeOverhead.median(f.withoutProbe()));
        root.put("overhead", f.overhead());
        root.put("pair_overhead_median", f.pairOverhead());
        if (f.withProbeCpu().length > 0) {
            root.put("with_probe_cpu_ms_per_step", ProbeOverhead.median(f.withProbeCpu()));
            root.put("without_probe_cpu_ms_per_step", ProbeOverhead.median(f.withoutProbeCpu()));
            putFinite(root, "cpu_overhead", f.cpuOverhead()); // null: too little CPU time to measure
        }
        if (f.insideProbe().length > 0) {
            // the profiler's own CPU time per step, against a step's CPU time without it: steadier under load
            root.put("inside_probe_cpu_ms_per_step", ProbeOverhead.median(f.insideProbe()));
            if (f.withoutProbeCpu().length > 0) {
                putFinite(root, "inside_probe_share", ProbeOverhead.median(f.insideProbe())
                        / ProbeOverhead.median(f.withoutProbeCpu()));
            }
        }
        // holding and reading the same activations once, nothing else: the memory floor of exact profiling
        reference(root, f, f.readFloor(), "read_floor", "inside_floor_cpu_ms_per_step");
        // each activation read once as it is made, nothing held: what statistics of single steps read
        reference(root, f, f.readCurrent(), "read_current", "inside_current_cpu_ms_per_step");
        arm(root.putObject("with_probe"), f.withProbe(), f.withProbeCpu());
        arm(root.putObject("without_probe"), f.withoutProbe(), f.withoutProbeCpu());
        for (var r : List.of(Map.entry("read_floor", f.readFloor()), Map.entry("read_current", f.readCurrent()))) {
            if (r.getValue().measured()) {
                arm(root.putObject(r.getKey()), r.getValue().runs(), new double[0]);
            }
        }
        root.put("same_samples", f.sameSamples());
        ObjectNode s = root.putObject("settings");
        s.put("model", ModelSource.name(model));
        s.put("class_name", dit.info().className());
        s.put("layers", dit.layers());
        s.put("steps", options.steps());
        s.put("samples", options.conditions().size());
        s.put("guidance", options.guidance());
        s.put("kinds", kinds.describe());
        s.put("forecast_error", forecastError);
        s.put("read_floor", floor);
        s.put("read_current", floor);
        s.put("repeats", repeats);
        s.put("warmup_pairs", warmups);
        s.put("dtype", dtype.type.label());
        ObjectNode m = root.putObject("machine");
        m.put("cpu", BenchEnvironment.cpuModel());
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("distance_kernel", new io.ditcache.profile.CpuDistanceBackend().name());
        m.put("distance_thread", System.getProperty(io.ditcache.profile.CpuDistanceBackend.THREAD_PROPERTY,
                "caller"));
        for (String v : List.of("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "OPENBLAS_NUM_THREADS",
                "OPENBLAS_THREAD_TIMEOUT", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")) {
            m.put(v.toLowerCase(Locale.ROOT), System.getenv().getOrDefault(v, ""));
        }
        m.put("load_average_before", loadBefore);
        m.put("load_average_after", loadAfter);
        return root;
    }

    /** A measured reference arm's {@code NAME_ms_per_step}, {@code NAME_overhead} and pair median. */
    private static void reference(ObjectNode root, ProbeOverhead.Figures f, ProbeOverhead.ReferenceArm arm,
            String name, String insideKey) {
        if (!arm.measured()) {
            return;
        }
        root.put(name + "_ms_per_step", ProbeOverhead.median(arm.runs()));
        root.put(name + "_overhead", f.overheadOf(arm));
        root.put(name + "_pair_overhead_median", f.pairOverheadOf(arm));
        if (arm.inside().length > 0) {
            root.put(insideKey, ProbeOverhead.median(arm.inside()));
        }
    }

    private static void arm(ObjectNode n, double[] runs, double[] cpu) {
        n.put("min_ms_per_step", ProbeOverhead.min(runs));
        n.put("median_ms_per_step", ProbeOverhead.median(runs));
        n.put("max_ms_per_step", ProbeOverhead.max(runs));
        var all = n.putArray("runs_ms_per_step");
        for (double r : runs) {
            all.add(r);
        }
        if (cpu.length > 0) {
            n.put("min_cpu_ms_per_step", ProbeOverhead.min(cpu));
            n.put("median_cpu_ms_per_step", ProbeOverhead.median(cpu));
            n.put("max_cpu_ms_per_step", ProbeOverhead.max(cpu));
            var cpuRuns = n.putArray("runs_cpu_ms_per_step");
            for (double r : cpu) {
                cpuRuns.add(r);
            }
        }
    }

    /** A table row of min, median and max; none where {@code values} is empty (not measured). */
    private static void row(StringBuilder b, String name, double[] values) {
        if (values.length > 0) {
            b.append(String.format(Locale.ROOT, "%-16s %10.2f %10.2f %10.2f%n", name, ProbeOverhead.min(values),
                    ProbeOverhead.median(values), ProbeOverhead.max(values)));
        }
    }

    private String table(ProbeOverhead.Figures f, SamplingOptions options) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%d samples x %d steps, guidance %s, kinds %s%s; %d %s after %d "
                        + "warm-up%n", options.conditions().size(), options.steps(), options.guidance(),
                kinds.describe(), forecastError ? " + forecast error" : "", repeats, floor ? "quadruples" : "pairs",
                warmups));
        b.append(String.format(Locale.ROOT, "%-16s %10s %10s %10s%n", "ms per step", "min", "median", "max"));
        row(b, "with profiler", f.withProbe());
        row(b, "without", f.withoutProbe());
        row(b, "read floor", f.readFloor().runs());
        row(b, "read current", f.readCurrent().runs());
        row(b, "cpu, with", f.withProbeCpu());
        row(b, "cpu, without", f.withoutProbeCpu());
        row(b, "cpu, in profiler", f.insideProbe());
        row(b, "cpu, in floor", f.readFloor().inside());
        row(b, "cpu, in current", f.readCurrent().inside());
        double cpu = f.cpuOverhead();
        b.append(String.format(Locale.ROOT, "overhead %+.1f %% (medians), %+.1f %% (median of pairs), %s (CPU "
                        + "time); load %s", 100 * f.overhead(), 100 * f.pairOverhead(), Double.isFinite(cpu)
                        ? String.format(Locale.ROOT, "%+.1f %%", 100 * cpu) : "n/a", BenchEnvironment.loadAverage()));
        if (f.readFloor().measured()) {
            b.append(String.format(Locale.ROOT, "%nread floor %+.1f %% (medians), %+.1f %% (median of runs): "
                    + "holding the same activations and reading each pair once, nothing else",
                    100 * f.overheadOf(f.readFloor()), 100 * f.pairOverheadOf(f.readFloor())));
        }
        if (f.readCurrent().measured()) {
            b.append(String.format(Locale.ROOT, "%nread current %+.1f %% (medians), %+.1f %% (median of runs): "
                    + "reading each activation once, holding nothing (what statistics of single steps read)",
                    100 * f.overheadOf(f.readCurrent()), 100 * f.pairOverheadOf(f.readCurrent())));
        }
        if (!f.sameSamples()) {
            b.append(String.format("%nwarning: the samples differ with and without the probes"));
        }
        return b.toString();
    }
}
