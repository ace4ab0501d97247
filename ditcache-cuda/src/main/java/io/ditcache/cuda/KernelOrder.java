package io.ditcache.cuda;

import io.ditcache.backend.DistanceSums;
import io.ditcache.io.HalfFloats;
import java.nio.ByteBuffer;

/**
 * The distance kernels' arithmetic replayed on the CPU in the kernels' exact order: each thread's float32 sums
 * (with the same fused multiply-adds), the warp and block trees in float64, and stage 2's fold of a pair's block
 * partials. The GPU check expects the kernels to agree with it bit for bit; the CPU tests check it against core's
 * CPU backend and float64, which tests the chunking and the descriptors without a GPU.
 */
final class KernelOrder {
    private KernelOrder() {
    }

    /** Reads element i of a little-endian buffer of the type as float32, as the kernels load it. */
    static float element(ByteBuffer data, long i, ElementType type) {
        return switch (type) {
            case FLOAT32 -> data.getFloat((int) (i * 4));
            case FLOAT16 -> HalfFloats.float16(data.getShort((int) (i * 2)));
            case BFLOAT16 -> HalfFloats.bfloat16(data.getShort((int) (i * 2)));
        };
    }

    /** The sums the kernels compute over {@code n} elements of {@code a} and {@code b} (both of {@code type}). */
    static DistanceSums sums(ByteBuffer a, ByteBuffer b, long n, ElementType type, boolean aligned) {
        long chunks = LaunchPlan.chunksOf(n);
        double[][] partials = new double[(int) chunks][];
        for (int c = 0; c < chunks; c++) {
            partials[c] = chunk(a, b, n, type, aligned, (long) c * LaunchPlan.CHUNK);
        }
        double[][] threads = new double[LaunchPlan.THREADS][LaunchPlan.SUMS];
        for (int t = 0; t < LaunchPlan.THREADS; t++) {
            for (long c = t; c < chunks; c += LaunchPlan.THREADS) {
                for (int k = 0; k < LaunchPlan.SUMS; k++) {
                    threads[t][k] += partials[(int) c][k];
                }
            }
        }
        double[] s = blockReduce(threads);
        return new DistanceSums(n, s[0], s[1], s[2], s[3], s[4]);
    }

    private static double[] chunk(ByteBuffer a, ByteBuffer b, long n, ElementType type, boolean aligned,
            long start) {
        long end = Math.min(n, start + LaunchPlan.CHUNK);
        double[][] threads = new double[LaunchPlan.THREADS][];
        for (int t = 0; t < LaunchPlan.THREADS; t++) {
            float[] s = new float[LaunchPlan.SUMS];
            if (aligned && end - start == LaunchPlan.CHUNK) {
                int perWord = 16 / type.bytes();
                int words = LaunchPlan.CHUNK / perWord;
                for (int w = t; w < words; w += LaunchPlan.THREADS) {
                    for (int e = 0; e < perWord; e++) {
                        long i = start + (long) w * perWord + e;
                        add(s, element(a, i, type), element(b, i, type));
                    }
                }
            } else {
                for (long i = start + t; i < end; i += LaunchPlan.THREADS) {
                    add(s, element(a, i, type), element(b, i, type));
                }
            }
            threads[t] = new double[] {s[0], s[1], s[2], s[3], s[4]};
        }
        return blockReduce(threads);
    }

    private static void add(float[] s, float a, float b) {
        s[0] += Math.abs(b - a);
        s[1] += Math.abs(a);
        s[2] = Math.fma(a, b, s[2]);
        s[3] = Math.fma(a, a, s[3]);
        s[4] = Math.fma(b, b, s[4]);
    }

    /** {@code block_reduce}: a shuffle-down tree in each warp, then the same tree over the warps' sums. */
    private static double[] blockReduce(double[][] threads) {
        int warps = LaunchPlan.THREADS / 32;
        double[][] warpSums = new double[32][];
        for (int w = 0; w < warps; w++) {
            double[][] lanes = new double[32][];
            System.arraycopy(threads, w * 32, lanes, 0, 32);
            warpSums[w] = warpReduce(lanes);
        }
        for (int w = warps; w < 32; w++) {
            warpSums[w] = new double[LaunchPlan.SUMS];
        }
        return warpReduce(warpSums);
    }

    /** {@code v += __shfl_down_sync(v, o)} for o = 16, 8, 4, 2, 1; lane 0's result (lanes past 31 read their own). */
    private static double[] warpReduce(double[][] lanes) {
        double[][] v = new double[32][];
        for (int l = 0; l < 32; l++) {
            v[l] = lanes[l].clone();
        }
        for (int o = 16; o > 0; o >>= 1) {
            double[][] next = new double[32][];
            for (int l = 0; l < 32; l++) {
                double[] src = l + o < 32 ? v[l + o] : v[l];
                next[l] = new double[LaunchPlan.SUMS];
                for (int k = 0; k < LaunchPlan.SUMS; k++) {
                    next[l][k] = v[l][k] + src[k];
                }
            }
            v = next;
        }
        return v[0];
    }
}
