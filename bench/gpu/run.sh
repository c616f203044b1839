#!/usr/bin/env bash
# Runs one bundle of bench/gpu/prepare.sh on a GPU machine, from the repository root; writes
# logs, plots and bench results to $OUT (the device tool's folder; /tmp/d2l-gpu elsewhere).
#
#   bench/gpu/run.sh sections   softmax regression (concise) and LeNet at full scale
#   bench/gpu/run.sh bench      the section on GPUs (which devices the build finds: one card counts
#                               once, whichever APIs reach it), the RNN section (concise) at full
#                               scale, then burn on the GPU vs PyTorch CUDA on the benchmark's
#                               models -> $OUT/results-gpu.md
#
# Sections run on the device `d2l::device()` picks (CUDA first in a `cuda,vulkan` build), and
# their output is followed by the end of the CPU run committed in book/_outputs/; one that
# fails there is run again with BURN_DEVICE=vulkan, where the build has Vulkan. Each run gets a
# time limit (SECTION_TIMEOUT, 120 s), each measurement too (MEASURE_TIMEOUT, 60 s: a first use
# compiles and tunes kernels). Before timing, `d2l-bench MODEL check` trains each model on the
# CPU and on each GPU API of CHECK_APIS (the build's, e.g. "cuda vulkan") from the same weights
# and minibatches and compares the losses. The table times burn through the API TIMED_API (the
# build's first, or Vulkan where no model ran through it); each measurement is repeated REPS
# times (2), both sides in turns.
# For a dry run elsewhere: MODELS (default: models.sh's five), TORCH_DEVICE
# (cuda), PYTHON (python3).
set -uo pipefail
cd "$(dirname "$0")/../.."
. bench/gpu/models.sh
part="${1:?usage: bench/gpu/run.sh sections|bench}"
dir=".gpu/$part" final="${OUT:-/tmp/d2l-gpu}" out=/tmp/d2l-gpu-work/$part
[ -d "$dir" ] || { echo "error: $dir is missing: run bench/gpu/prepare.sh here first, and carry $dir" >&2; exit 2; }
# The device tool brings back at most 8 files: logs and plots travel as one archive.
mkdir -p "$final" "$out" /tmp/d2l-gpu-bin
trap 'tar czf "$final/gpu-$part.tgz" -C "$(dirname "$out")" "$part"' EXIT

# The Vulkan loader, where the machine has none, and NVIDIA's Vulkan driver where it hides.
if ! ldconfig -p | grep -q 'libvulkan.so.1 '; then
  for f in "$dir"/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e "$icd" ] && export VK_DRIVER_FILES="$icd"
# CUDA: NVRTC compiles burn's kernels at run time and needs the toolkit's headers (CUDA_PATH) and
# libnvrtc; both are found from nvcc. cudarc loads libcuda and libnvrtc with dlopen.
if [ -z "${CUDA_PATH:-}" ]; then
  nvcc="$(command -v nvcc || ls /usr/local/cuda*/bin/nvcc 2>/dev/null | head -n 1 || true)"
  [ -n "$nvcc" ] && export CUDA_PATH="$(dirname "$(dirname "$(readlink -f "$nvcc")")")"
