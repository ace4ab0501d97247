package io.ditcache.io;

import java.io.IOException;

/**
 * A checkpoint, safetensors file or diffusers config that cannot be used as it is. The message names the file,
 * the tensor or key, the value found and what was expected.
 */
public final class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
