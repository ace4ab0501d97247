/**
 * Layers the transformer families share, under diffusers' module names (so their state-dict keys are diffusers'):
 * linear layers, feed-forwards, timestep and text embeddings, normalisations with adaptive modulation, attention
 * on merged heads, and weight loading. Not exported: families in this module build on them.
 */
package io.ditcache.model.layers;
