"""LeNet-5 in tinygrad on its OpenCL backend with the same recipe and measurements as Benchmarks/LeNetBenchmark: one
training epoch (batch 64, SGD momentum 0.9, lr 0.01, Glorot-uniform weights, zero biases, the step compiled once by
TinyJit), time to the first finished step, inference throughput at batch 1000, batch-1 latency and peak resident
memory. Prints one JSON object. `--first-step-only` stops after the first step (for the cold-cache measurement)."""
import gzip
import json
import resource
import struct
import sys
import time

start = time.perf_counter()
import numpy as np  # noqa: E402
from tinygrad import Context, Device, Tensor, TinyJit, nn  # noqa: E402
from tinygrad.nn.optim import SGD  # noqa: E402

args = [a for a in sys.argv[1:] if not a.startswith("--")]
DATA = args[0] if args else "/usr/share/datasets/fashion-mnist"
FIRST_STEP_ONLY = "--first-step-only" in sys.argv


def load(split):
    with gzip.open(f"{DATA}/{split}-images-idx3-ubyte.gz") as f:
        _, count, rows, cols = struct.unpack(">IIII", f.read(16))
        images = np.frombuffer(f.read(), dtype=np.uint8).reshape(count, 1, rows, cols)
    with gzip.open(f"{DATA}/{split}-labels-idx1-ubyte.gz") as f:
        f.read(8)
        labels = np.frombuffer(f.read(), dtype=np.uint8).astype(np.int32)
    return images, labels


def glorot(shape, fan_in, fan_out):
    limit = (6 / (fan_in + fan_out)) ** 0.5
    return Tensor.uniform(*shape, low=-limit, high=limit)


class LeNet5:
    def __init__(self):
        self.c1, self.c2 = nn.Conv2d(1, 6, 5, padding=2), nn.Conv2d(6, 16, 5)
        self.f1, self.f2, self.f3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)
        for layer, (fan_in, fan_out) in [(self.c1, (25, 150)), (self.c2, (150, 400)), (self.f1, (400, 120)),
                                         (self.f2, (120, 84)), (self.f3, (84, 10))]:
            layer.weight = glorot(layer.weight.shape, fan_in, fan_out)
            layer.bias = Tensor.zeros(*layer.bias.shape)

    def __call__(self, x):
        x = self.c1(x).relu().max_pool2d(2)
        x = self.c2(x).relu().max_pool2d(2).flatten(1)
        return self.f3(self.f2(self.f1(x).relu()).relu())


def main():
    Tensor.manual_seed(0)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = LeNet5()
    params = nn.state.get_parameters(model)
    optimizer = SGD(params, lr=0.01, momentum=0.9)

    @TinyJit
    def step(x, y):
        with Context(TRAINING=1):
            optimizer.zero_grad()
            loss = model(x).sparse_categorical_crossentropy(y).backward()
            optimizer.step()
            return loss.realize()

    @TinyJit
    def infer(x):
        return model(x).realize()

    def batch(images, labels, index):
        return (Tensor(images[index].astype(np.float32) / 255).realize(), Tensor(labels[index]).realize())

    order = np.random.default_rng(0).permutation(len(train_y))
    train_start = time.perf_counter()
    first_step = None
    for i in range(0, len(order) - 63, 64):
        x, y = batch(train_x, train_y, order[i:i + 64])
        loss = step(x, y)
        if first_step is None:
            loss.numpy()
            first_step = time.perf_counter() - start
            if FIRST_STEP_ONLY:
                print(json.dumps({"first_step_seconds": first_step, "device": Device.DEFAULT}))
                return
    loss.numpy()
    train_seconds = time.perf_counter() - train_start
    trained = len(order) // 64 * 64

    test_batches = [Tensor(test_x[i:i + 1000].astype(np.float32) / 255).realize() for i in range(0, 10000, 1000)]
    correct = sum(int((infer(x).argmax(1).numpy() == test_y[i * 1000:(i + 1) * 1000]).sum())
                  for i, x in enumerate(test_batches))
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for i in range(0, 10000, 1000):
            infer(Tensor(test_x[i:i + 1000].astype(np.float32) / 255)).numpy()
        best = min(best, time.perf_counter() - t)
    single = TinyJit(lambda x: model(x).realize())
    latencies = []
    for i in range(203):
        t = time.perf_counter()
        single(Tensor(test_x[i:i + 1].astype(np.float32) / 255)).numpy()
        if i >= 3:
            latencies.append(time.perf_counter() - t)
    latencies.sort()
    print(json.dumps({
        "device": Device.DEFAULT,
        "train_images_per_second": trained / train_seconds,
        "test_accuracy": correct / 10000,
        "inference_images_per_second": 10000 / best,
        "batch1_latency_ms": latencies[len(latencies) // 2] * 1000,
        "first_step_seconds": first_step,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
