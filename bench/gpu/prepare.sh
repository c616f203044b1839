#!/usr/bin/env bash
# Prepares the GPU check for a lent machine that has a GPU but no Rust toolchain and no network
# (the `device` tool): builds the benchmark and the section programs here with a GPU feature of
# the d2l crate, checks the benchmark's models through Vulkan on Mesa's software driver (a build
# with `vulkan`) and has NVIDIA's compilers build their CUDA kernels (a build with `cuda`), runs
# the sections here once at smoke scale (on the CPU, where no GPU is found), and packs two
# bundles, each under the tool's 64 MiB of carried files:
#
#   .gpu/sections  the chapter programs of softmax regression and LeNet, Fashion-MNIST
#   .gpu/bench     the benchmark binary, the programs of the RNN chapter and of the builders'
#                  guide (its section on GPUs lists the devices), The Time Machine
#
# Both hold Debian's Vulkan loader (libvulkan1). Then, on the device, one call per bundle:
#   bench/gpu/run.sh sections    (carry .gpu/sections)
#   bench/gpu/run.sh bench       (carry .gpu/bench)
#
#   bench/gpu/prepare.sh [FEATURES]
#
# FEATURES: the d2l crate's GPU features, comma-separated: `cuda,vulkan` (default: CUDA through
# NVRTC, which `d2l::device()` takes first, and Vulkan, for `BURN_DEVICE=vulkan`), `vulkan`, `wgpu`.
# Builds in $CARGO_TARGET_DIR where set, as cargo does.
set -euo pipefail
cd "$(dirname "$0")/../.."
feature="${1:-cuda,vulkan}"
data="${D2L_DATA_DIR:-$HOME/.cache/d2l-rs/data}"
target="${CARGO_TARGET_DIR:-target}"

echo "== building with the d2l crate's \`$feature\` feature"
cargo build --release --locked -p d2l-bench --features "$feature"
# The Vulkan kernels first run here, on Mesa's software Vulkan driver (lavapipe), so a kernel that
# is wrong or crashes a driver's compiler shows here, not in the device's few minutes.
if [[ ",$feature," == *,vulkan,* ]]; then
  ls /usr/share/vulkan/icd.d/lvp_icd.*.json >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq mesa-vulkan-drivers >/dev/null; }
  bench/gpu/check-vulkan.sh "$target/release/d2l-bench"
fi
# Builds every chapter's programs with the feature and runs the sections (smoke scale); this also
# fetches their data into the d2l cache ($data).
cargo run --release --locked -p d2l-book -- --features "$feature" eval --scale smoke \
  softmax-regression-concise lenet rnn-concise use-gpu
# The CUDA kernels of the benchmark's models and of three of those sections compile here with
# NVIDIA's NVRTC and ptxas, against a stand-in driver (check-cuda.sh says why not the RNN's).
if [[ ",$feature," == *,cuda,* ]]; then
  bench/gpu/check-cuda.sh "$target/release/d2l-bench" \
    "$target"/release/chapter_linear-classification softmax-regression-concise \
    "$target"/release/chapter_convolutional-neural-networks lenet \
    "$target"/release/chapter_builders-guide use-gpu
fi

rm -rf .gpu && mkdir -p .gpu/sections/bin .gpu/sections/data .gpu/bench/bin .gpu/bench/data
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude
pack() { # pack BINARY BUNDLE: a stripped copy
  strip -o ".gpu/$2/bin/$(basename "$1")" "$1"
}
pack "$target"/release/chapter_linear-classification sections
pack "$target"/release/chapter_convolutional-neural-networks sections
pack "$target"/release/chapter_recurrent-neural-networks bench
pack "$target"/release/chapter_builders-guide bench
pack "$target"/release/d2l-bench bench
for f in train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do
  cp "$data/$f" .gpu/sections/data/
done
cp "$data/timemachine.txt" .gpu/bench/data/
(cd .gpu/sections && apt-get download libvulkan1 >/dev/null) && cp .gpu/sections/libvulkan1_*.deb .gpu/bench/
# Compressed: the device tool counts bytes as they are on disk, the tracked files included.
tracked=$(git ls-files -z | xargs -0 du -cb | tail -n 1 | cut -f1)
for bundle in sections bench; do
  xz -T0 -6 .gpu/$bundle/bin/*
  echo "$feature" > .gpu/$bundle/feature
  size=$(( ($(du -sb .gpu/$bundle | cut -f1) + tracked) / 1048576 ))
  echo "== .gpu/$bundle with the tracked files: ${size} MiB"
  [ "$size" -lt 64 ] || { echo "error: .gpu/$bundle and the tracked files are over the device tool's 64 MiB" >&2; exit 1; }
done
echo "== ready: run bench/gpu/run.sh sections (carry .gpu/sections), then bench/gpu/run.sh bench (carry .gpu/bench)"
