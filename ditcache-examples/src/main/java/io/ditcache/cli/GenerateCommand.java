package io.ditcache.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.ActivationProbe;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.policy.PolicyFile;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.Site;
import io.ditcache.SiteKind;
import io.ditcache.Step;
import io.ditcache.data.ImageSet;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.CheckpointException;
import io.ditcache.model.ClassLabels;
import io.ditcache.model.Denoiser;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import io.ditcache.quality.SampleQuality;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import io.ditcache.sched.Schedulers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.bytedeco.pytorch.Tensor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code generate}: samples digits, judges them with the digit classifier (class accuracy) and compares their
 * features with real test images (Fréchet distance); writes {@code samples.png} and {@code metrics.json}.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Samples class-conditional digits (classes 0..9 in turn, seeds S, S+1, ...) and measures them: "
                + "class accuracy under the digit classifier and Fréchet distance to real MNIST test images. Writes "
                + "samples.png (one row per class) and metrics.json. A text model (--embeddings) samples its prompts "
                + "and writes the final latents (latents.safetensors), a preview (latents.png) and metrics.json.")
final class GenerateCommand implements Callable<Integer> {
    @CommandLine.Mixin
    FramesOption frames = new FramesOption();

    @CommandLine.Mixin
    ComputeTypeOption dtype = new ComputeTypeOption();

    @CommandLine.Mixin
    PromptOptions promptOptions = new PromptOptions();

    /** Default guidance, measured on the shipped MNIST DiT: 1.25 gave the best class accuracy and FD (1.0: 80 %, 1.25: 84 %, 1.5: 76 %, 2: 43 %, 4: 6 % over 100 samples at step 9,500). */
    static final String DEFAULT_GUIDANCE = "1.25";
    /** Samples per sampler call. */
    static final int BATCH = 50;
    /** Each sample is drawn this many times larger in samples.png. */
    static final int SCALE = 2;
    static final String PNG = "samples.png";
    static final String JSON = "metrics.json";
    /** The file that marks a folder as written by {@code generate}: one it may write into again. */
    static final String MARKER = ".ditcache-generate";
    /** Up to this many samples, {@code --policy} also times the same samples uncached by default. */
    static final int UNCACHED_TIMING_LIMIT = 100;
    /** Real-image draws averaged for a reference point measured here. */
    static final int REFERENCE_DRAWS = 10;
    /** Heap per sample: its pixels and its classifier features (labels and predictions are small beside them). */
    static final long BYTES_PER_SAMPLE = (long) (DigitClassifier.PIXELS + DigitClassifier.FEATURES) * Float.BYTES;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", description = "diffusers checkpoint directory (default: the embedded model)")
    Path model;

    @Option(names = "--steps", description = "sampling steps (default: a text model's own; 50 for a class-label "
            + "model)")
    Integer stepsOption;
    int steps;

    @Option(names = "--scheduler", description = "ddim, ddpm, dpm++, euler or flowmatch (default: a text model's "
            + "own, from its checkpoint's scheduler config or its family; ddim for a class-label model)")
    String schedulerOption;
    String scheduler;

    @Option(names = "--guidance", description = "guidance scale; for classifier-free guidance 1 = none (default: a "
            + "text model's own; " + DEFAULT_GUIDANCE + " for a class-label model)")
    Double guidanceOption;
    double guidance;

    @Option(names = "--samples", description = "number of samples, >= 2 (default: 100; for a text model one per "
            + "prompt)")
    Integer samplesOption;
    int samples;

    @Option(names = "--embeddings", description = "prompt embeddings for a text model " + TextConditions.FILE_HINT
            + "; sample i is prompt i mod prompts with seed --seed + i; writes latents.safetensors, latents.png and "
            + "metrics.json")
    Path embeddings;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the first sample (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--data", description = "folder with MNIST t10k-images/labels files: the reference images "
            + "(default: the embedded test-image features); with train files there, also the real-image FD")
    Path data;

    @Option(names = "--classifier", description = "digit classifier safetensors file (default: the embedded one)")
    Path classifierFile;

    @Option(names = "--reference", description = "reference features safetensors file, made by the same classifier "
            + "(default: the embedded MNIST test features)")
    Path referenceFile;

