"""The LeNet section of the original book (chapter_convolutional-neural-networks/lenet), end to end
in PyTorch: load Fashion-MNIST, train LeNet for 10 epochs (batch 128, SGD lr 0.1, Xavier
initialization, sigmoid and average pooling), validate after every epoch, as d2l's Trainer does.

The reference for the Rust section's wall time (bench/README.md, "End to end"). It reads the same
gzipped IDX files the Rust side reads (D2L_DATA_MIRROR, else Debian's dataset-fashion-mnist),
so no torchvision is needed. Prints one line of JSON.
"""

import argparse
import gzip
import json
import os
import struct
import time

import torch
from torch import nn
from torch.nn import functional as F

import torch_bench

FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


def find(name):
    folders = [os.environ.get("D2L_DATA_MIRROR", ""), "/usr/share/datasets/fashion-mnist"]
    for folder in filter(None, folders):
        for candidate in (name + ".gz", name):
            path = os.path.join(folder, candidate)
            if os.path.exists(path):
                return path
    raise SystemExit(f"error: {name}.gz not found in {folders}: set D2L_DATA_MIRROR or install dataset-fashion-mnist")


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8).reshape(dims)


def lenet():
    """The original's LeNet (torch_bench.py) with the original's Xavier initialization."""
    net = torch_bench.model("lenet")
    for layer in net:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
    return net


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args()
    tic = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    x_train, y_train, x_val, y_val = (read_idx(find(name)) for name in FILES)
    x_train = x_train.float().unsqueeze(1) / 255
    x_val = x_val.float().unsqueeze(1) / 255
    y_train, y_val = y_train.long(), y_val.long()
    loaded = time.perf_counter()
    net = lenet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    for epoch in range(args.epochs):
        net.train()
        for batch in torch.randperm(len(y_train)).split(128):
            loss = F.cross_entropy(net(x_train[batch]), y_train[batch])
            loss.item()  # the board reads every loss out
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        net.eval()
        correct = 0
        with torch.no_grad():
            for start in range(0, len(y_val), 128):
                y_hat = net(x_val[start:start + 128])
                F.cross_entropy(y_hat, y_val[start:start + 128]).item()
                correct += (y_hat.argmax(1) == y_val[start:start + 128]).sum().item()
    done = time.perf_counter()
    print(json.dumps({
        "side": "pytorch", "build": f"torch {torch.__version__}", "threads": args.threads,
        "load_seconds": loaded - tic, "train_seconds": done - loaded, "total_seconds": done - tic,
        "val_acc": correct / len(y_val),
    }))


if __name__ == "__main__":
    main()
