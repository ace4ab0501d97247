package io.ditcache.cli;

import io.ditcache.SiteKind;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * {@code --kinds}: the site kinds a command profiles. Probes of the other kinds are not even computed, so
 * {@code --kinds k,v,a} (the paper's three) costs what the paper's tool costs.
 */
final class KindsOption {
    @Option(names = "--kinds", split = ",", paramLabel = "KIND", converter = Converter.class,
            description = "site kinds to profile, comma-separated: k, v, a (attention output), mlp, out (block "
                    + "output), residual, modulated_input, or their full names (K, V, ATTN_OUT, ...); "
                    + "default: all")
    List<SiteKind> kinds;

    /** The kinds chosen, or every kind. */
    Set<SiteKind> kinds() {
        return kinds == null || kinds.isEmpty() ? EnumSet.allOf(SiteKind.class) : EnumSet.copyOf(kinds);
    }

    /** "all" or the short names chosen, for tables and files. */
    String describe() {
        Set<SiteKind> k = kinds();
        return k.equals(EnumSet.allOf(SiteKind.class)) ? "all"
                : String.join(",", k.stream().map(SiteKind::shortName).toList());
    }

    /** Parses one kind; an unknown one is a usage error naming it and the kinds known. */
    static final class Converter implements CommandLine.ITypeConverter<SiteKind> {
        @Override
        public SiteKind convert(String value) {
            try {
                return SiteKind.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
