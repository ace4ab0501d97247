/**
 * Diffusers pipeline folders ({@code model_index.json} with the folders {@code transformer}, {@code text_encoder},
 * {@code tokenizer} (and their {@code _2}, {@code _3}), {@code vae} and {@code scheduler}) and the conditioning their
 * published pipelines build from prompts: SD3, FLUX, PixArt-α and -Σ, CogVideoX and Mochi, with negative prompts for
 * the guided ones, a cache of prompt embeddings on disk, and a built-in prompt set.
 */
package io.ditcache.model.pipeline;
