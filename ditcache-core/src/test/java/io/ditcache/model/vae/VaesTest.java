package io.ditcache.model.vae;

import static io.ditcache.model.vae.VaeFixtures.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ComputeType;
import io.ditcache.model.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and describing VAEs: parameter counts without allocating, the optional 1x1 convolutions, refusals. */
class VaesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** FLUX.1-dev's published VAE config: diffusers' count on the meta device (param_counts.json). */
    @Test
    void fluxVaeParameterCountFromConfigAlone(@TempDir Path dir) throws Exception {
        Path file = Fixtures.copy("/fixtures/pipeline/configs/flux1_dev_vae/config.json", dir.resolve("config.json"));
        VaeDescription d = Vaes.describe(DiffusersConfig.read(file));
        assertEquals(83_819_683L, d.parameterCount());
        assertEquals(34_274_208L, d.parameterCount("encoder."));
        assertEquals(49_545_475L, d.parameterCount("decoder."));
        assertEquals("AutoencoderKL", d.className());
        VaeConfig c = Vaes.config(DiffusersConfig.read(file));
        assertEquals(0.3611, c.scalingFactor());
        assertEquals(0.1159, c.shiftFactor());
        assertEquals(3, c.downsamplings());
    }

    @Test
    void fixtureDescriptionNamesEveryWeight(@TempDir Path dir) throws Exception {
        Path vae = VaeFixtures.folder(dir);
        VaeDescription d = Vaes.describe(DiffusersConfig.read(vae.resolve("config.json")));
        try (SafetensorsFile weights = SafetensorsFile.open(vae.resolve("diffusion_pytorch_model.safetensors"))) {
            assertEquals(weights.names(), d.parameters().keySet());
            assertEquals(116, d.parameters().size());
        }
    }

    @Test
    void shiftFactorIsZeroWhenAbsent(@TempDir Path dir) throws Exception {
        Path vae = VaeFixtures.folder(dir);
        editConfig(vae, c -> c.remove("shift_factor"));
        assertEquals(0.0, Vaes.config(DiffusersConfig.read(vae.resolve("config.json"))).shiftFactor());
    }

    /** SDXL-style per-channel statistics are un-scaled differently by each pipeline: decode refuses to guess. */
    @Test
    void latentStatisticsAreNotGuessed(@TempDir Path dir) throws Exception {
        Path vae = VaeFixtures.folder(dir);
        editConfig(vae, c -> {
            c.putArray("latents_mean");
            c.putArray("latents_std");
            for (int i = 0; i < 16; i++) {
                ((com.fasterxml.jackson.databind.node.ArrayNode) c.get("latents_mean")).add(0.1);
                ((com.fasterxml.jackson.databind.node.ArrayNode) c.get("latents_std")).add(0.9);
            }
        });
        AutoencoderKL model = Vaes.load(vae, ComputeType.FLOAT32);
        assertEquals(16, model.config().latentsMean().size());
        try (PointerScope scope = new PointerScope()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> model.decode(torch.zeros(1, 16, 2, 2)));
            assertTrue(e.getMessage().contains("latents_mean") && e.getMessage().contains("decodeUnscaled"),
                    e.getMessage());
            assertEquals(3, model.decodeUnscaled(torch.zeros(1, 16, 2, 2)).size(1));
        }
        editConfig(vae, c -> c.putArray("latents_std").add(1.0));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Vaes.load(vae, ComputeType.FLOAT32));
        assertTrue(e.getMessage().contains("latents_std has 1 values"), e.getMessage());
    }

    /** quant_conv doubles the moments, post_quant_conv halves the latents: both must be applied where they exist. */
    @Test
    void quantConvolutionsAreAppliedWhenTheConfigHasThem(@TempDir Path dir) throws Exception {
        Path vae = VaeFixtures.folder(dir.resolve("vae"));
        Path weights = vae.resolve("diffusion_pytorch_model.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile in = SafetensorsFile.open(weights); PointerScope scope = new PointerScope()) {
            for (String name : in.names()) {
                w.put(name, in.load(name));
            }
            w.put("quant_conv.weight", torch.eye(32).mul(new Scalar(2.0)).reshape(32, 32, 1, 1));
            w.put("quant_conv.bias", torch.zeros(32));
            w.put("post_quant_conv.weight", torch.eye(16).mul(new Scalar(0.5)).reshape(16, 16, 1, 1));
            w.put("post_quant_conv.bias", torch.zeros(16));
            w.write(weights);
        }
        editConfig(vae, c -> c.put("use_quant_conv", true).put("use_post_quant_conv", true));
        AutoencoderKL model = Vaes.load(vae, ComputeType.FLOAT32);
        try (SafetensorsFile golden = SafetensorsFile.open(VaeFixtures.golden(dir));
                PointerScope scope = new PointerScope()) {
            Tensor doubled = golden.load("latents_unscaled").mul(new Scalar(2.0));
            double decoded = maxAbsDiff(golden.floats("decoded"), Tensors.toFloats(model.decodeUnscaled(doubled)));
            assertTrue(decoded <= 1e-4, "decoded through post_quant_conv max abs err " + decoded);
            Posterior p = model.encode(golden.load("images"));
            double mean = maxAbsDiff(golden.floats("posterior_mean"),
                    Tensors.toFloats(p.mean().mul(new Scalar(0.5))));
            assertTrue(mean <= 1e-4, "posterior_mean through quant_conv max abs err " + mean);
        }
    }

    @Test
    void configThatDisagreesWithTheWeightsIsRefusedBeforeAllocating(@TempDir Path dir) throws Exception {
        assertRefused(dir.resolve("a"), c -> c.put("latent_channels", 8), "latent_channels is 8",
                "decoder.conv_in.weight");
        assertRefused(dir.resolve("b"), c -> c.put("use_quant_conv", true), "use_quant_conv is true",
                "holds no quant_conv.weight");
        assertRefused(dir.resolve("c"), c -> c.put("layers_per_block", 2), "layers_per_block is 2",
                "encoder.down_blocks.0.resnets.N");
        assertRefused(dir.resolve("d"), c -> c.putArray("block_out_channels").add(32).add(32).add(32),
                "down_block_types", "one per width of block_out_channels");
        assertRefused(dir.resolve("e"), c -> c.put("norm_num_groups", 5), "norm_num_groups 5",
                "block_out_channels");
        assertRefused(dir.resolve("f"), c -> c.put("in_channels", 4), "in_channels is 4",
                "encoder.conv_in.weight");
        assertRefused(dir.resolve("g"), c -> c.put("_class_name", "AutoencoderTiny"), "_class_name",
                "AutoencoderKL");
        assertRefused(dir.resolve("h"), c -> c.put("mid_block_add_attention", false),
                "mid_block_add_attention is false", "decoder.mid_block.attentions.0.to_q.weight");
    }

    @Test
    void wrongInputShapesAreRefusedNamingTheShape(@TempDir Path dir) throws Exception {
        AutoencoderKL vae = Vaes.load(VaeFixtures.folder(dir), ComputeType.FLOAT32);
        try (PointerScope scope = new PointerScope()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> vae.decode(torch.zeros(1, 4, 8, 8)));
            assertTrue(e.getMessage().contains("[1, 4, 8, 8]") && e.getMessage().contains("[N, 16, H, W]"),
                    e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> vae.encode(torch.zeros(1, 3, 15, 16)));
            assertTrue(e.getMessage().contains("multiples of 2"), e.getMessage());
        }
    }

    private static void assertRefused(Path dir, Consumer<ObjectNode> edit, String... parts) throws IOException {
        Path vae = VaeFixtures.folder(dir);
        editConfig(vae, edit);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Vaes.load(vae, ComputeType.FLOAT32));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains("config.json"), m);
        for (String p : parts) {
            assertTrue(m.contains(p), "\"" + p + "\" not in: " + m);
        }
    }

    private static void editConfig(Path vae, Consumer<ObjectNode> edit) throws IOException {
        Path file = vae.resolve("config.json");
        ObjectNode c = (ObjectNode) JSON.readTree(Files.readAllBytes(file));
        edit.accept(c);
        Files.writeString(file, JSON.writeValueAsString(c));
    }
}
