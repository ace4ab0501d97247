package io.ditcache.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.model.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The published text encoders of SD3 and FLUX (CLIP ViT-L/14, OpenCLIP bigG, T5 v1.1 XXL), described from their
 * configs without allocating a weight: parameter counts as transformers counts them on the meta device
 * (param_counts.json).
 */
class PublishedTextEncodersTest {
    static final String CONFIGS = TextFixtures.ROOT + "configs/";

    @TempDir
    Path tmp;

    @Test
    void parameterCountsMatchTransformers() throws Exception {
        JsonNode counts = new ObjectMapper().readTree(Files.readString(Fixtures.copy(CONFIGS + "param_counts.json",
                tmp.resolve("param_counts.json"))));
        for (String name : new String[] {"clip_vit_l14_text", "openclip_bigg_text"}) {
            DiffusersConfig config = config(name, tmp.resolve(name));
            TextEncoderDescription d = TextEncoders.describe(config);
            assertEquals("CLIPTextModelWithProjection", d.className());
            assertEquals(counts.get(name).get("with_projection").longValue(), d.parameterCount(), name);
            assertEquals(counts.get(name).get("token_embedding").longValue(),
                    product(d.parameters().get("text_model.embeddings.token_embedding.weight")), name);
            assertEquals(counts.get(name).get("text_projection").longValue(),
                    product(d.parameters().get("text_projection.weight")), name);
            Path plain = tmp.resolve(name + "-plain");
            Files.createDirectories(plain);
            Files.writeString(plain.resolve("config.json"), Files.readString(tmp.resolve(name).resolve("config.json"))
                    .replace("\"CLIPTextModelWithProjection\"", "\"CLIPTextModel\""));
            assertEquals(counts.get(name).get("without_projection(CLIPTextModel)").longValue(),
                    TextEncoders.describe(DiffusersConfig.read(plain.resolve("config.json"))).parameterCount(), name);
        }
        TextEncoderDescription t5 = TextEncoders.describe(config("t5_v1_1_xxl_encoder", tmp.resolve("t5")));
        assertEquals("T5EncoderModel", t5.className());
        assertEquals(counts.get("t5_v1_1_xxl_encoder").get("total").longValue(), t5.parameterCount());
        assertEquals(counts.get("t5_v1_1_xxl_encoder").get("shared_embedding").longValue(),
                product(t5.parameters().get("shared.weight")));
    }

    /** bigG's exact GELU and CLIP-L's quick GELU are read from hidden_act. */
    @Test
    void activationsAreRead() throws Exception {
        assertEquals("gelu", ClipTextConfig.of(config("openclip_bigg_text", tmp.resolve("g")), true).activation());
        assertEquals("quick_gelu", ClipTextConfig.of(config("clip_vit_l14_text", tmp.resolve("l")), true)
                .activation());
        T5EncoderConfig t5 = T5EncoderConfig.of(config("t5_v1_1_xxl_encoder", tmp.resolve("t5")));
        assertEquals("gelu_new", t5.activation());
        assertEquals(true, t5.gated());
    }

    private static DiffusersConfig config(String name, Path dir) throws Exception {
        return DiffusersConfig.read(Fixtures.copy(CONFIGS + name + "/config.json", dir.resolve("config.json")));
    }

    private static long product(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }
}
