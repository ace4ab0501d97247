package io.ditcache.model.vae;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The sizes of a diffusers {@code AutoencoderKL}, from its {@code config.json}, checked on construction.
 *
 * @param inChannels          image channels the encoder takes ({@code in_channels})
 * @param outChannels         image channels the decoder makes ({@code out_channels})
 * @param latentChannels      {@code latent_channels}; the encoder makes twice as many (mean and log-variance)
 * @param blockOutChannels    {@code block_out_channels}, one per down block (the decoder walks them reversed)
 * @param layersPerBlock      resnets per down block; an up block has one more
 * @param normNumGroups       GroupNorm groups, every GroupNorm of the model (eps 1e-6)
 * @param scalingFactor       {@code scaling_factor}
 * @param shiftFactor         {@code shift_factor}, 0 when the config has none
 * @param useQuantConv        whether {@code quant_conv} (1x1, after the encoder) exists
 * @param usePostQuantConv    whether {@code post_quant_conv} (1x1, before the decoder) exists
 * @param midBlockAttention   {@code mid_block_add_attention}
 * @param latentsMean         {@code latents_mean}, per latent channel, or empty when the config has none
 * @param latentsStd          {@code latents_std}, per latent channel, or empty when the config has none
 */
public record VaeConfig(int inChannels, int outChannels, int latentChannels, List<Integer> blockOutChannels,
        int layersPerBlock, int normNumGroups, double scalingFactor, double shiftFactor, boolean useQuantConv,
        boolean usePostQuantConv, boolean midBlockAttention, List<Double> latentsMean, List<Double> latentsStd) {
    /** diffusers' class name. */
    public static final String CLASS_NAME = "AutoencoderKL";

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        latentsMean = List.copyOf(latentsMean);
        latentsStd = List.copyOf(latentsStd);
        for (List<Double> stats : List.of(latentsMean, latentsStd)) {
            if (!stats.isEmpty() && stats.size() != latentChannels) {
                throw new IllegalArgumentException((stats == latentsMean ? "latents_mean" : "latents_std") + " has "
                        + stats.size() + " values, expected one per latent channel (latent_channels " + latentChannels
                        + ")");
            }
        }
        positive("in_channels", inChannels);
        positive("out_channels", outChannels);
        positive("latent_channels", latentChannels);
        positive("layers_per_block", layersPerBlock);
        positive("norm_num_groups", normNumGroups);
        if (blockOutChannels.isEmpty()) {
            throw new IllegalArgumentException("block_out_channels is [], expected at least one width");
        }
        for (int c : blockOutChannels) {
            if (c < 1 || c % normNumGroups != 0) {
                throw new IllegalArgumentException("block_out_channels " + blockOutChannels + " holds " + c
                        + ", expected positive multiples of norm_num_groups " + normNumGroups);
            }
        }
        if (!Double.isFinite(scalingFactor) || scalingFactor == 0) {
            throw new IllegalArgumentException("scaling_factor is " + scalingFactor + ", expected a finite non-zero "
                    + "number");
        }
        if (!Double.isFinite(shiftFactor)) {
            throw new IllegalArgumentException("shift_factor is " + shiftFactor + ", expected a finite number");
        }
    }

    private static void positive(String key, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(key + " is " + v + ", expected a positive integer");
        }
    }

    /** The number of down (and up) blocks. */
    public int blocks() {
        return blockOutChannels.size();
    }

    /** How many times the encoder halves the image's height and width: one fewer than the blocks. */
    public int downsamplings() {
        return blocks() - 1;
    }

    /** Width of the innermost blocks (the mid blocks'). */
    int innerChannels() {
        return blockOutChannels.get(blocks() - 1);
    }

    /** Every parameter by diffusers key, in diffusers' registration order, with its shape. */
    public Map<String, long[]> parameterShapes() {
        Map<String, long[]> out = new LinkedHashMap<>();
        encoderShapes(out);
        decoderShapes(out);
        if (useQuantConv) {
            conv(out, "quant_conv", 2L * latentChannels, 2L * latentChannels, 1);
        }
        if (usePostQuantConv) {
            conv(out, "post_quant_conv", latentChannels, latentChannels, 1);
        }
        return out;
    }

    private void encoderShapes(Map<String, long[]> out) {
        String e = "encoder.";
        conv(out, e + "conv_in", blockOutChannels.get(0), inChannels, 3);
        int channels = blockOutChannels.get(0);
        for (int i = 0; i < blocks(); i++) {
            String b = e + "down_blocks." + i + ".";
            int width = blockOutChannels.get(i);
            for (int j = 0; j < layersPerBlock; j++) {
                resnet(out, b + "resnets." + j + ".", j == 0 ? channels : width, width);
            }
            if (i < blocks() - 1) {
                conv(out, b + "downsamplers.0.conv", width, width, 3);
            }
            channels = width;
        }
        midBlock(out, e + "mid_block.");
        norm(out, e + "conv_norm_out", innerChannels());
        conv(out, e + "conv_out", 2L * latentChannels, innerChannels(), 3);
    }

    private void decoderShapes(Map<String, long[]> out) {
        String d = "decoder.";
        conv(out, d + "conv_in", innerChannels(), latentChannels, 3);
        int channels = innerChannels();
        for (int i = 0; i < blocks(); i++) {
            String b = d + "up_blocks." + i + ".";
            int width = blockOutChannels.get(blocks() - 1 - i);
            for (int j = 0; j <= layersPerBlock; j++) {
                resnet(out, b + "resnets." + j + ".", j == 0 ? channels : width, width);
            }
            if (i < blocks() - 1) {
                conv(out, b + "upsamplers.0.conv", width, width, 3);
            }
            channels = width;
        }
        midBlock(out, d + "mid_block.");
        norm(out, d + "conv_norm_out", blockOutChannels.get(0));
        conv(out, d + "conv_out", outChannels, blockOutChannels.get(0), 3);
    }

    private void midBlock(Map<String, long[]> out, String m) {
        long c = innerChannels();
        if (midBlockAttention) {
            String a = m + "attentions.0.";
            norm(out, a + "group_norm", c);
            for (String p : List.of("to_q", "to_k", "to_v", "to_out.0")) {
                out.put(a + p + ".weight", new long[] {c, c});
                out.put(a + p + ".bias", new long[] {c});
            }
        }
        resnet(out, m + "resnets.0.", c, c);
        resnet(out, m + "resnets.1.", c, c);
    }

    private static void resnet(Map<String, long[]> out, String r, long in, long width) {
        norm(out, r + "norm1", in);
        conv(out, r + "conv1", width, in, 3);
        norm(out, r + "norm2", width);
        conv(out, r + "conv2", width, width, 3);
        if (in != width) {
            conv(out, r + "conv_shortcut", width, in, 1);
        }
    }

    private static void norm(Map<String, long[]> out, String name, long c) {
        out.put(name + ".weight", new long[] {c});
        out.put(name + ".bias", new long[] {c});
    }

    private static void conv(Map<String, long[]> out, String name, long outC, long inC, int k) {
        out.put(name + ".weight", new long[] {outC, inC, k, k});
        out.put(name + ".bias", new long[] {outC});
    }
}
