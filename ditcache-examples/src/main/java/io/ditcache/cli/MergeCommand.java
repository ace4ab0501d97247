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
        Study study = StudyRunner.merge(shards, out);
        return StudyCommand.finish(spec.commandLine().getOut(), study, out);
    }
}
