package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A tiny FLUX pipeline folder (the golden fixtures' CLIP, T5 and VAE, a FLUX transformer with random weights at
 * their widths: CLIP pooled 32, T5 d_model 32, 16 latent channels) run from prompts: generate writes the decoded
 * PNGs, study takes a prompts file, the embedding cache is hit on the second run, inspect lists the components,
 * and bad prompts and folders are refused in one line naming the file.
 */
class PipelineCommandsTest {
    private static final String ROOT = "/fixtures/pipeline/";
    @TempDir
    static Path dir;
    static Path pipe;

    @BeforeAll
    static void assemble() throws IOException {
        pipe = dir.resolve("flux-pipe");
        pipeline(pipe);
    }

    /** Writes the FLUX pipeline folder at {@code p}. */
    static void pipeline(Path p) throws IOException {
        Files.createDirectories(p);
        Files.writeString(p.resolve("model_index.json"), """
                {"_class_name": "FluxPipeline", "_diffusers_version": "0.40.0.dev0",
                 "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"],
                 "text_encoder": ["transformers", "CLIPTextModel"],
                 "text_encoder_2": ["transformers", "T5EncoderModel"],
                 "tokenizer": ["transformers", "CLIPTokenizer"],
                 "tokenizer_2": ["transformers", "T5TokenizerFast"],
                 "transformer": ["diffusers", "FluxTransformer2DModel"],
                 "vae": ["diffusers", "AutoencoderKL"]}
                """);
        copy("clip", p.resolve("text_encoder"), "config.json", "model.safetensors");
        copy("clip", p.resolve("tokenizer"), "tokenizer.json", "tokenizer_config.json");
        copy("t5", p.resolve("text_encoder_2"), "config.json", "model.safetensors");
        copy("t5", p.resolve("tokenizer_2"), "tokenizer.json", "tokenizer_config.json");
        copy("vae", p.resolve("vae"), "config.json", "diffusion_pytorch_model.safetensors");
        Files.createDirectories(p.resolve("scheduler"));
        Files.writeString(p.resolve("scheduler/scheduler_config.json"), """
                {"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0,
                 "use_dynamic_shifting": true, "base_shift": 0.5, "max_shift": 1.15, "base_image_seq_len": 256,
                 "max_image_seq_len": 4096}
                """);
        transformer(p.resolve("transformer"));
    }

