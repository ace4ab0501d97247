package io.ditcache.cli;

import io.ditcache.model.ComputeType;
import io.ditcache.model.pipeline.BuiltinPrompts;
import io.ditcache.model.pipeline.EmbeddingCache;
import io.ditcache.model.pipeline.PipelineFolder;
import io.ditcache.model.pipeline.PipelineKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * Prompts as conditions for a diffusers pipeline folder: {@code --prompt TEXT} (repeatable), {@code --prompts FILE}
 * (one per line) or {@code --builtin-prompts N}, encoded by the folder's own tokenizers and text encoders as the
 * published pipeline does (negatives for the guided ones), through the embedding cache. What comes out is an
 * embeddings file, so the rest of a command is the one for {@code --embeddings FILE}.
 */
final class PromptOptions {
    @Option(names = "--prompt", paramLabel = "TEXT", description = "a prompt for a pipeline folder's text encoders "
            + "(repeatable)")
    List<String> prompt;

    @Option(names = "--prompts", paramLabel = "FILE", description = "UTF-8 text file, one prompt per line, for a "
            + "pipeline folder")
    Path promptsFile;

    @Option(names = "--builtin-prompts", paramLabel = "N", description = "the first N (1 to 100) of ditcache's own "
            + "prompt set, for a pipeline folder")
    Integer builtin;

    @Option(names = "--negative-prompt", paramLabel = "TEXT", description = "the negative prompt of a guided "
            + "pipeline (default \"\", as the pipelines)")
    String negative;

    @Option(names = "--max-sequence-length", paramLabel = "N", description = "T5's tokens (default: the "
            + "pipeline's: FLUX 512, SD3 256, PixArt-α 120, PixArt-Σ 300, CogVideoX 226, Mochi 256)")
    Integer sequenceLength;

    @Option(names = "--embedding-cache", paramLabel = "DIR", description = "where prompt embeddings are cached "
            + "(default: -Dditcache.embedding.cache, $DITCACHE_EMBEDDING_CACHE or ~/.cache/ditcache/embeddings)")
    Path cache;

    @Option(names = "--strict", description = "refuse a prompt longer than a tokenizer's maximum instead of "
            + "truncating it")
    boolean strict;

    /** Whether any prompt was given. */
    boolean given() {
        return prompt != null || promptsFile != null || builtin != null;
    }

    /** Where the prompts come from, for reports: the file's name, {@code --prompt} or {@code built-in prompts}. */
    String source() {
        return prompt != null ? "--prompt" : promptsFile != null ? String.valueOf(promptsFile.getFileName())
                : "built-in prompts";
    }

    /** Usage errors that need no model: several sources, a missing file, embeddings beside prompts. */
    void check(CommandLine cl, Object embeddings) {
        int sources = (prompt != null ? 1 : 0) + (promptsFile != null ? 1 : 0) + (builtin != null ? 1 : 0);
        if (sources > 1) {
            throw new CommandLine.ParameterException(cl, "--prompt, --prompts and --builtin-prompts: give one of them");
        }
        if (sources == 1 && embeddings != null) {
            throw new CommandLine.ParameterException(cl, "--embeddings and prompts: give embeddings made elsewhere "
                    + "or prompts for a pipeline folder's encoders, not both");
        }
        if (promptsFile != null && !Files.isRegularFile(promptsFile)) {
            throw new CommandLine.ParameterException(cl, "--prompts " + promptsFile + ": no such file (expected a "
                    + "text file, one prompt per line)");
        }
        if (builtin != null) {
            OptionChecks.count(cl, "--builtin-prompts", builtin, 1, BuiltinPrompts.SIZE, null);
        }
        if (sequenceLength != null) {
            OptionChecks.count(cl, "--max-sequence-length", sequenceLength, 2, 1 << 16, "T5 tokens");
        }
    }

    /**
     * The embeddings file for {@code model}: {@code embeddings} when no prompt was given, else the prompts encoded
     * (or found in the cache) for the pipeline folder {@code model}. Prints the cache's hits and the truncation
     * warnings on {@code cl}'s error stream.
     *
     * @throws CommandLine.ParameterException for prompts and a model that is not a pipeline folder
     */
    Path embeddings(CommandLine cl, String command, Path model, Path embeddings, ComputeType type)
            throws IOException {
        if (!given()) {
            return embeddings;
        }
        String option = prompt != null ? "--prompt" : promptsFile != null ? "--prompts" : "--builtin-prompts";
        if (model == null || !PipelineFolder.isPipeline(model)) {
            throw new CommandLine.ParameterException(cl, option + ": " + ModelSource.name(model) + " is not a "
                    + "diffusers pipeline folder (no " + PipelineFolder.MODEL_INDEX + "); prompts need its tokenizers "
                    + "and text encoders; give --embeddings FILE " + TextConditions.FILE_HINT);
        }
        List<String> texts;
        String source;
        if (prompt != null) {
            texts = prompt;
            source = "--prompt";
        } else if (promptsFile != null) {
            texts = readPrompts(promptsFile);
            source = promptsFile.toString();
        } else {
            texts = BuiltinPrompts.first(builtin);
            source = "built-in prompts";
        }
        PipelineFolder p = PipelineFolder.open(model);
        EmbeddingCache c = new EmbeddingCache(cache != null ? cache : EmbeddingCache.defaultDir());
        PrintWriter err = cl.getErr();
        if (negative != null && !PipelineKind.of(p).negatives()) {
            err.println(command + ": warning: --negative-prompt: " + p.className() + " encodes no negative prompt; "
                    + "ignored");
        }
        EmbeddingCache.Result r = c.prepare(p, new EmbeddingCache.Request(texts, negative, source, strict,
                sequenceLength == null ? 0 : sequenceLength, type));
        for (String w : r.warnings()) {
            err.println(command + ": warning: " + w);
        }
        err.println("embedding cache: " + r.hits() + " hit, " + r.encoded() + " encoded (" + c.root() + ")");
        err.flush();
        return r.file();
    }

    /** The file's lines, one prompt each; an empty line is an empty prompt, refused with its line number. */
    static List<String> readPrompts(Path file) throws IOException {
        return new ArrayList<>(TokenizeCommand.readPrompts(file));
    }
}
