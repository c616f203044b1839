# The benchmark's models as bench/gpu/ uses them, and their batch sizes on a GPU: run.sh checks
# them against the CPU and times them there, check-cuda.sh makes their CUDA kernels here for the
# same shapes (kernels are chosen per shape), check-vulkan.sh runs them on lavapipe. Sourced.
gpu_models="softmax mlp lenet resnet18 lstm"

check_batch() { # check_batch MODEL: the batch of `d2l-bench MODEL check` on a GPU
  case "$1" in resnet18) echo 32 ;; *) echo 64 ;; esac
}

timing_batch() { # timing_batch MODEL: the batch of the GPU table's measurements
  case "$1" in resnet18) echo 128 ;; lstm) echo 1024 ;; *) echo 256 ;; esac
}
