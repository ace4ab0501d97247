package io.ditcache.study;

/** The runs of a study that fold into one profile: one model, scheduler and step count, every condition. */
public record GroupKey(int model, String scheduler, int steps) {
}
