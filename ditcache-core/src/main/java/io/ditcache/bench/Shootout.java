package io.ditcache.bench;

import io.ditcache.CacheStats;
import io.ditcache.model.Denoiser;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ImageMetrics;
import io.ditcache.quality.ReferenceFeatures;
import io.ditcache.quality.SampleQuality;
import io.ditcache.sample.Condition;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.SamplingOptions;
import io.ditcache.sched.Scheduler;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Measures cache policies against uncached sampling on one model: identical conditions and seeds for every run;
 * wall time of cached and uncached runs interleaved in this process after a warm-up, median of the repeats (a
 * speedup above what the case's skipped share allows is re-measured, and flagged as noise if it stays there:
 * {@link ShootoutRow#noise()}; the machine's load average is recorded, {@link MachineLoad});
 * fidelity of the cached samples to the uncached ones (PSNR over all pixels and per sample, median and 10th
 * percentile, SSIM, max abs error, each per-sample figure with a bootstrap interval over samples:
 * {@link SampleFidelity}) and, with a judge, their class accuracy, Fréchet distance and the share of samples whose
 * class changed. Image samples are clamped to [-1, 1] (the image range) before any metric; the
 * final latents of a latent model are compared as sampled ({@link Fidelity}).
 */
public final class Shootout {
    private static final Logger LOG = LoggerFactory.getLogger(Shootout.class);

    /** Hears progress, for a progress bar. */
    public interface Listener {
        /** Total sampling runs to come; called again with a larger total when impossible speedups are re-measured. */
        default void planned(int runs) {
        }

        /** After each sampling run. */
        default void runDone(String what) {
        }
    }

    /**
     * A quality judge: digit classifier and the real-image features it made.
     */
    public record Judge(DigitClassifier classifier, ReferenceFeatures reference) {
        public Judge {
            Objects.requireNonNull(classifier, "classifier");
            Objects.requireNonNull(reference, "reference");
            reference.checkMadeBy(classifier);
        }
    }

    /**
     * Settings.
     *
     * @param steps     sampling steps
     * @param samples   number of samples: classes 0, 1, ... in turn, seeds {@code seed, seed+1, ...}
     * @param guidance  classifier-free guidance scale
     * @param seed      first seed
     * @param batch     samples per sampling call
     * @param repeats   timed runs per case (and as many uncached runs interleaved with them), >= 1
     * @param warmups   untimed runs of uncached sampling before the first measurement
     */
    public record Settings(int steps, int samples, double guidance, long seed, int batch, int repeats, int warmups) {
        public Settings {
            if (steps < 2 || samples < 2 || batch < 1 || repeats < 1 || warmups < 0) {
                throw new IllegalArgumentException("steps >= 2, samples >= 2, batch >= 1, repeats >= 1 and warmups >= 0"
                        + " expected, got " + steps + ", " + samples + ", " + batch + ", " + repeats + ", " + warmups);
            }
        }
    }

    /**
     * The outcome: uncached sampling's own quality and one row per case.
     *
     * @param fidelity what PSNR, SSIM and max abs error were measured on
     * @param load     how busy the machine was while the runs were timed
     */
    public record Result(Settings settings, Map<String, Object> scheduler, double baselineSeconds,
            double baselineClassAccuracy, double baselineFd, List<ShootoutRow> rows, Fidelity fidelity,
            MachineLoad load) {
        public Result {
            Objects.requireNonNull(load, "load");
        }

        /** The result of a shootout whose machine load was not read. */
        public Result(Settings settings, Map<String, Object> scheduler, double baselineSeconds,
                double baselineClassAccuracy, double baselineFd, List<ShootoutRow> rows, Fidelity fidelity) {
            this(settings, scheduler, baselineSeconds, baselineClassAccuracy, baselineFd, rows, fidelity,
                    MachineLoad.UNKNOWN);
        }

        /** The result of a shootout on images clamped to [-1, 1]. */
        public Result(Settings settings, Map<String, Object> scheduler, double baselineSeconds,
                double baselineClassAccuracy, double baselineFd, List<ShootoutRow> rows) {
            this(settings, scheduler, baselineSeconds, baselineClassAccuracy, baselineFd, rows, Fidelity.IMAGES);
        }

        /** The rows whose speedup stayed above what their skipped share allows. */
        public List<ShootoutRow> noiseRows() {
            return rows.stream().filter(ShootoutRow::noise).toList();
        }
    }

    /** What the fidelity metrics compare. */
    public enum Fidelity {
        /** Samples that are images in [-1, 1] (pixel-space models): clamped, data range 2. */
        IMAGES,
        /** Final latents (latent models, no decoder here): as sampled, data range that of the uncached latents. */
        LATENTS
    }

    /**
     * How far above {@link #speedupCeiling} a measured speedup may lie, relative, and still count as measured (timer
     * resolution and drift); above it, it is noise.
     */
    public static final double SPEEDUP_TOLERANCE = 0.10;

    private Shootout() {
    }

    /**
     * The most speedup a cache can give by skipping {@code skippedFraction} of the block evaluations, when a share
     * {@code fixedShare} of an uncached run's time is work no policy skips (embedding, final layer, scheduler):
     * {@code 1 / (fixed + (1 - fixed)(1 - skipped))}; with {@code fixedShare} 0 (not known), {@code 1 / (1 -
     * skipped)}, infinite when everything is skipped.
     *
     * @throws IllegalArgumentException unless both lie in [0, 1]
     */
    public static double speedupCeiling(double skippedFraction, double fixedShare) {
        if (!(skippedFraction >= 0 && skippedFraction <= 1 && fixedShare >= 0 && fixedShare <= 1)) {
            throw new IllegalArgumentException("skipped fraction " + skippedFraction + " and fixed share "
                    + fixedShare + ": expected both in [0, 1]");
        }
        return 1 / (fixedShare + (1 - fixedShare) * (1 - skippedFraction));
    }

    /**
     * Runs the shootout.
     *
     * @param schedulers makes a fresh scheduler for each run
     * @param judge      null to leave class accuracy and FD out
     */
    public static Result run(Denoiser model, Supplier<Scheduler> schedulers, Settings s, List<ShootoutCase> cases,
            Judge judge, Listener listener) {
        int classes = model.info().classes();
        if (classes < 1) {
            throw new IllegalArgumentException("the shootout samples class labels, but " + model.info().className()
                    + " is not class-conditional");
        }
        List<Condition> conditions = new ArrayList<>();
        int[] labels = new int[s.samples()];
        for (int i = 0; i < s.samples(); i++) {
            labels[i] = i % Math.min(10, classes);
            conditions.add(new Condition(labels[i], s.seed() + i));
        }
        return run(model, schedulers, s, conditions, Fidelity.IMAGES, cases, judge, labels, listener, null);
    }

    /**
     * Runs the shootout on given conditions (text prompts, say), {@code s.samples()} of them, judging fidelity on
     * {@code fidelity}; without a judge (class accuracy and FD are NaN).
     */
    public static Result run(Denoiser model, Supplier<Scheduler> schedulers, Settings s, List<Condition> conditions,
            Fidelity fidelity, List<ShootoutCase> cases, Listener listener) {
        return run(model, schedulers, s, conditions, fidelity, cases, null, null, listener, null);
    }

    /**
     * As {@link #run(Denoiser, Supplier, Settings, List, Fidelity, List, Listener)}, and with {@code pictures}
     * (a pipeline's VAE) each row also has {@link ShootoutRow#pixels() fidelity on the decoded pictures}: the
     * uncached latents are decoded once, each case's measured run once; decoding is not timed.
     */
    public static Result run(Denoiser model, Supplier<Scheduler> schedulers, Settings s, List<Condition> conditions,
            Fidelity fidelity, List<ShootoutCase> cases, Listener listener, PixelFidelity.Decoder pictures) {
        return run(model, schedulers, s, conditions, fidelity, cases, null, null, listener, pictures);
    }

    private static Result run(Denoiser model, Supplier<Scheduler> schedulers, Settings s, List<Condition> conditions,
            Fidelity fidelity, List<ShootoutCase> cases, Judge judge, int[] labels, Listener listener,
            PixelFidelity.Decoder pictures) {
        if (conditions.size() != s.samples()) {
            throw new IllegalArgumentException(conditions.size() + " conditions for " + s.samples() + " samples");
        }
        long[] shape = Sampler.latentShape(model, conditions.get(0).conditioning(), s.guidance());
        List<List<Condition>> batches = new ArrayList<>();
        for (int from = 0; from < s.samples(); from += s.batch()) {
            batches.add(List.copyOf(conditions.subList(from, Math.min(s.samples(), from + s.batch()))));
        }
        boolean clamp = fidelity == Fidelity.IMAGES;
        listener.planned(s.warmups() + 1 + cases.size() * 2 * s.repeats());
        for (int w = 0; w < s.warmups(); w++) {
            sample(model, schedulers, s, batches, null, clamp);
            listener.runDone("warm-up");
        }
        Timed reference = sample(model, schedulers, s, batches, null, clamp);
        listener.runDone("uncached");
        double[] baseQuality = quality(judge, reference.images, labels);
        int[] referenceClasses = judge == null ? null : judge.classifier().predict(reference.images, s.samples());
        double range = clamp ? ImageMetrics.UNIT_RANGE : range(reference.images);
        PixelFidelity.Pictures referencePictures = pictures == null ? null
                : clamped(pictures.decode(reference.images, s.samples()));
        List<ShootoutRow> rows = new ArrayList<>();
        List<Double> allBase = new ArrayList<>();
        allBase.add(reference.seconds);
        int planned = s.warmups() + 1 + cases.size() * 2 * s.repeats();
        MachineLoad load = MachineLoad.begin();
        for (ShootoutCase c : cases) {
            Timed first = null;
            PairedTimings timings = null;
            int want = s.repeats();
            int r = 0;
            while (want > 0) {
                for (int k = 0; k < want; k++, r++) {
                    // alternate the order so that slow drift of the machine hits both sides alike
                    double base;
                    Timed t;
                    if (r % 2 == 0) {
                        base = sample(model, schedulers, s, batches, null, clamp).seconds;
                        t = sample(model, schedulers, s, batches, c, clamp);
                    } else {
                        t = sample(model, schedulers, s, batches, c, clamp);
                        base = sample(model, schedulers, s, batches, null, clamp).seconds;
                    }
                    if (first == null) {
                        first = t;
                        timings = new PairedTimings(s.repeats(), speedupCeiling(skipped(first), 0));
                    }
                    timings.add(base, t.seconds);
                    listener.runDone(c.policy() + " " + c.params());
                    listener.runDone("uncached");
                }
                want = timings.pairsWanted();
                if (want > 0) {
                    LOG.info("{} {}: speedup {} is above what skipping {} allows ({}); re-measuring with {} more "
                            + "pairs", c.policy(), c.params(), timings.speedup(), skipped(first),
                            speedupCeiling(skipped(first), 0), want);
                    planned += 2 * want;
                    listener.planned(planned);
                }
            }
            load = load.read();
            double mb = timings.medianUncached();
            double mc = timings.medianCached();
            Arrays.stream(timings.uncached()).forEach(allBase::add);
            double[] quality = quality(judge, first.images, labels);
            // SSIM over each channel of each image; NaN for video latents and images too small for its window
            boolean image = shape.length == 3;
            int channels = (int) shape[0];
            int height = image ? (int) shape[1] : 0;
            int width = image ? (int) shape[2] : 0;
            boolean ssim = image && Math.min(height, width) >= ImageMetrics.SSIM_WINDOW;
            SampleFidelity perSample = SampleFidelity.of(first.images, reference.images, s.samples(), range,
                    ssim ? new int[] {channels, height, width} : null, classChanges(judge, first.images,
                            referenceClasses));
            ShootoutRow row = new ShootoutRow(c.policy(), c.params(), mb / mc, skipped(first),
                    ImageMetrics.psnr(first.images, reference.images, range),
                    !ssim ? Double.NaN : ImageMetrics.meanSsim(first.images, reference.images, s.samples() * channels,
                            height, width, range),
                    maxAbs(first.images, reference.images), quality[0], quality[1], mc, mb,
                    first.stats.get(0).summary(), timings.spread(), timings.impossible(), perSample,
                    pictures == null ? null : compare(clamped(pictures.decode(first.images, s.samples())),
                            referencePictures, s.samples()));
            LOG.info("{} {}: speedup {} skipped {} psnr {}{}", c.policy(), c.params(), row.speedup(),
                    row.skippedFraction(), row.psnr(), row.noise() ? " (" + ShootoutRow.NOISE_NOTE + ")" : "");
            rows.add(row);
        }
        double baseSeconds = median(allBase.stream().mapToDouble(Double::doubleValue).toArray());
        Map<String, Object> sched = schedulers.get().describe();
        return new Result(s, sched, baseSeconds, baseQuality[0], baseQuality[1], rows, fidelity, load.read());
    }

    /** The pictures clamped to [-1, 1], as the pipelines' post-processing clamps them. */
    private static PixelFidelity.Pictures clamped(PixelFidelity.Pictures p) {
        float[] v = p.values().clone();
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.max(-1f, Math.min(1f, v[i]));
        }
        return new PixelFidelity.Pictures(v, p.channels(), p.height(), p.width());
    }

    /** PSNR and mean SSIM of {@code got} against {@code want}, data range 2. */
    static PixelFidelity compare(PixelFidelity.Pictures got, PixelFidelity.Pictures want, int samples) {
        double psnr = ImageMetrics.psnr(got.values(), want.values(), ImageMetrics.UNIT_RANGE);
        double ssim = Math.min(got.height(), got.width()) < ImageMetrics.SSIM_WINDOW ? Double.NaN
                : ImageMetrics.meanSsim(got.values(), want.values(), samples * got.channels(), got.height(),
                        got.width(), ImageMetrics.UNIT_RANGE);
        return new PixelFidelity(psnr, ssim);
    }

    /** The share of block evaluations a run skipped, over its batches. */
    private static double skipped(Timed t) {
        return t.stats.stream().mapToDouble(CacheStats::skippedFraction).average().orElse(0);
    }

    /** Class accuracy and FD of {@code images}, or NaNs without a judge. */
    private static double[] quality(Judge judge, float[] images, int[] labels) {
        if (judge == null) {
            return new double[] {Double.NaN, Double.NaN};
        }
        SampleQuality q = SampleQuality.measure(images, labels, judge.classifier(), judge.reference());
        return new double[] {q.classAccuracy(), q.fd()};
    }

    /** Per sample, whether the judge classifies the cached sample otherwise than the uncached one; null without. */
    private static boolean[] classChanges(Judge judge, float[] images, int[] referenceClasses) {
        if (judge == null) {
            return null;
        }
        int[] now = judge.classifier().predict(images, referenceClasses.length);
        boolean[] out = new boolean[now.length];
        for (int i = 0; i < now.length; i++) {
            out[i] = now[i] != referenceClasses[i];
        }
        return out;
    }

    private record Timed(float[] images, double seconds, List<CacheStats> stats) {
    }

    private static Timed sample(Denoiser model, Supplier<Scheduler> schedulers, Settings s,
            List<List<Condition>> batches, ShootoutCase c, boolean clamp) {
        float[] images = null;
        List<CacheStats> stats = new ArrayList<>();
        int at = 0;
        long start = System.nanoTime();
        for (List<Condition> b : batches) {
            SamplingOptions o = new SamplingOptions(b, s.steps(), s.guidance());
            Sampler sampler = new Sampler(model, schedulers.get());
            float[] v;
            if (c == null) {
                v = sampler.sample(o, null, io.ditcache.ActivationProbe.NONE).values();
            } else {
                CacheStats st = new CacheStats();
                v = sampler.sample(o, null, c.factory().get(), st).values();
                stats.add(st);
            }
            if (images == null) {
                images = new float[v.length / b.size() * s.samples()];
            }
            System.arraycopy(v, 0, images, at, v.length);
            at += v.length;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        for (int i = 0; clamp && i < images.length; i++) {
            images[i] = Math.max(-1f, Math.min(1f, images[i]));
        }
        return new Timed(images, seconds, stats);
    }

    /** The spread of the uncached latents, the data range of PSNR and SSIM on latents (1 if they are constant). */
    static double range(float[] v) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (float x : v) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        return hi > lo && Double.isFinite(hi - lo) ? hi - lo : 1.0;
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double maxAbs(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
