/**
 * The cache runtime: model-agnostic cache points that any stack wraps around its block calls.
 *
 * <p>A stack declares its blocks once ({@link io.ditcache.BlockLayout}: groups, reusable parts, costs), opens a
 * {@link io.ditcache.cache.CacheRuntime} per sampling run, and per step calls
 * {@link io.ditcache.cache.CacheRuntime#block} for each block with a {@link io.ditcache.cache.BlockCall} that runs it
 * for a group of rows. The runtime asks the {@link io.ditcache.CachePolicy}, measures the signals it asked for,
 * computes, reuses or forecasts per row, and records {@link io.ditcache.CacheStats}. A denoiser called as one opaque
 * model per step uses {@link io.ditcache.BlockLayout#wholeModel()} and {@link io.ditcache.cache.CacheRuntime#step}.
 * Nothing here knows a model family.
 */
package io.ditcache.cache;
