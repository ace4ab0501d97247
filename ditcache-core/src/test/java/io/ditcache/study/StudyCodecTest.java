package io.ditcache.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ditcache.io.SafetensorsWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** plan.json is read back exactly, and anything else is refused with one line naming the file and the key. */
class StudyCodecTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static StudyPlan plan() {
        return new StudyPlan(List.of(new StudyModel("m", "0123456789abcdef", Map.of("layers", 4), Map.of())), 5,
                List.of(3, 10), List.of("ddim"), 1.0, Shard.ALL);
    }

    private Path edited(Consumer<ObjectNode> edit) throws IOException {
        Path f = dir.resolve(StudyCodec.PLAN);
        StudyCodec.writePlan(plan(), f);
        ObjectNode root = (ObjectNode) JSON.readTree(f.toFile());
        edit.accept(root);
        Files.writeString(f, root.toString());
        return f;
    }

    private static String refused(Path f) {
        String m = assertThrows(IOException.class, () -> StudyCodec.readPlan(f)).getMessage();
        assertTrue(m.startsWith(f + ": "), m);
        assertFalse(m.contains("\n"), "one line: " + m);
        return m;
    }

    @Test
    void roundTrips() throws IOException {
        StudyPlan back = StudyCodec.readPlan(edited(r -> { }));
        assertEquals(plan().difference(back), java.util.Optional.empty());
    }

    @Test
    void aConditionCountBeyondIntIsRefusedNotWrapped() throws IOException {
        // 2^32 + 5 used to read as 5
        String m = refused(edited(r -> r.put("conditions", 4_294_967_301L)));
        assertTrue(m.contains("key \"conditions\" is 4294967301, expected an integer from 1 to 100000"), m);
    }

    @Test
    void identitiesAndNamesOfTheWrongKindAreNamed() throws IOException {
        assertTrue(refused(edited(r -> ((ObjectNode) r.get("models").get(0)).put("identity", "dit")))
                .contains("models[0].identity is \"dit\", expected an object"));
        assertTrue(refused(edited(r -> r.putArray("schedulers").add(7)))
                .contains("key \"schedulers\" holds 7, expected scheduler names"));
        assertTrue(refused(edited(r -> r.putArray("models").add(1))).contains("models[0] is 1"));
    }

    @Test
    void aRunRecordOfIntegersIsRefusedAsAnIOExceptionNamingTheTensor() throws IOException {
        StudyModel model = plan().models().get(0);
        RunKey key = new RunKey(0, "ddim", 3, 0);
        Path f = dir.resolve("run.safetensors");
        new SafetensorsWriter().metadata("format", RunRecord.FORMAT).metadata("model", model.label())
                .metadata("fingerprint", model.fingerprint()).metadata("scheduler", "ddim").metadata("steps", "3")
                .metadata("condition", "0").put("K/IMAGE/COND/L1_MEAN", new long[] {1, 2}, 1, 2).write(f);
        String m = assertThrows(IOException.class, () -> RunRecord.read(f, key, model, 1)).getMessage();
        assertEquals(f + ": tensor 'K/IMAGE/COND/L1_MEAN' has dtype I64, expected F64 (distances)", m);
    }

    @Test
    void parserErrorsAreOneLineFromTheFile() throws IOException {
        Path f = dir.resolve(StudyCodec.PLAN);
        Files.writeString(f, "{\"format\": \"ditcache-study-plan/1\",\n\"models\": [}");
        assertTrue(refused(f).contains("not valid JSON at line 2"));
        Files.writeString(f, "7");
        assertTrue(refused(f).contains("expected a JSON object"));
    }
}
