// ditcache-cuda: the step-to-step distance sums of many sites in one launch.
//
// For every queued pair (a = previous activation, b = current activation, n elements of one type) the kernel
// computes, exactly as core's CPU backend (io.ditcache.backend.DistanceSums) does:
//     sum|b - a|, sum|a|, sum a*b, sum a*a, sum b*b
// and, where the pair asks for it, copy b into a third buffer in the same pass.
//
// One kernel, ditcache_distances, one launch for every queued pair: one thread block per CHUNK elements of one
// pair (an empty pair gets one block); each thread accumulates its 64 elements in float32, the block reduces its
// threads in float64 in a fixed tree and writes its five partial sums. The block that finishes a pair last (an
// integer counter per pair says which) then sums that pair's partials in a fixed order and stores the result in the
// pair's slot, and resets the counter for the next launch. No floating-point atomics: every run gives the same bits,
// whichever block happens to finish last.
//
// No headers: half and bfloat16 are widened by bit operations and one PTX conversion, so that NVRTC compiles this
// file as it is (ditcache-cuda compiles it at run time where no cubin matches the device).

#define THREADS 256
#define PER_THREAD 64
#define CHUNK (THREADS * PER_THREAD)
#define SUMS 5

typedef unsigned long long u64;
typedef long long i64;

// One pair, 48 bytes, laid out by io.ditcache.cuda.LaunchPlan.
struct Pair {
    const void* a;     // step i
    const void* b;     // step i + 1
    void* copy_to;     // b is copied here when not null
    i64 n;             // elements
    i64 first_chunk;   // index of this pair's first block
    int type;          // 0 float32, 1 float16, 2 bfloat16
    int slot;          // where the pair's last block stores the sums (6 doubles: n, then the five sums)
};

__device__ __forceinline__ float from_half(unsigned short h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}

__device__ __forceinline__ float from_bf16(unsigned short h) {
    return __uint_as_float(((unsigned int) h) << 16);
}

struct Sums {
    float abs_diff, abs_a, dot, sq_a, sq_b;

    __device__ __forceinline__ void add(float a, float b) {
        abs_diff += fabsf(b - a);
        abs_a += fabsf(a);
        dot = fmaf(a, b, dot);
        sq_a = fmaf(a, a, sq_a);
        sq_b = fmaf(b, b, sq_b);
    }
};

// Loads element i of a pair's operand as float32.
__device__ __forceinline__ float element(const void* p, i64 i, int type) {
    if (type == 0) {
        return ((const float*) p)[i];
    }
    unsigned short h = ((const unsigned short*) p)[i];
    return type == 1 ? from_half(h) : from_bf16(h);
}

__device__ __forceinline__ void copy_element(void* to, const void* from, i64 i, int type) {
    if (type == 0) {
        ((float*) to)[i] = ((const float*) from)[i];
    } else {
        ((unsigned short*) to)[i] = ((const unsigned short*) from)[i];
    }
}

__device__ __forceinline__ void add_words(Sums& s, uint4 a, uint4 b, int type) {
    unsigned int aw[4] = {a.x, a.y, a.z, a.w};
    unsigned int bw[4] = {b.x, b.y, b.z, b.w};
#pragma unroll
    for (int w = 0; w < 4; w++) {
        if (type == 0) {
            s.add(__uint_as_float(aw[w]), __uint_as_float(bw[w]));
        } else if (type == 1) {
            s.add(from_half((unsigned short) (aw[w] & 0xffff)), from_half((unsigned short) (bw[w] & 0xffff)));
            s.add(from_half((unsigned short) (aw[w] >> 16)), from_half((unsigned short) (bw[w] >> 16)));
        } else {
            s.add(from_bf16((unsigned short) (aw[w] & 0xffff)), from_bf16((unsigned short) (bw[w] & 0xffff)));
            s.add(from_bf16((unsigned short) (aw[w] >> 16)), from_bf16((unsigned short) (bw[w] >> 16)));
        }
    }
}

// The block's five sums in float64, in a fixed order; valid in thread 0.
__device__ void block_reduce(double v[SUMS]) {
    __shared__ double warp_sums[THREADS / 32][SUMS];
#pragma unroll
    for (int k = 0; k < SUMS; k++) {
#pragma unroll
        for (int o = 16; o > 0; o >>= 1) {
            v[k] += __shfl_down_sync(0xffffffffu, v[k], o);
        }
    }
    int lane = threadIdx.x & 31;
    int warp = threadIdx.x >> 5;
    if (lane == 0) {
#pragma unroll
        for (int k = 0; k < SUMS; k++) {
            warp_sums[warp][k] = v[k];
        }
    }
    __syncthreads();
    if (warp == 0) {
#pragma unroll
        for (int k = 0; k < SUMS; k++) {
            v[k] = lane < THREADS / 32 ? warp_sums[lane][k] : 0.0;
#pragma unroll
            for (int o = 16; o > 0; o >>= 1) {
                v[k] += __shfl_down_sync(0xffffffffu, v[k], o);
            }
        }
    }
}

