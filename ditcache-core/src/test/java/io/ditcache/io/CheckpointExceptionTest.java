package io.ditcache.io;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class CheckpointExceptionTest {
    @Test
    void namesAndValuesFromAFileCannotBreakTheOneLineMessage() {
        // found by fuzzing: a tensor named "a\nb", a shard "s\n1.safetensors", a norm_type "a\nb"
        assertEquals("f.safetensors: tensor 'a\\nb': unknown dtype 'F8\\r\\t\\u0000'",
                new CheckpointException("f.safetensors: tensor 'a\nb': unknown dtype 'F8\r\t\u0000'").getMessage());
        assertEquals("plain stays as it is", new CheckpointException("plain stays as it is").getMessage());
        assertEquals("x\\ny", new CheckpointException("x\ny", new RuntimeException()).getMessage());
    }
}
