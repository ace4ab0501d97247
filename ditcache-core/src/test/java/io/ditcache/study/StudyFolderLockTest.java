package io.ditcache.study;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The claim on a study folder: a second claim is refused with the holder's pid, in this JVM and from another
 * process, a refused claim does not weaken the holder's, and a lock file left by a dead process blocks nothing.
 */
class StudyFolderLockTest {
    @TempDir
    Path dir;

    static String busyMessage(Path folder, long pid) {
        return folder + " is in use by another study or merge (pid " + pid + ", lock .study.lock); wait for it to "
                + "end or choose another --out";
    }

    @Test
    void aSecondClaimIsRefusedWithTheHoldersPidUntilTheFirstIsReleased() throws Exception {
        Path folder = dir.resolve("study");
        long me = ProcessHandle.current().pid();
        StudyFolderLock first = StudyFolderLock.acquire(folder);
        IOException again = assertThrows(IOException.class, () -> StudyFolderLock.acquire(folder));
        assertEquals(busyMessage(folder, me), again.getMessage());
        assertEquals(me + "\n", Files.readString(folder.resolve(StudyFolderLock.FILE)), "the holder is named");
        // another spelling of the same folder is the same folder
        assertThrows(IOException.class, () -> StudyFolderLock.acquire(dir.resolve("x/../study")));
        first.close();
        first.close();
        assertThrows(IllegalStateException.class, first::removeUnfinishedWrites);
        try (StudyFolderLock second = StudyFolderLock.acquire(folder)) {
            assertEquals(folder, second.dir());
        }
    }

    @Test
    void anotherProcessIsRefusedEvenAfterARefusedClaimInTheHoldersJvm() throws Exception {
        Path folder = dir.resolve("study");
        long me = ProcessHandle.current().pid();
        try (StudyFolderLock held = StudyFolderLock.acquire(folder)) {
            // on POSIX, closing any descriptor of the file would drop this JVM's lock: a refusal must not
            assertThrows(IOException.class, () -> StudyFolderLock.acquire(folder));
            Probe probe = Probe.run(folder);
            assertEquals(Probe.REFUSED, probe.exit(), probe.output());
            assertEquals(busyMessage(folder, me), probe.output().strip());
        }
        Probe free = Probe.run(folder);
        assertEquals(0, free.exit(), "released with close: " + free.output());
    }

    @Test
    void aLockFileLeftByADeadProcessBlocksNothing() throws Exception {
        Path folder = dir.resolve("study");
        Files.createDirectories(folder);
        // what a killed holder leaves: the file with its pid, but no lock (the OS dropped it with the process)
        Files.writeString(folder.resolve(StudyFolderLock.FILE), "4194999\n");
        try (StudyFolderLock claim = StudyFolderLock.acquire(folder)) {
            assertEquals(ProcessHandle.current().pid() + "\n", Files.readString(folder.resolve(StudyFolderLock.FILE)));
        }
        assertEquals("", Files.readString(folder.resolve(StudyFolderLock.FILE)), "a released claim names nobody");
    }

    @Test
    void unfinishedWritesOfAKilledHolderAreRemovedAndNothingElse() throws Exception {
        Path folder = dir.resolve("study");
        Path group = folder.resolve("runs/a/ddim-3");
        Files.createDirectories(group);
        Path half = Files.writeString(group.resolve(".c000004.safetensors8812345.tmp"), "half a run");
        Path planTmp = Files.writeString(folder.resolve(".plan.json123.tmp"), "{");
        Path run = Files.writeString(group.resolve("c000003.safetensors"), "a run");
        Path hidden = Files.writeString(folder.resolve(".notes"), "mine");
        try (StudyFolderLock claim = StudyFolderLock.acquire(folder)) {
            assertEquals(2, claim.removeUnfinishedWrites());
        }
        assertTrue(Files.notExists(half) && Files.notExists(planTmp));
        assertTrue(Files.exists(run) && Files.exists(hidden));
    }

    /** A separate JVM that tries to claim a folder: exit 0 when it got it, {@link #REFUSED} with the message. */
    record Probe(int exit, String output) {
        static final int REFUSED = 3;

        static Probe run(Path folder) throws IOException, InterruptedException {
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process p = new ProcessBuilder(List.of(java, "-cp", System.getProperty("java.class.path"),
                    Probe.class.getName(), folder.toString())).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe JVM ended");
            return new Probe(p.exitValue(), new String(p.getInputStream().readAllBytes()));
        }

        public static void main(String[] args) throws IOException {
            try (StudyFolderLock claim = StudyFolderLock.acquire(Path.of(args[0]))) {
                System.out.println("claimed");
            } catch (IOException e) {
                System.out.println(e.getMessage());
                System.exit(REFUSED);
            }
        }
    }
}
