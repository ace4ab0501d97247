package io.ditcache.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import me.tongfei.progressbar.ProgressState;

/**
 * A command's progress over denoising steps, grouped into units (the runs of a sweep, or the steps themselves).
 * On a terminal: a bar that moves per step, whose message counts the units done. Without one (output piped, CI
 * logs): one line per completed unit, with the elapsed time and an estimate of the time left, since a bar
 * redrawn into a log shrinks to nothing and cuts its labels.
 *
 * <p>Totals count what is already done (a resumed sweep), so the bar and the lines start where the work stands.
 */
final class Progress implements AutoCloseable {
    private final String task;
    private final String unit;
    private long totalSteps;
    private long totalUnits;
    private final long stepsAtStart;
    private final PrintWriter log;
    private final ProgressBar bar;
    private final LongSupplier clock;
    private final long startNanos;
    private long steps;
    private long units;
    private boolean closed;

    /**
     * @param task       what is progressing, first word of every line ("study 1/2", "profile")
     * @param unit       the plural noun of a unit ("runs", "steps")
     * @param totalSteps every step of the work, done or not
     * @param stepsDone  steps already done before this process (a resume)
     * @param totalUnits every unit of the work, done or not
     * @param unitsDone  units already done
     * @param terminal   whether to draw a bar (else: one line per unit into {@code log})
     * @param log        where lines go without a terminal
     */
    Progress(String task, String unit, long totalSteps, long stepsDone, long totalUnits, long unitsDone,
            boolean terminal, PrintWriter log) {
        this(task, unit, totalSteps, stepsDone, totalUnits, unitsDone, terminal, log, System::nanoTime, 0);
    }

    /** As above, with a clock for the times and the bar's width in characters (0: the terminal's). */
    Progress(String task, String unit, long totalSteps, long stepsDone, long totalUnits, long unitsDone,
            boolean terminal, PrintWriter log, LongSupplier clock, int barWidth) {
        this.task = task;
        this.unit = unit;
        this.totalSteps = totalSteps;
        this.totalUnits = totalUnits;
        this.stepsAtStart = stepsDone;
        this.steps = stepsDone;
        this.units = unitsDone;
        this.log = log;
        this.clock = clock;
        this.startNanos = clock.getAsLong();
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(1, totalSteps))
                    .startsFrom(stepsDone, Duration.ZERO).setEtaFunction(Progress::eta).setStyle(ProgressBarStyle.ASCII)
                    .setConsumer(barWidth > 0 ? new ConsoleProgressBarConsumer(System.err, barWidth)
                            : new ConsoleProgressBarConsumer(System.err)).setUnit(" steps", 1).build();
            if (totalUnits != totalSteps) {
                bar.setExtraMessage(counted());
            }
        } else {
            bar = null;
            if (unitsDone > 0) {
                line(unitsDone == totalUnits ? "all " + totalUnits + " " + unit + " already done"
                        : unitsDone + "/" + totalUnits + " " + unit + " already done, resuming");
            }
        }
    }

    /** Where progress goes: standard error as it is now (beside the results on standard output). */
    static PrintWriter stderr() {
        return new PrintWriter(System.err, true);
    }

    /** Time left from the pace of this process's steps; none before its first step, zero when all are done. */
    static Optional<Duration> eta(ProgressState state) {
        long left = state.getMax() - state.getCurrent();
        long doneHere = state.getCurrent() - state.getStart();
        if (left <= 0) {
            return Optional.of(Duration.ZERO);
        }
        return doneHere <= 0 ? Optional.empty()
                : Optional.of(state.getElapsedAfterStart().multipliedBy(left).dividedBy(doneHere));
    }

    /** Whether this process writes to a terminal: a bar can be redrawn there, not in a log. */
    static boolean terminal() {
        return System.console() != null;
    }

    /** The work grew (a row re-measured, say): new totals, what is done stays done. */
    void grow(long newTotalSteps, long newTotalUnits) {
        totalSteps = newTotalSteps;
        totalUnits = newTotalUnits;
        if (bar != null) {
            bar.maxHint(Math.max(1, newTotalSteps));
        }
    }

    /** One denoising step done. */
    void step() {
        steps++;
        if (bar != null) {
            bar.step();
        }
    }

    /** One unit done; {@code what} names it ("c2 ddim/10 steps"), may be empty. */
    void unitDone(String what) {
        units++;
        String label = what.isEmpty() ? "" : " (" + what + ")";
        if (bar != null) {
            if (totalUnits != totalSteps || !label.isEmpty()) { // a bar over steps counts them itself
                bar.setExtraMessage(counted() + label);
            }
            return;
        }
        StringBuilder b = new StringBuilder(units + "/" + totalUnits + " " + unit + " done" + label + ", "
                + clockTime(elapsed()));
        long stepsNow = steps - stepsAtStart;
        if (stepsNow > 0 && steps < totalSteps) {
            b.append(", about ").append(clockTime(elapsed().multipliedBy(totalSteps - steps).dividedBy(stepsNow)))
                    .append(" left");
        }
        line(b.toString());
    }

    private String counted() {
        return units + "/" + totalUnits + " " + unit + " done";
    }

    private Duration elapsed() {
        return Duration.ofNanos(clock.getAsLong() - startNanos);
    }

    private void line(String text) {
        log.println(task + ": " + text);
        log.flush();
    }

    /** "0:00:12", "1:02:03". */
    static String clockTime(Duration d) {
        long s = Math.max(0, d.toSeconds());
        return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60);
    }

    @Override
    public void close() {
        if (!closed && bar != null) {
            bar.close();
        }
        closed = true;
    }
}