    @Option(names = "--policy", description = "cache policy file: a compute mask from 'policy' or a policy "
            + "description such as {\"name\": \"fora\", \"interval\": 3} (default: no cache)")
    Path policyFile;

    @Option(names = "--uncached-timing", defaultValue = "auto", description = "with --policy, also sample the same "
            + "samples uncached to time them and measure the speedup: auto (up to " + UNCACHED_TIMING_LIMIT
            + " samples), yes or no (then only the skipped share and the speedup it allows are said) (default: "
            + "${DEFAULT-VALUE})")
    String uncachedTiming;

    @Option(names = "--overwrite", description = "write into --out even if it is a non-empty folder that generate "
            + "did not make (its files of the same names are replaced)")
    boolean overwrite;

    /** What the cache did over all batches (null without --policy). */
    private List<CacheStats> cacheStats;
    /** Wall time of the (cached, if --policy) sampling, seconds. */
    private double samplingSeconds;
    /** Wall time of the same samples uncached (NaN when not measured), and their pixels. */
    private double uncachedSeconds = Double.NaN;
    private float[] uncachedImages;

    @Option(names = "--out", defaultValue = "ditcache-samples", description = "output directory (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        steps = stepsOption != null ? stepsOption : ProfileCommand.CLASS_MODEL.steps();
        scheduler = schedulerOption != null ? schedulerOption : ProfileCommand.CLASS_MODEL.scheduler();
        guidance = guidanceOption != null ? guidanceOption : ProfileCommand.CLASS_MODEL.guidance();
        samples = samplesOption != null ? samplesOption : 100;
        checkArguments();
        TextConditions.checkFile(spec.commandLine(), embeddings);
        promptOptions.check(spec.commandLine(), embeddings);
        embeddings = promptOptions.embeddings(spec.commandLine(), "generate", model, embeddings, dtype.type);
        PrintWriter o = spec.commandLine().getOut();
        CachePolicy policy = policyFile == null ? null : PolicyFile.read(policyFile, null);
        Denoiser dit;
        Optional<Path> schedulerConfig;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            dit = dtype.load(ckpt);
            schedulerConfig = ckpt.schedulerConfig();
        }
        if (TextConditions.text(dit)) {
            return TextGeneration.run(this, dit, schedulerConfig, policy);
        }
        TextConditions.prepare(spec.commandLine(), dit, ModelSource.name(model), embeddings, false);
        frames.size(spec.commandLine(), dit, null, 1.0); // refuses --frames for a class-label model
        // a missing classifier or reference fails before any sampling
        try (DigitClassifier classifier = classifier()) {
            Reference ref = reference(classifier);
            checkModel(dit);
            if (policy instanceof ProfileGuidedPolicy guided && (guided.mask().steps() != steps
                    || guided.mask().layers() != dit.layers())) {
                // checked before sampling, where the mismatch would surface without the file's name
                throw new IllegalArgumentException("--policy " + policyFile + ": a compute mask for "
                        + guided.mask().steps() + " steps x " + guided.mask().layers() + " layers, but this run has "
                        + steps + " steps x " + dit.layers() + " layers; plan one with 'ditcache policy --steps "
                        + steps + "' from a profile of this model");
            }
            Scheduler sched = schedulerConfig.isPresent() ? Schedulers.fromConfigFile(scheduler, schedulerConfig.get())
                    : Schedulers.create(scheduler, Map.of());

            OptionChecks.space(spec.commandLine(), "--out", out, OutputSizes.samples(samples,
                    (long) DigitClassifier.PIXELS * SCALE * SCALE), "the sample grid and the metrics");
            int[] labels = new int[samples];
            float[] images = new float[samples * DigitClassifier.PIXELS];
            int nonFinite = sample(dit, sched, policy, labels, images, timeUncached(policy));
            if (nonFinite > 0) {
                throw new IllegalStateException(nonFinite + " of " + samples + " samples of model "
                        + ModelSource.name(model) + " are non-finite (NaN or infinite pixels); class accuracy and FD "
                        + "need finite samples (look for NaN weights with 'ditcache profile')");
            }
            SampleQuality q = SampleQuality.measure(images, labels, classifier, ref.features());

            claimOutput();
            SampleGrid.write(out.resolve(PNG), images, labels, DigitClassifier.SIZE, DigitClassifier.SIZE, SCALE);
            writeJson(out.resolve(JSON), q, ref, classifier, policy, images);
            o.printf(Locale.ROOT, "sampled %d in %.2f s (%.3f s per sample, %d steps%s)%n", samples,
                    samplingSeconds, samplingSeconds / samples, steps, policy == null ? "" : ", cached");
            print(o, q, ref);
            if (policy != null) {
                printCache(o, policy, images);
            }
            o.println("wrote " + out.toAbsolutePath().resolve(PNG) + " and " + JSON);
            o.flush();
        }
        return 0;
    }

    /**
     * The reference features and, where known, what real images score against them at the sample count drawn.
     *
     * @param realImages where those real images come from ({@link #TRAIN_IMAGES}, {@link #SELF_IMAGES})
     */
    record Reference(ReferenceFeatures features, Optional<ReferenceFeatures.RealDistance> realDistance,
            String realImages) {
    }

    private Reference reference(DigitClassifier classifier) throws IOException {
        if (data != null) {
            ImageSet test = ImageSet.split(data, false);
            if (test.size() < 2) {
                throw new IOException("--data " + data + ": t10k-images-idx3-ubyte holds " + test.size()
                        + " images, the reference needs at least 2");
            }
            ReferenceFeatures f = ReferenceFeatures.compute(classifier, test, Map.of("data", data + " t10k"));
            Optional<ReferenceFeatures.RealDistance> real = Optional.empty();
            ImageSet train = trainSplit(data);
            if (train != null && train.size() >= samples) {
                real = Optional.of(f.measureRealDistance(classifier, train, samples, REFERENCE_DRAWS, seed));
                return new Reference(f, real, TRAIN_IMAGES);
            }
            return new Reference(f, samples <= f.count() ? Optional.of(f.measureSelfDistance(samples,
                    REFERENCE_DRAWS, seed)) : Optional.empty(), SELF_IMAGES);
        }
        ReferenceFeatures f;
        if (referenceFile != null) {
            f = ReferenceFeatures.read(referenceFile);
        } else {
            try {
                f = ReferenceFeatures.loadDefault();
            } catch (CheckpointException e) {
                throw new IOException(e.getMessage() + ", or pass --reference FILE or --data DIR", e);
            }
        }
        f.checkMadeBy(classifier);
        Optional<ReferenceFeatures.RealDistance> stored = f.realDistanceAt(samples);
        if (stored.isPresent()) {
            return new Reference(f, stored, TRAIN_IMAGES);
        }
        // FD depends on the sample count: a point at another count misleads, so measure one at this count
        if (samples <= f.count()) {
            return new Reference(f, Optional.of(f.measureSelfDistance(samples, REFERENCE_DRAWS, seed)), SELF_IMAGES);
        }
        return new Reference(f, Optional.empty(), "");
    }

    /** Where a reference point's real images come from. */
    static final String TRAIN_IMAGES = "real training images";
    static final String SELF_IMAGES = "real reference images (drawn from the reference set)";

    private DigitClassifier classifier() throws IOException {
        if (classifierFile != null) {
            return DigitClassifier.load(classifierFile);
        }
        try {
            return DigitClassifier.loadDefault();
        } catch (CheckpointException e) {
            throw new IOException(e.getMessage() + ", or pass --classifier FILE", e);
        }
    }

    private static ImageSet trainSplit(Path dir) {
        try {
            return ImageSet.split(dir, true);
        } catch (IOException e) {
            return null; // the training split is optional: it only adds the real-image reference distance
        }
    }

    /** Whether to time the same samples uncached beside a policy's. */
    private boolean timeUncached(CachePolicy policy) {
        return timeUncached(policy, samples);
    }

    /** Whether to time {@code n} samples uncached beside a policy's, as {@code --uncached-timing} says. */
    boolean timeUncached(CachePolicy policy, int n) {
        return policy != null && switch (uncachedTiming) {
            case "yes" -> true;
            case "no" -> false;
            default -> n <= UNCACHED_TIMING_LIMIT;
        };
    }

    /**
     * Samples into {@code labels} and {@code images}, timing the sampling; with {@code compare}, also samples each
     * batch uncached (into {@link #uncachedImages}), the two interleaved batch by batch in alternating order after
     * a short warm-up, so that neither side pays alone for a cold start or a drifting machine. Returns how many
     * samples hold a NaN or infinite value.
     */
    private int sample(Denoiser dit, Scheduler sched, CachePolicy policy, int[] labels, float[] images,
            boolean compare) {
        int nonFinite = 0;
        cacheStats = policy == null ? null : new ArrayList<>();
        uncachedImages = compare ? new float[images.length] : null;
        uncachedSeconds = compare ? 0 : Double.NaN;
        samplingSeconds = 0;
        int batches = (samples + BATCH - 1) / BATCH;
        try (Progress bar = new Progress("generate", "batches", (long) steps * batches, 0, batches, 0,
                Progress.terminal(), Progress.stderr())) {
            ActivationProbe ticks = new ActivationProbe() {
                @Override
                public boolean wants(Site site) {
                    return site.layer() == 0 && site.kind() == SiteKind.BLOCK_OUT;
                }

                @Override
                public void observe(Step step, Site site, Tensor activation) {
                    bar.step();
                }
            };
            Sampler sampler = new Sampler(dit, sched);
            if (compare) {
                new Sampler(dit, sched).sample(new SamplingOptions(List.of(new Condition(0, seed)),
                        Math.min(steps, 2), guidance), ActivationProbe.NONE); // warm-up, untimed
            }
            for (int from = 0; from < samples; from += BATCH) {
                List<Condition> conds = new ArrayList<>();
                for (int i = from; i < Math.min(samples, from + BATCH); i++) {
                    labels[i] = i % DigitClassifier.CLASSES;
                    conds.add(new Condition(labels[i], seed + i));
                }
                SamplingOptions batch = new SamplingOptions(conds, steps, guidance);
                boolean uncachedFirst = (from / BATCH) % 2 == 0;
                if (compare && uncachedFirst) {
                    sampleUncached(sampler, batch, from);
                }
                float[] v;
                long start = System.nanoTime();
                if (policy == null) {
                    v = sampler.sample(batch, ticks).values();
                } else {
                    CacheStats stats = new CacheStats();
                    v = sampler.sample(batch, null, policy, stats).values();
                    cacheStats.add(stats);
                    for (int k = 0; k < steps; k++) {
                        bar.step();
                    }
                }
                samplingSeconds += (System.nanoTime() - start) / 1e9;
                if (compare && !uncachedFirst) {
                    sampleUncached(sampler, batch, from);
                }
                bar.unitDone("samples " + from + "-" + (from + conds.size() - 1));
                for (int k = 0; k < v.length; k += DigitClassifier.PIXELS) {
                    boolean finite = true;
                    for (int p = k; p < k + DigitClassifier.PIXELS; p++) {
                        finite &= Float.isFinite(v[p]);
                        // clamping would turn an infinite pixel into a plausible one: count first
                        images[from * DigitClassifier.PIXELS + p] = Math.max(-1f, Math.min(1f, v[p]));
                    }
                    nonFinite += finite ? 0 : 1;
                }
            }
        }
        return nonFinite;
    }

    /** One batch uncached, timed, into {@link #uncachedImages} (clamped as the cached ones). */
    private void sampleUncached(Sampler sampler, SamplingOptions batch, int from) {
        long start = System.nanoTime();
        float[] v = sampler.sample(batch, ActivationProbe.NONE).values();
        uncachedSeconds += (System.nanoTime() - start) / 1e9;
        for (int p = 0; p < v.length; p++) {
            uncachedImages[from * DigitClassifier.PIXELS + p] = Math.max(-1f, Math.min(1f, v[p]));
        }
    }

    /** Creates {@code --out} and marks it as generate's own (done once sampling worked, before the first file). */
    void claimOutput() throws IOException {
        Files.createDirectories(out);
        Path marker = out.resolve(MARKER);
        if (!Files.exists(marker)) {
            AtomicFiles.writeString(marker, "This folder was written by 'ditcache generate', which may write into it "
                    + "again.\n");
        }
    }

    /** What the cache skipped, and what that cost or saved against the same samples uncached. */
    private void printCache(PrintWriter o, CachePolicy policy, float[] images) {
        double skipped = skipped();
        double ceiling = io.ditcache.bench.Shootout.speedupCeiling(skipped, 0);
        o.printf(Locale.ROOT, "cache (%s): %.1f%% of block evaluations skipped, which allows a speedup of at most "
                + "%.2fx%n", policy.name(), 100 * skipped, ceiling);
        if (Double.isNaN(uncachedSeconds)) {
            o.printf(Locale.ROOT, "uncached: not timed (%s); rerun with --uncached-timing yes to measure the "
                    + "speedup%n", "no".equals(uncachedTiming) ? "--uncached-timing no"
                            : samples + " samples, above " + UNCACHED_TIMING_LIMIT);
        } else {
            double speedup = uncachedSeconds / samplingSeconds;
            o.printf(Locale.ROOT, "uncached: %.2f s for the same samples (interleaved by batch): speedup %.2fx%s, "
                    + "PSNR %s dB against them%n", uncachedSeconds, speedup,
                    speedup > ceiling * (1 + io.ditcache.bench.Shootout.SPEEDUP_TOLERANCE) ? String.format(
                            Locale.ROOT, " (above the %.2fx the skipped share allows: timing noise of a busy "
                                    + "machine, load average %.2f on %d cores)", ceiling,
                            io.ditcache.bench.MachineLoad.now(), Runtime.getRuntime().availableProcessors()) : "",
                    psnrText(images));
        }
    }

    private String psnrText(float[] images) {
        double psnr = io.ditcache.quality.ImageMetrics.psnr(images, uncachedImages,
                io.ditcache.quality.ImageMetrics.UNIT_RANGE);
        return Double.isInfinite(psnr) ? "inf (identical)" : String.format(Locale.ROOT, "%.2f", psnr);
    }

    private void checkArguments() {
        CommandLine cl = spec.commandLine();
        boolean text = embeddings != null || promptOptions.given();
        OptionChecks.count(cl, "--samples", samples, text ? 1 : 2, maxSamples(), samples < 2
                ? "the Fréchet distance needs a covariance" : OptionChecks.itemLimit("sample", DigitClassifier.PIXELS,
                        BYTES_PER_SAMPLE));
        OptionChecks.count(cl, "--steps", steps, 1, ProfileCommand.MAX_STEPS, null);
        OptionChecks.count(cl, "--seed", seed, Long.MIN_VALUE, Long.MAX_VALUE - (samples - 1),
                "sample i has seed --seed + i, which must fit in a 64-bit integer");
        OptionChecks.outputDirectory(cl, "--out", out);
        OptionChecks.ownFolder(cl, "--out", out, MARKER, java.util.Set.of(PNG, JSON, TextGeneration.LATENTS,
                TextGeneration.PREVIEW), "generate", overwrite);
        if (!List.of("auto", "yes", "no").contains(uncachedTiming)) {
            throw new CommandLine.ParameterException(cl, "--uncached-timing " + uncachedTiming + ": expected auto, "
                    + "yes or no");
        }
        OptionChecks.guidance(cl, guidance);
        OptionChecks.scheduler(cl, scheduler);
        if (policyFile != null && !Files.isRegularFile(policyFile)) {
            throw new CommandLine.ParameterException(cl, "--policy " + policyFile
                    + ": no such file (expected a policy JSON file)");
        }
        if (data != null && referenceFile != null) {
            throw new CommandLine.ParameterException(cl,
                    "--data and --reference both name the reference images; give one");
        }
    }

    static long maxSamples() {
        return OptionChecks.maxItems(DigitClassifier.PIXELS, BYTES_PER_SAMPLE);
    }

    private void checkModel(Denoiser dit) {
        int classes = dit.info().classes();
        String need = "; the digit metrics need 1x28x28 pixel-space samples of 10 classes (MNIST)";
        if (classes < 1) {
            throw new IllegalArgumentException(ModelSource.name(model) + " (" + dit.info().className()
                    + ") is not class-conditional" + need);
        }
        long[] shape = dit.latentShape(ClassLabels.of(0));
        if (!Arrays.equals(shape, new long[] {1, DigitClassifier.SIZE, DigitClassifier.SIZE})
                || classes < DigitClassifier.CLASSES) {
            throw new IllegalArgumentException(ModelSource.name(model) + " makes " + Arrays.stream(shape)
                    .mapToObj(String::valueOf).collect(Collectors.joining("x")) + " samples of " + classes
                    + " classes" + need);
        }
    }

    private void print(PrintWriter o, SampleQuality q, Reference ref) {
        int right = (int) Math.round(q.classAccuracy() * q.samples());
        o.printf(Locale.ROOT, "class accuracy %.3f (%d/%d)%n", q.classAccuracy(), right, q.samples());
        StringBuilder per = new StringBuilder("per class:");
        for (int c = 0; c < q.perClassAccuracy().size(); c++) {
            double a = q.perClassAccuracy().get(c);
            if (!Double.isNaN(a)) {
                per.append(String.format(Locale.ROOT, " %d:%.2f", c, a));
            }
        }
        o.println(per);
        o.printf(Locale.ROOT, "FD %.3f (%d samples vs %d reference images; lower is better%s)%n", q.fd(),
                q.samples(), q.referenceCount(), q.samples() <= DigitClassifier.FEATURES ? "; no more samples than "
                        + "the " + DigitClassifier.FEATURES + " feature dimensions, so FD is unstable here: use 500 "
                        + "or more to rank models" : "");
        ref.realDistance().ifPresentOrElse(
                d -> o.printf(Locale.ROOT, "reference point: %s score FD %.3f at %d samples%s%n", ref.realImages(),
                        d.fd(), d.count(), d.count() == q.samples() ? " (the same count: FD is biased upwards at "
                                + "small counts)" : " (FD is biased upwards at small counts: compare at equal counts)"),
                () -> o.println("reference point: none (no real-image FD at hand)"));
    }

    private double skipped() {
        return cacheStats.stream().mapToDouble(CacheStats::skippedFraction).average().orElse(0);
    }

    private void writeJson(Path file, SampleQuality q, Reference ref, DigitClassifier classifier, CachePolicy policy,
            float[] images) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("class_accuracy", q.classAccuracy());
        root.put("fd", q.fd());
        root.put("samples", q.samples());
        ArrayNode per = root.putArray("per_class_accuracy");
        for (double a : q.perClassAccuracy()) {
            if (Double.isNaN(a)) {
                per.addNull();
            } else {
                per.add(a);
            }
        }
        ref.realDistance().ifPresentOrElse(d -> {
            ObjectNode r = root.putObject("fd_real");
            r.put("fd", d.fd());
            r.put("samples", d.count());
            r.put("images", ref.realImages());
        }, () -> root.putNull("fd_real"));
        ObjectNode timing = root.putObject("timing");
        timing.put("sampling_seconds", samplingSeconds);
        timing.put("seconds_per_sample", samplingSeconds / samples);
        timing.put("cached", policy != null);
        root.put("model", ModelSource.name(model));
        root.put("scheduler", scheduler);
        root.put("steps", steps);
        root.put("guidance", guidance);
        ObjectNode seeds = root.putObject("seeds");
        seeds.put("first", seed);
        seeds.put("last", seed + samples - 1);
        root.put("classes", "0..9 in turn");
        root.put("classifier", classifier.source());
        ObjectNode r = root.putObject("reference");
        r.put("source", ref.features().source());
        r.put("images", ref.features().count());
        if (policy != null) {
            root.set("policy", json.valueToTree(policy.describe()));
            ObjectNode cache = root.putObject("cache");
            cache.put("skipped_fraction", skipped());
            cache.put("speedup_ceiling", io.ditcache.bench.Shootout.speedupCeiling(skipped(), 0));
            if (Double.isNaN(uncachedSeconds)) {
                cache.putNull("uncached_seconds");
                cache.putNull("speedup");
            } else {
                cache.put("uncached_seconds", uncachedSeconds);
                cache.put("speedup", uncachedSeconds / samplingSeconds);
                double psnr = io.ditcache.quality.ImageMetrics.psnr(images, uncachedImages,
                        io.ditcache.quality.ImageMetrics.UNIT_RANGE);
                if (Double.isInfinite(psnr)) {
                    cache.put("psnr_vs_uncached", "inf");
                } else {
                    cache.put("psnr_vs_uncached", psnr);
                }
            }
            cache.set("first_batch", json.valueToTree(cacheStats.get(0).summary()));
        } else {
            root.putNull("policy");
        }
        AtomicFiles.writeString(file, json.writeValueAsString(root) + "\n");
    }
}
