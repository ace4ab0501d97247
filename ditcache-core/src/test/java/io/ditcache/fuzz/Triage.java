package io.ditcache.fuzz;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Replays saved inputs through one fuzz target, without Jazzer, and prints one line per input: what the target
 * did with it (ok, or the kind of violation, the throwable's type, the ditcache frame that threw it and the
 * message), then the distinct signatures with a count. Run by {@code fuzz/run triage}.
 *
 * <p>Arguments: the fuzz test as {@code package.Class#method}, then input files.
 */
public final class Triage {
    private Triage() {
    }

    public static void main(String[] args) throws Exception {
        String[] target = args[0].split("#", 2);
        Class<?> c = Class.forName(target[0]);
        Method m = c.getDeclaredMethod(target[1], byte[].class);
        m.setAccessible(true);
        Constructor<?> make = c.getDeclaredConstructor();
        make.setAccessible(true);
        Object instance = make.newInstance();
        Map<String, Integer> signatures = new LinkedHashMap<>();
        Map<String, String> example = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            Path file = Path.of(args[i]);
            String line;
            String signature;
            try {
                m.invoke(instance, (Object) Files.readAllBytes(file));
                signature = "ok";
                line = "ok";
            } catch (InvocationTargetException e) {
                Throwable broken = e.getCause();
                String kind = broken instanceof ContractViolation v ? v.kind().name() : "UNDOCUMENTED_TYPE";
                Throwable thrown = broken instanceof ContractViolation && broken.getCause() != null
                        ? broken.getCause() : broken;
                signature = kind + " " + thrown.getClass().getName() + " at " + KnownFindings.siteOf(thrown);
                String message = String.valueOf(broken.getMessage()).replace('\n', ' ');
                line = signature + ": " + (message.length() > 200 ? message.substring(0, 197) + "..." : message);
            }
            System.out.println(file.getFileName() + " | " + line);
            signatures.merge(signature, 1, Integer::sum);
            example.putIfAbsent(signature, file.getFileName().toString());
        }
        System.out.println();
        signatures.forEach((s, n) -> System.out.println(n + " x " + s + "  (e.g. " + example.get(s) + ")"));
        System.exit(0);
    }
}
