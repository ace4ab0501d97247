package io.ditcache.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.io.DType;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.dit.DiTConfig;
import io.ditcache.model.dit.DiTFamily;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code inspect}: family, blocks by group, reusable parts, the parameter count and the weights' headers. */
class InspectCommandTest {
    @TempDir
    Path dir;

    Path ditXl() throws IOException {
        Path f = dir.resolve("dit-xl-2-256.json");
        try (InputStream in = getClass().getResourceAsStream("/fixtures/configs/dit-xl-2-256.json")) {
            Files.copy(in, f);
        }
        return f;
    }

    static String line(CliRun r, String prefix) {
        return r.out().lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow(() -> new AssertionError(
                "no line starting with '" + prefix + "' in\n" + r));
    }

    @Test
    void aConfigIsDescribedWithoutWeights() throws IOException {
        Path config = ditXl();
        CliRun r = CliRun.of("inspect", "--config", config.toString());
        assertEquals(0, r.exitCode(), r.toString());
        DiTConfig dit = DiTFamily.config(DiffusersConfig.read(config));
        assertEquals("parameters: " + dit.parameterCount(), line(r, "parameters: "));
        assertTrue(dit.parameterCount() > 600_000_000L, "DiT-XL/2 is about 0.68 B: " + dit.parameterCount());
        assertEquals("class: DiTTransformer2DModel (family dit)", line(r, "class: "));
        assertEquals("blocks: 28 in execution order", line(r, "blocks: "));
        List<String> groups = r.out().lines().filter(l -> l.startsWith("  blocks ")).toList();
        assertEquals(1, groups.size(), r.out());
        assertTrue(groups.get(0).startsWith("  blocks 0-27 plain (self-attention, feed-forward; image stream; cost "),
                groups.get(0));
        assertEquals("reusable: whole blocks (their residuals); parts: self-attention, feed-forward",
                line(r, "reusable: "));
        assertTrue(r.out().lines().noneMatch(l -> l.startsWith("weights")), "no weights without --model");
    }

    @Test
    void aCheckpointAddsItsWeightsDtypeAndSize() throws IOException {
        Path ckpt = FixtureDit.checkpoint(dir.resolve("dit"));
        CliRun r = CliRun.of("inspect", "--model", ckpt.toString());
        assertEquals(0, r.exitCode(), r.toString());
        long count = Long.parseLong(line(r, "parameters: ").substring("parameters: ".length()));
        assertEquals("blocks: " + FixtureDit.LAYERS + " in execution order", line(r, "blocks: "));
        assertTrue(line(r, "weights dtype: ").startsWith("weights dtype: F32 ("), r.out());
        long size = Files.size(ckpt.resolve(FixtureDit.WEIGHTS));
        String bytes = line(r, "weights size: ");
        long stated = Long.parseLong(bytes.substring("weights size: ".length(), bytes.indexOf(" bytes")));
        assertEquals(count * 4, stated, "float32: 4 bytes per parameter");
        assertTrue(stated < size, "the data section, less than the file with its header");
        assertEquals("weights elements: " + count + " (the parameters the config defines)",
                line(r, "weights elements: "));
    }

    @Test
    void anUnknownClassOrABadConfigIsOneLineNamingTheFile() throws IOException {
        Path unknown = dir.resolve("unknown.json");
        Files.writeString(unknown, "{\"_class_name\": \"NoSuchTransformer\"}");
        CliRun r = CliRun.of("inspect", "--config", unknown.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("inspect: " + unknown + ": unknown model type \"NoSuchTransformer\""), r.err());

        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, Files.readString(ditXl()).replace("\"num_layers\": 28", "\"num_layers\": -3"));
        r = CliRun.of("inspect", "--config", bad.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertEquals(1, r.errLines().size(), r.toString());
        assertTrue(r.err().startsWith("inspect: " + bad + ": "), r.err());
        assertTrue(r.err().contains("num_layers") || r.err().contains("-3"), r.err());

        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, "{\"_class_name\": ");
        r = CliRun.of("inspect", "--config", broken.toString());
        assertEquals(1, r.exitCode(), r.toString());
        assertTrue(r.err().startsWith("inspect: " + broken), r.err());

        r = CliRun.of("inspect", "--config", dir.resolve("absent.json").toString());
        assertEquals(2, r.exitCode(), r.toString());
        r = CliRun.of("inspect");
        assertEquals(2, r.exitCode(), r.toString());
    }

    @Test
    void aShardedHalfPrecisionCheckpointIsSummedOverItsShards() throws IOException {
        Path plain = FixtureDit.checkpoint(dir.resolve("plain"));
        Path sharded = dir.resolve("sharded");
        Files.createDirectories(sharded);
        Files.copy(plain.resolve("config.json"), sharded.resolve("config.json"));
        StringBuilder map = new StringBuilder();
        long elements = 0;
        SafetensorsWriter[] shards = {new SafetensorsWriter(), new SafetensorsWriter()};
        try (SafetensorsFile f = SafetensorsFile.open(plain.resolve(FixtureDit.WEIGHTS))) {
            int k = 0;
            for (String name : f.names()) {
                int shard = k++ % 2;
                long n = f.info(name).numel();
                elements += n;
                shards[shard].putBytes(name, DType.BF16, new byte[Math.toIntExact(2 * n)], f.info(name).dims());
                map.append(map.length() == 0 ? "" : ",").append('"').append(name).append("\": \"part-")
                        .append(shard + 1).append(".safetensors\"");
            }
        }
        shards[0].write(sharded.resolve("part-1.safetensors"));
        shards[1].write(sharded.resolve("part-2.safetensors"));
        Files.writeString(sharded.resolve("diffusion_pytorch_model.safetensors.index.json"),
                "{\"metadata\": {\"total_size\": " + 2 * elements + "}, \"weight_map\": {" + map + "}}");
        CliRun r = CliRun.of("inspect", "--model", sharded.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertTrue(line(r, "weights dtype: ").startsWith("weights dtype: BF16 ("), r.out());
        assertEquals("weights size: " + io.ditcache.io.MemoryBudget.bytes(2 * elements), line(r, "weights size: "));
        assertEquals("weights elements: " + elements + " (the parameters the config defines)",
                line(r, "weights elements: "));
    }

    @Test
    void fluxDevIsDescribedByGroupWithDiffusersParameterCount() throws IOException {
        Path f = dir.resolve("flux1-dev.json");
        try (InputStream in = getClass().getResourceAsStream("/fixtures/configs/flux1-dev.json")) {
            Files.copy(in, f);
        }
        CliRun r = CliRun.of("inspect", "--config", f.toString());
        assertEquals(0, r.exitCode(), r.toString());
        assertEquals("parameters: 11901408320", line(r, "parameters: "), "diffusers' count of FLUX.1-dev");
        assertEquals("class: FluxTransformer2DModel (family flux)", line(r, "class: "));
        List<String> groups = r.out().lines().filter(l -> l.startsWith("  blocks ")).toList();
        assertEquals(2, groups.size(), r.out());
        assertTrue(groups.get(0).startsWith("  blocks 0-18 double (self-attention, feed-forward, context-attention, "
                + "context-feed-forward; image + context streams"), groups.get(0));
        assertTrue(groups.get(1).startsWith("  blocks 19-56 single (self-attention, feed-forward; image stream"),
                groups.get(1));
    }
}
