package io.ditcache.cli;

import io.ditcache.ActivationProbe;
import io.ditcache.SiteKind;
import io.ditcache.io.Checkpoint;
import io.ditcache.io.SafetensorsFile;
import io.ditcache.io.SafetensorsWriter;
import io.ditcache.model.Denoiser;
import io.ditcache.model.DiffusersForward;
import io.ditcache.model.text.TextEncoders;
import io.ditcache.profile.ActivationCapture;
import io.ditcache.sample.PromptEmbeddings;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code run}: one forward of the transformer on inputs named as diffusers' forward arguments; on a VAE folder, a
 * decode or an encode ({@link VaeRun}).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = "One forward of the transformer; writes tensor 'sample' (and with --capture block.{i}.k/v/a). "
                + "Without --inputs, on inputs made for the model (DiT, PixArt, SD3, FLUX, CogVideoX, Latte, Mochi: "
                + "seeded noise latents, a timestep, a class label or random text embeddings); --example-inputs FILE "
                + "writes them for reuse. On a text encoder's folder: input_ids (and attention_mask) to "
                + "last_hidden_state, text_embeds, hidden_states_penultimate, pooler_output. On a VAE folder "
                + "(AutoencoderKL) decodes tensor 'latents' into 'decoded', or with --encode 'images' into "
                + "'posterior_mean' and 'posterior_logvar'.")
final class RunCommand implements Callable<Integer> {
    @CommandLine.Mixin
    ComputeTypeOption dtype = new ComputeTypeOption();

    /** Forward arguments of diffusers' transformer families. */
    static final Set<String> KNOWN_INPUTS = Set.of("hidden_states", "timestep", "class_labels",
            "encoder_hidden_states", "pooled_projections", "encoder_attention_mask", "img_ids", "txt_ids",
            "guidance");
    /** The conditioning inputs an embeddings file can supply. */
    static final List<String> CONDITIONING = List.of(PromptEmbeddings.HIDDEN, PromptEmbeddings.POOLED,
            PromptEmbeddings.MASK);

    /** Where the output goes without {@code --out}. */
    static final String DEFAULT_OUT = "ditcache-run.safetensors";

    @Option(names = "--model", paramLabel = "DIR", description = "diffusers checkpoint directory: config.json and "
            + "diffusion_pytorch_model.safetensors (or a sharded set with its .index.json), as save_pretrained "
            + "writes it (default: the embedded model); or a text encoder's (transformers' config.json and "
            + "model.safetensors), or a VAE's")
    Path model;

    @Option(names = "--inputs", paramLabel = "FILE", description = "safetensors file of forward inputs, named as diffusers' forward "
            + "arguments (default: inputs made for the model, see --seed)")
    Path inputs;

