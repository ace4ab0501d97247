package io.ditcache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ditcache.backend.DistanceBackend;
import io.ditcache.model.DenoiserFamily;
import java.io.File;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * ditcache-core's module-info, as a module-path user meets it (the tests themselves run on the class path): it
 * resolves against its dependencies' own descriptors, exports every package but {@code internal} and the families' shared {@code model.layers}, and its
 * providers are the ones the META-INF/services files list for class-path users.
 */
class ModuleDescriptorTest {
    private static final String MODULE = "io.ditcache.core";

    private static Path mainClasses() throws Exception {
        return Path.of(DistanceBackend.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** The descriptor with its packages, as the module system reads the exploded module. */
    private static ModuleDescriptor descriptor() throws Exception {
        return ModuleFinder.of(mainClasses()).find(MODULE).orElseThrow().descriptor();
    }

    @Test
    void exportsEveryPackageButInternal() throws Exception {
        ModuleDescriptor d = descriptor();
        assertEquals(MODULE, d.name());
        Set<String> exported = d.exports().stream().filter(e -> !e.isQualified()).map(ModuleDescriptor.Exports::source)
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> hidden = new TreeSet<>(d.packages());
        hidden.removeAll(exported);
        // the families' shared layers are built on inside the module, not offered: the public API stays small
        assertEquals(Set.of("io.ditcache.internal", "io.ditcache.model.layers"), hidden, "packages not exported");
        assertTrue(exported.containsAll(Set.of("io.ditcache", "io.ditcache.cache", "io.ditcache.policy",
                "io.ditcache.profile", "io.ditcache.backend", "io.ditcache.model", "io.ditcache.io")), exported.toString());
    }

    @Test
    void usesAndProvidesWhatTheServiceFilesList() throws Exception {
        ModuleDescriptor d = descriptor();
        assertEquals(Set.of(DistanceBackend.class.getName(), DenoiserFamily.class.getName()), d.uses());
        for (Class<?> service : List.of(DistanceBackend.class, DenoiserFamily.class)) {
            List<String> provided = d.provides().stream().filter(p -> p.service().equals(service.getName()))
                    .flatMap(p -> p.providers().stream()).sorted().toList();
            List<String> listed = Files.readAllLines(mainClasses().resolve("META-INF/services/" + service.getName()))
                    .stream().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).sorted().toList();
            assertEquals(listed, provided, service.getSimpleName() + ": provides against META-INF/services");
        }
    }

    @Test
    void requiresNeitherNativesNorChartsNorTheIncubatingVectorApi() throws Exception {
        ModuleDescriptor d = descriptor();
        for (ModuleDescriptor.Requires r : d.requires()) {
            assertFalse(r.name().contains("linux") || r.name().contains("x86"), "natives are the user's: " + r);
            if (r.name().equals("org.jfree.jfreechart") || r.name().equals("jdk.incubator.vector")) {
                assertTrue(r.modifiers().contains(ModuleDescriptor.Requires.Modifier.STATIC), r.toString());
            }
        }
    }

    /** Resolves the module in a layer of its own from its dependencies' jars, and finds its services there. */
    @Test
    void resolvesOnTheModulePathAndItsProvidersAreFound() throws Exception {
        List<Path> path = new ArrayList<>();
        path.add(mainClasses());
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.endsWith(".jar")) {
                path.add(Path.of(entry));
            }
        }
        ModuleFinder finder = ModuleFinder.of(path.toArray(Path[]::new));
        Configuration cf = ModuleLayer.boot().configuration().resolveAndBind(finder, ModuleFinder.of(), Set.of(MODULE));
        ResolvedModule core = cf.findModule(MODULE).orElseThrow();
        Set<String> reads = core.reads().stream().map(ResolvedModule::name).collect(Collectors.toSet());
        assertTrue(reads.containsAll(Set.of("org.bytedeco.pytorch", "org.bytedeco.javacpp",
                "com.fasterxml.jackson.databind", "org.slf4j")), reads.toString());
        assertFalse(cf.findModule("org.jfree.jfreechart").isPresent(), "charts resolved without being asked for");

        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());
        Module module = layer.findModule(MODULE).orElseThrow();
        assertTrue(module.isExported("io.ditcache.cache"));
        assertFalse(module.isExported("io.ditcache.internal"));
        ClassLoader loader = layer.findLoader(MODULE);
        for (String[] sp : List.of(new String[] {DistanceBackend.class.getName(), "io.ditcache.profile.CpuDistanceBackend"},
                new String[] {DenoiserFamily.class.getName(), "io.ditcache.model.dit.DiTFamily"})) {
            Class<?> service = Class.forName(sp[0], false, loader);
            assertEquals(module, service.getModule());
            Set<String> found = ServiceLoader.load(layer, service).stream().map(p -> p.type().getName())
                    .collect(Collectors.toSet());
            assertTrue(found.contains(sp[1]), sp[0] + ": " + found);
        }
    }
}
