"""One measurement of one of the book's models in PyTorch, the reference for bench/src/main.rs.

The models, losses, optimizer and steps are those of the original book's PyTorch code
(d2l.SoftmaxRegression, the concise MLP, LeNet with sigmoid and average pooling; cross-entropy;
SGD with lr 0.1; a training step reads the loss out, as the original's board does).
Prints one line of JSON, like the Rust side.
"""

import argparse
import json
import time

import torch
from torch import nn
from torch.nn import functional as F


def model(name):
    if name == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    if name == "lenet":
        return nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
            nn.AvgPool2d(kernel_size=2, stride=2),
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(),
            nn.Linear(120, 84), nn.Sigmoid(),
            nn.Linear(84, 10))
    raise SystemExit(f"error: unknown model {name!r} (softmax, mlp, lenet)")


def peak_rss_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("mode", choices=["train", "infer"])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iters", type=int, default=50, help="timed steps, at least")
    parser.add_argument("--min-seconds", type=float, default=2.0,
                        help="timed seconds, at least: short steps are repeated")
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    net = model(args.model)
    data = [(torch.rand(args.batch, 1, 28, 28), torch.randint(0, 10, (args.batch,)))
            for _ in range(8)]
    if args.mode == "train":
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

        def step(i):
            x, y = data[i % len(data)]
            loss = F.cross_entropy(net(x), y)
            loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        net.eval()

        def step(i):
            with torch.no_grad():
                net(data[i % len(data)][0]).argmax(1).tolist()

    for i in range(args.warmup):
        step(i)
    tic = time.perf_counter()
    steps = 0
    while steps < args.iters or time.perf_counter() - tic < args.min_seconds:
        step(args.warmup + steps)
        steps += 1
    seconds = time.perf_counter() - tic
    print(json.dumps({
        "side": "pytorch", "backend": "cpu", "build": f"torch {torch.__version__}",
        "model": args.model, "mode": args.mode, "batch": args.batch, "iters": steps,
        "seconds": seconds, "examples_per_s": args.batch * steps / seconds,
        "peak_rss_mib": peak_rss_mib(), "threads": str(args.threads),
    }))


if __name__ == "__main__":
    main()
