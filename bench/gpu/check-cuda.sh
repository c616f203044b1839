#!/usr/bin/env bash
# burn's CUDA backend without a GPU: the benchmark's models train and infer through CUDA against
# a stand-in for NVIDIA's driver (fake-libcuda.c), which runs no kernel, so their numbers mean
# nothing; but each kernel is made as for a GPU: cubecl writes CUDA C++, NVIDIA's NVRTC compiles
# it to PTX, and ptxas, the assembler in NVIDIA's toolkit, must turn every PTX into machine code
# for an H100 (sm_90a), as the driver would. Batch sizes are those of bench/gpu/run.sh (its checks,
# its timings; models.sh), since kernels are chosen per shape. scripts/test and bench/gpu/prepare.sh run it.
#
#   bench/gpu/check-cuda.sh D2L_BENCH [PROGRAM SECTION]...
#
# D2L_BENCH: a d2l-bench binary built with the `cuda` feature. Each PROGRAM SECTION pair (a
# chapter's program built by `d2l-book --features cuda eval`, and a section of it) runs at smoke
# scale too, and must finish: prepare.sh passes the sections it carries to the GPU. Not one whose
# code reads values that a kernel computed and acts on them (the RNN section's one-hot encoding
# checks its indices on the device): with no kernel run, those values are whatever memory held.
#
# NVRTC, the headers and ptxas: from CUDA_PATH where set (a CUDA toolkit); otherwise NVIDIA's
# wheels pinned in cuda-requirements.txt, installed once from PyPI into D2L_CUDA_DIR
# (~/.cache/d2l-rs/cuda-13.0).
set -euo pipefail
bench="${1:?usage: bench/gpu/check-cuda.sh D2L_BENCH [PROGRAM SECTION]...}"
shift
sections=("$@")
[ $(($# % 2)) = 0 ] || { echo "error: sections come in pairs, PROGRAM SECTION; got: $*" >&2; exit 2; }
here="$(cd "$(dirname "$0")" && pwd)"

if [ -z "${CUDA_PATH:-}" ]; then
  toolkit="${D2L_CUDA_DIR:-$HOME/.cache/d2l-rs/cuda-13.0}"
  if [ ! -x "$toolkit/nvidia/cu13/bin/ptxas" ]; then
    echo "== NVRTC, CUDA's headers and ptxas from PyPI into $toolkit"
    # Into a folder beside, then moved: an install cut short leaves nothing that looks whole.
    rm -rf "$toolkit.part"
    pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
      --target "$toolkit.part" -r "$here/cuda-requirements.txt" \
      || { echo "error: pip could not install $here/cuda-requirements.txt from PyPI; set CUDA_PATH to a CUDA toolkit instead" >&2; exit 1; }
    rm -rf "$toolkit" && mv "$toolkit.part" "$toolkit"
  fi
  export CUDA_PATH="$toolkit/nvidia/cu13"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -shared -fPIC -O2 -o "$work/libcuda.so.1" "$here/fake-libcuda.c"
# The stand-in comes first; NVRTC is found beside the toolkit's other libraries (pip's layout has
# lib/, a toolkit lib64/).
export LD_LIBRARY_PATH="$work:$CUDA_PATH/lib:$CUDA_PATH/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

. "$here/models.sh"
through_cuda() { # through_cuda WHAT COMMAND...: runs COMMAND through the stand-in, and must finish;
  # its kernels' PTX go to $ptx (named after WHAT), its stderr to $work/err
  ptx="$work/ptx/${1//[^A-Za-z0-9.-]/_}"
  mkdir -p "$ptx"
  BURN_DEVICE=cuda FAKE_CUDA_PTX_DIR="$ptx" "${@:2}" > "$work/out" 2> "$work/err" && return
  cat "$work/out"
  # A build with `vulkan` too opens Mesa's drivers, which complain that XDG_RUNTIME_DIR is unset.
  grep -v XDG_RUNTIME_DIR "$work/err" >&2
  echo "error: $1 failed through CUDA with the stand-in driver (above)" >&2
  exit 1
}
kernels() { find "$ptx" -name '*.ptx' | wc -l; }

echo "== through CUDA with the stand-in driver ($CUDA_PATH)"
for model in $gpu_models; do
  for run in "train $(check_batch "$model")" "train $(timing_batch "$model")" "infer $(timing_batch "$model")"; do
    read -r mode batch <<< "$run"
    through_cuda "d2l-bench $model $mode --batch $batch" "$bench" "$model" "$mode" --batch "$batch" \
      --warmup 1 --iters 2 --min-seconds 0 --backend default
    echo "   $model $mode, batch $batch: $(kernels) kernels"
  done
done
for ((i = 0; i < ${#sections[@]}; i += 2)); do
  program="${sections[i]}" section="${sections[i + 1]}"
  D2L_SCALE=smoke D2L_OUT_DIR="$work/plots" through_cuda "section $section" "$program" "$section/burn"
  # d2l::device() names the device it computes on: the stand-in's card, through CUDA.
  grep -q '^d2l: computing on NVIDIA .*stand-in.*Cuda' "$work/err" \
    || { cat "$work/err" >&2; echo "error: section $section did not say it computes on the stand-in's GPU" >&2; exit 1; }
  echo "   section $section: $(kernels) kernels, $(grep -m1 '^d2l: computing on' "$work/err")"
done

echo "== ptxas -arch=sm_90a on each kernel"
# One of each: most kernels come back in several runs.
find "$work/ptx" -name '*.ptx' -exec sha1sum {} + | sort -k1,1 -u | cut -d' ' -f3- > "$work/kernels"
failed=0
while read -r kernel; do
  "$CUDA_PATH/bin/ptxas" -arch=sm_90a -o /dev/null "$kernel" 2> "$work/ptxas.log" && continue
  failed=$((failed + 1))
  echo "error: ptxas refused ${kernel#"$work/ptx/"}:" >&2
  head -n 5 "$work/ptxas.log" >&2
done < "$work/kernels"
distinct=$(wc -l < "$work/kernels")
[ "$failed" = 0 ] || { echo "error: ptxas refused $failed of $distinct distinct kernels" >&2; exit 1; }
echo "   all $distinct distinct kernels assembled"
