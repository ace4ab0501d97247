package io.ditcache.cli;

import io.ditcache.io.Checkpoint;
import io.ditcache.io.MemoryBudget;
import io.ditcache.model.ComputeType;
import io.ditcache.model.Denoiser;
import io.ditcache.model.ModelLoader;
import java.io.IOException;
import picocli.CommandLine.Option;

/** {@code --dtype}: the dtype a command loads the model's weights in and computes with. */
final class ComputeTypeOption {
    @Option(names = "--dtype", paramLabel = "TYPE", converter = Converter.class,
            description = "compute dtype of the model: float32 (default; the reference), bfloat16 (half the weights' "
                    + "memory; fast where the CPU or GPU has bfloat16 arithmetic) or float16")
    ComputeType type = ComputeType.FLOAT32;

    /** Loads the open checkpoint's model in the chosen dtype. */
    Denoiser load(Checkpoint ckpt) throws IOException {
        return ModelLoader.load(ckpt, MemoryBudget.ofThisMachine(), type);
    }

    /** Parses a dtype label; an unknown one is a usage error naming it and the labels known. */
    static final class Converter implements picocli.CommandLine.ITypeConverter<ComputeType> {
        @Override
        public ComputeType convert(String value) {
            try {
                return ComputeType.parse(value);
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
