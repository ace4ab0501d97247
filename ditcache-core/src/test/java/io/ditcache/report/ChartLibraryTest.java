package io.ditcache.report;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** JFreeChart is optional: without it every report writer fails at once with one line that says what to add. */
class ChartLibraryTest {

    @Test
    void presentLibraryPassesAndAbsentOneNamesTheDependency() {
        assertDoesNotThrow(() -> ChartLibrary.require("A profile report"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ChartLibrary.require(ClassLoader.getPlatformClassLoader(), "A profile report"));
        assertTrue(e.getMessage().startsWith("A profile report draws its figures with JFreeChart"), e.getMessage());
        assertTrue(e.getMessage().contains("add the dependency org.jfree:jfreechart"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line");
    }

    /**
     * Each public report writer, loaded by a class loader that sees ditcache and its dependencies but JFreeChart:
     * the class links (its drawing lives in package-private classes) and the call fails with the line.
     */
    @ParameterizedTest
    @CsvSource({"ProfileReport, write", "StudyReport, write", "ShootoutReport, write"})
    void everyReportWriterSaysWhatToAddWhenJFreeChartIsAbsent(String type, String method, @TempDir Path dir)
            throws Exception {
        try (URLClassLoader withoutCharts = new URLClassLoader(classPathWithoutJFreeChart(),
                ClassLoader.getPlatformClassLoader())) {
            Class<?> c = Class.forName(ChartLibraryTest.class.getPackageName() + "." + type, false, withoutCharts);
            assertEquals(withoutCharts, c.getClassLoader(), "loaded apart from the test's own classes");
            Method m = Arrays.stream(c.getMethods())
                    .filter(x -> x.getName().equals(method) && Modifier.isStatic(x.getModifiers()))
                    .findFirst().orElseThrow();
            Object[] args = new Object[m.getParameterCount()];
            Class<?>[] types = m.getParameterTypes();
            for (int i = 0; i < args.length; i++) {
                args[i] = types[i] == int.class ? 0 : types[i] == Path.class ? dir : null;
            }
            InvocationTargetException e = assertThrows(InvocationTargetException.class, () -> m.invoke(null, args));
            assertInstanceOf(IllegalStateException.class, e.getCause(), type + "." + method + ": " + e.getCause());
            assertTrue(e.getCause().getMessage().contains("add the dependency org.jfree:jfreechart"),
                    e.getCause().getMessage());
        }
    }

    private static URL[] classPathWithoutJFreeChart() throws MalformedURLException {
        List<URL> urls = new ArrayList<>();
        boolean dropped = false;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (Path.of(entry).getFileName().toString().startsWith("jfreechart")) {
                dropped = true;
            } else if (!entry.isEmpty()) {
                urls.add(Path.of(entry).toUri().toURL());
            }
        }
        assertTrue(dropped, "the test class path holds JFreeChart: " + System.getProperty("java.class.path"));
        return urls.toArray(URL[]::new);
    }
}
