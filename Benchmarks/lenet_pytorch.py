"""LeNet-5 in PyTorch on the CPU with the same recipe and measurements as Benchmarks/LeNetBenchmark: one
training epoch (batch 64, SGD momentum 0.9, lr 0.01, Glorot-uniform weights, zero biases), inference throughput
at batch 1000, batch-1 latency and peak resident memory. Prints one JSON object."""
import gzip
import json
import resource
import struct
import sys
import time

import torch
from torch import nn

DATA = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"


def load(split):
    with gzip.open(f"{DATA}/{split}-images-idx3-ubyte.gz") as f:
        _, count, rows, cols = struct.unpack(">IIII", f.read(16))
        images = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).float().div(255).view(count, 1, rows, cols)
    with gzip.open(f"{DATA}/{split}-labels-idx1-ubyte.gz") as f:
        f.read(8)
        labels = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).long()
    return images, labels


def lenet5():
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return model


def main():
    torch.manual_seed(0)
    train_x, train_y = load("train")
    test_x, test_y = load("t10k")
    model = lenet5()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    order = torch.randperm(len(train_y))
    start = time.perf_counter()
    for i in range(0, len(order), 64):
        index = order[i:i + 64]
        optimizer.zero_grad()
        loss_fn(model(train_x[index]), train_y[index]).backward()
        optimizer.step()
    train_seconds = time.perf_counter() - start

    model.eval()
    with torch.no_grad():
        correct = sum((model(test_x[i:i + 1000]).argmax(1) == test_y[i:i + 1000]).sum().item()
                      for i in range(0, len(test_y), 1000))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for i in range(0, len(test_y), 1000):
                model(test_x[i:i + 1000])
            best = min(best, time.perf_counter() - start)
        model(test_x[:1])
        latencies = []
        for i in range(200):
            start = time.perf_counter()
            model(test_x[i:i + 1])
            latencies.append(time.perf_counter() - start)
    latencies.sort()

    print(json.dumps({
        "train_images_per_second": len(train_y) / train_seconds,
        "test_accuracy": correct / len(test_y),
        "inference_images_per_second": len(test_y) / best,
        "batch1_latency_ms": latencies[len(latencies) // 2] * 1000,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_version": torch.__version__,
    }, sort_keys=True))


if __name__ == "__main__":
    main()
