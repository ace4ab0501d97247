package io.ditcache.backend;

import java.util.Comparator;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.bytedeco.pytorch.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Finds the {@link DistanceBackend}s on the class path (or module path) and picks one per activation. */
public final class DistanceBackends {
    private static final Logger LOG = LoggerFactory.getLogger(DistanceBackends.class);
    private static final Set<String> ANNOUNCED = ConcurrentHashMap.newKeySet();

    private DistanceBackends() {
    }

    private static final class Found {
        static final List<DistanceBackend> ALL = ServiceLoader.load(DistanceBackend.class,
                        DistanceBackend.class.getClassLoader()).stream().map(ServiceLoader.Provider::get)
                .sorted(Comparator.comparingInt(DistanceBackend::priority).reversed()).toList();
    }

    /** Every backend found, highest priority first. */
    public static List<DistanceBackend> available() {
        return Found.ALL;
    }

    /**
     * The highest-priority backend that accepts this activation.
     *
     * @throws IllegalStateException when none does (core's CPU backend accepts every tensor, so only when the
     *                               service registration was stripped from the class path)
     */
    public static DistanceBackend forActivation(Tensor activation) {
        for (DistanceBackend b : available()) {
            if (b.accepts(activation)) {
                if (ANNOUNCED.add(b.name())) {
                    LOG.debug("distance backend: {}", b.name());
                }
                return b;
            }
        }
        throw new IllegalStateException("no distance backend accepts a tensor on " + activation.device().str()
                .getString() + " (found: " + available().stream().map(DistanceBackend::name).toList()
                + "); is META-INF/services/io.ditcache.backend.DistanceBackend of ditcache-core on the class path?");
    }
}
