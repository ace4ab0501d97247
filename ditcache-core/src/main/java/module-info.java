/**
 * ditcache-core: profile a diffusion transformer's step-to-step redundancy and apply cache policies.
 *
 * <p>Every package but {@code io.ditcache.internal} is exported. Natives are the application's choice: add
 * libtorch's CPU or GPU classifier jar (see README, "Use as a library"); this module requires only the
 * platform-independent JavaCPP API modules. The SIMD distance kernel runs when the JVM is started with
 * {@code --add-modules jdk.incubator.vector}; without it the scalar kernel runs. Reports draw with JFreeChart,
 * which the application adds when it writes reports. Prompts are tokenized by DJL's HuggingFace tokenizers, a
 * dependency that the module path resolves only when asked ({@code --add-modules ai.djl.tokenizers}).
 */
module io.ditcache.core {
    // Tensors are in the API (probe input, model input and output); pytorch's module passes on javacpp's.
    requires transitive org.bytedeco.pytorch;
    requires org.bytedeco.javacpp;
    // JsonFiles.readTree takes an ObjectMapper and returns a JsonNode.
    requires transitive com.fasterxml.jackson.databind;
    requires org.slf4j;
    // BufferedImage is in the API (PngFiles); reports draw off-screen only.
    requires transitive java.desktop;
    // com.sun.management: the machine's physical memory, which every size read from a file is checked against.
    requires jdk.management;
    requires static jdk.incubator.vector;
    requires static org.jfree.jfreechart;
    // PromptTokenizer's HuggingFace tokenizers (DJL, a Maven dependency of this module). Static because it is an
    // automatic module, and requiring one resolves every automatic module on the path: on the module path, add it
    // with --add-modules ai.djl.tokenizers where prompts are tokenized (the class path needs nothing).
    requires static ai.djl.tokenizers;

    exports io.ditcache;
    exports io.ditcache.backend;
    exports io.ditcache.bench;
    exports io.ditcache.cache;
    exports io.ditcache.data;
    exports io.ditcache.io;
    exports io.ditcache.model;
    exports io.ditcache.model.cogvideox;
    exports io.ditcache.model.dit;
    exports io.ditcache.model.dit.train;
    exports io.ditcache.model.flux;
    exports io.ditcache.model.latte;
    exports io.ditcache.model.mochi;
    exports io.ditcache.model.opensora;
    exports io.ditcache.model.pipeline;
    exports io.ditcache.model.pixart;
    exports io.ditcache.model.sd3;
    exports io.ditcache.model.text;
    exports io.ditcache.model.vae;
    exports io.ditcache.policy;
    exports io.ditcache.profile;
    exports io.ditcache.quality;
    exports io.ditcache.report;
    exports io.ditcache.sample;
    exports io.ditcache.sched;
    exports io.ditcache.study;
    exports io.ditcache.train;

    uses io.ditcache.backend.DistanceBackend;
    uses io.ditcache.model.DenoiserFamily;

    provides io.ditcache.backend.DistanceBackend with io.ditcache.profile.CpuDistanceBackend;
    provides io.ditcache.model.DenoiserFamily with
            io.ditcache.model.cogvideox.CogVideoXFamily,
            io.ditcache.model.dit.DiTFamily,
            io.ditcache.model.flux.FluxFamily,
            io.ditcache.model.latte.LatteFamily,
            io.ditcache.model.mochi.MochiFamily,
            io.ditcache.model.opensora.STDiT3Family,
            io.ditcache.model.pixart.PixArtFamily,
            io.ditcache.model.sd3.SD3Family;
}