    @Option(names = "--example-inputs", paramLabel = "FILE", description = "write inputs made for the model to this safetensors file "
            + "(a starting point for --inputs); without --out, only that")
    Path exampleInputs;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the inputs made for the model: its noise, "
            + "and class label seed mod classes (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--out", paramLabel = "FILE", description = "safetensors file to write (default: " + DEFAULT_OUT + ")")
    Path out;

    @Option(names = "--capture", description = "also write block.{i}.k, block.{i}.v, block.{i}.a")
    boolean capture;

    @Option(names = "--encode", description = "with a VAE folder (AutoencoderKL): encode tensor 'images' into "
            + "'posterior_mean' and 'posterior_logvar' (without it a VAE decodes 'latents' / scaling_factor + "
            + "shift_factor into 'decoded')")
    boolean encode;

    @Option(names = "--embeddings", description = "prompt embeddings " + TextConditions.FILE_HINT + ": the "
            + "conditioning inputs (encoder_hidden_states, pooled_projections, encoder_attention_mask) the inputs "
            + "file lacks come from here")
    Path embeddings;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        if (model != null && TextEncoders.isTextEncoder(model)) {
            if (encode || exampleInputs != null) {
                throw new CommandLine.ParameterException(cl, (encode ? "--encode" : "--example-inputs") + ": "
                        + ModelSource.name(model) + " is a text encoder; give --inputs with input_ids");
            }
            requireInputs(cl, "input_ids (and attention_mask)");
            return TextEncoderRun.run(cl, model, dtype.type, inputs, out == null ? Path.of(DEFAULT_OUT) : out,
                    capture, embeddings);
        }
        boolean forward = out != null || exampleInputs == null;
        if (out == null && forward) {
            out = Path.of(DEFAULT_OUT);
        }
        if (forward) {
            OptionChecks.outputFile(cl, "--out", out);
        }
        if (exampleInputs != null) {
            OptionChecks.outputFile(cl, "--example-inputs", exampleInputs);
            if (inputs != null) {
                throw new CommandLine.ParameterException(cl, "--example-inputs " + exampleInputs + " and --inputs "
                        + inputs + ": the example inputs are made for the model, not read; give one");
            }
            if (forward && exampleInputs.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
                throw new CommandLine.ParameterException(cl, "--example-inputs and --out are the same file, "
                        + out + "; give two");
            }
        }
        if (inputs != null && !Files.isRegularFile(inputs)) {
            throw new CommandLine.ParameterException(cl, "--inputs " + inputs + ": no such file (expected a "
                    + "safetensors file of forward inputs)");
        }
        TextConditions.checkFile(cl, embeddings);
        if (model != null && VaeRun.isVae(model)) {
            if (capture || embeddings != null || exampleInputs != null) {
                throw new CommandLine.ParameterException(cl, (capture ? "--capture" : embeddings != null
                        ? "--embeddings" : "--example-inputs") + " applies to transformers, not to the VAE "
                        + ModelSource.name(model));
            }
            requireInputs(cl, encode ? "images" : "latents");
            return new VaeRun(model, inputs, out, encode, dtype.type).call();
        }
        if (encode) {
            throw new CommandLine.ParameterException(cl, "--encode: " + ModelSource.name(model)
                    + " is not a VAE folder (config.json _class_name AutoencoderKL)");
        }
        long started = System.nanoTime();
        Denoiser loaded;
        try (Checkpoint ckpt = ModelSource.open(model)) {
            loaded = dtype.load(ckpt);
        }
        if (!(loaded instanceof DiffusersForward dit)) {
            throw new IllegalArgumentException(ModelSource.name(model) + ": " + loaded.info().className()
                    + " offers no forward on named inputs");
        }
        PrintWriter o = cl.getOut();
        io.ditcache.io.SafetensorsWriter made = null;
        if (inputs == null) {
            if (!ExampleInputs.supports(loaded)) {
                throw new CommandLine.ParameterException(cl, (exampleInputs != null ? "--example-inputs: no example "
                        + "inputs for " : "--inputs: required for ") + ModelSource.name(model) + " ("
                        + loaded.info().className() + "; example inputs are made for "
                        + String.join(", ", ExampleInputs.FAMILIES) + "), "
                        + "which takes " + dit.inputNames() + (dit.optionalInputNames().isEmpty() ? ""
                                : " (optional: " + dit.optionalInputNames() + ")"));
            }
            made = ExampleInputs.make(loaded, dit, model, seed);
            if (exampleInputs != null) {
                made.write(exampleInputs);
                try (SafetensorsFile f = SafetensorsFile.open(exampleInputs)) {
                    o.println("wrote example inputs for " + ModelSource.name(model) + " (seed " + seed + ") to "
                            + exampleInputs.toAbsolutePath() + ": " + ExampleInputs.describe(f));
                }
                o.flush();
            }
            if (!forward) {
                return 0;
            }
        }
        String source = made == null ? inputs.toString() : "inputs made for " + ModelSource.name(model) + " (seed "
                + seed + ")";
        if (embeddings != null) {
            if (!TextConditions.text(loaded)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--embeddings " + embeddings + ": "
                        + ModelSource.name(model) + " (" + loaded.info().className() + ") is conditioned on class "
                        + "labels, not text embeddings");
            }
            PromptEmbeddings.read(embeddings).close(); // every check of the file, with its name
        }
        try (SafetensorsFile in = made != null ? ExampleInputs.open(made, source)
                : embeddings == null ? SafetensorsFile.open(inputs) : merged(all(dit));
                InferenceMode mode = new InferenceMode();
                PointerScope scope = new PointerScope();
                ActivationCapture probe = new ActivationCapture(EnumSet.of(SiteKind.K, SiteKind.V,
                        SiteKind.ATTN_OUT))) {
            checkInputs(in.names(), dit.inputNames(), dit.optionalInputNames(), loaded.info().className());
            if (in.contains("hidden_states")) {
                long[] x = in.info("hidden_states").dims();
                OptionChecks.space(cl, "--out", out, OutputSizes.forward(loaded, x, capture), capture
                        ? "the output and the captured K, V and attention outputs of every block" : "the output");
            }
            Tensor sample = dit.forward(in, model, capture ? probe : ActivationProbe.NONE);
            Map<String, Tensor> outputs = new LinkedHashMap<>();
            outputs.put("sample", sample);
            if (capture) {
                outputs.putAll(probe.tensors());
            }
            SafetensorsWriter.write(out, outputs, Map.of("format", "pt"));
            warnNonFinite(outputs);
            o.printf(java.util.Locale.ROOT, "run: %s (%s), one forward on %s: %s%n", ModelSource.name(model),
                    loaded.info().className(), source, ExampleInputs.describe(in));
            o.printf(java.util.Locale.ROOT, "wrote %s: sample %s%s (%.2f s with loading)%n", out.toAbsolutePath(),
                    java.util.Arrays.toString(sample.sizes().vec().get()), capture ? " and " + (outputs.size() - 1)
                            + " captured tensors (block.{i}.k/v/a)" : "", (System.nanoTime() - started) / 1e9);
            o.flush();
        }
        return 0;
    }

    /**
     * Says on stderr how many elements of the written tensors are NaN or infinite. The file is still written:
     * comparing it with diffusers' output is how one finds where the non-finite values start.
     */
    private void warnNonFinite(Map<String, Tensor> outputs) {
        PrintWriter err = spec.commandLine().getErr();
        long bad = nonFinite(outputs.get("sample"));
        if (bad > 0) {
            err.println("run: warning: output tensor \"sample\" in " + out + " has " + bad + " of "
                    + outputs.get("sample").numel() + " elements non-finite (NaN or infinite)");
        }
        List<String> captured = new ArrayList<>();
        long capturedBad = 0;
        long capturedAll = 0;
        for (Map.Entry<String, Tensor> e : outputs.entrySet()) {
            if (!e.getKey().equals("sample")) {
                long n = nonFinite(e.getValue());
                capturedBad += n;
                capturedAll += e.getValue().numel();
                if (n > 0) {
                    captured.add(e.getKey());
                }
            }
        }
        if (!captured.isEmpty()) {
            err.println("run: warning: " + captured.size() + " of " + (outputs.size() - 1) + " captured tensors in "
                    + out + " hold non-finite elements (" + capturedBad + " of " + capturedAll + "), the first "
                    + captured.get(0));
        }
        err.flush();
    }

    private static long nonFinite(Tensor t) {
        return torch.count_nonzero(t.isfinite().logical_not()).item_long();
    }

    /**
     * The inputs file with the conditioning inputs it lacks taken from {@code --embeddings}, byte for byte, as one
     * in-memory file named after both.
     */
    private SafetensorsFile merged(List<String> takes) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        List<String> added = new ArrayList<>();
        try (SafetensorsFile in = SafetensorsFile.open(inputs);
                SafetensorsFile emb = SafetensorsFile.open(embeddings)) {
            for (String name : in.names()) {
                copy(inputs, in, name, w);
            }
            for (String name : CONDITIONING) {
                if (takes.contains(name) && !in.contains(name) && emb.contains(name)) {
                    copy(embeddings, emb, name, w);
                    added.add(name);
                }
            }
        }
        Path tmp = Files.createTempFile("ditcache-inputs", ".safetensors");
        try {
            w.write(tmp);
            byte[] bytes = Files.readAllBytes(tmp);
            java.nio.ByteBuffer direct = java.nio.ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            return SafetensorsFile.open(direct, inputs + (added.isEmpty() ? "" : " with " + String.join(", ", added)
                    + " from " + embeddings));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Copies tensor {@code name}'s stored bytes and dtype. */
    private static void copy(Path file, SafetensorsFile f, String name, SafetensorsWriter w) throws IOException {
        io.ditcache.io.TensorInfo ti = f.info(name);
        long start;
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(8).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            start = 8 + len.flip().getLong() + ti.begin();
            byte[] data = new byte[Math.toIntExact(ti.end() - ti.begin())];
            java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(data);
            while (b.hasRemaining() && ch.read(b, start + b.position()) >= 0) {
                // reads until full
            }
            w.putBytes(name, ti.dtype(), data, ti.dims());
        }
    }

    /** The forward arguments a model takes, required then optional. */
    private static List<String> all(DiffusersForward dit) {
        List<String> out = new ArrayList<>(dit.inputNames());
        out.addAll(dit.optionalInputNames());
        return out;
    }

    private void checkInputs(Set<String> names, List<String> takes, List<String> optional, String className) {
        String expected = takes + (optional.isEmpty() ? "" : " (optional: " + optional + ")");
        TreeSet<String> unknown = new TreeSet<>(names);
        unknown.removeAll(KNOWN_INPUTS);
        unknown.removeAll(takes);
        unknown.removeAll(optional);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(inputs + ": unknown input tensors [" + ProfileCommand.abbreviate(unknown)
                    + "], expected " + expected);
        }
        TreeSet<String> other = new TreeSet<>(names);
        other.removeAll(takes);
        other.removeAll(optional);
        if (!other.isEmpty()) {
            throw new IllegalArgumentException(inputs + ": inputs " + other + " belong to another model family; "
                    + className + " takes " + expected);
        }
        for (String need : takes) {
            if (!names.contains(need)) {
                throw new IllegalArgumentException(inputs + ": missing input tensor \"" + need + "\", expected "
                        + takes + (CONDITIONING.contains(need) && embeddings == null ? " (or give --embeddings FILE "
                                + TextConditions.FILE_HINT + ")" : ""));
            }
        }
    }

    private void requireInputs(CommandLine cl, String tensors) {
        if (inputs == null) {
            throw new CommandLine.ParameterException(cl, ModelSource.name(model) + ": give --inputs FILE with "
                    + tensors);
        }
    }
}
