package io.ditcache.cli;

import io.ditcache.study.Study;
import io.ditcache.study.StudyRunner;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code merge}: combines the folders of a study's shards into the study of all of them. */
@Command(name = "merge", mixinStandardHelpOptions = true,
        description = "Merges study shards (folders written by 'study --shard i/n') into one study folder; the "
                + "result equals the unsharded study.")
final class MergeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, description = "folder of the merged study")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "SHARD_DIR", description = "folders of the shards")
    List<Path> shards;

    @Override
    public Integer call() throws Exception {
        OptionChecks.outputDirectory(spec.commandLine(), "--out", out);
        long bytes = 0;
        for (Path shard : shards) {
            bytes += folderSize(shard);
        }
        OptionChecks.space(spec.commandLine(), "--out", out, bytes, "the shards' runs, profiles and pages, about as "
                + "much as the shard folders hold");
        Study study = StudyRunner.merge(shards, out);
        return StudyCommand.finish(spec.commandLine().getOut(), study, out);
    }

    /** Bytes of the regular files under {@code dir}; 0 where it cannot be read (the merge says why). */
    private static long folderSize(Path dir) {
        if (!java.nio.file.Files.isDirectory(dir)) {
            return 0;
        }
        try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
            return files.filter(java.nio.file.Files::isRegularFile).mapToLong(f -> {
                try {
                    return java.nio.file.Files.size(f);
                } catch (java.io.IOException e) {
                    return 0;
                }
            }).sum();
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            return 0;
        }
    }
}
