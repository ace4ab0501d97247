package io.ditcache.study;

import io.ditcache.SiteKind;
import io.ditcache.sample.Condition;
import io.ditcache.sched.Schedulers;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What a study runs: every model × scheduler × step count × condition, with one guidance scale. Condition
 * {@code c} samples class {@code c mod classes} from the noise of seed {@code c}. A {@link Shard} selects every
 * n-th condition; the runs of all shards together are the runs of the unsharded plan.
 *
 * @param models     at least one, distinct labels
 * @param conditions number of conditions, >= 1
 * @param steps      distinct step counts, each >= 3 (the normalised step axis needs two transitions)
 * @param schedulers distinct short scheduler names ({@link Schedulers#names()})
 * @param guidance   classifier-free guidance scale, >= 1
 * @param shard      which conditions this process runs
 * @param kinds      the site kinds profiled, at least one
 */
public record StudyPlan(List<StudyModel> models, int conditions, List<Integer> steps, List<String> schedulers,
        double guidance, Shard shard, Set<SiteKind> kinds) {
    /** The most conditions a plan takes. */
    public static final int MAX_CONDITIONS = 100_000;

    /** A plan that profiles every site kind. */
    public StudyPlan(List<StudyModel> models, int conditions, List<Integer> steps, List<String> schedulers,
            double guidance, Shard shard) {
        this(models, conditions, steps, schedulers, guidance, shard, EnumSet.allOf(SiteKind.class));
    }

    public StudyPlan {
        if (Objects.requireNonNull(kinds, "kinds").isEmpty()) {
            throw new IllegalArgumentException("a study needs at least one site kind");
        }
        kinds = java.util.Collections.unmodifiableSet(EnumSet.copyOf(kinds));
        models = List.copyOf(Objects.requireNonNull(models, "models"));
        steps = List.copyOf(Objects.requireNonNull(steps, "steps"));
        schedulers = List.copyOf(Objects.requireNonNull(schedulers, "schedulers"));
        Objects.requireNonNull(shard, "shard");
        if (models.isEmpty()) {
            throw new IllegalArgumentException("a study needs at least one model");
        }
        Set<String> labels = new HashSet<>();
        for (StudyModel m : models) {
            if (!labels.add(m.label())) {
                throw new IllegalArgumentException("model label \"" + m.label() + "\" appears twice; labels must "
                        + "differ");
            }
        }
        if (conditions < 1 || conditions > MAX_CONDITIONS) {
            throw new IllegalArgumentException("conditions " + conditions + ": expected 1.." + MAX_CONDITIONS);
        }
        if (steps.isEmpty() || schedulers.isEmpty()) {
            throw new IllegalArgumentException("a study needs at least one step count and one scheduler");
        }
        if (new HashSet<>(steps).size() != steps.size() || new HashSet<>(schedulers).size() != schedulers.size()) {
            throw new IllegalArgumentException("step counts " + steps + " and schedulers " + schedulers
                    + " must not repeat");
        }
        for (int n : steps) {
            if (n < 3 || n > 10_000) {
                throw new IllegalArgumentException("step count " + n + ": expected 3..10000 (the normalised step "
                        + "axis u = i/(N-2) needs at least two transitions)");
            }
        }
        for (String s : schedulers) {
            if (!Schedulers.names().contains(s)) {
                throw new IllegalArgumentException("scheduler \"" + s + "\": unknown, expected one of "
                        + Schedulers.names());
            }
        }
        for (StudyModel m : models) {
            for (String s : schedulers) {
                if (!m.allowedSchedulers().contains(s)) {
                    throw new IllegalArgumentException("scheduler \"" + s + "\" does not fit model " + m.label()
                            + ": its training objective allows " + m.allowedSchedulers());
                }
            }
        }
        if (!(guidance >= 1.0) || !Double.isFinite(guidance)) {
            throw new IllegalArgumentException("guidance " + guidance + ": expected a finite number >= 1");
        }
    }

    /** The same plan for another shard. */
    public StudyPlan withShard(Shard other) {
        return new StudyPlan(models, conditions, steps, schedulers, guidance, other, kinds);
    }

    /**
     * Condition {@code c}: class {@code c mod classes}, seed {@code c}.
     *
     * @throws IllegalArgumentException if {@code classes < 1}: a study's conditions are class labels
     */
    public static Condition condition(int c, int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("a study conditions on class labels, but the model has " + classes
                    + " classes");
        }
        return new Condition(c % classes, c);
    }

    /** How many of the plan's conditions this shard runs and folds: all of them without a shard. */
    public int shardConditions() {
        int n = 0;
        for (int c = 0; c < conditions; c++) {
            n += shard.includes(c) ? 1 : 0;
        }
        return n;
    }

    /** This shard's runs, in the canonical order: model, scheduler, step count, condition. */
    public List<RunKey> runs() {
        List<RunKey> out = new ArrayList<>();
        for (GroupKey g : groups()) {
            for (int c = 0; c < conditions; c++) {
                if (shard.includes(c)) {
                    out.add(new RunKey(g.model(), g.scheduler(), g.steps(), c));
                }
            }
        }
        return out;
    }

    /** Every (model, scheduler, step count), in the canonical order. */
    public List<GroupKey> groups() {
        List<GroupKey> out = new ArrayList<>();
        for (int m = 0; m < models.size(); m++) {
            for (String s : schedulers) {
                for (int n : steps) {
                    out.add(new GroupKey(m, s, n));
                }
            }
        }
        return out;
    }

    /**
     * How this plan differs from {@code other} in anything but the shard, or empty when they describe the same
     * study.
     */
    public Optional<String> difference(StudyPlan other) {
        if (models.size() != other.models.size()) {
            return Optional.of(models.size() + " models vs " + other.models.size());
        }
        for (int i = 0; i < models.size(); i++) {
            StudyModel a = models.get(i);
            StudyModel b = other.models.get(i);
            if (!a.label().equals(b.label()) || !a.fingerprint().equals(b.fingerprint())) {
                return Optional.of("model " + (i + 1) + " is " + a.label() + " (weights " + a.fingerprint()
                        + ") vs " + b.label() + " (weights " + b.fingerprint() + ")");
            }
            Object pa = a.identity().get(StudyModel.PROMPTS);
            Object pb = b.identity().get(StudyModel.PROMPTS);
            if (!java.util.Objects.equals(pa, pb)) {
                return Optional.of("model " + (i + 1) + " is conditioned on prompts " + pa + " vs " + pb);
            }
        }
        if (conditions != other.conditions) {
            return Optional.of(conditions + " conditions vs " + other.conditions);
        }
        if (!steps.equals(other.steps)) {
            return Optional.of("steps " + steps + " vs " + other.steps);
        }
        if (!schedulers.equals(other.schedulers)) {
            return Optional.of("schedulers " + schedulers + " vs " + other.schedulers);
        }
        if (Double.compare(guidance, other.guidance) != 0) {
            return Optional.of("guidance " + guidance + " vs " + other.guidance);
        }
        if (!kinds.equals(other.kinds)) {
            return Optional.of("kinds " + kinds + " vs " + other.kinds);
        }
        return Optional.empty();
    }
}
