package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * DESIGN.md's "who may know whom", checked on the main sources: every reference from one package of ours to
 * another (imports, static imports, fully qualified names in code; not comments or strings) must be one the
 * table allows. The foundation ({@code io}: file formats; {@code internal}: tensor and memory helpers) knows no
 * part and may be known by all of them.
 */
class PartsLayeringTest {
    private static final Path MAIN = Path.of("src/main/java");

    /** Part of each package, by longest matching prefix ("pkg." matches sub-packages too). */
    private static final Map<String, String> PART_OF = new LinkedHashMap<>();
    /** The parts each part may know, besides itself and the foundation. */
    private static final Map<String, Set<String>> KNOWS = new LinkedHashMap<>();
    private static final Set<String> FOUNDATION = Set.of("io", "internal");
    private static final String TOOLS = "study, bench, report";

    static {
        PART_OF.put("io.ditcache", "api");
        PART_OF.put("io.ditcache.internal", "internal");
        PART_OF.put("io.ditcache.io", "io");
        PART_OF.put("io.ditcache.backend", "backend");
        PART_OF.put("io.ditcache.profile", "profile");
        PART_OF.put("io.ditcache.cache", "cache runtime");
        PART_OF.put("io.ditcache.policy", "policy");
        PART_OF.put("io.ditcache.model", "model SPI");
        PART_OF.put("io.ditcache.model.", "model family");
        PART_OF.put("io.ditcache.sched", "sched, sample");
        PART_OF.put("io.ditcache.sample", "sched, sample");
        // Sweeps, the shootout, reports, and the tools they and the train command use: nothing depends on them.
        for (String tool : List.of("study", "bench", "report", "quality", "data", "train", "model.dit.train")) {
            PART_OF.put("io.ditcache." + tool, TOOLS);
        }

        KNOWS.put("internal", Set.of());
        KNOWS.put("io", Set.of("internal"));
        KNOWS.put("api", Set.of());
        KNOWS.put("backend", Set.of("api"));
        KNOWS.put("profile", Set.of("api", "backend"));
        KNOWS.put("cache runtime", Set.of("api", "backend"));
        KNOWS.put("policy", Set.of("api", "profile"));
        KNOWS.put("model SPI", Set.of("api", "cache runtime"));
        KNOWS.put("model family", Set.of("api", "cache runtime", "model SPI"));
        KNOWS.put("sched, sample", Set.of("api", "model SPI"));
        KNOWS.put(TOOLS, Set.of("api", "backend", "profile", "cache runtime", "policy", "model SPI", "model family",
                "sched, sample"));
    }

    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);
    /** A qualified name of ours: lower-case package segments, then a type (or {@code *} of an import). */
    private static final Pattern REFERENCE = Pattern.compile("\\bio\\.ditcache((?:\\.[a-z_][a-z0-9_]*)*)\\.(?:[A-Z]|\\*)");
    /** Comments, text blocks, string and char literals, longest first. */
    private static final Pattern NOT_CODE = Pattern.compile(
            "/\\*(?s:.*?)\\*/|//[^\\n]*|\"\"\"(?s:.*?)\"\"\"|\"(?:\\\\.|[^\"\\\\\\n])*\"|'(?:\\\\.|[^'\\\\\\n])+'");

    @Test
    void everyPackageKnowsOnlyWhatTheTableAllows() throws IOException {
        List<String> offences = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String name = MAIN.relativize(f).toString();
                if (!name.equals("module-info.java")) {
                    offences.addAll(offences(name, Files.readString(f)));
                }
            }
        }
        assertTrue(offences.isEmpty(), offences.size() + " references break DESIGN.md's \"who may know whom\":\n"
                + String.join("\n", offences));
    }

    @Test
    void aReferenceAcrossTheTableIsFoundInImportsAndCodeButNotInCommentsOrStrings() {
        String source = """
                package io.ditcache.policy;

                import io.ditcache.study.StepAxis;
                import static io.ditcache.report.Charts.draw;
                import io.ditcache.profile.StreamingProfiler; // allowed: policy knows profile
                /** {@link io.ditcache.model.dit.DiTModel} in a comment is no reference. */
                class X {
                    String s = "io.ditcache.sample.Sampler";
                    Object o = io.ditcache.sched.Schedulers.create("ddim", null);
                }
                """;
        List<String> got = offences("io/ditcache/policy/X.java", source);
        assertEquals(3, got.size(), String.join("\n", got));
        assertTrue(got.get(0).contains("io.ditcache.study (" + TOOLS + ")"), got.get(0));
        assertTrue(got.get(1).contains("io.ditcache.report"), got.get(1));
        assertTrue(got.get(2).contains("io.ditcache.sched"), got.get(2));
    }

    @Test
    void aPackageOutsideTheTableIsAnOffenceUntilItIsPlaced() {
        List<String> got = offences("io/ditcache/newthing/Y.java", "package io.ditcache.newthing;\nclass Y {}\n");
        assertEquals(1, got.size());
        assertTrue(got.get(0).contains("io.ditcache.newthing is in no part"), got.get(0));
    }

    /** One line per reference of {@code source} (a main source file called {@code name}) that the table forbids. */
    private static List<String> offences(String name, String source) {
        Matcher pm = PACKAGE.matcher(source);
        if (!pm.find()) {
            return List.of(name + ": no package declaration");
        }
        String pkg = pm.group(1);
        String part = partOf(pkg);
        if (part == null) {
            return List.of(name + ": package " + pkg + " is in no part of the table; add it to PART_OF");
        }
        Set<String> allowed = new TreeSet<>(KNOWS.get(part));
        allowed.add(part);
        if (!part.equals("internal") && !part.equals("io")) {
            allowed.addAll(FOUNDATION);
        }
        List<String> out = new ArrayList<>();
        Matcher m = REFERENCE.matcher(NOT_CODE.matcher(source).replaceAll(" "));
        Set<String> seen = new TreeSet<>();
        while (m.find()) {
            String target = "io.ditcache" + m.group(1);
            String targetPart = partOf(target);
            if (seen.add(target) && (targetPart == null || !allowed.contains(targetPart))) {
                out.add(name + ": " + part + " -> " + target + " (" + targetPart + "); " + part + " may know "
                        + allowed);
            }
        }
        return out;
    }

    private static String partOf(String pkg) {
        String best = null;
        String part = null;
        for (Map.Entry<String, String> e : PART_OF.entrySet()) {
            String key = e.getKey();
            // "io.ditcache" is the API package alone; "x." is x's sub-packages; any other key is itself and below.
            boolean matches = key.endsWith(".") ? pkg.startsWith(key)
                    : pkg.equals(key) || !key.equals("io.ditcache") && pkg.startsWith(key + ".");
            if (matches && (best == null || key.length() > best.length())) {
                best = key;
                part = e.getValue();
            }
        }
        return part;
    }
}
