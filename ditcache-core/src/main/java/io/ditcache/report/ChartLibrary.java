package io.ditcache.report;

/**
 * JFreeChart draws the reports' figures. It is an optional dependency of ditcache-core, so that a library user
 * who never writes a report does not download it; the report writers check for it first and say what to add.
 */
final class ChartLibrary {
    static final String CHART_CLASS = "org.jfree.chart.JFreeChart";

    private ChartLibrary() {
    }

    /** Throws unless JFreeChart can be loaded by the loader that loaded ditcache's report classes. */
    static void require(String what) {
        require(ChartLibrary.class.getClassLoader(), what);
    }

    static void require(ClassLoader loader, String what) {
        try {
            Class.forName(CHART_CLASS, false, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalStateException(what + " draws its figures with JFreeChart, which is not on the class "
                    + "path: add the dependency org.jfree:jfreechart (1.5.x) to draw reports (on the module path, "
                    + "also --add-modules org.jfree.jfreechart)");
        }
    }
}
