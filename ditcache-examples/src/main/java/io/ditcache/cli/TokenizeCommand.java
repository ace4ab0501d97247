package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.text.PromptTokenizer;
import io.ditcache.model.text.TextEncoders;
import io.ditcache.model.text.TokenizeOptions;
import io.ditcache.model.text.TokenizedPrompts;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tokenize}: prompts to token ids as the diffusers pipelines pad and truncate them, written as safetensors
 * ({@code input_ids}, and {@code attention_mask} where the pipelines pass one: T5, not CLIP).
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true,
        description = "Token ids of prompts (one per line) as the pipelines pad and truncate them; writes input_ids "
                + "(int64) and, for tokenizers whose pipelines pass it (T5), attention_mask.")
final class TokenizeCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "a tokenizer folder (tokenizer.json, "
            + "tokenizer_config.json), e.g. a pipeline's tokenizer/ or tokenizer_2/; where it also holds a text "
            + "encoder's config.json, the vocabulary is checked against it")
    Path model;

    @Option(names = "--max-length", paramLabel = "N", description = "tokens per row, special tokens included "
            + "(default: model_max_length of tokenizer_config.json: 77 for CLIP, 512 for T5; the pipelines' T5 "
            + "max_sequence_length: FLUX 512 (256 for schnell), SD3 256, PixArt-alpha 120, CogVideoX 226, Mochi 256)")
    Integer maxLength;

    @Option(names = "--prompts", required = true, description = "UTF-8 text file, one prompt per line")
    Path prompts;

    @Option(names = "--out", required = true, description = "safetensors file to write")
    Path out;

    @Option(names = "--strict", description = "refuse a prompt longer than the maximum instead of truncating it")
    boolean strict;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        OptionChecks.outputFile(cl, "--out", out);
        if (!Files.isDirectory(model)) {
            throw new CommandLine.ParameterException(cl, "--model " + model + ": not a directory (expected a "
                    + "tokenizer folder with tokenizer.json)");
        }
        if (!Files.isRegularFile(prompts)) {
            throw new CommandLine.ParameterException(cl, "--prompts " + prompts + ": no such file (expected a text "
                    + "file, one prompt per line)");
        }
        if (maxLength != null) {
            OptionChecks.count(cl, "--max-length", maxLength, 2, 1 << 20, "tokens per row");
        }
        List<String> lines = readPrompts(prompts);
        try (PromptTokenizer tokenizer = PromptTokenizer.open(model); PointerScope scope = new PointerScope()) {
            if (TextEncoders.isTextEncoder(model)) {
                DiffusersConfig config = DiffusersConfig.read(model.resolve(Checkpoint.CONFIG));
                tokenizer.checkVocabulary(TextEncoders.describe(config).vocabSize(), config.source());
            }
            int length = maxLength != null ? maxLength : tokenizer.modelMaxLength();
            if (length == 0) {
                throw new CommandLine.ParameterException(cl, "--max-length is needed: " + model.resolve(
                        "tokenizer_config.json") + " gives no model_max_length");
            }
            TokenizeOptions options = TokenizeOptions.maxLength(length).from(prompts.toString());
            TokenizedPrompts ids = tokenizer.encode(lines, strict ? options.strictLength() : options);
            PrintWriter err = cl.getErr();
            for (TokenizedPrompts.Truncation t : ids.truncated()) {
                err.println("tokenize: warning: " + prompts + " line " + (t.index() + 1) + ": " + t.tokens()
                        + " tokens, more than " + length + ": truncated as the pipelines do (--strict refuses)");
            }
            err.flush();
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt").put("input_ids", ids.ids(),
                    ids.rows(), ids.length());
            if (ids.masked()) {
                w.put("attention_mask", ids.mask(), ids.rows(), ids.length());
            }
            w.write(out);
        }
        return 0;
    }

    /** The file's lines, one prompt each; a final newline does not make an empty last prompt. */
    static List<String> readPrompts(Path file) throws IOException {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IOException(file + ": not UTF-8 text, expected one prompt per line", e);
        }
        List<String> out = new ArrayList<>(text.lines().toList());
        if (out.isEmpty()) {
            throw new IOException(file + ": no prompts, expected one prompt per line");
        }
        return out;
    }
}
