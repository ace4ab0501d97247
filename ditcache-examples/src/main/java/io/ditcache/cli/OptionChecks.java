package io.ditcache.cli;

import io.ditcache.sched.Schedulers;
import picocli.CommandLine;

/** Checks of options several commands share; each failure is a one-line parameter error naming the option. */
final class OptionChecks {
    private OptionChecks() {
    }

    static void guidance(CommandLine cl, double guidance) {
        if (!(guidance >= 1.0) || !Double.isFinite(guidance)) {
            throw new CommandLine.ParameterException(cl, "--guidance " + guidance
                    + ": expected a finite number >= 1 (1 = no guidance)");
        }
    }

    static void scheduler(CommandLine cl, String scheduler) {
        if (!Schedulers.names().contains(scheduler)) {
            throw new CommandLine.ParameterException(cl,
                    "--scheduler " + scheduler + ": unknown, expected one of " + Schedulers.names());
        }
    }
}
