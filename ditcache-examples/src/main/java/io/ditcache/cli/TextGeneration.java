package io.ditcache.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.CachePolicy;
import io.ditcache.CacheStats;
import io.ditcache.io.AtomicFiles;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.Denoiser;
import io.ditcache.model.LatentSize;
import io.ditcache.model.pipeline.PipelineFolder;
import io.ditcache.model.pipeline.PipelineImages;
import io.ditcache.policy.ProfileGuidedPolicy;
import io.ditcache.sample.Condition;
import io.ditcache.sample.PromptEmbeddings;
import io.ditcache.sample.Sampler;
import io.ditcache.sample.Samples;
import io.ditcache.sample.SamplingOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine;

/**
 * {@code generate} for a text model (a latent model whose text encoder and decoder ditcache does not run): samples
 * the prompts of {@code --embeddings} and writes the final latents ({@value #LATENTS}), a preview of them
 * ({@value #PREVIEW}) and {@value GenerateCommand#JSON} with what applies (timing, steps, the cache's statistics).
 * The digit classifier and FD are for the MNIST class-label model and are not used.
 */
final class TextGeneration {
    static final String LATENTS = "latents.safetensors";
    static final String PREVIEW = "latents.png";

    private TextGeneration() {
    }

    static int run(GenerateCommand g, Denoiser model, Optional<Path> schedulerFile, CachePolicy policy)
            throws IOException {
        CommandLine cl = g.spec.commandLine();
        for (Object[] o : new Object[][] {{"--data", g.data}, {"--classifier", g.classifierFile},
                {"--reference", g.referenceFile}}) {
            if (o[1] != null) {
                throw new CommandLine.ParameterException(cl, o[0] + ": the digit metrics are for the MNIST "
                        + "class-label model; " + ModelSource.name(g.model) + " (" + model.info().className()
                        + ") is a text model, whose generate writes latents");
            }
        }
        SamplingChoice choice = SamplingChoice.of(model, schedulerFile, g.schedulerOption, g.stepsOption,
                g.guidanceOption, ProfileCommand.CLASS_MODEL);
        OptionChecks.count(cl, "--steps", choice.steps(), 1, ProfileCommand.MAX_STEPS, null);
        if (policy instanceof ProfileGuidedPolicy guided && (guided.mask().steps() != choice.steps()
                || guided.mask().layers() != model.layers())) {
            throw new IllegalArgumentException("--policy " + g.policyFile + ": a compute mask for "
                    + guided.mask().steps() + " steps x " + guided.mask().layers() + " layers, but this run has "
                    + choice.steps() + " steps x " + model.layers() + " layers");
        }
        PrintWriter o = cl.getOut();
        try (PromptEmbeddings prompts = TextConditions.prepare(cl, model, ModelSource.name(g.model), g.embeddings,
                false)) {
            int n = g.samplesOption != null ? g.samplesOption : prompts.prompts();
            Optional<LatentSize> size = g.frames.size(cl, model, prompts, choice.guidance());
            long[] shape = Sampler.latentShape(model, prompts.prompt(0, size), choice.guidance());
            if (ModelSource.pipeline(g.model)) {
                PipelineFolder p = PipelineFolder.open(g.model);
                if (PipelineImages.decodes(p, shape)) {
                    PipelineImages.check(p, shape); // before sampling, not after
                }
            }
            long elements = java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact);
            OptionChecks.count(cl, "--samples", n, 1, OptionChecks.maxItems(elements, elements * Float.BYTES),
                    OptionChecks.itemLimit("sample", elements, elements * Float.BYTES));
            OptionChecks.count(cl, "--seed", g.seed, Long.MIN_VALUE, Long.MAX_VALUE - (n - 1),
                    "sample i has seed --seed + i, which must fit in a 64-bit integer");
            cl.getErr().println("generate: " + n + " samples of " + prompts.prompts() + " prompts; "
                    + choice.describe(prompts));
            OptionChecks.space(cl, "--out", g.out, OutputSizes.samples(n, elements), "the final latents, their "
                    + "preview and the metrics");
            Sampler sampler = new Sampler(model, choice.create());
            List<CacheStats> stats = new ArrayList<>();
            float[] all = new float[Math.toIntExact(n * elements)];
            boolean compare = g.timeUncached(policy, n);
            double uncachedSeconds = compare ? 0 : Double.NaN;
            double seconds = 0;
            for (int from = 0; from < n; from += GenerateCommand.BATCH) {
                List<Condition> batch = new ArrayList<>();
                for (int i = from; i < Math.min(n, from + GenerateCommand.BATCH); i++) {
                    batch.add(prompts.condition(i % prompts.prompts(), g.seed + i, size));
                }
                SamplingOptions options = new SamplingOptions(batch, choice.steps(), choice.guidance());
                // uncached and cached batches alternate which goes first, so neither pays alone for a cold start
                boolean uncachedFirst = (from / GenerateCommand.BATCH) % 2 == 0;
                if (compare && uncachedFirst) {
                    uncachedSeconds += timed(sampler, options);
                }
                Samples s;
                long start = System.nanoTime();
                if (policy == null) {
                    s = sampler.sample(options, io.ditcache.ActivationProbe.NONE);
                } else {
                    CacheStats st = new CacheStats();
                    s = sampler.sample(options, null, policy, st);
                    stats.add(st);
                }
                seconds += (System.nanoTime() - start) / 1e9;
                if (compare && !uncachedFirst) {
                    uncachedSeconds += timed(sampler, options);
                }
                System.arraycopy(s.values(), 0, all, (int) (from * elements), s.values().length);
            }
            long[] full = new long[shape.length + 1];
            full[0] = n;
            System.arraycopy(shape, 0, full, 1, shape.length);
            Samples latents = new Samples(all, full);
            int nonFinite = 0;
            for (int i = 0; i < n; i++) {
                for (float v : latents.sample(i)) {
                    if (!Float.isFinite(v)) {
                        nonFinite++;
                        break;
                    }
                }
            }
            g.claimOutput();
            new SafetensorsWriter().metadata("format", "pt").put("latents", all, full).write(g.out.resolve(LATENTS));
            LatentPreview.write(g.out.resolve(PREVIEW), latents, Math.min(8, prompts.prompts()));
            List<String> images = decode(g, all, full);
            writeJson(g, model, choice, prompts, n, seconds, nonFinite, policy, stats, full, uncachedSeconds, images);
            o.printf(Locale.ROOT, "%d samples in %.2f s (%s)%n", n, seconds, choice.describe());
            if (nonFinite > 0) {
                o.println("warning: " + nonFinite + " of " + n + " samples hold NaN or infinite latents");
            }
            if (policy != null) {
                o.printf(Locale.ROOT, "cache (%s): %.1f%% of block evaluations skipped, which allows a speedup of "
                        + "at most %.2fx%n", policy.name(), 100 * skipped(stats),
                        io.ditcache.bench.Shootout.speedupCeiling(skipped(stats), 0));
                o.println(Double.isNaN(uncachedSeconds) ? "uncached: not timed (" + (n > GenerateCommand
                        .UNCACHED_TIMING_LIMIT ? n + " samples, above " + GenerateCommand.UNCACHED_TIMING_LIMIT
                        : "--uncached-timing no") + "); rerun with --uncached-timing yes to measure the speedup"
                        : String.format(Locale.ROOT, "uncached: %.2f s for the same samples (interleaved by batch): "
                                + "speedup %.2fx", uncachedSeconds, uncachedSeconds / seconds));
            }
            o.println("wrote " + g.out.toAbsolutePath().resolve(LATENTS) + ", " + PREVIEW + (images.isEmpty() ? ""
                    : ", " + images.size() + " decoded image" + (images.size() == 1 ? "" : "s") + " ("
                    + images.get(0) + (images.size() > 1 ? " ..." : "") + ")") + " and " + GenerateCommand.JSON);
            o.flush();
        }
        return 0;
    }

    /**
     * For a text-to-image pipeline folder with a VAE: the final latents decoded and written as
     * {@code image-000.png}, ...; the names written (none for a transformer folder or a video family).
     */
    private static List<String> decode(GenerateCommand g, float[] all, long[] full) throws IOException {
        if (!ModelSource.pipeline(g.model)) {
            return List.of();
        }
        PipelineFolder p = PipelineFolder.open(g.model);
        long[] sample = java.util.Arrays.copyOfRange(full, 1, full.length);
        if (!PipelineImages.decodes(p, sample)) {
            return List.of();
        }
        List<java.awt.image.BufferedImage> pictures = PipelineImages.decode(p, g.dtype.type, all, full);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < pictures.size(); i++) {
            String name = String.format(Locale.ROOT, "image-%03d.png", i);
            io.ditcache.report.PngFiles.write(pictures.get(i), g.out.resolve(name));
            names.add(name);
        }
        return names;
    }

    /** One uncached sampling of {@code options}, seconds. */
    private static double timed(Sampler sampler, SamplingOptions options) {
        long start = System.nanoTime();
        sampler.sample(options, io.ditcache.ActivationProbe.NONE);
        return (System.nanoTime() - start) / 1e9;
    }

    private static double skipped(List<CacheStats> stats) {
        return stats.stream().mapToDouble(CacheStats::skippedFraction).average().orElse(0);
    }

    private static void writeJson(GenerateCommand g, Denoiser model, SamplingChoice choice, PromptEmbeddings prompts,
            int n, double seconds, int nonFinite, CachePolicy policy, List<CacheStats> stats, long[] shape,
            double uncachedSeconds, List<String> images) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("model", ModelSource.name(g.model));
        root.put("class_name", model.info().className());
        root.put("samples", n);
        root.put("prompts", prompts.prompts());
        root.put("embeddings", prompts.file().toString());
        root.put("negative_prompts", prompts.hasNegatives());
        ObjectNode seeds = root.putObject("seeds");
        seeds.put("first", g.seed);
        seeds.put("last", g.seed + n - 1);
        root.put("prompt_order", "sample i is prompt i mod prompts with seed first + i");
        root.set("scheduler", json.valueToTree(choice.create().describe()));
        root.put("steps", choice.steps());
        root.put("guidance", choice.guidance());
        root.put("guidance_kind", choice.kind().name().toLowerCase(Locale.ROOT));
        root.set("latent_shape", json.valueToTree(shape));
        root.put("seconds", seconds);
        root.put("seconds_per_sample", seconds / n);
        root.put("non_finite_samples", nonFinite);
        root.set("images", json.valueToTree(images));
        root.put("note", "class_accuracy and fd are for the MNIST class-label model; a text model's samples are "
                + "latents (" + TextGeneration.LATENTS + "), not measured here");
        if (policy != null) {
            root.set("policy", json.valueToTree(policy.describe()));
            ObjectNode cache = root.putObject("cache");
            cache.put("skipped_fraction", skipped(stats));
            cache.put("speedup_ceiling", io.ditcache.bench.Shootout.speedupCeiling(skipped(stats), 0));
            if (Double.isNaN(uncachedSeconds)) {
                cache.putNull("uncached_seconds");
                cache.putNull("speedup");
            } else {
                cache.put("uncached_seconds", uncachedSeconds);
                cache.put("speedup", uncachedSeconds / seconds);
            }
            cache.set("first_batch", json.valueToTree(stats.get(0).summary()));
        } else {
            root.putNull("policy");
        }
        AtomicFiles.writeString(g.out.resolve(GenerateCommand.JSON), json.writeValueAsString(root) + "\n");
    }
}
