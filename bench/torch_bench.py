"""One measurement of one of the book's models in PyTorch, the reference for bench/src/main.rs.

The models, losses, optimizer and steps are those of the original book's PyTorch code
(d2l.SoftmaxRegression, the concise MLP, LeNet with sigmoid and average pooling, AlexNet, VGG,
ResNet-18; cross-entropy;
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
    if name == "alexnet":
        return alexnet()
    if name == "vgg":
        return vgg(((1, 16), (1, 32), (2, 64), (2, 128), (2, 128)))
    if name == "resnet18":
        return resnet18()
    if name == "lstm":
        return LstmLm()
    raise SystemExit(f"error: unknown model {name!r} (softmax, mlp, lenet, alexnet, vgg, resnet18, lstm)")


# Image height and width per model: Fashion-MNIST's, or the CPU setting of the model's section
# in the Rust edition (the smallest images AlexNet accepts; 32 pixels for VGG and ResNet-18).
IMAGE_SIZE = {"alexnet": 65, "vgg": 32, "resnet18": 32}


def classifier_head(inputs):
    """AlexNet's and VGG's three fully connected layers, with dropout."""
    return [nn.Flatten(),
            nn.Linear(inputs, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(4096, 10)]


def alexnet():
    """The original book's AlexNet for one input channel, at 65x65 pixels (1x1 after the last pooling)."""
    return nn.Sequential(
        nn.Conv2d(1, 96, kernel_size=11, stride=4, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
        nn.MaxPool2d(kernel_size=3, stride=2),
        *classifier_head(256 * 1 * 1))


def vgg(arch):
    """The original book's VGG (d2l.VGG) for one input channel, at 32x32 pixels."""
    layers, channels = [], 1
    for num_convs, out_channels in arch:
        for _ in range(num_convs):
            layers += [nn.Conv2d(channels, out_channels, kernel_size=3, padding=1), nn.ReLU()]
            channels = out_channels
        layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers, *classifier_head(channels * 1 * 1))


class Residual(nn.Module):
    """The original book's residual block (d2l.Residual)."""

    def __init__(self, in_channels, num_channels, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(num_channels, num_channels, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(in_channels, num_channels, kernel_size=1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(num_channels)
        self.bn2 = nn.BatchNorm2d(num_channels)

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        if self.conv3:
            x = self.conv3(x)
        return F.relu(y + x)


def resnet18():
    """The original book's ResNet-18 for one input channel and 10 classes."""
    layers = [nn.Conv2d(1, 64, kernel_size=7, stride=2, padding=3), nn.BatchNorm2d(64), nn.ReLU(),
              nn.MaxPool2d(kernel_size=3, stride=2, padding=1)]
    channels = 64
    for i, (num_blocks, num_channels) in enumerate([(2, 64), (2, 128), (2, 256), (2, 512)]):
        for b in range(num_blocks):
            downsample = b == 0 and i > 0
            layers.append(Residual(channels if b == 0 else num_channels, num_channels,
                                   use_1x1conv=downsample, strides=2 if downsample else 1))
        channels = num_channels
    layers += [nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(channels, 10)]
    return nn.Sequential(*layers)


# The LSTM language model of the original's LSTM section: vocabulary (The Time Machine's
# characters), hidden units, subsequence length.
LSTM_VOCAB, LSTM_HIDDENS, LSTM_STEPS = 28, 32, 32


class LstmLm(nn.Module):
    """The original's concise LSTM language model: one-hot inputs, nn.LSTM, a linear output."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(LSTM_VOCAB, LSTM_HIDDENS)
        self.linear = nn.Linear(LSTM_HIDDENS, LSTM_VOCAB)

    def forward(self, x):
        outputs, _ = self.rnn(F.one_hot(x.T, LSTM_VOCAB).float())
        return self.linear(outputs).swapaxes(0, 1)  # (batch, steps, vocab)


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
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    device = torch.device(args.device)
    net = model(args.model).to(device)
    if args.model == "lstm":
        size = LSTM_STEPS
        data = [(torch.randint(0, LSTM_VOCAB, (args.batch, size), device=device),
                 torch.randint(0, LSTM_VOCAB, (args.batch, size), device=device))
                for _ in range(8)]
    else:
        size = IMAGE_SIZE.get(args.model, 28)
        data = [(torch.rand(args.batch, 1, size, size, device=device), torch.randint(0, 10, (args.batch,), device=device))
                for _ in range(8)]
    if args.mode == "train":
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)

        def step(i):
            x, y = data[i % len(data)]
            y_hat = net(x)
            loss = F.cross_entropy(y_hat.reshape(-1, y_hat.shape[-1]), y.reshape(-1))
            loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    else:
        net.eval()

        def step(i):
            with torch.no_grad():
                net(data[i % len(data)][0]).argmax(-1).tolist()

    for i in range(args.warmup):
        step(i)
    tic = time.perf_counter()
    steps = 0
    while steps < args.iters or time.perf_counter() - tic < args.min_seconds:
        step(args.warmup + steps)
        steps += 1
    seconds = time.perf_counter() - tic
    print(json.dumps({
        "side": "pytorch", "backend": args.device, "build": f"torch {torch.__version__}",
        "model": args.model, "mode": args.mode, "batch": args.batch, "size": size, "iters": steps,
        "seconds": seconds, "examples_per_s": args.batch * steps / seconds,
        "peak_rss_mib": peak_rss_mib(), "threads": str(args.threads),
    }))


if __name__ == "__main__":
    main()