    /** The FLUX fixture with in_channels 64 (16 latent channels packed 2x2): new random x_embedder and proj_out. */
    private static void transformer(Path t) throws IOException {
        Files.createDirectories(t);
        String config;
        try (InputStream in = PipelineCommandsTest.class.getResourceAsStream("/fixtures/flux/config.json")) {
            config = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertTrue(config.contains("\"in_channels\": 4,"), config);
        Files.writeString(t.resolve("config.json"), config.replace("\"in_channels\": 4,", "\"in_channels\": 64,"));
        Path source = t.resolve("source.safetensors");
        try (InputStream in = PipelineCommandsTest.class.getResourceAsStream("/fixtures/flux/model.safetensors")) {
            Files.copy(in, source);
        }
        Random rnd = new Random(16);
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        try (SafetensorsFile f = SafetensorsFile.open(source)) {
            for (String name : f.names()) {
                long[] d = f.info(name).dims();
                switch (name) {
                    case "x_embedder.weight" -> w.put(name, random(rnd, d[0] * 64, 0.1), d[0], 64);
                    case "proj_out.weight" -> w.put(name, random(rnd, 64 * d[1], 0.1), 64, d[1]);
                    case "proj_out.bias" -> w.put(name, random(rnd, 64, 0.01), 64);
                    default -> w.put(name, f.floats(name), d);
                }
            }
        }
        w.write(t.resolve(FixtureDit.WEIGHTS));
        Files.delete(source);
    }

    private static float[] random(Random rnd, long n, double scale) {
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rnd.nextGaussian() * scale);
        }
        return v;
    }

    private static void copy(String fixture, Path target, String... files) throws IOException {
        Files.createDirectories(target);
        for (String f : files) {
            try (InputStream in = PipelineCommandsTest.class.getResourceAsStream(ROOT + fixture + "/" + f)) {
                Files.copy(in, target.resolve(f));
            }
        }
    }

    private static CliRun generate(Path model, Path cache, Path out, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("generate", "--model", model.toString(), "--steps", "3",
                "--embedding-cache", cache.toString(), "--out", out.toString()));
        args.addAll(List.of(more));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void generateFromAPromptWritesTheDecodedPictureAndHitsTheCacheTheSecondTime() throws IOException {
        Path cache = dir.resolve("cache-generate");
        Path out = dir.resolve("generated");
        CliRun r = generate(pipe, cache, out, "--prompt", "a red cube");
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.err().contains("embedding cache: 0 hit, 1 encoded"), r.err());
        Path png = out.resolve("image-000.png");
        assertTrue(Files.isRegularFile(png), r.toString());
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(16, img.getWidth(), "8x8 latents, one 2x upsampling in the fixture's VAE");
        assertEquals(16, img.getHeight());
        JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals("image-000.png", m.get("images").get(0).asText());
        assertEquals("none", m.get("guidance_kind").asText(), "FLUX.1-schnell-like: no guidance embedder");

        // the picture is the VAE's decoding of the final latents, as `run` on the vae folder gives it
        Path decoded = dir.resolve("decoded.safetensors");
        CliRun d = CliRun.of("run", "--model", pipe.resolve("vae").toString(), "--inputs",
                out.resolve("latents.safetensors").toString(), "--out", decoded.toString());
        assertEquals(0, d.exitCode(), d.toString());
        try (SafetensorsFile f = SafetensorsFile.open(decoded)) {
            float[] v = f.floats("decoded");
            assertArrayEquals(new long[] {1, 3, 16, 16}, f.info("decoded").dims());
            int worst = 0;
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    int rgb = img.getRGB(x, y);
                    for (int c = 0; c < 3; c++) {
                        double unit = Math.min(1, Math.max(0, v[c * 256 + y * 16 + x] * 0.5 + 0.5));
                        int want = (int) Math.rint(unit * 255);
                        int got = (rgb >> (16 - 8 * c)) & 0xff;
                        worst = Math.max(worst, Math.abs(want - got));
                    }
                }
            }
            assertTrue(worst <= 1, "PNG differs from the decoded latents by " + worst + " levels");
        }

        // second run: the prompt comes from the cache, and the same seed gives the same latents
        Path again = dir.resolve("generated-again");
        CliRun r2 = generate(pipe, cache, again, "--prompt", "a red cube");
        assertEquals(0, r2.exitCode(), r2.toString());
        assertTrue(r2.err().contains("embedding cache: 1 hit, 0 encoded"), r2.err());
        try (SafetensorsFile a = SafetensorsFile.open(out.resolve("latents.safetensors"));
                SafetensorsFile b = SafetensorsFile.open(again.resolve("latents.safetensors"))) {
            assertArrayEquals(a.floats("latents"), b.floats("latents"));
        }
        // another prompt beside the cached one: one hit, one encoded, and a different picture
        Path two = dir.resolve("generated-two");
        CliRun r3 = generate(pipe, cache, two, "--prompt", "a red cube", "--prompt", "a blue ball");
        assertEquals(0, r3.exitCode(), r3.toString());
        assertTrue(r3.err().contains("embedding cache: 1 hit, 1 encoded"), r3.err());
        assertTrue(Files.isRegularFile(two.resolve("image-001.png")));
        try (SafetensorsFile f = SafetensorsFile.open(two.resolve("latents.safetensors"))) {
            float[] v = f.floats("latents");
            int half = v.length / 2;
            assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOf(v, half),
                    java.util.Arrays.copyOfRange(v, half, v.length)), "the prompt reaches the transformer");
        }
    }

    @Test
    void studyAndProfileTakePrompts() throws IOException {
        Path prompts = Files.writeString(dir.resolve("prompts.txt"), "a red cube\na photo of a cat\n");
        Path cache = dir.resolve("cache-study");
        Path out = dir.resolve("study");
        CliRun r = CliRun.of("study", "--model", pipe.toString(), "--prompts", prompts.toString(), "--conditions",
                "2", "--steps", "3,4", "--max-sequence-length", "64", "--embedding-cache", cache.toString(),
                "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.err().contains("embedding cache: 0 hit, 2 encoded"), r.err());
        assertTrue(Files.isRegularFile(out.resolve("report.html")), r.toString());
        CliRun p = CliRun.of("profile", "--model", pipe.toString(), "--prompts", prompts.toString(), "--steps", "3",
                "--max-sequence-length", "64", "--embedding-cache", cache.toString(), "--out",
                dir.resolve("profile").toString());
        assertEquals(0, p.exitCode(), p.toString());
        assertTrue(p.err().contains("embedding cache: 2 hit, 0 encoded"), p.err());
        CliRun b = CliRun.of("profile", "--model", pipe.toString(), "--builtin-prompts", "2", "--steps", "3",
                "--max-sequence-length", "64", "--embedding-cache", cache.toString(), "--out",
                dir.resolve("profile-builtin").toString());
        assertEquals(0, b.exitCode(), b.toString());
        assertTrue(b.err().contains("embedding cache: 0 hit, 2 encoded"), b.err());
    }

    @Test
    void benchJudgesTheCachesOnDecodedPicturesToo() throws IOException {
        Path out = dir.resolve("bench");
        CliRun r = CliRun.of("bench", "--model", pipe.toString(), "--prompt", "a red cube", "--prompt", "a blue ball",
                "--steps", "5", "--samples", "2", "--repeats", "1", "--policies", "fora", "--max-sequence-length",
                "64", "--embedding-cache",
                dir.resolve("cache-bench").toString(), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.toString());
        List<String> csv = Files.readAllLines(out.resolve("shootout.csv"));
        assertTrue(csv.get(0).endsWith(",pixel_psnr,pixel_ssim"), csv.get(0));
        assertTrue(csv.size() > 1, csv.toString());
        for (String line : csv.subList(1, csv.size())) {
            String[] f = line.split(",");
            double psnr = f[f.length - 2].equals("inf") ? Double.POSITIVE_INFINITY
                    : Double.parseDouble(f[f.length - 2]);
            double ssim = Double.parseDouble(f[f.length - 1]);
            double latentPsnr = f[4].equals("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(f[4]);
            assertTrue(psnr > 0, line);
            assertTrue(ssim > -1 && ssim <= 1, line);
            assertEquals(Double.isInfinite(latentPsnr), Double.isInfinite(psnr), "identical latents decode to "
                    + "identical pictures, and only they: " + line);
        }
        assertTrue(r.out().contains("decoded pictures (the pipeline's VAE"), r.out());
        assertTrue(Files.readString(out.resolve("report.html")).contains("<h2>Decoded pictures</h2>"));
    }

    @Test
    void inspectListsEveryComponentWithItsParameters() throws IOException {
        CliRun r = CliRun.of("inspect", "--model", pipe.toString());
        assertEquals(0, r.exitCode(), r.toString());
        String out = r.out();
        for (String c : List.of("transformer", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "vae",
                "scheduler")) {
            assertTrue(out.contains("\n  " + c + ": "), c + " in\n" + out);
        }
        long sum = 0;
        for (String c : List.of("transformer", "text_encoder", "text_encoder_2", "vae")) {
            CliRun one = CliRun.of("inspect", "--model", pipe.resolve(c).toString());
            assertEquals(0, one.exitCode(), one.toString());
            long n = parameters(one.out());
            sum += n;
            assertTrue(out.contains("\n  " + c + ": ") && out.contains(", parameters: " + n + "\n"), c + " " + n
                    + " in\n" + out);
        }
        assertTrue(out.contains("parameters: " + sum + " (all components)"), out);
    }

    private static long parameters(String out) {
        return out.lines().filter(l -> l.startsWith("parameters: ")).map(l -> l.substring(12).split(" ")[0])
                .mapToLong(Long::parseLong).findFirst().orElseThrow();
    }

    @Test
    void badPromptsAndFoldersAreRefusedInOneLineNamingTheFile() throws IOException {
        Path cache = dir.resolve("cache-errors");
        CliRun r = generate(pipe, cache, dir.resolve("e1"), "--prompt", "");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("generate: --prompt: prompt 1 is empty, expected text to encode with "
                + pipe.resolve("tokenizer/tokenizer.json")), r.err());

        Path file = Files.writeString(dir.resolve("with-empty.txt"), "a red cube\n\na blue ball\n");
        r = CliRun.of("study", "--model", pipe.toString(), "--prompts", file.toString(), "--embedding-cache",
                cache.toString(), "--out", dir.resolve("e0").toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("study: " + file + ": prompt 2 is empty, expected text to encode with "
                + pipe.resolve("tokenizer/tokenizer.json")), r.err());

        String longPrompt = "a highly detailed oil painting of the old city at night ".repeat(8).strip();
        r = generate(pipe, cache, dir.resolve("e2"), "--prompt", longPrompt, "--strict");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("generate: --prompt: prompt 1 is "), r.err());
        assertTrue(r.err().contains("tokens long with " + pipe.resolve("tokenizer/tokenizer.json") + ", more than 77"),
                r.err());
        r = generate(pipe, cache, dir.resolve("e3"), "--prompt", longPrompt);
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(r.err().contains("generate: warning: --prompt: prompt 1 is "), r.err());
        assertTrue(r.err().contains("truncated as the pipeline does"), r.err());

        // a pipeline folder without its VAE
        Path partial = dir.resolve("partial");
        pipeline(partial);
        try (Stream<Path> s = Files.walk(partial.resolve("vae"))) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        r = generate(partial, cache, dir.resolve("e4"), "--prompt", "a red cube");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().contains(partial.resolve("model_index.json") + ": names component \"vae\""), r.err());
        assertTrue(r.err().contains(partial.resolve("vae") + " is missing"), r.err());

        // T5's folder with CLIP's tokenizer: 664 ids for an encoder of 448
        Path mixed = dir.resolve("mixed");
        pipeline(mixed);
        Files.copy(mixed.resolve("tokenizer/tokenizer.json"), mixed.resolve("tokenizer_2/tokenizer.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(mixed.resolve("tokenizer_2/tokenizer_config.json"), "{\"pad_token\": \"<|endoftext|>\"}");
        r = generate(mixed, cache, dir.resolve("e5"), "--prompt", "a red cube");
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("generate: " + mixed.resolve("tokenizer_2/tokenizer.json") + ": ids up to 663"),
                r.err());

        // a transformer of 1 latent channel beside a VAE of 16: refused before sampling, naming the VAE's config
        Path narrow = dir.resolve("narrow");
        pipeline(narrow);
        for (String f : List.of("config.json", "model.safetensors")) {
            try (InputStream in = PipelineCommandsTest.class.getResourceAsStream("/fixtures/flux/" + f)) {
                Files.copy(in, narrow.resolve("transformer").resolve(f.equals("config.json") ? f
                        : FixtureDit.WEIGHTS), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        }
        r = generate(narrow, cache, dir.resolve("e7"), "--prompt", "a red cube");
        assertEquals(1, r.exitCode(), r.toString());
        List<String> lines = r.errLines();
        assertEquals(List.of("embedding cache: 0 hit, 1 encoded"), lines.subList(0, lines.size() - 1).stream()
                .map(l -> l.replaceAll(" \\(.*\\)$", "")).toList(), r.toString());
        assertTrue(lines.get(lines.size() - 1).startsWith("generate: " + narrow.resolve("vae/config.json")
                + ": latent_channels is 16"), r.err());
        assertFalse(r.out().contains("samples in"), "refused before sampling: " + r.out());

        // prompts for a bare transformer folder
        r = generate(pipe.resolve("transformer"), cache, dir.resolve("e6"), "--prompt", "a red cube");
        assertEquals(2, r.exitCode(), r.toString());
        assertTrue(r.err().contains("is not a diffusers pipeline folder"), r.err());
    }
}
