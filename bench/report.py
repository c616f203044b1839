"""Turns the raw lines of bench/run.sh (load average, tab, one JSON result) into bench/results.md."""

import argparse
import json
import platform
import statistics
import subprocess
from collections import defaultdict
from datetime import datetime, timezone


def sh(*cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    """The CPU's name and its widest vector extension (which gemm kernels run)."""
    name = platform.processor() or "unknown"
    for line in sh("lscpu").splitlines():
        if line.startswith("Model name:"):
            name = line.split(":", 1)[1].strip()
    try:
        with open("/proc/cpuinfo") as info:
            flags = info.read()
    except OSError:
        return name
    vectors = "AVX-512" if "avx512f" in flags else "AVX2, no AVX-512" if "avx2" in flags else "no AVX2"
    return f"{name} ({vectors})"


def locked_version(crate):
    with open("Cargo.lock") as lock:
        lines = lock.read().splitlines()
    for i, line in enumerate(lines):
        if line == f'name = "{crate}"':
            return lines[i + 1].split('"')[1]
    return "unknown"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw")
    parser.add_argument("--command", required=True)
    parser.add_argument("--threads", required=True)
    parser.add_argument("--cores", required=True)
    parser.add_argument("--gpu", help="the GPU's name, for a run on a GPU (bench/gpu/run.sh)")
    args = parser.parse_args()

    runs = defaultdict(list)  # (model, mode, side) -> [(examples/s, peak MiB, load)]
    sides, torch_version, loads = [], "unknown", []
    with open(args.raw) as raw:
        for line in raw:
            load, _, text = line.rstrip("\n").partition("\t")
            if not text.startswith("{"):
                continue
            r = json.loads(text)
            side = "PyTorch" if r["side"] == "pytorch" else f"burn {r['build'] or r['backend']}"
            if r["side"] == "pytorch":
                torch_version = r["build"]
            if side not in sides:
                sides.append(side)
            runs[(r["model"], r["mode"], side)].append((r["examples_per_s"], r["peak_rss_mib"], float(load)))
            loads.append(float(load))
    if not runs:
        # Every measurement failed (no driver, no PyTorch, a time limit); their errors are not here.
        raise SystemExit(f"error: {args.raw} holds no measurement, every run failed: see "
                         "bench-stderr.log beside it (bench/gpu/run.sh), or run one measurement "
                         "by hand to see its error (bench/run.sh)")

    out = []
    w = out.append
    w(f"# Benchmarks: the book's models, burn vs PyTorch on the {'GPU' if args.gpu else 'CPU'}")
    w("")
    w(f"Written by `{args.command}` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
      "raw lines in `target/bench/`. Each cell: examples per second, median of the repetitions "
      "[lowest-highest], and the ratio to PyTorch's median. Higher is better.")
    w("")
    if args.gpu:
        apis = {"cuda": "`cuda` (kernels compiled by NVRTC)", "vulkan": "`vulkan` (burn's wgpu runtime, SPIR-V)"}
        timed = ", ".join(apis.get(api, f"`{api}`") for api in (s.removeprefix("burn ") for s in sides if s != "PyTorch"))
        w(f"- GPU: {args.gpu}; burn through {timed}, PyTorch on CUDA; CPU: {cpu_model()}")
    else:
        w(f"- CPU: {cpu_model()}, {args.threads} thread(s) per side, pinned to cores {args.cores} (taskset)")
    w(f"- load average (1 min) before the measurements: {min(loads):.2f} to {max(loads):.2f}")
    w(f"- rustc: {sh('rustc', '--version')}; burn {locked_version('burn')}; PyTorch: {torch_version}")
    w("- batch 256 Fashion-MNIST-shaped images (1x28x28); the modern CNNs at the CPU setting of "
      "their sections: AlexNet batch 32 of 1x65x65, VGG (8 narrow layers) batch 32 of 1x32x32, "
      "ResNet-18 batch 128 of 1x32x32; LSTM language model (28 one-hot inputs, 32 hidden units): batch "
      "1024 subsequences of 32 tokens (an example is a subsequence); cross-entropy, SGD lr 0.1; "
      "a training step is forward, loss read out, backward, optimizer step; "
      "inference is forward and argmax read out, without autodiff")
    if not args.gpu:
        w("- sides: `burn flex` is the book's build (burn-flex vendored with our kernels, vendor/README.md); "
          "`burn flex-crates-io` is the same with crates.io's burn-flex; the others are the features of bench/Cargo.toml")
    w("")
    models = [m for m in ["softmax", "mlp", "lenet", "alexnet", "vgg", "resnet18", "lstm"] if any(key[0] == m for key in runs)]
    for mode, title in [("train", "Training steps"), ("infer", "Inference")]:
        w(f"## {title} (examples/s)")
        w("")
        w("| model | " + " | ".join(sides) + " |")
        w("|---|" + "---|" * len(sides))
        for model in models:
            base = runs.get((model, mode, "PyTorch"))
            base_median = statistics.median(r[0] for r in base) if base else None
            cells = []
            for side in sides:
                rs = runs.get((model, mode, side))
                if not rs:
                    cells.append("n/a")
                    continue
                values = [r[0] for r in rs]
                median = statistics.median(values)
                cell = f"{median:,.0f} [{min(values):,.0f}-{max(values):,.0f}]"
                if base_median and side != "PyTorch":
                    cell += f" **{median / base_median:.2f}x**"
                cells.append(cell)
            w(f"| {model} | " + " | ".join(cells) + " |")
        w("")
    w("## Peak resident memory (MiB, median over repetitions, one process per measurement)")
    w("")
    w("| model | mode | " + " | ".join(sides) + " |")
    w("|---|---|" + "---|" * len(sides))
    for model in models:
        for mode in ["train", "infer"]:
            cells = []
            for side in sides:
                rs = [r[1] for r in runs.get((model, mode, side), []) if r[1] is not None]
                cells.append(f"{statistics.median(rs):.0f}" if rs else "n/a")
            w(f"| {model} | {mode} | " + " | ".join(cells) + " |")
    w("")
    w("See `bench/README.md` for how to read these numbers and where the time goes.")
    print("\n".join(out))


if __name__ == "__main__":
    main()
