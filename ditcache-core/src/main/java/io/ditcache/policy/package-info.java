/**
 * Cache policies ("when" a block is computed or reused, and "how" reused values are approximated) for the
 * {@link io.ditcache.CachePolicy} API: fixed intervals (FORA {@link io.ditcache.policy.IntervalPolicy}, Δ-DiT
 * {@link io.ditcache.policy.BlockRangePolicy}, PAB {@link io.ditcache.policy.PyramidAttentionPolicy},
 * TaylorSeer {@link io.ditcache.policy.TaylorSeerPolicy}), thresholds on measured signals (FBCache
 * {@link io.ditcache.policy.FirstBlockResidualPolicy}, DBCache {@link io.ditcache.policy.DualBlockPolicy},
 * TeaCache {@link io.ditcache.policy.TeaCachePolicy}) and profile-derived magnitude ratios (MagCache
 * {@link io.ditcache.policy.MagCachePolicy}), and profile-guided masks: {@link io.ditcache.policy.MaskPlanner}
 * (compute or reuse whole blocks) and {@link io.ditcache.policy.DecisionPlanner} (per cell: compute, reuse
 * attention and/or feed-forward outputs, reuse or forecast the block, by {@link io.ditcache.policy.CellErrorModel}),
 * run by {@link io.ditcache.policy.ProfileGuidedPolicy}. {@link io.ditcache.policy.Policies} creates the others by name
 * from JSON-friendly parameters, the same maps that {@link io.ditcache.CachePolicy#describe()} returns.
 *
 * <p>Stateful policies keep their state per row (guidance branch and sample), never mixed, and are not
 * thread-safe: one run at a time, {@link io.ditcache.CachePolicy#reset()} before each.
 */
package io.ditcache.policy;
