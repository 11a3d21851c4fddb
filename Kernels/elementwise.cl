// Element-wise kernels: one work-item per element, n elements.

__kernel void relu_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fmax(x[i], 0.0f);
}

// dx = dy where the ReLU's output y > 0, else 0.
__kernel void relu_grad(__global const float* y, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

__kernel void tanh_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = tanh(x[i]);
}

// dx = dy * (1 - y^2)
__kernel void tanh_grad(__global const float* y, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

__kernel void sigmoid_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = 1.0f / (1.0f + exp(-x[i]));
}

// dx = dy * y * (1 - y)
__kernel void sigmoid_grad(__global const float* y, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

// y[n, c, ...] = x[n, c, ...] + bias[c], with `inner` elements per (n, c).
__kernel void bias_add(__global const float* x, __global const float* bias, __global float* y, const int n,
                       const int channels, const int inner) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] + bias[(i / inner) % channels];
}

__kernel void copy(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i];
}

// y[i] = value[0] * scale: spreads the gradient of a full reduction.
__kernel void fill_scaled(__global const float* value, __global float* y, const int n, const float scale) {
    const int i = get_global_id(0);
    if (i < n) y[i] = value[0] * scale;
}

// Piecewise-linear activations; their gradients read the activation's input x.
__kernel void leaky_relu_forward(__global const float* x, __global float* y, const int n, const float alpha) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] < 0.0f ? alpha * x[i] : x[i];
}

__kernel void leaky_relu_grad(__global const float* x, __global const float* dy, __global float* dx, const int n,
                              const float alpha) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
}

__kernel void clip_forward(__global const float* x, __global float* y, const int n, const float low,
                           const float high) {
    const int i = get_global_id(0);
    if (i < n) y[i] = fmin(fmax(x[i], low), high);
}

__kernel void clip_grad(__global const float* x, __global const float* dy, __global float* dx, const int n,
                        const float low, const float high) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] >= low && x[i] <= high ? dy[i] : 0.0f;
}

