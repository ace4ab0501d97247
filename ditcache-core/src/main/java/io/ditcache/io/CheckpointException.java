package io.ditcache.io;

import java.io.IOException;

/**
 * A checkpoint, safetensors file or diffusers config that cannot be used as it is. The message names the file,
 * the tensor or key, the value found and what was expected, on one line: names and values taken from the file
 * may hold line breaks or other control characters, which are shown escaped ({@code \n}, {@code \u0000}).
 */
public final class CheckpointException extends IOException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(Messages.oneLine(message));
    }

    public CheckpointException(String message, Throwable cause) {
        super(Messages.oneLine(message), cause);
    }
}
