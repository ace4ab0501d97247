package io.ditcache.study;

/**
 * One run of a study: a model (index into the plan's models), scheduler, step count and condition (0-based).
 */
public record RunKey(int model, String scheduler, int steps, int condition) {
    /** The group this run's statistics fold into. */
    public GroupKey group() {
        return new GroupKey(model, scheduler, steps);
    }
}
