package io.ditcache;

/** Classifier-free guidance branch of a batch row; without guidance every row is {@link #COND}. */
public enum Branch {
    COND,
    UNCOND
}
