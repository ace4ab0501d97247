package io.ditcache.cuda;

import io.ditcache.io.Messages;

/** A CUDA driver or NVRTC call that failed: the call, the error's name and its description, on one line. */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CudaException(String message) {
        super(Messages.oneLine(message));
    }
}
