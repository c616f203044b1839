//! Which basic ops run on a device: `BURN_DEVICE=vulkan cargo run --example gpu_ops --features vulkan`.
use d2l::prelude::*;

fn main() {
    let device = Device::default();
    eprintln!("device: {device:?}");
    let step = |name: &str, f: &dyn Fn() -> String| {
        eprintln!("{name}...");
        let out = f();
        eprintln!("{name}: {out}");
    };
    step("from_floats", &|| format!("{}", Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device).to_data()));
    step("add", &|| format!("{}", (Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device) + 1.0).to_data()));
    step("exp", &|| format!("{}", Tensor::<1>::from_floats([0.0, 1.0], &device).exp().to_data()));
    step("sum", &|| format!("{}", Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device).sum().to_data()));
    step("matmul", &|| format!("{}", Tensor::<2>::ones([4, 8], &device).matmul(Tensor::<2>::ones([8, 2], &device)).to_data()));
    step("matmul big", &|| format!("{}", Tensor::<2>::ones([256, 784], &device).matmul(Tensor::<2>::ones([784, 256], &device)).sum().to_data()));
}