// The pair whose chunks contain block `chunk`: the last pair with first_chunk <= chunk.
__device__ __forceinline__ int pair_of(const Pair* pairs, int count, i64 chunk) {
    int lo = 0, hi = count - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) >> 1;
        if (pairs[mid].first_chunk <= chunk) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return lo;
}

// Blocks of a pair: one per CHUNK elements, at least one.
__device__ __forceinline__ i64 chunks_of(i64 n) {
    return n == 0 ? 1 : (n + CHUNK - 1) / CHUNK;
}

extern "C" __global__ void __launch_bounds__(THREADS, 4)
ditcache_distances(const Pair* __restrict__ pairs, int count, double* __restrict__ partials,
                   unsigned int* __restrict__ done, double* __restrict__ results) {
    i64 chunk = blockIdx.x;
    int pi = pair_of(pairs, count, chunk);
    const Pair p = pairs[pi];
    i64 start = (chunk - p.first_chunk) * CHUNK;
    i64 end = p.n - start < CHUNK ? p.n : start + CHUNK;
    int size = p.type == 0 ? 4 : 2;
    int per_word = 16 / size;
    Sums s = {0.f, 0.f, 0.f, 0.f, 0.f};
    bool aligned = ((((u64) p.a) | ((u64) p.b) | ((u64) p.copy_to)) & 15) == 0;
    if (aligned && end - start == CHUNK) {
        // whole chunk, 16-byte words: every load of a warp is one contiguous 512-byte line
        const uint4* a = (const uint4*) ((const char*) p.a + start * size);
        const uint4* b = (const uint4*) ((const char*) p.b + start * size);
        uint4* to = p.copy_to == 0 ? 0 : (uint4*) ((char*) p.copy_to + start * size);
        int words = CHUNK / per_word;
        const int batch = 4;
        for (int w0 = threadIdx.x; w0 < words; w0 += THREADS * batch) {
            uint4 av[batch], bv[batch];
#pragma unroll
            for (int j = 0; j < batch; j++) {
                int w = w0 + j * THREADS;
                if (w < words) {
                    av[j] = __ldcs(a + w);
                    bv[j] = __ldcs(b + w);
                }
            }
#pragma unroll
            for (int j = 0; j < batch; j++) {
                int w = w0 + j * THREADS;
                if (w < words) {
                    add_words(s, av[j], bv[j], p.type);
                    if (to != 0) {
                        __stcs(to + w, bv[j]);
                    }
                }
            }
        }
    } else {
        for (i64 i = start + threadIdx.x; i < end; i += THREADS) {
            s.add(element(p.a, i, p.type), element(p.b, i, p.type));
            if (p.copy_to != 0) {
                copy_element(p.copy_to, p.b, i, p.type);
            }
        }
    }
    double v[SUMS] = {s.abs_diff, s.abs_a, s.dot, s.sq_a, s.sq_b};
    block_reduce(v);
    i64 chunks = chunks_of(p.n);
    __shared__ bool last;
    if (threadIdx.x == 0) {
#pragma unroll
        for (int k = 0; k < SUMS; k++) {
            partials[chunk * SUMS + k] = v[k];
        }
        __threadfence();
        last = atomicAdd(done + pi, 1u) == (unsigned int) (chunks - 1);
    }
    __syncthreads();
    if (!last) {
        return;
    }
    // the pair's last block: every partial of the pair is written; sum them in a fixed order
    __threadfence();
    double w[SUMS] = {0.0, 0.0, 0.0, 0.0, 0.0};
    const int fold_batch = 4;
    for (i64 c0 = threadIdx.x; c0 < chunks; c0 += THREADS * fold_batch) {
        // all loads of a batch in flight at once, then added in the order c0, c0 + THREADS, ...
        double t[fold_batch][SUMS];
#pragma unroll
        for (int j = 0; j < fold_batch; j++) {
            i64 c = c0 + (i64) j * THREADS;
#pragma unroll
            for (int k = 0; k < SUMS; k++) {
                t[j][k] = c < chunks ? __ldcg(partials + (p.first_chunk + c) * SUMS + k) : 0.0;
            }
        }
#pragma unroll
        for (int j = 0; j < fold_batch; j++) {
            if (c0 + (i64) j * THREADS < chunks) {
#pragma unroll
                for (int k = 0; k < SUMS; k++) {
                    w[k] += t[j][k];
                }
            }
        }
    }
    block_reduce(w);
    if (threadIdx.x == 0) {
        double* r = results + (i64) p.slot * (SUMS + 1);
        r[0] = (double) p.n;
#pragma unroll
        for (int k = 0; k < SUMS; k++) {
            r[k + 1] = w[k];
        }
        done[pi] = 0;
    }
}
