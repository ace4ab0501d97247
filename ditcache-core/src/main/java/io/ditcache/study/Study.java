package io.ditcache.study;

import io.ditcache.ProfileSeries;
import io.ditcache.RedundancyProfile;
import io.ditcache.SeriesKey;
import io.ditcache.sched.Schedulers;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The result of a study: one {@link RedundancyProfile} per model, scheduler and step count, folded from the
 * runs' exact values in the plan's canonical order (so that shards, merges and resumed sweeps give bit-identical
 * statistics), and the tables derived from them: prompt stability ({@link #promptCv()}), and step-count,
 * scheduler and model agreement ({@link #comparisons(Comparison.Axis)}).
 */
public final class Study {
    private final StudyPlan plan;
    private final Map<GroupKey, RedundancyProfile> profiles;

    private Study(StudyPlan plan, Map<GroupKey, RedundancyProfile> profiles) {
        this.plan = plan;
        this.profiles = Collections.unmodifiableMap(profiles);
    }

    /**
     * Folds the runs of {@code plan} (of its shard only) into profiles.
     *
     * @param records at least every run of the plan's shard, found by key
     * @throws IllegalArgumentException if a run is missing
     */
    public static Study fold(StudyPlan plan, Map<RunKey, RunRecord> records) {
        StudyPlan all = plan;
        Map<GroupKey, RedundancyProfile> profiles = new LinkedHashMap<>();
        for (RunKey k : all.runs()) {
            RunRecord r = records.get(k);
            if (r == null) {
                throw new IllegalArgumentException("run missing: model " + all.models().get(k.model()).label()
                        + ", " + k.scheduler() + ", " + k.steps() + " steps, condition " + k.condition());
            }
            RedundancyProfile p = profiles.computeIfAbsent(k.group(), g -> emptyProfile(all, g, r.layers()));
            r.foldInto(p);
        }
        return new Study(all, profiles);
    }

    static RedundancyProfile emptyProfile(StudyPlan plan, GroupKey g, int layers) {
        StudyModel m = plan.models().get(g.model());
        Map<String, Object> sched = new LinkedHashMap<>(Schedulers.create(g.scheduler(), m.schedulerConfig())
                .describe());
        sched.put("guidance", plan.guidance());
        return new RedundancyProfile(m.identity(), sched, layers, g.steps());
    }

    /** The plan; a shard's study covers the shard's conditions only. */
    public StudyPlan plan() {
        return plan;
    }

    /** Profiles by group, in the canonical order. */
    public Map<GroupKey, RedundancyProfile> profiles() {
        return profiles;
    }

    public RedundancyProfile profile(GroupKey g) {
        RedundancyProfile p = profiles.get(g);
        if (p == null) {
            throw new IllegalArgumentException("no profile for " + g);
        }
        return p;
    }

    /** The label of a group's model. */
    public String modelLabel(GroupKey g) {
        return plan.models().get(g.model()).label();
    }

    /** Per-cell CV and mean CV of every series of every group. */
    public List<PromptCv> promptCv() {
        List<PromptCv> out = new ArrayList<>();
        profiles.forEach((g, p) -> {
            for (ProfileSeries s : p.series()) {
                double[][] cv = new double[s.layers()][s.steps()];
                for (int l = 0; l < s.layers(); l++) {
                    for (int t = 0; t < s.steps(); t++) {
                        cv[l][t] = s.cv(l, t);
                    }
                }
                out.add(new PromptCv(g, s.key(), p.runs(), s.meanCv(), cv));
            }
        });
        return out;
    }

    /**
     * Every pair of groups that differ only along {@code axis}, compared series by series (series present in
     * both). Pairs follow the plan's order: for steps [10, 20, 50] the pairs are 10-20, 10-50, 20-50.
     */
    public List<Comparison> comparisons(Comparison.Axis axis) {
        List<GroupKey> groups = new ArrayList<>(profiles.keySet());
        List<Comparison> out = new ArrayList<>();
        for (int i = 0; i < groups.size(); i++) {
            for (int j = i + 1; j < groups.size(); j++) {
                GroupKey a = groups.get(i);
                GroupKey b = groups.get(j);
                if (differOnlyIn(axis, a, b)) {
                    compare(axis, a, b, out);
                }
            }
        }
        return out;
    }

    /** One comparison, if both groups hold the series. */
    public Optional<Comparison> comparison(Comparison.Axis axis, SeriesKey key, GroupKey a, GroupKey b) {
        Optional<ProfileSeries> sa = profile(a).series(key);
        Optional<ProfileSeries> sb = profile(b).series(key);
        if (sa.isEmpty() || sb.isEmpty()) {
            return Optional.empty();
        }
        List<CurveAgreement> all = CurveAgreement.layersAndOverall(sa.get().means(), sb.get().means());
        return Optional.of(new Comparison(axis, key, a, b, all.subList(0, all.size() - 1), all.get(all.size() - 1)));
    }

    private void compare(Comparison.Axis axis, GroupKey a, GroupKey b, List<Comparison> out) {
        for (ProfileSeries s : profile(a).series()) {
            comparison(axis, s.key(), a, b).ifPresent(out::add);
        }
    }

    private static boolean differOnlyIn(Comparison.Axis axis, GroupKey a, GroupKey b) {
        boolean model = a.model() == b.model();
        boolean sched = a.scheduler().equals(b.scheduler());
        boolean steps = a.steps() == b.steps();
        return switch (axis) {
            case STEPS -> model && sched && !steps;
            case SCHEDULER -> model && !sched && steps;
            case MODEL -> !model && sched && steps;
        };
    }
}
