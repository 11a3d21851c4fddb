"""Computes PyTorch references for the parity cases of Sources/Conflux/Verification/ParityCases.swift and writes
them to reference.safetensors: for case i (its position in ParityCases.all), `i.input0`, `i.input1`, ...,
`i.projection` (r), `i.output` (y) and `i.grad0`, ... (the gradients of sum(y * r) with respect to each float
input). The inputs are PyTorch's own, drawn from a fixed seed; ParityTests runs every device on them and compares.
Padding follows TensorFlow's 'same' (the extra row or column after), as Conflux does.

Run: python make_reference.py  (needs torch and safetensors). Keep CASES in the order of ParityCases.all."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(0)


def uniform(shape, low=-1.0, high=1.0):
    return torch.rand(shape, dtype=torch.float32) * (high - low) + low


def distinct(shape, spacing=0.05):
    count = math.prod(shape)
    values = (torch.arange(count, dtype=torch.float32) - count / 2 + 0.25) * spacing
    return values[torch.randperm(count)].reshape(shape)


def same_pads(size, kernel, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv(stride, padding, dilation=(1, 1), groups=1):
    stride = stride if isinstance(stride, tuple) else (stride, stride)
    def run(x, w):
        if padding == "same":
            top, bottom = same_pads(x.shape[2], (w.shape[2] - 1) * dilation[0] + 1, stride[0])
            left, right = same_pads(x.shape[3], (w.shape[3] - 1) * dilation[1] + 1, stride[1])
        elif padding == "valid":
            top = bottom = left = right = 0
        else:
            top, bottom, left, right = padding
        return F.conv2d(F.pad(x, (left, right, top, bottom)), w, stride=stride, dilation=dilation, groups=groups)
    return run


def pool(kind, size, stride, padding):
    def run(x):
        pad = 0
        if padding == "same":
            top, bottom = same_pads(x.shape[2], size, stride)
            left, right = same_pads(x.shape[3], size, stride)
            assert top == bottom == left == right, "symmetric padding only"
            pad = top
        if kind == "max":
            return F.max_pool2d(x, size, stride, padding=pad)
        return F.avg_pool2d(x, size, stride, padding=pad, count_include_pad=False)
    return run


CASES = []
# convolution
for x, w, stride, padding, scale in [
    ((1, 3, 7, 9), (4, 3, 3, 3), 1, "same", 1), ((3, 5, 13, 13), (7, 5, 5, 5), 2, "valid", 1),
    ((2, 1, 31, 29), (6, 1, 5, 5), 1, "same", 1), ((2, 6, 14, 14), (16, 6, 5, 5), 1, "valid", 1),
    ((3, 2, 9, 7), (5, 2, 3, 3), 3, (2, 0, 1, 2), 1), ((2, 3, 7, 9), (4, 3, 3, 3), 1, "same", 100),
]:
    CASES.append(([uniform(x, -scale, scale), uniform(w)], conv(stride, padding)))
# pooling: max then average per shape, then ties and large values
for shape, size, stride, padding in [
    ((2, 3, 7, 9), 2, 2, "valid"), ((1, 5, 13, 13), 3, 2, "same"), ((3, 1, 31, 29), 3, 1, "valid"),
    ((1, 6, 28, 28), 2, 2, "valid"),
]:
    x = distinct(shape)
    CASES.append(([x], pool("max", size, stride, padding)))
    CASES.append(([x], pool("avg", size, stride, padding)))
CASES.append(([torch.ones(1, 2, 4, 6)], pool("max", 3, 1, "same")))
CASES.append(([distinct((2, 3, 8, 8), 50)], pool("max", 2, 2, "valid")))
# matrix
for ta, tb in [(False, False), (True, False), (False, True), (True, True)]:
    a, b = uniform((13, 7) if ta else (7, 13)), uniform((9, 13) if tb else (13, 9))
    CASES.append(([a, b], lambda a, b, ta=ta, tb=tb: (a.t() if ta else a) @ (b.t() if tb else b)))
CASES.append(None)  # the 1×400 · 400×120 case: its 48,000-weight gradient would double this file's size
CASES.append(([uniform((3, 5, 7, 9)), uniform((5,))], lambda x, b: x + b.view(1, -1, 1, 1)))
CASES.append(([uniform((1, 7)), uniform((7,))], lambda x, b: x + b))
# element-wise
x, large = distinct((3, 7, 9)), distinct((3, 7, 9), 0.5)
CASES.append(([x, uniform((3, 7, 9))], lambda a, b: a + b))
for f in (torch.relu, torch.tanh, torch.sigmoid):
    CASES.append(([x], f))
    CASES.append(([large], f))
CASES.append(([x], lambda t: F.leaky_relu(t, 0.1)))
CASES.append(([x], lambda t: torch.clamp(t, -0.5, 0.6)))
CASES.append(([large], F.hardswish))
CASES.append(([uniform((2, 3, 5))], lambda t: t.reshape(-1, 5)))
# softmax and losses (argmax and accuracy have no gradient to check: None)
logits, labels = uniform((37, 11), -20, 20), torch.randint(0, 11, (37,), dtype=torch.int32)
CASES.append(([logits], lambda t: torch.softmax(t, 1)))
CASES.append(([uniform((5, 10), -500, 500)], lambda t: torch.softmax(t, 1)))
CASES.append(([logits, labels], lambda t, l: F.cross_entropy(t, l.long(), reduction="none")))
CASES.append(([uniform((1, 10), -500, 500), torch.tensor([3], dtype=torch.int32)],
              lambda t, l: F.cross_entropy(t, l.long(), reduction="none")))
CASES.append(None)
CASES.append(None)
# reductions
big = uniform((1031, 3))
CASES.append(([big], lambda t: t.sum().reshape(1)))
CASES.append(([big], lambda t: t.mean().reshape(1)))
CASES.append(([uniform((1,))], lambda t: t.sum().reshape(1)))
# chains that Fusion runs as one kernel: convolution + bias + ReLU, matrix product + bias + ReLU, ReLU + max-pool
for x, w, stride, padding, bias in [
    ((2, 1, 31, 29), (6, 1, 5, 5), 1, "same", True), ((3, 6, 14, 14), (16, 6, 5, 5), 1, "valid", True),
    ((1, 3, 7, 9), (4, 3, 3, 3), 1, (2, 0, 1, 2), False), ((3, 5, 13, 13), (7, 5, 5, 5), 2, "valid", True),
]:
    if bias:
        CASES.append(([uniform(x), uniform(w), uniform((w[0],))],
                      lambda x, w, b, f=conv(stride, padding): torch.relu(f(x, w) + b.view(1, -1, 1, 1))))
    else:
        CASES.append(([uniform(x), uniform(w)], lambda x, w, f=conv(stride, padding): torch.relu(f(x, w))))
CASES.append(([uniform((7, 13)), uniform((13, 9)), uniform((9,))], lambda a, b, c: torch.relu(a @ b + c)))
for shape, size, padding in [((2, 3, 12, 17), 2, "valid"), ((1, 2, 9, 11), 3, "same")]:
    CASES.append(([distinct(shape)], lambda x, f=pool("max", size, 2, padding): f(torch.relu(x))))

# normalization: batch norm with the batch's statistics (training mode), then with given ones; global pooling
for shape, low, high in [((3, 5, 7, 9), 2, 4), ((1, 1, 13, 13), -1, 1), ((7, 13), -3, 3)]:
    CASES.append(([uniform(shape, low, high), uniform((shape[1],), 0.5, 1.5), uniform((shape[1],))],
                  lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True, eps=1e-5)))
CASES.append(([uniform((2, 3, 5, 5)), uniform((3,), 0.5, 1.5), uniform((3,))],
              lambda x, w, b: F.batch_norm(x, torch.tensor([0.25, -0.5, 0.125]), torch.tensor([0.5, 1.0, 2.0]), w, b,
                                           training=False, eps=1e-5)))
def lrn(x, size, alpha, beta, bias):
    """ONNX's LRN: the window of channel c runs from c - (size - 1) // 2 to c + size // 2 (PyTorch's is shifted
    the other way for even sizes)."""
    padded = F.pad(x * x, (0, 0, 0, 0, (size - 1) // 2, size // 2))
    total = sum(padded[:, i:i + x.shape[1]] for i in range(size))
    return x / (bias + alpha / size * total) ** beta
for size in (5, 4):
    CASES.append(([uniform((2, 7, 3, 5), -2, 2)], lambda x, size=size: lrn(x, size, 0.1, 0.75, 2)))
for shape in [(2, 5, 7, 9), (1, 3, 1, 1)]:
    CASES.append(([uniform(shape)], lambda x: F.adaptive_avg_pool2d(x, 1)))

# arithmetic with broadcasting; divisors within 0.5...2
for op, a, b in [("add", (2, 3, 4, 5), (3, 1, 1)), ("sub", (2, 3, 4, 5), (5,)), ("mul", (4, 1, 5), (1, 3, 1)),
                 ("div", (3, 7), ()), ("add", (), (2, 3)), ("mul", (2, 1, 3, 1), (1, 4, 1, 5)),
                 ("div", (1, 6), (5, 6)), ("sub", (3, 7, 9), (3, 7, 9))]:
    low, high = (0.5, 2) if op == "div" else (-1, 1)
    CASES.append(([uniform(a), uniform(b, low, high)], getattr(torch, op)))

# depthwise, grouped and dilated convolutions, then a depthwise one with a fused bias and ReLU
for x, w, stride, padding, dilation, groups in [
    ((2, 6, 9, 11), (6, 1, 3, 3), (1, 1), "same", (1, 1), 6), ((1, 3, 7, 9), (6, 1, 3, 3), (2, 2), "valid", (1, 1), 3),
    ((2, 6, 8, 8), (9, 2, 3, 3), (1, 1), (1, 0, 2, 1), (1, 1), 3), ((2, 3, 13, 13), (4, 3, 3, 3), (1, 1), "same", (2, 2), 1),
    ((3, 4, 11, 9), (4, 2, 3, 2), (2, 1), "valid", (2, 3), 2),
]:
    CASES.append(([uniform(x), uniform(w)], conv(stride, padding, dilation, groups)))
CASES.append(([uniform((2, 8, 10, 10)), uniform((8, 1, 3, 3)), uniform((8,))],
              lambda x, w, b, f=conv(2, "same", groups=8): torch.relu(f(x, w) + b.view(1, -1, 1, 1))))

# transpose, slice, pad, concat
x = uniform((2, 3, 4, 5))
CASES.append(([x], lambda t: t.permute(0, 2, 3, 1).contiguous()))
CASES.append(([uniform((3, 7))], lambda t: t.t().contiguous()))
CASES.append(([uniform((3, 7, 9))], lambda t: t[1:3, :, -5::2].contiguous()))
CASES.append(([uniform((4, 6))], lambda t: t.index_select(1, torch.arange(5, -1, -2))))
CASES.append(([x], lambda t: F.pad(t, (0, 3, 2, 1, 1, 0, 0, 0), value=0.5)))
CASES.append(([uniform((2, 3, 4)), uniform((2, 5, 4)), uniform((2, 1, 4))], lambda *ts: torch.cat(ts, 1)))
CASES.append(([uniform((3, 2)), uniform((3, 7))], lambda *ts: torch.cat(ts, -1)))

# log-softmax, softmax along other axes, and the ops built from others
x = uniform((2, 3, 4, 5), -3, 3)
CASES.append(([uniform((37, 11), -20, 20)], lambda t: torch.log_softmax(t, 1)))
CASES.append(([x], lambda t: torch.log_softmax(t, 1)))
CASES.append(([x], lambda t: torch.softmax(t, 0)))
CASES.append(([distinct((2, 3, 4, 5))], F.hardsigmoid))
CASES.append(([x, uniform((3, 1, 1), 0, 0.5)], lambda t, a: torch.where(t >= 0, t, a * t)))
CASES.append(([uniform((13, 7)), uniform((13, 9)), uniform((9,))], lambda a, b, c: 0.5 * a.t() @ b + 2 * c))
CASES.append(([x], lambda t: t.reshape(6, 20)))
CASES.append(([x], lambda t: t.clone()))
CASES.append(([x], lambda t: t.mean((2, 3), keepdim=True)))
CASES.append(([x], lambda t: t.sum((0, 2))))

# dropout at step 3, seed 7, rate 0.3: DropoutMask's hash (Sources/Conflux/Ops/Dropout.swift), in 32-bit arithmetic
def dropout_keeps(count, step, seed, rate):
    with np.errstate(over="ignore"):  # the hash wraps around 2^32 on purpose
        h = np.arange(count, dtype=np.uint32) * np.uint32(0x9E3779B9)
        h ^= np.uint32(step) * np.uint32(0x85EBCA6B)
        h ^= np.uint32(seed) * np.uint32(0xC2B2AE35)
        h ^= h >> np.uint32(16)
        h *= np.uint32(0x7FEB352D)
        h ^= h >> np.uint32(15)
        h *= np.uint32(0x846CA68B)
        h ^= h >> np.uint32(16)
    return torch.from_numpy((h >> np.uint32(8)).astype(np.float32) * np.float32(1 / 16777216) >= np.float32(rate))
CASES.append(([uniform((3, 7, 9))],
              lambda t: t * dropout_keeps(t.numel(), 3, 7, 0.3).reshape(t.shape).float() / (1 - 0.3)))

# pooling modes: ceil_mode, count_include_pad, dilation
x = distinct((1, 2, 8, 9))
CASES.append(([x], lambda t: F.max_pool2d(t, 3, 2, ceil_mode=True)))
CASES.append(([x], lambda t: F.avg_pool2d(t, 2, 2, ceil_mode=True)))
CASES.append(([distinct((2, 3, 7, 9))], lambda t: F.avg_pool2d(t, 3, 2, padding=1, count_include_pad=True)))
CASES.append(([x], lambda t: F.avg_pool2d(t, 3, 2, padding=1, count_include_pad=True, ceil_mode=True)))
CASES.append(([distinct((2, 3, 9, 11))], lambda t: F.max_pool2d(t, 3, 2, padding=1, dilation=2)))

# gather, cast, shape (no gradients checked: the cases build them on placeholders, as kernels)
CASES.append(([uniform((3, 5, 4)), torch.tensor([[4, -1], [0, 2]], dtype=torch.int32)],
              lambda t, i: t[:, i.long() % 5]))
CASES.append(([uniform((3, 7), -5, 5)], lambda t: t.to(torch.int32).to(torch.float32)))
CASES.append(([uniform((2, 3, 4, 5))], lambda t: torch.tensor(t.shape, dtype=torch.float32)))

# a strided convolution of one image
CASES.append(([uniform((1, 5, 13, 11)), uniform((6, 5, 3, 3))], conv(2, (1, 1, 1, 1))))

# logits near 1e6: softmax, log-softmax and cross-entropy must subtract the maximum before adding the log-sum
logits = uniform((4, 100), 999_990, 1_000_010)
CASES.append(([logits], lambda t: torch.softmax(t, 1)))
CASES.append(([logits], lambda t: torch.log_softmax(t, 1)))
CASES.append(([logits, torch.randint(0, 100, (4,), dtype=torch.int32)], lambda t, l: F.cross_entropy(t, l.long(), reduction="none")))

# stride-1 convolutions with 40 output channels, of one image and of three
for batch in (1, 3):
    CASES.append(([uniform((batch, 5, 9, 11)), uniform((40, 5, 3, 3))], conv(1, "same")))

# a collective in a process on its own: two tensors weighted, flattened one after the other (AllReduceStart, Wait)
for _ in range(2):
    CASES.append(([uniform((3, 7)), uniform((5,)), torch.tensor(0.375)],
                  lambda a, b, w: torch.cat([a.reshape(-1), b]) * w))

# Neg, Abs, Max, Min and Tile, built from other ops
x, y = distinct((3, 4, 5)), distinct((4, 5), spacing=0.07)
CASES.append(([x], lambda t: -t))
CASES.append(([x], lambda t: t.abs()))
CASES.append(([x, y], lambda a, b: torch.maximum(a, b)))
CASES.append(([x, y], lambda a, b: torch.minimum(a, b)))
CASES.append(([x], lambda t: t.repeat(2, 1, 3)))

# convolutions with a fused residual and clip: ResNet's shortcut with its ReLU, ReLU6, a residual under a narrow
# clip, a projection shortcut
CASES.append(([uniform((2, 6, 9, 11)), uniform((6, 6, 3, 3)), uniform((6,)), uniform((2, 6, 9, 11))],
              lambda x, w, b, r, f=conv(1, "same"): torch.relu(f(x, w) + b.view(1, -1, 1, 1) + r)))
CASES.append(([uniform((1, 5, 7, 9), -3, 3), uniform((7, 5, 3, 3)), uniform((7,))],
              lambda x, w, b, f=conv(2, "same"): torch.clamp(f(x, w) + b.view(1, -1, 1, 1), 0, 6)))
CASES.append(([uniform((3, 4, 8, 8)), uniform((4, 4, 1, 1)), uniform((3, 4, 8, 8))],
              lambda x, w, r, f=conv(1, "valid"): torch.clamp(r + f(x, w), -0.5, 0.5)))
CASES.append(([uniform((2, 4, 7, 9)), uniform((5, 4, 3, 3)), uniform((5, 4, 1, 1))],
              lambda x, w, v, f=conv(1, "same"), g=conv(1, "valid"): torch.relu(f(x, w) + g(x, v))))

tensors = {}

for index, case in enumerate(CASES):
    if case is None:
        continue
    inputs, function = case
    inputs = [t.clone().requires_grad_(t.dtype == torch.float32) for t in inputs]
    y = function(*inputs)
    projection = uniform((y.numel(), 1))
    if y.requires_grad:
        (y.reshape(1, -1) @ projection).sum().backward()
    tensors[f"{index}.projection"] = projection
    tensors[f"{index}.output"] = y.detach().clone().contiguous()
    for i, t in enumerate(inputs):
        # Labels are stored as float32 (exact for small integers): Conflux's safetensors reader takes F32 only.
        tensors[f"{index}.input{i}"] = t.detach().clone().float().contiguous()
        if t.dtype == torch.float32 and t.grad is not None:
            tensors[f"{index}.grad{i}"] = t.grad.contiguous()

save_file(tensors, "reference.safetensors", metadata={"generator": f"torch {torch.__version__}", "cases": str(len(CASES))})
print(f"{len(tensors)} tensors for {sum(c is not None for c in CASES)} cases, torch {torch.__version__}")
