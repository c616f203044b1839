#!/usr/bin/env bash
# The benchmark's models through Vulkan against the CPU: each trains five steps on both from the
# same weights and minibatches, and `d2l-bench MODEL check` fails unless the losses agree
# (bench/README.md; ResNet-18 is judged on its first loss). On Mesa's software driver (lavapipe)
# this compiles the SPIR-V a GPU's driver would get, so a wrong kernel shows without a GPU.
# scripts/test and bench/gpu/prepare.sh run it.
#
#   bench/gpu/check-vulkan.sh D2L_BENCH    (a d2l-bench binary built with the `vulkan` feature)
set -euo pipefail
bench="${1:?usage: bench/gpu/check-vulkan.sh D2L_BENCH}"
. "$(dirname "$0")/models.sh"
for model in $gpu_models; do
  # lavapipe complains once per device it opens that XDG_RUNTIME_DIR is unset: noise here.
  BURN_DEVICE=vulkan "$bench" "$model" check --batch "$(check_batch "$model")" --backend default \
    2> >(grep -v XDG_RUNTIME_DIR >&2) \
    || { echo "error: d2l-bench $model check failed through Vulkan (its output is above)" >&2; exit 1; }
done
