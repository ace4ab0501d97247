package io.ditcache.model.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.internal.Tensors;
import io.ditcache.io.CheckpointException;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.ComputeType;
import io.ditcache.model.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What loading a text encoder checks before allocating (config against the weights' header, naming the file and
 * the key), which stored variants it accepts (transformers 4's CLIP position_ids, T5's embed_tokens copy), and
 * how a forward refuses bad ids.
 */
class TextEncoderLoadingTest {
    @TempDir
    Path tmp;

    @Test
    void configThatDisagreesWithTheWeightsIsNamed() throws Exception {
        assertRefused("clip", "\"num_hidden_layers\": 2", "\"num_hidden_layers\": 3", "num_hidden_layers is 3");
        assertRefused("clip", "\"vocab_size\": 664", "\"vocab_size\": 700", "vocab_size is 700");
        assertRefused("clip", "\"hidden_size\": 32", "\"hidden_size\": 48", "hidden_size is 48");
        assertRefused("clip", "\"intermediate_size\": 37", "\"intermediate_size\": 38", "intermediate_size is 38");
        assertRefused("clip", "\"projection_dim\": 16", "\"projection_dim\": 8", "projection_dim is 8");
        assertRefused("clip", "\"num_attention_heads\": 4", "\"num_attention_heads\": 5",
                "hidden_size 32 is not a multiple of num_attention_heads 5");
        assertRefused("clip", "\"quick_gelu\"", "\"swish\"", "hidden_act names activation \"swish\"");
        assertRefused("t5", "\"num_layers\": 2", "\"num_layers\": 1", "num_layers is 1");
        assertRefused("t5", "\"d_kv\": 8", "\"d_kv\": 10", "num_heads 4 x d_kv 10 = 40");
        assertRefused("t5", "\"d_ff\": 37", "\"d_ff\": 36", "d_ff is 36");
        assertRefused("t5", "\"vocab_size\": 448", "\"vocab_size\": 400", "vocab_size is 400");
        assertRefused("t5", "\"feed_forward_proj\": \"gated-gelu\"", "\"feed_forward_proj\": \"relu\"",
                "feed_forward_proj is not gated");
        assertRefused("t5", "\"relative_attention_num_buckets\": 32", "\"relative_attention_num_buckets\": 16",
                "relative_attention_num_buckets is 16");
    }

