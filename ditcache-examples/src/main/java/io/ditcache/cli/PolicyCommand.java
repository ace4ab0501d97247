package io.ditcache.cli;

import io.ditcache.RedundancyProfile;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.ReuseErrorModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code policy}: plans a profile-guided compute mask for a budget or an error target and writes it. */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "Plans a profile-guided cache policy: the (step, block) compute mask that meets a compute "
                + "budget or an estimated-error target, from a profile's block-residual distances; writes it as "
                + "JSON and prints it (# computes, . reuses).")
final class PolicyCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--profile", required = true, paramLabel = "FILE", description = "profile.json to plan from")
    Path profile;

    /** Exactly one of the two criteria. */
    static final class Criterion {
        @Option(names = "--budget", required = true, paramLabel = "F",
                description = "fraction of block evaluations to compute, in (0, 1]")
        Double budget;

        @Option(names = "--target-error", required = true, paramLabel = "E",
                description = "largest estimated error (summed relative L1 of reused block residuals), >= 0")
        Double targetError;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Criterion criterion;

    @Option(names = "--steps", paramLabel = "N",
            description = "sampling steps of the runs the mask is for, >= 2 (default: the profile's)")
    Integer steps;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "mask file to write (JSON)")
    Path out;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        Double budget = criterion.budget;
        Double target = criterion.targetError;
        if (budget != null && !(budget > 0 && budget <= 1)) {
            throw new CommandLine.ParameterException(cl, "--budget " + budget + ": expected a fraction in (0, 1]");
        }
        if (target != null && (!(target >= 0) || !Double.isFinite(target))) {
            throw new CommandLine.ParameterException(cl, "--target-error " + target
                    + ": expected a finite number >= 0");
        }
        if (steps != null) {
            OptionChecks.count(cl, "--steps", steps, 2, ProfileCommand.MAX_STEPS, null);
        }
        OptionChecks.outputFile(cl, "--out", out);
        if (!Files.isRegularFile(profile)) {
            throw new java.io.IOException("--profile " + profile + ": no such file");
        }
        RedundancyProfile p = RedundancyProfile.readJson(profile);
        int n = steps != null ? steps : p.steps();
        if (budget != null && budget < 1.0 / n) {
            throw new CommandLine.ParameterException(cl, "--budget " + budget + ": below " + 1.0 / n
                    + ", the fraction step 0 alone computes in a " + n + "-step run (step 0 runs every block)");
        }
        ComputeMask mask;
        try {
            mask = budget != null ? MaskPlanner.forBudget(p, n, budget) : MaskPlanner.forTarget(p, n, target);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--profile " + profile + ": " + e.getMessage(), e);
        }
        mask.write(out);
        PrintWriter o = cl.getOut();
        o.print(mask.grid());
        o.println(String.format(Locale.ROOT, "computed fraction %.4f (%d of %d block evaluations; %s)",
                mask.computedFraction(), mask.computedCount(), (long) mask.steps() * mask.layers(),
                budget != null ? "budget " + budget : "target error " + target));
        o.println(String.format(Locale.ROOT, "estimated error %.6g (summed %s distance of reused blocks since "
                + "they last computed)", mask.estimatedError(), ReuseErrorModel.SERIES));
        o.println("wrote " + out.toAbsolutePath());
        o.flush();
        return 0;
    }
}
