package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.data.ImageSet;
import io.ditcache.examples.MnistSliceData;
import io.ditcache.examples.TrainClassifier;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.CheckpointWriter;
import io.ditcache.model.dit.DefaultDiT;
import io.ditcache.policy.ComputeMask;
import io.ditcache.quality.DigitClassifier;
import io.ditcache.quality.ReferenceFeatures;
import java.awt.image.BufferedImage;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GenerateCommandTest {
    @TempDir
    static Path shared;
    static Path data;
    static TrainClassifier.Result made;

    /** A classifier and reference features made from the MNIST slice, as TrainClassifier makes the real ones. */
    @BeforeAll
    static void makeClassifier() throws Exception {
        data = MnistSliceData.folder(shared.resolve("data"));
        made = TrainClassifier.run(data, shared.resolve("quality"), 1, 64, 0, new PrintStream(OutputStream.nullOutputStream()));
    }

    static JsonNode metrics(Path out) throws Exception {
        return new ObjectMapper().readTree(out.resolve(GenerateCommand.JSON).toFile());
    }

    static BufferedImage png(Path out) throws Exception {
        return ImageIO.read(out.resolve(GenerateCommand.PNG).toFile());
    }

    @Test
    void writesTheGridAndTheMetrics(@TempDir Path out) throws Exception {
        CliRun r = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "2", "--samples", "12", "--seed", "5", "--out",
                out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("class accuracy") && r.out().contains("FD "), r.out());
        assertTrue(r.out().contains("reference point: " + GenerateCommand.SELF_IMAGES + " score FD"), r.out());
        BufferedImage img = png(out);
        assertEquals(SampleGrid.LABEL_WIDTH + 2 * 28 * 2, img.getWidth(), "12 samples: up to 2 per class, each 56 "
                + "pixels wide, after the class labels");
        assertEquals(10 * 28 * 2, img.getHeight(), "one row per class");
        JsonNode m = metrics(out);
        Set<String> keys = new TreeSet<>();
        m.fieldNames().forEachRemaining(keys::add);
        assertTrue(keys.containsAll(List.of("class_accuracy", "fd", "samples", "model", "scheduler", "steps", "guidance",
                "seeds", "per_class_accuracy", "fd_real", "reference", "classifier")), keys.toString());
        assertEquals(12, m.get("samples").asInt());
        assertEquals("ditcache-default", m.get("model").asText());
        assertEquals("ddim", m.get("scheduler").asText());
        assertEquals(2, m.get("steps").asInt());
        assertEquals(Double.parseDouble(GenerateCommand.DEFAULT_GUIDANCE), m.get("guidance").asDouble());
        assertEquals(5, m.get("seeds").get("first").asLong());
        assertEquals(16, m.get("seeds").get("last").asLong());
        // the reference point is at the 12 samples drawn: once the nearest stored count (100) was shown
        assertEquals(12, m.get("fd_real").get("samples").asInt(), "the sample count drawn");
        assertEquals(GenerateCommand.SELF_IMAGES, m.get("fd_real").get("images").asText());
        ReferenceFeatures features = ReferenceFeatures.read(made.featuresFile());
        assertEquals(features.measureSelfDistance(12, GenerateCommand.REFERENCE_DRAWS, 5).fd(),
                m.get("fd_real").get("fd").asDouble(), 1e-9, "12 reference features against all, seeded by --seed");
        assertTrue(r.out().contains("at 12 samples (the same count"), r.out());
        assertTrue(m.get("timing").get("sampling_seconds").asDouble() > 0, "sampling time recorded");
        assertEquals(m.get("timing").get("sampling_seconds").asDouble() / 12,
                m.get("timing").get("seconds_per_sample").asDouble(), 1e-12);
        assertTrue(r.out().matches("(?s).*sampled 12 in \\d+\\.\\d\\d s \\(\\d+\\.\\d{3} s per sample, 2 steps\\).*"),
                r.out());
        double acc = m.get("class_accuracy").asDouble();
        assertTrue(acc >= 0 && acc <= 1, "accuracy " + acc);
        assertTrue(m.get("fd").asDouble() > 0);
        assertEquals(256, m.get("reference").get("images").asInt());
    }

    @Test
    void aPolicyFileCachesAndIsRecorded(@TempDir Path out) throws Exception {
        Path policy = out.resolve("fora.json");
        Files.writeString(policy, "{\"name\": \"fora\", \"interval\": 2}");
        CliRun r = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "6", "--samples", "4", "--policy", policy.toString(),
                "--out", out.resolve("g").toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.out().contains("cache (fora): 50.0% of block evaluations skipped, which allows a speedup of at "
                + "most 2.00x"), r.out());
        assertTrue(r.out().contains("uncached: ") && r.out().contains(" s for the same samples (interleaved by "
                + "batch): speedup "), "4 samples: the uncached ones are timed too\n" + r.out());
        JsonNode m = metrics(out.resolve("g"));
        assertEquals("fora", m.get("policy").get("name").asText());
        assertEquals(2, m.get("policy").get("interval").asInt());
        assertEquals(0.5, m.get("cache").get("skipped_fraction").asDouble(), 1e-12, "steps 1, 3 and 5 of 6 reuse");
        assertEquals(2.0, m.get("cache").get("speedup_ceiling").asDouble(), 1e-12);
        assertTrue(m.get("timing").get("cached").asBoolean());
        double cached = m.get("timing").get("sampling_seconds").asDouble();
        double uncached = m.get("cache").get("uncached_seconds").asDouble();
        assertTrue(cached > 0 && uncached > 0, m.toString());
        assertEquals(uncached / cached, m.get("cache").get("speedup").asDouble(), 1e-9);
        assertTrue(m.get("cache").get("psnr_vs_uncached").asDouble() > 0, "FORA changes the samples a little");

        CliRun untimed = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "6", "--samples", "4", "--policy", policy.toString(),
                "--uncached-timing", "no", "--out", out.resolve("g2").toString());
        assertEquals(0, untimed.exitCode(), untimed.toString());
        assertTrue(untimed.out().contains("uncached: not timed (--uncached-timing no)"), untimed.out());
        JsonNode n = metrics(out.resolve("g2"));
        assertTrue(n.get("cache").get("uncached_seconds").isNull() && n.get("cache").get("speedup").isNull());
        assertEquals(2.0, n.get("cache").get("speedup_ceiling").asDouble(), 1e-12, "the skipped share still says");

        Files.writeString(policy, "{\"name\": \"fora\", \"interval\": 0}");
        CliRun bad = CliRun.of("generate", "--steps", "2", "--samples", "2", "--policy", policy.toString(), "--out",
                out.resolve("h").toString());
        assertEquals(1, bad.exitCode(), bad.toString());
        assertEquals(1, bad.errLines().size(), bad.toString());
        assertTrue(bad.err().startsWith("generate: " + policy + ": ") && bad.err().contains("interval"), bad.toString());
    }

    /**
     * A non-empty folder that generate did not make is left alone unless --overwrite is given (it once wrote over
     * its default folder silently); its own folders, marked by {@value GenerateCommand#MARKER}, it writes again.
     */
    @Test
    void aForeignFolderIsNotWrittenOverWithoutOverwrite(@TempDir Path dir) throws Exception {
        Path foreign = Files.createDirectories(dir.resolve("photos"));
        Files.writeString(foreign.resolve("holiday.png"), "not a digit grid");
        String[] args = {"generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "1", "--samples", "2", "--out", foreign.toString()};
        CliRun refused = CliRun.of(args);
        assertEquals(2, refused.exitCode(), refused.toString());
        assertEquals(List.of("generate: --out " + foreign + ": a folder generate did not make (no "
                + GenerateCommand.MARKER + " in it) that holds 1 other entry, holiday.png; give another --out, or "
                + "--overwrite to write into it anyway"), refused.errLines(), refused.toString());
        assertEquals("", refused.out(), "refused before sampling");
        assertEquals(List.of(foreign.resolve("holiday.png")), list(foreign), "nothing written");

        String[] overwrite = Arrays.copyOf(args, args.length + 1);
        overwrite[args.length] = "--overwrite";
        CliRun forced = CliRun.of(overwrite);
        assertEquals(0, forced.exitCode(), forced.toString());
        assertTrue(Files.exists(foreign.resolve(GenerateCommand.PNG)));
        assertEquals("not a digit grid", Files.readString(foreign.resolve("holiday.png")), "other files are kept");

        Path own = dir.resolve("own");
        CliRun first = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "1", "--samples", "2", "--out", own.toString());
        assertEquals(0, first.exitCode(), first.toString());
        assertTrue(Files.exists(own.resolve(GenerateCommand.MARKER)), "generate marks the folder it makes");
        CliRun again = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "1", "--samples", "2", "--out", own.toString());
        assertEquals(0, again.exitCode(), "its own folder is written again: " + again);

        // a folder of an older version's outputs, before the marker, is generate's too
        Files.delete(own.resolve(GenerateCommand.MARKER));
        CliRun older = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "1", "--samples", "2", "--out", own.toString());
        assertEquals(0, older.exitCode(), "only samples.png and metrics.json in it: " + older);
    }

    private static List<Path> list(Path dir) throws Exception {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void progressIsALinePerBatchInLogs(@TempDir Path out) {
        CliRun.WithProgress w = CliRun.withProgress("generate", "generate", "--classifier",
                made.classifierFile().toString(), "--reference", made.featuresFile().toString(), "--steps", "2",
                "--samples", "3", "--seed", "5", "--out", out.toString());
        assertEquals(0, w.run().exitCode(), w.run()::toString);
        assertEquals(List.of("generate: 1/1 batches done (samples 0-2)"), w.progress().stream()
                .map(l -> l.replaceAll(", [0-9:]+$", "")).toList());
    }

    @Test
    void dataFolderGivesTheReferenceAndTheRealDistance(@TempDir Path out) throws Exception {
        CliRun r = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--data", data.toString(),
                "--steps", "1", "--samples", "10", "--guidance", "1", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals(SampleGrid.LABEL_WIDTH + 56, png(out).getWidth());
        assertEquals(560, png(out).getHeight());
        JsonNode m = metrics(out);
        assertEquals(10, m.get("fd_real").get("samples").asInt(), "measured at the sample count");
        assertEquals(GenerateCommand.TRAIN_IMAGES, m.get("fd_real").get("images").asText());
        assertEquals(1.0, m.get("guidance").asDouble());
    }

    @Test
    void embeddedResourcesOrAOneLineError(@TempDir Path out) {
        boolean embedded = present(DigitClassifier.RESOURCE) && present(ReferenceFeatures.RESOURCE);
        CliRun r = CliRun.of("generate", "--steps", "1", "--samples", "2", "--out", out.toString());
        if (embedded) {
            assertEquals(0, r.exitCode(), r.toString());
        } else {
            assertEquals(1, r.exitCode(), r.toString());
            assertEquals(1, r.errLines().size(), r.toString());
            assertTrue(r.errLines().get(0).startsWith("generate: no embedded "), r.toString());
            assertTrue(r.errLines().get(0).contains("TrainClassifier"), r.toString());
        }
    }

    @Test
    void featuresOfAnotherClassifierAreRefused(@TempDir Path dir) throws Exception {
        Path other = dir.resolve("other.safetensors");
        try (DigitClassifier c = DigitClassifier.initialised(9)) {
            ReferenceFeatures.compute(c, ImageSet.split(data, false), Map.of()).write(other);
        }
        CliRun r = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                other.toString(), "--steps", "1", "--samples", "2", "--out", dir.resolve("out").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().contains("matching pair"), r.toString());
    }

    @Test
    void aModelOfOtherImagesIsRefused(@TempDir Path dir) throws Exception {
        CliRun r = CliRun.of("generate", "--model", FixtureDit.checkpoint(dir.resolve("m")).toString(), "--classifier",
                made.classifierFile().toString(), "--reference", made.featuresFile().toString(), "--steps", "1",
                "--out", dir.resolve("out").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().contains("need 1x28x28"), r.toString());
    }

    @Test
    void badArgumentsExitWithTwo(@TempDir Path dir) {
        String out = dir.toString();
        for (String[] args : new String[][] {
                {"generate", "--samples", "1", "--out", out},
                {"generate", "--scheduler", "nope", "--out", out},
                {"generate", "--guidance", "0.5", "--out", out},
                {"generate", "--data", out, "--reference", out, "--out", out},
                {"generate", "--policy", "x.json", "--out", out}}) {
            CliRun r = CliRun.of(args);
            assertEquals(2, r.exitCode(), String.join(" ", args) + "\n" + r);
            assertEquals(1, r.errLines().size(), r.toString());
        }
    }

    @Test
    void nonFiniteSamplesAreCountedBeforeTheMetrics(@TempDir Path dir) throws Exception {
        Path nan = dir.resolve("nan-digits");
        CheckpointWriter.save(DefaultDiT.randomReference(), nan, Map.of());
        FixtureDit.editWeights(nan, (name, values) -> Arrays.fill(values, Float.NaN));
        CliRun r = CliRun.of("generate", "--model", nan.toString(), "--classifier", made.classifierFile().toString(),
                "--reference", made.featuresFile().toString(), "--steps", "2", "--samples", "12", "--out",
                dir.resolve("out").toString());
        assertEquals(1, r.exitCode(), r.toString());
        // this once failed inside the Fréchet distance as "linalg.eigh: The algorithm failed to converge"
        assertEquals(List.of("generate: 12 of 12 samples of model nan-digits are non-finite (NaN or infinite "
                + "pixels); class accuracy and FD need finite samples (look for NaN weights with 'ditcache profile')"),
                r.errLines(), r.toString());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void referencesWithoutImagesSaySo(@TempDir Path dir) throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        writeIdx(empty.resolve("t10k-images-idx3-ubyte"), 0x803, 0, 28, 28);
        writeIdx(empty.resolve("t10k-labels-idx1-ubyte"), 0x801, 0);
        CliRun r = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--data", empty.toString(),
                "--steps", "1", "--samples", "2", "--out", dir.resolve("out").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(List.of("generate: --data " + empty + ": t10k-images-idx3-ubyte holds 0 images, the reference "
                + "needs at least 2"), r.errLines(), r.toString());

        Path none = dir.resolve("none.safetensors");
        try (DigitClassifier c = DigitClassifier.load(made.classifierFile())) {
            new SafetensorsWriter().metadata("format", ReferenceFeatures.FORMAT)
                    .metadata(ReferenceFeatures.CLASSIFIER_KEY, c.fingerprint())
                    .put("features", new float[0], 0, DigitClassifier.FEATURES).put("labels", new long[0], 0)
                    .write(none);
        }
        CliRun ref = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                none.toString(), "--steps", "1", "--samples", "2", "--out", dir.resolve("out").toString());
        assertEquals(1, ref.exitCode(), ref.toString());
        assertEquals(List.of("generate: " + none + ": tensor 'features' [0, 128] holds no images, a reference needs "
                + "at least 2"), ref.errLines(), ref.toString());
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    /** An IDX file of unsigned bytes with the given dimensions, all values 0. */
    private static void writeIdx(Path file, int magic, int... dims) throws Exception {
        long count = 1;
        for (int d : dims) {
            count *= d;
        }
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 + 4 * dims.length + (int) count);
        b.putInt(magic);
        for (int d : dims) {
            b.putInt(d);
        }
        Files.write(file, b.array());
    }

    @Test
    void aMaskOfAnotherLayoutIsNamedBeforeSampling(@TempDir Path dir) throws Exception {
        Path mask = dir.resolve("mask.json");
        boolean[][] all = new boolean[3][4];
        for (boolean[] step : all) {
            Arrays.fill(step, true);
        }
        new ComputeMask(all, new ComputeMask.Budget(1.0), 0.0, "other/ddim-3").write(mask);
        CliRun r = CliRun.of("generate", "--classifier", made.classifierFile().toString(), "--reference",
                made.featuresFile().toString(), "--steps", "5", "--samples", "2", "--policy", mask.toString(), "--out",
                dir.resolve("out").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(List.of("generate: --policy " + mask + ": a compute mask for 3 steps x 4 layers, but this run "
                + "has 5 steps x 6 layers; plan one with 'ditcache policy --steps 5' from a profile of this model"),
                r.errLines(), r.toString());
    }

    private static boolean present(String resource) {
        return DigitClassifier.class.getClassLoader().getResource(resource) != null;
    }
}