    @Test
    void projectingClassWithoutProjectionIsRefused() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        rewrite(dir, name -> name.equals("text_projection.weight") ? null : name);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TextEncoders.load(dir,
                ComputeType.FLOAT32));
        assertTrue(e.getMessage().contains("config.json: architectures names CLIPTextModelWithProjection")
                && e.getMessage().contains("model.safetensors") && e.getMessage().contains("text_projection.weight"),
                e.getMessage());
    }

    @Test
    void missingWeightIsNamed() throws Exception {
        Path dir = TextFixtures.folder("t5", tmp.resolve("t5"));
        rewrite(dir, name -> name.equals("encoder.block.1.layer.1.layer_norm.weight") ? null : name);
        CheckpointException e = assertThrows(CheckpointException.class, () -> TextEncoders.load(dir,
                ComputeType.FLOAT32));
        assertTrue(e.getMessage().contains("model.safetensors") && e.getMessage().contains(
                "missing keys [encoder.block.1.layer.1.layer_norm.weight]"), e.getMessage());
    }

    /** A T5 checkpoint that stores the tied embedding as encoder.embed_tokens (alone or beside shared) loads. */
    @Test
    void t5EmbedTokensVariants() throws Exception {
        Path golden = TextFixtures.golden("t5", tmp);
        Path alone = TextFixtures.folder("t5", tmp.resolve("alone"));
        rewrite(alone, name -> name.equals("shared.weight") ? "encoder.embed_tokens.weight" : name);
        Path both = TextFixtures.folder("t5", tmp.resolve("both"));
        copyTensor(both, "shared.weight", "encoder.embed_tokens.weight");
        try (SafetensorsFile g = SafetensorsFile.open(golden); PointerScope scope = new PointerScope();
                InferenceMode mode = new InferenceMode()) {
            for (Path dir : new Path[] {alone, both}) {
                Tensor out = TextEncoders.load(dir, ComputeType.FLOAT32).forward(g.load("input_ids"), null)
                        .lastHiddenState();
                assertTrue(TextFixtures.maxAbs(out, g.load("last_hidden_state")) <= 1e-4, dir.toString());
            }
        }
    }

    /** transformers 4 saved CLIP's position_ids buffer (int64); transformers skips it, and so does this. */
    @Test
    void clipPositionIdsBufferIsSkipped() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter w = new SafetensorsWriter();
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                for (String n : f.names()) {
                    w.put(n, f.load(n));
                }
            }
            long[] ids = new long[77];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = i;
            }
            w.put("text_model.embeddings.position_ids", ids, 1, 77);
            w.write(dir.resolve("model.safetensors"));
            assertEquals(664, TextEncoders.load(dir, ComputeType.FLOAT32).vocabSize());
        }
    }

    @Test
    void badIdsAreRefused() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        try (PointerScope scope = new PointerScope(); InferenceMode mode = new InferenceMode()) {
            TextEncoder clip = TextEncoders.load(dir, ComputeType.FLOAT32);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> clip.forward(
                    Tensors.fromLongs(new long[] {662, 664, 663}, 1, 3), null));
            assertTrue(e.getMessage().contains("id 664") && e.getMessage().contains("663"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> clip.forward(Tensors.fromLongs(new long[78],
                    1, 78), null));
            assertTrue(e.getMessage().contains("78 tokens") && e.getMessage().contains("77"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> clip.forward(Tensors.fromFloats(new float[3],
                    1, 3), null));
            assertTrue(e.getMessage().contains("integer dtype"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> clip.forward(Tensors.fromLongs(new long[3], 1, 3),
                    Tensors.fromLongs(new long[2], 1, 2)));
            assertTrue(e.getMessage().contains("attention_mask has shape [1, 2]"), e.getMessage());
        }
    }

    @Test
    void diffusersConfigIsNotATextEncoder() throws Exception {
        Path config = Fixtures.copy("/fixtures/dit/config.json", tmp.resolve("dit/config.json"));
        DiffusersConfig c = DiffusersConfig.read(config);
        assertFalse(TextEncoders.isTextEncoder(c));
        assertFalse(TextEncoders.isTextEncoder(tmp.resolve("dit")));
        assertTrue(TextEncoders.isTextEncoder(TextFixtures.folder("t5", tmp.resolve("t5"))));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TextEncoders.describe(c));
        assertTrue(e.getMessage().startsWith(config.toString()) && e.getMessage().contains("not a transformers text "
                + "encoder"), e.getMessage());
    }

    /** A denoiser's loader pointed at a text encoder says what the folder holds. */
    @Test
    void denoiserLoaderNamesATransformersModel() throws Exception {
        Path dir = TextFixtures.folder("t5", tmp.resolve("t5"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> io.ditcache.model.ModelLoader.load(dir));
        assertTrue(e.getMessage().startsWith(dir.resolve("config.json") + ": unknown model type \"T5EncoderModel\" "
                + "(a transformers model, no _class_name), expected a diffusers transformer"), e.getMessage());
    }

    /** A transformers config without architectures is read by model_type. */
    @Test
    void modelTypeAlone() throws Exception {
        Path dir = TextFixtures.folder("clip", tmp.resolve("clip"));
        Path config = dir.resolve("config.json");
        Files.writeString(config, Files.readString(config).replaceAll("\"architectures\": \\[[^]]*\\],", ""));
        assertEquals("clip_text_model", DiffusersConfig.read(config).className());
        assertEquals("CLIPTextModel", TextEncoders.describe(DiffusersConfig.read(config)).className());
        try (PointerScope scope = new PointerScope()) {
            assertEquals("CLIPTextModelWithProjection", TextEncoders.load(dir, ComputeType.FLOAT32).className());
        }
    }

    private void assertRefused(String fixture, String from, String to, String says) throws Exception {
        Path dir = TextFixtures.folder(fixture, tmp.resolve(fixture + "-" + Math.abs(to.hashCode())));
        Path config = dir.resolve("config.json");
        String text = Files.readString(config);
        assertTrue(text.contains(from), from);
        Files.writeString(config, text.replace(from, to));
        CheckpointException e = assertThrows(CheckpointException.class, () -> TextEncoders.load(dir,
                ComputeType.FLOAT32));
        assertTrue(e.getMessage().startsWith(config.toString()) && e.getMessage().contains(says), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    /** Rewrites the folder's model.safetensors with each tensor renamed ({@code rename} null drops it). */
    private static void rewrite(Path dir, UnaryOperator<String> rename) throws Exception {
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter w = new SafetensorsWriter();
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                for (String n : f.names()) {
                    String to = rename.apply(n);
                    if (to != null) {
                        w.put(to, f.load(n));
                    }
                }
            }
            w.write(dir.resolve("model.safetensors"));
        }
    }

    private static void copyTensor(Path dir, String from, String to) throws Exception {
        try (PointerScope scope = new PointerScope()) {
            SafetensorsWriter w = new SafetensorsWriter();
            try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("model.safetensors"))) {
                for (String n : f.names()) {
                    w.put(n, f.load(n));
                }
                w.put(to, f.load(from));
            }
            w.write(dir.resolve("model.safetensors"));
        }
    }
}
