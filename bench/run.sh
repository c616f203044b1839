#!/usr/bin/env bash
# Speed of the book's models, burn vs PyTorch, on this machine's CPU: one command, one run.
#
#   bench/run.sh [--quick] [--threads N] [--models "softmax mlp lenet alexnet vgg resnet18 lstm"] [--out FILE] [--book-only] [--system-alloc] [--ndarray] [--blas]
#
# Builds the Rust side in several backend configurations (bench/Cargo.toml's features), installs
# PyTorch into bench/.venv (pip, from bench/requirements.txt), then measures every model and mode
# on every side in turns (all sides of one row back to back, rows repeated), with threads pinned
# to the first N cores (taskset), and writes bench/results.md. Raw lines stay in target/bench/.
# Each measurement times at least 20 steps and 2 seconds (--quick: 2 repetitions of at least
# 5 steps and 0.5 s, instead of 5); ResNet-18, whose steps take about a second, times at least
# 5 steps, with minibatches of 128 as in its section. --ndarray: also burn's deprecated NdArray backend; --blas:
# also NdArray with OpenBLAS (installs Debian's libopenblas-dev). Each is one more build of burn.
# The modern CNNs run at their sections' CPU setting: AlexNet at 65x65 and VGG at 32x32 pixels,
# minibatches of 32; ResNet-18 at 32x32, minibatches of 128.
# Besides the book's build, `flex-crates-io`: the same with crates.io's burn-flex instead of the
# book's vendored one (vendor/README.md), built by vendor/upstream.sh, to measure our kernels.
# --book-only: only the book's configuration. --system-alloc: also Flex with Rust's default
# allocator instead of the book's mimalloc.
set -euo pipefail
cd "$(dirname "$0")/.."

command="bench/run.sh${*:+ $*}"
reps=5 iters=20 seconds=2 threads=2 ndarray=0 blas=0 system_alloc=0 models="softmax mlp lenet alexnet vgg resnet18 lstm" out=bench/results.md book_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) reps=2 iters=5 seconds=0.5 ;;
    --threads) threads="$2"; shift ;;
    --models) models="$2"; shift ;;
    --out) out="$2"; shift ;;
    --book-only) book_only=1 ;;
    --system-alloc) system_alloc=1 ;;
    --ndarray) ndarray=1 ;;
    --blas) blas=1 ;;
    *) echo "usage: bench/run.sh [--quick] [--threads N] [--models LIST] [--out FILE] [--book-only] [--system-alloc] [--ndarray] [--blas]" >&2; exit 2 ;;
  esac
  shift
done
cores="0-$((threads - 1))"

venv=bench/.venv
if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  echo "== installing PyTorch into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r bench/requirements.txt
fi

# name=cargo features; `flex` is the book's own configuration.
variants=("flex=")
[ "$book_only" = 1 ] || variants+=("flex-crates-io=")
[ "$system_alloc" = 1 ] && variants+=("flex-system-alloc=system-alloc")
[ "$ndarray" = 1 ] && variants+=("ndarray=ndarray")
if [ "$blas" = 1 ]; then
  dpkg -s libopenblas-dev >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq libopenblas-dev; }
  variants+=("ndarray-blas=ndarray-blas")
fi
mkdir -p target/bench
for variant in "${variants[@]}"; do
  name="${variant%%=*}" features="${variant#*=}"
  echo "== building the Rust side: $name"
  if [ "$name" = flex-crates-io ]; then
    vendor/upstream.sh cargo --only burn-flex build --release --locked -p d2l-bench
  else
    cargo build --release --locked -p d2l-bench ${features:+--features "$features"}
  fi
  cp target/release/d2l-bench "target/bench/d2l-bench-$name"
done

raw="target/bench/raw-$(date -u +%Y%m%dT%H%M%SZ).tsv"
run() { # run NAME COMMAND...: one measurement, with the load average before it
  local load; load="$(cut -d' ' -f1 /proc/loadavg)"
  local line; line="$(RAYON_NUM_THREADS=$threads OMP_NUM_THREADS=$threads taskset -c "$cores" "$@" 2>/dev/null | tail -n 1)"
  printf '%s\t%s\n' "$load" "$line" >> "$raw"
  echo "   $line"
}
for rep in $(seq "$reps"); do
  for model in $models; do
    batch=256 steps=$iters
    [ "$model" = resnet18 ] && batch=128 steps=$((iters < 5 ? iters : 5))
    case "$model" in alexnet|vgg) batch=32 ;; esac
    [ "$model" = lstm ] && batch=1024  # subsequences of 32 characters, as in the LSTM section
    for mode in train infer; do
      echo "== repetition $rep/$reps: $model $mode"
      run "$venv/bin/python" -W ignore bench/torch_bench.py "$model" "$mode" --batch "$batch" --iters "$steps" --min-seconds "$seconds" --threads "$threads"
      for variant in "${variants[@]}"; do
        name="${variant%%=*}" backend=flex
        case "$name" in ndarray*) backend=ndarray ;; esac
        run "target/bench/d2l-bench-$name" "$model" "$mode" --batch "$batch" --iters "$steps" --min-seconds "$seconds" --backend "$backend" --build "$name"
      done
    done
  done
done

python3 bench/report.py "$raw" --command "$command" --threads "$threads" --cores "$cores" > "$out"
echo "== wrote $out (raw: $raw)"
