package io.ditcache.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.policy.PolicyFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class MessagesTest {
    @Test
    void namesAndValuesFromAFileCannotBreakTheOneLineMessage() {
        // found by fuzzing: a tensor named "a\nb", a shard "s\n1.safetensors", a norm_type "a\nb"
        assertEquals("f.safetensors: tensor 'a\\nb': unknown dtype 'F8\\r\\t\\u0000'",
                new CheckpointException("f.safetensors: tensor 'a\nb': unknown dtype 'F8\r\t\u0000'").getMessage());
        assertEquals("plain stays as it is", new CheckpointException("plain stays as it is").getMessage());
        assertEquals("x\\ny", new CheckpointException("x\ny", new RuntimeException()).getMessage());
    }

    @Test
    void readersThatWrapAnotherMessageKeepItOneLine() throws Exception {
        // found by fuzzing: a policy file whose name is "taylorse\r" echoed the carriage return
        Path file = Files.createTempFile("policy", ".json");
        try {
            Files.writeString(file, "{\"name\":\"taylorse\\r\",\"interval\":3}");
            IOException e = assertThrows(IOException.class,
                    () -> PolicyFile.read(file, null));
            assertTrue(e.getMessage().startsWith(file + ": unknown cache policy "
                    + "'taylorse\\r'"), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        } finally {
            Files.delete(file);
        }
    }
}
