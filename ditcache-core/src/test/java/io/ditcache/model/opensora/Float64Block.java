package io.ditcache.model.opensora;

import io.ditcache.internal.Tensors;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * An STDiT3Block written again in plain Java doubles from Open-Sora's code (stdit3.py STDiT3Block.forward,
 * blocks.py Attention / MultiHeadCrossAttention / LlamaRMSNorm, rotary_embedding_torch), for small sizes: the
 * reference the libtorch block is checked against.
 */
final class Float64Block {
    private final Map<String, Tensor> weights;
    private final String prefix;
    private final int c;
    private final int heads;
    private final boolean temporal;
    private final boolean qkNorm;

    Float64Block(Map<String, Tensor> weights, String prefix, int hidden, int heads, boolean temporal, boolean qkNorm) {
        this.weights = weights;
        this.prefix = prefix;
        this.c = hidden;
        this.heads = heads;
        this.temporal = temporal;
        this.qkNorm = qkNorm;
    }

    private double[] w(String name) {
        float[] f = Tensors.toFloats(weights.get(prefix + name));
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** {@code x W^T + b} for rows of x; W {@code [out, in]} row-major. */
    static double[][] linear(double[][] x, double[] weight, double[] bias) {
        int out = bias.length;
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) {
                    s += x[r][i] * weight[o * in + i];
                }
                y[r][o] = s;
            }
        }
        return y;
    }

    private static double[] layerNorm(double[] x) {
        double mean = 0;
        for (double v : x) {
            mean += v;
        }
        mean /= x.length;
        double var = 0;
        for (double v : x) {
            var += (v - mean) * (v - mean);
        }
        var /= x.length;
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (x[i] - mean) / Math.sqrt(var + 1e-6);
        }
        return y;
    }

    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    /**
     * @param x     {@code [B][T*S][C]}
     * @param t6    {@code [B][6C]}
     * @param y     {@code [B][L][C]} projected caption
     * @param mask  {@code [B][L]} true = attend
     * @param freqs {@code [D/2]} rotary frequencies
     */
    double[][][] forward(double[][][] x, double[][] t6, double[][][] y, boolean[][] mask, double[] freqs, int frames,
            int patches) {
        double[] table = w("scale_shift_table");
        int b = x.length;
        int n = frames * patches;
        double[][][] out = new double[b][][];
        for (int r = 0; r < b; r++) {
            double[][] mod = new double[6][c];
            for (int j = 0; j < 6; j++) {
                for (int k = 0; k < c; k++) {
                    mod[j][k] = table[j * c + k] + t6[r][j * c + k];
                }
            }
            double[][] h = new double[n][];
            for (int i = 0; i < n; i++) {
                double[] ln = layerNorm(x[r][i]);
                h[i] = new double[c];
                for (int k = 0; k < c; k++) {
                    h[i][k] = ln[k] * (1 + mod[1][k]) + mod[0][k];
                }
            }
            double[][] a = new double[n][];
            int seqs = temporal ? patches : frames;
            int len = temporal ? frames : patches;
            for (int s = 0; s < seqs; s++) {
                double[][] seq = new double[len][];
                int[] index = new int[len];
                for (int i = 0; i < len; i++) {
                    index[i] = temporal ? i * patches + s : s * patches + i;
                    seq[i] = h[index[i]];
                }
                double[][] o = selfAttention(seq, freqs);
                for (int i = 0; i < len; i++) {
                    a[index[i]] = o[i];
                }
            }
            double[][] x1 = new double[n][c];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < c; k++) {
                    x1[i][k] = x[r][i][k] + mod[2][k] * a[i][k];
                }
            }
            double[][] ca = crossAttention(x1, y[r], mask[r]);
            double[][] m = new double[n][c];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < c; k++) {
                    x1[i][k] += ca[i][k];
                }
                double[] ln = layerNorm(x1[i]);
                for (int k = 0; k < c; k++) {
                    m[i][k] = ln[k] * (1 + mod[4][k]) + mod[3][k];
                }
            }
            double[][] hidden = linear(m, w("mlp.fc1.weight"), w("mlp.fc1.bias"));
            for (double[] row : hidden) {
                for (int k = 0; k < row.length; k++) {
                    row[k] = gelu(row[k]);
                }
            }
            double[][] ff = linear(hidden, w("mlp.fc2.weight"), w("mlp.fc2.bias"));
            out[r] = new double[n][c];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < c; k++) {
                    out[r][i][k] = x1[i][k] + mod[5][k] * ff[i][k];
                }
            }
        }
        return out;
    }

    private double[][] selfAttention(double[][] seq, double[] freqs) {
        int d = c / heads;
        double[][] qkv = linear(seq, w("attn.qkv.weight"), w("attn.qkv.bias"));
        double[] qn = qkNorm ? w("attn.q_norm.weight") : null;
        double[] kn = qkNorm ? w("attn.k_norm.weight") : null;
        int len = seq.length;
        double[][] merged = new double[len][c];
        for (int hd = 0; hd < heads; hd++) {
            double[][] q = new double[len][];
            double[][] k = new double[len][];
            double[][] v = new double[len][d];
            for (int i = 0; i < len; i++) {
                q[i] = head(qkv[i], hd * d, d, qn, temporal ? i : -1, freqs);
                k[i] = head(qkv[i], c + hd * d, d, kn, temporal ? i : -1, freqs);
                System.arraycopy(qkv[i], 2 * c + hd * d, v[i], 0, d);
            }
            attend(q, k, v, null, merged, hd * d);
        }
        return linear(merged, w("attn.proj.weight"), w("attn.proj.bias"));
    }

    /** One head of q or k: RMS-normed, then rotated by position {@code pos} (or not, for -1). */
    private static double[] head(double[] row, int from, int d, double[] norm, int pos, double[] freqs) {
        double[] x = new double[d];
        System.arraycopy(row, from, x, 0, d);
        if (norm != null) {
            double ms = 0;
            for (double v : x) {
                ms += v * v;
            }
            double inv = 1 / Math.sqrt(ms / d + 1e-6);
            for (int i = 0; i < d; i++) {
                x[i] = x[i] * inv * norm[i];
            }
        }
        if (pos >= 0) {
            double[] r = new double[d];
            for (int p = 0; p < d / 2; p++) {
                double angle = pos * freqs[p];
                double cos = Math.cos(angle);
                double sin = Math.sin(angle);
                r[2 * p] = x[2 * p] * cos - x[2 * p + 1] * sin;
                r[2 * p + 1] = x[2 * p + 1] * cos + x[2 * p] * sin;
            }
            x = r;
        }
        return x;
    }

    private static void attend(double[][] q, double[][] k, double[][] v, boolean[] keep, double[][] out, int at) {
        int d = q[0].length;
        for (int i = 0; i < q.length; i++) {
            double[] s = new double[k.length];
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < k.length; j++) {
                if (keep != null && !keep[j]) {
                    s[j] = Double.NEGATIVE_INFINITY;
                    continue;
                }
                double dot = 0;
                for (int e = 0; e < d; e++) {
                    dot += q[i][e] * k[j][e];
                }
                s[j] = dot / Math.sqrt(d);
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = 0; j < k.length; j++) {
                s[j] = s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                sum += s[j];
            }
            for (int e = 0; e < d; e++) {
                double acc = 0;
                for (int j = 0; j < k.length; j++) {
                    acc += s[j] / sum * v[j][e];
                }
                out[i][at + e] = acc;
            }
        }
    }

    private double[][] crossAttention(double[][] x, double[][] y, boolean[] keep) {
        int d = c / heads;
        double[][] q = linear(x, w("cross_attn.q_linear.weight"), w("cross_attn.q_linear.bias"));
        double[][] kv = linear(y, w("cross_attn.kv_linear.weight"), w("cross_attn.kv_linear.bias"));
        double[][] merged = new double[x.length][c];
        for (int hd = 0; hd < heads; hd++) {
            double[][] qh = new double[x.length][d];
            double[][] kh = new double[y.length][d];
            double[][] vh = new double[y.length][d];
            for (int i = 0; i < x.length; i++) {
                System.arraycopy(q[i], hd * d, qh[i], 0, d);
            }
            for (int j = 0; j < y.length; j++) {
                System.arraycopy(kv[j], hd * d, kh[j], 0, d);
                System.arraycopy(kv[j], c + hd * d, vh[j], 0, d);
            }
            attend(qh, kh, vh, keep, merged, hd * d);
        }
        return linear(merged, w("cross_attn.proj.weight"), w("cross_attn.proj.bias"));
    }
}
