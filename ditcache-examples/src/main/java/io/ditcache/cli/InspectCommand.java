package io.ditcache.cli;

import io.ditcache.Block;
import io.ditcache.BlockLayout;
import io.ditcache.BlockPart;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.DType;
import io.ditcache.io.DiffusersConfig;
import io.ditcache.io.MemoryBudget;
import io.ditcache.io.TensorInfo;
import io.ditcache.model.DenoiserFamily;
import io.ditcache.model.ModelDescription;
import io.ditcache.model.ModelLoader;
import io.ditcache.model.text.TextEncoders;
import io.ditcache.model.vae.Vaes;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code inspect}: what a model is, from its config alone (and its weights' headers with {@code --model}), without
 * allocating a weight: family, blocks in execution order with their groups, the parts a policy can reuse, the
 * parameter count, and the weights' dtypes and size.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Describes a model without loading its weights: family, blocks by group in execution order, "
                + "reusable parts, 'parameters: N', and with --model the weights' dtypes and total size; for a text "
                + "encoder (transformers' config.json), its class and 'parameters: N'; for a pipeline folder "
                + "(model_index.json), each component's class and parameters, then the transformer.")
final class InspectCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.ArgGroup(exclusive = true, multiplicity = "1")
    Source source;

    /** One of a checkpoint folder or a config file. */
    static final class Source {
        @Option(names = "--model", description = "diffusers checkpoint directory (config.json and *.safetensors), "
                + "or a pipeline folder (model_index.json): every component with its parameters, then the transformer")
        Path model;

        @Option(names = "--config", description = "a diffusers config.json")
        Path config;
    }

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        PrintWriter o = cl.getOut();
        if (source.model != null && !Files.isDirectory(source.model)) {
            throw new CommandLine.ParameterException(cl, "--model " + source.model + ": not a directory (expected a "
                    + "diffusers checkpoint directory with config.json and *.safetensors)");
        }
        if (source.config != null && !Files.isRegularFile(source.config)) {
            throw new CommandLine.ParameterException(cl, "--config " + source.config + ": no such file (expected a "
                    + "diffusers config.json)");
        }
        if (source.model != null && io.ditcache.model.pipeline.PipelineFolder.isPipeline(source.model)) {
            io.ditcache.model.pipeline.PipelineFolder p = io.ditcache.model.pipeline.PipelineFolder.open(source.model);
            PipelineInspect.print(o, p);
            o.println();
            try (Checkpoint ckpt = Checkpoint.open(p.transformer())) {
                ModelDescription d = describe(ckpt.config());
                print(o, ckpt.config(), d);
                weights(o, ckpt, d.parameterCount());
            }
        } else if (source.model != null ? TextEncoders.isTextEncoder(source.model)
                : TextEncoders.isTextEncoder(DiffusersConfig.read(source.config))) {
            TextEncoderInspect.print(o, source.model, source.config);
        } else if (source.model != null) {
            try (Checkpoint ckpt = Checkpoint.open(source.model)) {
                if (Vaes.isVae(ckpt.config())) {
                    weights(o, ckpt, VaeInspect.print(o, ckpt.config()));
                } else {
                    ModelDescription d = describe(ckpt.config());
                    print(o, ckpt.config(), d);
                    weights(o, ckpt, d.parameterCount());
                }
            }
        } else {
            DiffusersConfig config = DiffusersConfig.read(source.config);
            if (Vaes.isVae(config)) {
                VaeInspect.print(o, config);
            } else {
                print(o, config, describe(config));
            }
        }
        o.flush();
        return 0;
    }

    /** The description, any failure of the family's checks worded as one line naming the config file. */
    static ModelDescription describe(DiffusersConfig config) throws IOException {
        try {
            return ModelLoader.describe(config);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IOException(config.source() + ": " + DitCacheCommand.oneLine(e), e);
        }
    }

    private static void print(PrintWriter o, DiffusersConfig config, ModelDescription d) {
        String family = ModelLoader.family(config.className()).map(InspectCommand::familyName).orElse("?");
        o.println("config: " + config.source());
        o.println("class: " + d.className() + " (family " + family + ")");
        BlockLayout layout = d.layout();
        o.println("blocks: " + layout.size() + " in execution order");
        for (String line : groups(layout)) {
            o.println("  " + line);
        }
        o.println("reusable: " + reusable(layout));
        o.println("parameters: " + d.parameterCount());
        o.println("parameter tensors: " + d.parameters().size());
    }

    /** A family's short name: its package's last part ({@code io.ditcache.model.flux} is {@code flux}). */
    static String familyName(DenoiserFamily f) {
        String pkg = f.getClass().getPackageName();
        return pkg.substring(pkg.lastIndexOf('.') + 1);
    }

    /**
     * Runs of blocks of one group with the same parts, streams and cost, e.g. {@code blocks 0-18 double
     * (self-attention, ...; image + context streams; cost 2.0 each)}.
     */
    static List<String> groups(BlockLayout layout) {
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int i = 1; i <= layout.size(); i++) {
            if (i == layout.size() || !sameKind(layout.block(from), layout.block(i))) {
                Block b = layout.block(from);
                String range = i - 1 == from ? "block " + from : "blocks " + from + "-" + (i - 1);
                out.add(range + " " + b.group() + " (" + (b.parts().isEmpty() ? "whole block only" : parts(b.parts()))
                        + "; " + (b.context() ? "image + context streams" : "image stream")
                        + String.format(Locale.ROOT, "; cost %.4g each)", b.cost()));
                from = i;
            }
        }
        return out;
    }

    private static boolean sameKind(Block a, Block b) {
        return a.group().equals(b.group()) && a.parts().equals(b.parts()) && a.context() == b.context()
                && a.residual() == b.residual() && Double.compare(a.cost(), b.cost()) == 0;
    }

    /** Part names in the enum's order, e.g. {@code self-attention, feed-forward}. */
    static String parts(Set<BlockPart> parts) {
        return EnumSet.copyOf(parts).stream().map(p -> p.name().toLowerCase(Locale.ROOT).replace('_', '-'))
                .collect(Collectors.joining(", "));
    }

    /** What a policy can reuse: whole blocks (as residuals or outputs) and the parts any block has. */
    private static String reusable(BlockLayout layout) {
        EnumSet<BlockPart> all = EnumSet.noneOf(BlockPart.class);
        layout.blocks().forEach(b -> all.addAll(b.parts()));
        boolean residual = layout.blocks().stream().anyMatch(Block::residual);
        String whole = residual ? "whole blocks (their residuals" + (layout.blocks().stream().anyMatch(Block::context)
                ? ", both streams' in joint blocks)" : ")") : "whole blocks (their outputs)";
        return whole + (all.isEmpty() ? "" : "; parts: " + parts(all));
    }

    /** The weights' dtypes and sizes from the safetensors headers (sharded or not); nothing is loaded. */
    static void weights(PrintWriter o, Checkpoint ckpt, long params) {
        Map<DType, long[]> byType = new TreeMap<>();
        long bytes = 0;
        long elements = 0;
        for (String name : ckpt.names()) {
            TensorInfo ti = ckpt.info(name);
            long[] v = byType.computeIfAbsent(ti.dtype(), t -> new long[3]);
            v[0]++;
            v[1] = Math.addExact(v[1], ti.numel());
            v[2] = Math.addExact(v[2], ti.byteSize());
            bytes = Math.addExact(bytes, ti.byteSize());
            elements = Math.addExact(elements, ti.numel());
        }
        o.println("weights: " + ckpt.source());
        o.println("weights dtype: " + byType.entrySet().stream().map(e -> e.getKey().safetensorsName() + " ("
                + e.getValue()[0] + " tensors, " + e.getValue()[1] + " elements)").collect(Collectors.joining(", ")));
        o.println("weights size: " + MemoryBudget.bytes(bytes));
        o.println("weights elements: " + elements + (elements == params ? " (the parameters the config defines)"
                : elements > params ? " (" + (elements - params) + " beyond the parameters: buffers such as position "
                        + "tables, or keys loading will name)"
                : " (" + (params - elements) + " fewer than the parameters: loading will name the missing keys)"));
    }
}