fi
[ -n "${CUDA_PATH:-}" ] && export LD_LIBRARY_PATH="$CUDA_PATH/lib64:$CUDA_PATH/lib:${LD_LIBRARY_PATH:-}"
for f in "$dir"/bin/*.xz; do xz -dc "$f" > "/tmp/d2l-gpu-bin/$(basename "$f" .xz)"; done
chmod +x /tmp/d2l-gpu-bin/*
features="$(cat "$dir/feature")"
apis="$(echo "$features" | tr ',' ' ')"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  echo "features: $features; CUDA_PATH: ${CUDA_PATH:-none}; libnvrtc: $(ls "${CUDA_PATH:-/nonexistent}"/lib{64,}/libnvrtc.so* 2>/dev/null | head -n 1)"
  # The driver cannot load PTX from a newer toolkit than its own CUDA (nvidia-smi's first line).
  echo "toolkit: $("${CUDA_PATH:-/nonexistent}/bin/nvcc" --version 2>/dev/null | grep -o 'release [0-9.]*' || echo 'no nvcc')"
} | tee "$out/gpu.txt"
export D2L_DATA_DIR="$PWD/$dir/data"

vulkan_besides() { # vulkan_besides API: the build has Vulkan to fall back on when API fails
  [ "$1" != vulkan ] && [[ " $apis " == *" vulkan "* ]]
}

reference() { # reference CHAPTER SECTION: the text the committed CPU run printed, to compare with
  python3 - "book/_outputs/$1/$2.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
cells = run["frameworks"]["burn"]
lines = [line for cell in sorted(cells, key=int) for out in cells[cell] if out["kind"] == "stdout"
         for line in out["text"].splitlines()]
print(f"-- the CPU run committed in {sys.argv[1]} ({run['seconds']} s) ended with:")
print("\n".join(lines[-6:]))
PY
}

section() { # section CHAPTER SECTION [NAME]: one section at full scale, output and wall time logged
  local name="${3:-$2}" start=$SECONDS
  local log="$out/$name.log"
  D2L_OUT_DIR="$out/$name-plots" timeout "${SECTION_TIMEOUT:-120}" "/tmp/d2l-gpu-bin/$1" "$2/burn" > "$log" 2>&1
  local rc=$?
  echo "== $name: exit $rc, $((SECONDS - start)) s" | tee -a "$log"
  grep -v '^\[plot' "$log" | tail -n 12
  if [ "$rc" != 0 ] && [ -z "${BURN_DEVICE:-}" ] && vulkan_besides "${apis%% *}"; then
    echo "== $2 again, with BURN_DEVICE=vulkan"
    BURN_DEVICE=vulkan section "$1" "$2" "$2-vulkan"
  else
    reference "$1" "$2"
  fi
}

case "$part" in
  sections)
    section chapter_linear-classification softmax-regression-concise
    section chapter_convolutional-neural-networks lenet
    ;;
  bench)
    section chapter_builders-guide use-gpu
    section chapter_recurrent-neural-networks rnn-concise
    models="${MODELS:-$gpu_models}" timed="${TIMED_API:-${apis%% *}}"
    check() { # check API: each model's CPU and GPU losses -> check.jsonl
      for model in $models; do
        BURN_DEVICE="$1" timeout "${MEASURE_TIMEOUT:-60}" /tmp/d2l-gpu-bin/d2l-bench "$model" check --batch "$(check_batch "$model")" --backend default 2>>"$out/bench-stderr.log" | tee -a "$out/check.jsonl"
      done
    }
    check "$timed"
    # No model ran through the first API (CUDA without a usable driver or NVRTC): time through
    # Vulkan rather than come back with an empty table.
    if [ ! -s "$out/check.jsonl" ] && [ -z "${TIMED_API:-}" ] && vulkan_besides "$timed"; then
      echo "== no model ran through $timed (bench-stderr.log): timing through vulkan instead"
      timed=vulkan
      check vulkan
    fi
    raw="$out/raw-gpu.tsv"
    : > "$raw"
    measure() { # measure COMMAND...: one line of JSON, with the load average before it
      local line
      line="$(timeout "${MEASURE_TIMEOUT:-60}" "$@" 2>>"$out/bench-stderr.log" | tail -n 1)"
      printf '%s\t%s\n' "$(cut -d' ' -f1 /proc/loadavg)" "$line" >> "$raw"
      echo "   $line"
    }
    for rep in $(seq "${REPS:-2}"); do
      for model in $models; do
        batch="$(timing_batch "$model")"
        for mode in train infer; do
          echo "== repetition $rep: $model $mode"
          measure "${PYTHON:-python3}" -W ignore bench/torch_bench.py "$model" "$mode" --batch "$batch" --iters 20 --min-seconds 1 --threads 4 --device "${TORCH_DEVICE:-cuda}"
          BURN_DEVICE="$timed" measure /tmp/d2l-gpu-bin/d2l-bench "$model" "$mode" --batch "$batch" --iters 20 --min-seconds 1 --backend default --build "$timed"
        done
      done
    done
    # Written beside, then moved: a report that fails leaves no empty results-gpu.md behind.
    if python3 bench/report.py "$raw" --command "bench/gpu/run.sh bench" --threads 4 --cores all \
        --gpu "$(head -n 1 "$out/gpu.txt")" > "$out/results-gpu.md.part"; then
      mv "$out/results-gpu.md.part" "$final/results-gpu.md"
      cat "$final/results-gpu.md"
    fi
    # The other APIs of the build, after the table (which matters more, should time run out).
    for api in ${CHECK_APIS:-$apis}; do
      [ "$api" = "$timed" ] || check "$api"
    done
    ;;
  *) echo "usage: bench/gpu/run.sh sections|bench" >&2; exit 2 ;;
esac
