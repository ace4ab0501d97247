/**
 * Diffusion schedulers that reproduce HuggingFace diffusers' timesteps, noise levels and update rules:
 * DDIM, DDPM, DPM-Solver++ (multistep), Euler and FlowMatch Euler. Create them with
 * {@link io.ditcache.sched.Schedulers}; drive them through {@link io.ditcache.sched.Scheduler}.
 */
package io.ditcache.sched;
