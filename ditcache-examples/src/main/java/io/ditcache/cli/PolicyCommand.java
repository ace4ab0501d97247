package io.ditcache.cli;

import io.ditcache.BlockGroup;
import io.ditcache.BlockLayout;
import io.ditcache.RedundancyProfile;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.policy.CellDecision;
import io.ditcache.policy.CellErrorModel;
import io.ditcache.policy.ComputeMask;
import io.ditcache.policy.DecisionPlanner;
import io.ditcache.policy.MaskPlanner;
import io.ditcache.policy.ReuseErrorModel;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
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

        @Option(names = "--group-budget", required = true, paramLabel = "GROUP=F",
                description = "fraction of one block group's evaluations to compute, in (0, 1], e.g. spatial=0.5; "
                        + "repeat for each group to plan (the others compute everything); needs --config")
        Map<String, Double> groupBudgets;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Criterion criterion;

    @Option(names = "--steps", paramLabel = "N",
            description = "sampling steps of the runs the mask is for, >= 2 (default: the profile's)")
    Integer steps;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "mask file to write (JSON)")
    Path out;

    @Option(names = "--config", paramLabel = "FILE",
            description = "the profiled model's config.json, whose block layout (groups, parts, costs) "
                    + "--group-budget and --decisions all plan")
    Path config;

    @Option(names = "--decisions", paramLabel = "SET", defaultValue = "block",
            description = "what a block may do at a step: block (compute or reuse the whole block; default) or all "
                    + "(also reuse its attention and/or feed-forward outputs, or forecast it: one decision per cell, "
                    + "mask format " + ComputeMask.DECISIONS_FORMAT + "); all takes the blocks from --config, "
                    + "DiT-like blocks without it")
    String decisions;

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
        Map<String, Double> groups = criterion.groupBudgets;
        if (groups != null) {
            if (config == null) {
                throw new CommandLine.ParameterException(cl, "--group-budget needs --config (the model's "
                        + "config.json, for its block groups)");
            }
            for (Map.Entry<String, Double> e : groups.entrySet()) {
                Double f = e.getValue();
                if (f == null || !(f > 0 && f <= 1)) {
                    throw new CommandLine.ParameterException(cl, "--group-budget " + e.getKey() + "=" + f
                            + ": expected a fraction in (0, 1]");
                }
            }
        } else if (config != null && !"all".equals(decisions)) {
            throw new CommandLine.ParameterException(cl, "--config " + config + ": only --group-budget and "
                    + "--decisions all use it");
        }
        if (!"block".equals(decisions) && !"all".equals(decisions)) {
            throw new CommandLine.ParameterException(cl, "--decisions " + decisions + ": expected block or all");
        }
        if ("all".equals(decisions) && groups != null) {
            throw new CommandLine.ParameterException(cl, "--decisions all plans one budget or target; "
                    + "--group-budget plans whole blocks only");
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
            if (groups != null) {
                mask = groupMask(cl, p, n, groups);
            } else if ("all".equals(decisions)) {
                BlockLayout layout = config == null ? BlockLayout.plain(p.layers())
                        : InspectCommand.describe(DiffusersConfig.read(config)).layout();
                DecisionPlanner planner = new DecisionPlanner(CellErrorModel.fromProfile(p, n), layout,
                        EnumSet.allOf(CellDecision.class));
                mask = budget != null ? planner.planForBudget(budget) : planner.planForTarget(target);
            } else {
                mask = budget != null ? MaskPlanner.forBudget(p, n, budget) : MaskPlanner.forTarget(p, n, target);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--profile " + profile + ": " + e.getMessage(), e);
        }
        mask.write(out);
        PrintWriter o = cl.getOut();
        o.print(mask.grid());
        o.println(String.format(Locale.ROOT, "computed fraction %.4f (%d of %d block evaluations; %s)",
                mask.computedFraction(), mask.computedCount(), (long) mask.steps() * mask.layers(),
                budget != null ? "budget " + budget : groups != null ? "group budgets " + groups
                        : "target error " + target));
        o.println(mask.hasDecisions() ? String.format(Locale.ROOT, "estimated error %.6g (summed relative L1 "
                + "distance of every reused value, block residual or part output, since it last computed)",
                mask.estimatedError()) : String.format(Locale.ROOT, "estimated error %.6g (summed %s distance of "
                + "reused blocks since they last computed)", mask.estimatedError(), ReuseErrorModel.SERIES));
        o.println("wrote " + out.toAbsolutePath());
        o.flush();
        return 0;
    }

    /** The mask planned per block group of the layout {@code --config} describes. */
    private ComputeMask groupMask(CommandLine cl, RedundancyProfile p, int n, Map<String, Double> groups)
            throws java.io.IOException {
        if (!Files.isRegularFile(config)) {
            throw new java.io.IOException("--config " + config + ": no such file");
        }
        BlockLayout layout = InspectCommand.describe(DiffusersConfig.read(config)).layout();
        if (layout.size() != p.layers()) {
            throw new CommandLine.ParameterException(cl, "--config " + config + " describes " + layout.size()
                    + " blocks, but --profile " + profile + " has " + p.layers() + " layers");
        }
        Map<String, BlockGroup> known = new LinkedHashMap<>();
        for (int i = 0; i < layout.size(); i++) {
            known.putIfAbsent(layout.block(i).group().name(), layout.block(i).group());
        }
        Map<BlockGroup, Double> budgets = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : groups.entrySet()) {
            BlockGroup g = known.get(e.getKey());
            if (g == null) {
                throw new CommandLine.ParameterException(cl, "--group-budget " + e.getKey() + "=" + e.getValue()
                        + ": no such block group in " + config + "; its groups are " + known.keySet());
            }
            if (e.getValue() < 1.0 / n) {
                throw new CommandLine.ParameterException(cl, "--group-budget " + e.getKey() + "=" + e.getValue()
                        + ": below " + 1.0 / n + ", the fraction step 0 alone computes in a " + n + "-step run");
            }
            budgets.put(g, e.getValue());
        }
        return MaskPlanner.forGroupBudgets(p, layout, n, budgets);
    }
}
