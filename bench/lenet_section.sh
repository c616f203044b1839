#!/usr/bin/env bash
# The LeNet section end to end, Rust vs PyTorch: the book's section program (load Fashion-MNIST,
# train LeNet 10 epochs, validate every epoch, plot) against bench/lenet_section.py, the original
# edition's code path in PyTorch, on the same files. Sides alternate, pinned to the first N cores.
#
#   bench/lenet_section.sh [--reps R] [--threads N] [--crates-io]
#
# --crates-io: also the same program built with crates.io's burn-flex instead of the book's
# vendored one (vendor/upstream.sh), to measure what our kernels gain end to end.
# Needs the book's programs built (`cargo run --release -p d2l-book -- build`) and bench/.venv
# (bench/run.sh installs it). Writes bench/lenet-section.md.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=2 threads=2 upstream=0
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    --crates-io) upstream=1 ;;
    *) echo "usage: bench/lenet_section.sh [--reps R] [--threads N] [--crates-io]" >&2; exit 2 ;;
  esac
  shift
done
cores="0-$((threads - 1))"
program=target/release/chapter_convolutional-neural-networks
[ -x "$program" ] || { echo "error: $program is missing: run \`cargo run --release -p d2l-book -- build\` first" >&2; exit 1; }
if [ "$upstream" = 1 ]; then
  # The same program with crates.io's burn-flex, kept aside; then the book's build again. Both
  # in the target folder d2l-book builds the programs in, which holds the libraries already.
  export CARGO_TARGET_DIR="$PWD/target"
  manifest=target/d2l-book/programs/Cargo.toml package="$(basename "$program")"
  vendor/upstream.sh cargo --only burn-flex build --release --manifest-path "$manifest" -p "$package"
  mkdir -p target/bench && cp "$program" target/bench/"$package"-flex-crates-io
  cargo build --release --manifest-path "$manifest" -p "$package"
fi
export D2L_DATA_MIRROR="${D2L_DATA_MIRROR:-$(cd ../shared/data 2>/dev/null && pwd || echo /usr/share/datasets/fashion-mnist)}"
out=bench/lenet-section.md
{
  echo "# The LeNet section end to end: Rust vs PyTorch"
  echo
  echo "Written by \`bench/lenet_section.sh --reps $reps --threads $threads$([ "$upstream" = 1 ] && echo " --crates-io")\` on $(date -u '+%Y-%m-%d %H:%M') UTC."
  echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $threads thread(s) per side pinned to cores $cores."
  echo "Both sides: load Fashion-MNIST (60,000 + 10,000 images), train LeNet (sigmoid, average pooling, Xavier init)"
  echo "for 10 epochs with minibatches of 128 and SGD at lr 0.1, validate after every epoch;"
  echo "the Rust side is the book's section program as it runs for the book (it also draws the training plot)."
  echo
  echo "| run | side | load avg before | wall time (s) | validation accuracy |"
  echo "|---|---|---|---|---|"
} > "$out"
burn_row() { # burn_row LABEL PROGRAM: one timed run of the section program, as a table row
  local load start acc seconds
  load="$(cut -d' ' -f1 /proc/loadavg)"
  start=$(date +%s.%N)
  acc="$(RAYON_NUM_THREADS=$threads taskset -c "$cores" "$2" lenet/burn | sed -n 's/.*validation accuracy: //p')"
  seconds=$(python3 -c "print(round($(date +%s.%N) - $start, 1))")
  echo "| $rep | burn ($1) | $load | $seconds | $acc |" | tee -a "$out"
}
for rep in $(seq "$reps"); do
  load="$(cut -d' ' -f1 /proc/loadavg)"
  line="$(OMP_NUM_THREADS=$threads taskset -c "$cores" bench/.venv/bin/python -W ignore bench/lenet_section.py --threads "$threads" | tail -n 1)"
  read -r seconds acc < <(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(round(r["total_seconds"],1), r["val_acc"])' "$line")
  echo "| $rep | PyTorch $(bench/.venv/bin/python -c 'import torch; print(torch.__version__)') | $load | $seconds | $acc |" | tee -a "$out"
  burn_row "book build" "$program"
  if [ "$upstream" = 1 ]; then burn_row "crates.io Flex" target/bench/"$(basename "$program")"-flex-crates-io; fi
done
echo "== wrote $out"