__kernel void hard_swish_forward(__global const float* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = x[i] * fmin(fmax(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
}

__kernel void hard_swish_grad(__global const float* x, __global const float* dy, __global float* dx, const int n) {
    const int i = get_global_id(0);
    if (i < n) dx[i] = x[i] < -3.0f ? 0.0f : x[i] <= 3.0f ? dy[i] * (x[i] / 3.0f + 0.5f) : dy[i];
}

// Broadcasting (BroadcastLayout): the output's merged dimensions and each input's strides along them (0 where it
// is broadcast), up to eight, passed by value.
typedef struct {
    int v[8];
} Ints8;

// The offset in an input with `strides` of element i of an output with `dims`.
int broadcast_offset(int i, const int rank, const Ints8 dims, const Ints8 strides) {
    int offset = 0;
    for (int d = rank - 1; d >= 0; --d) {
        offset += i % dims.v[d] * strides.v[d];
        i /= dims.v[d];
    }
    return offset;
}

#define BROADCASTING(name, expression)                                                                          \
    __kernel void name(__global const float* a, __global const float* b, __global float* y, const int n,       \
                       const int rank, const Ints8 dims, const Ints8 strides_a, const Ints8 strides_b) {      \
        const int i = get_global_id(0);                                                                        \
        if (i >= n) return;                                                                                    \
        const float x = a[broadcast_offset(i, rank, dims, strides_a)];                                         \
        const float z = b[broadcast_offset(i, rank, dims, strides_b)];                                         \
        y[i] = expression;                                                                                     \
    }

BROADCASTING(add, x + z)
BROADCASTING(sub, x - z)
BROADCASTING(mul, x * z)
BROADCASTING(real_div, x / z)

// dx[j] = the sum of dy over the dimensions along which x was broadcast (strides 0 in `strides`, x's strides
// along dy's dimensions `dims`): one work-item per element of x, walking those dimensions.
__kernel void sum_to_shape(__global const float* dy, __global float* dx, const int n, const int rank,
                           const Ints8 dims, const Ints8 strides) {
    const int j = get_global_id(0);
    if (j >= n) return;
    int dy_strides[8];
    int base = 0, rest = j, reduced = 1;
    for (int d = rank - 1, stride = 1; d >= 0; --d) {
        dy_strides[d] = stride;
        stride *= dims.v[d];
        if (strides.v[d] != 0) {
            base += rest % dims.v[d] * dy_strides[d];
            rest /= dims.v[d];
        } else {
            reduced *= dims.v[d];
        }
    }
    float acc = 0.0f;
    for (int r = 0; r < reduced; ++r) {
        int offset = base, k = r;
        for (int d = rank - 1; d >= 0; --d) {
            if (strides.v[d] != 0) continue;
            offset += k % dims.v[d] * dy_strides[d];
            k /= dims.v[d];
        }
        acc += dy[offset];
    }
    dx[j] = acc;
}

// y[i] = value
__kernel void fill(__global float* y, const int n, const float value) {
    const int i = get_global_id(0);
    if (i < n) y[i] = value;
}

// One StridedCopy: for element i of `dims` (rank of them), destination[destination_offset + its offset by
// destination_strides] = source[source_offset + its offset by source_strides].
__kernel void strided_copy(__global const float* source, __global float* destination, const int n, const int rank,
                           const Ints8 dims, const Ints8 source_strides, const Ints8 destination_strides,
                           const int source_offset, const int destination_offset) {
    const int i = get_global_id(0);
    if (i >= n) return;
    int rest = i, from = source_offset, to = destination_offset;
    for (int d = rank - 1; d >= 0; --d) {
        const int index = rest % dims.v[d];
        rest /= dims.v[d];
        from += index * source_strides.v[d];
        to += index * destination_strides.v[d];
    }
    destination[to] = source[from];
}

// Whether dropout keeps element i at `step` (DropoutMask in Ops/Dropout.swift, the same hash bit for bit).
bool dropout_keeps(const int i, const float step, const int seed, const float rate) {
    uint h = (uint)i * 0x9E3779B9u;
    h ^= (uint)step * 0x85EBCA6Bu;
    h ^= (uint)seed * 0xC2B2AE35u;
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    h ^= h >> 16;
    return (float)(h >> 8) * (1.0f / 16777216.0f) >= rate;
}

// y = x / (1 - rate) where dropout keeps the element, 0 elsewhere; the gradient is the same with dy for x.
__kernel void dropout(__global const float* x, __global const float* step, __global float* y, const int n,
                      const int seed, const float rate) {
    const int i = get_global_id(0);
    if (i < n) y[i] = dropout_keeps(i, step[0], seed, rate) ? x[i] / (1.0f - rate) : 0.0f;
}

// y[0..<n] = values (Shape: the dimensions of a tensor).
__kernel void write_ints(__global int* y, const int n, const Ints8 values) {
    const int i = get_global_id(0);
    if (i < n) y[i] = values.v[i];
}

// GatherV2 as `Gathering` moves elements: one work-item per output element (any 4-byte type), from block o of the
// `outer` before the axis and index j. An index outside -axis_size..<axis_size is reported to slot `slot` of
// `checks` (DataCheck: position j + 1, the index) and gives 0.
__kernel void gather(__global const uint* data, __global const int* indices, __global uint* y, const int n,
                     const int axis_size, const int inner, const int index_count, __global int* checks,
                     const int slot) {
    const int i = get_global_id(0);
    if (i >= n) return;
    const int k = i % inner, j = (i / inner) % index_count, o = i / (inner * index_count);
    int index = indices[j];
    if (index < -axis_size || index >= axis_size) {
        checks[2 * slot] = j + 1;
        checks[2 * slot + 1] = index;
        y[i] = 0;
        return;
    }
    if (index < 0) index += axis_size;
    y[i] = data[(o * axis_size + index) * inner + k];
}

// Cast: Float32 to Int32 rounding toward zero, Int32 to Float32.
__kernel void cast_to_int(__global const float* x, __global int* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = convert_int_rtz(x[i]);
}

__kernel void cast_to_float(__global const int* x, __global float* y, const int n) {
    const int i = get_global_id(0);
    if (i < n) y[i] = (float)x[i];
}
