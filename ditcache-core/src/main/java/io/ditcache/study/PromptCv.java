package io.ditcache.study;

import io.ditcache.SeriesKey;

/**
 * Prompt stability of one series in one group: the per-cell coefficient of variation over the study's
 * conditions ({@code [layer][step]}, NaN where undefined) and the paper's scalar summary, their mean.
 */
public record PromptCv(GroupKey group, SeriesKey key, long runs, double meanCv, double[][] cv) {
}
