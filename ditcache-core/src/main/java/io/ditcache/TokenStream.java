package io.ditcache;

/** Which tokens of a site are measured: image tokens, or the text tokens of joint-attention models. */
public enum TokenStream {
    IMAGE,
    TEXT
}
