//! Where ResNet-18's CPU and device runs part (bench/README.md, "ResNet-18 drifts"): each
//! parameter's gradient after one backward pass, from the same weights and minibatch, on the CPU
//! and on the device `BURN_DEVICE` names, as the largest difference relative to the gradient's
//! largest entry (a conv's bias before batch norm has a gradient of exactly zero in exact
//! arithmetic, so its rows are rounding noise), and the losses after one SGD step.
//!
//!     BURN_DEVICE=vulkan cargo run --release -p d2l-bench --example resnet_grads --features vulkan
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::Distribution;
use d2l::prelude::*;

/// Compares the two sides' gradients of every float parameter, by path.
struct Compare<'a> {
    cpu: &'a GradientsParams,
    device: &'a GradientsParams,
    path: Vec<String>,
    rows: Vec<(String, f64, f64)>,
}

impl ModuleVisitor for Compare<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let values = |grads: &GradientsParams| grads.get::<D>(param.id).map(|g| g.to_data().iter::<f32>().collect::<Vec<_>>());
        let (Some(a), Some(b)) = (values(self.cpu), values(self.device)) else { return };
        let scale = a.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let worst = a.iter().zip(&b).fold(0f32, |m, (x, y)| m.max((x - y).abs())) as f64;
        self.rows.push((self.path.join("."), scale, worst / scale.max(1e-30)));
    }
}

/// The gradients of one training step's loss, with the model moved to `device`.
fn gradients(model: &ResNet, x: &Tensor<4>, y: &Tensor<1, Int>, device: &Device) -> (f64, GradientsParams) {
    let model = model.clone().fork(device).train();
    let loss = model.training_step((x.clone().to_device(device), y.clone().to_device(device)));
    let value = loss.clone().into_scalar::<f64>();
    (value, GradientsParams::from_grads(loss.backward(), &model))
}

fn main() {
    let cpu = Device::flex();
    let device = d2l::runtime::device_override().unwrap_or_else(|| cpu.clone());
    let batch = std::env::args().nth(1).and_then(|b| b.parse().ok()).unwrap_or(32);
    let model = ResNetConfig::resnet18(0.01).init(&cpu);
    let x = Tensor::random([batch, 1, 32, 32], Distribution::Uniform(0.0, 1.0), &cpu);
    let y = Tensor::<1, Int>::random([batch], Distribution::Uniform(0.0, 10.0), &cpu);
    let (loss_cpu, on_cpu) = gradients(&model, &x, &y, &cpu);
    let (loss_device, on_device) = gradients(&model, &x, &y, &device);
    println!("device: {device:?}; batch {batch}; loss {loss_cpu} on the CPU, {loss_device} there");
    // One SGD step on each side, then the loss on the same minibatch and on the next one, as
    // `check` takes it.
    let x2 = Tensor::random([batch, 1, 32, 32], Distribution::Uniform(0.0, 1.0), &cpu);
    let y2 = Tensor::<1, Int>::random([batch], Distribution::Uniform(0.0, 10.0), &cpu);
    let step = |device: &Device| {
        let start = model.clone().fork(device).train();
        let mut optim = start.configure_optimizers();
        let next = optim.step(start, gradients(&model, &x, &y, device).1);
        let loss = |x: &Tensor<4>, y: &Tensor<1, Int>| {
            next.training_step((x.clone().to_device(device), y.clone().to_device(device))).into_scalar::<f64>()
        };
        (loss(&x, &y), loss(&x2, &y2))
    };
    let (after_cpu, after_device) = (step(&cpu), step(&device));
    println!("after one step, the same minibatch: {} on the CPU, {} there", after_cpu.0, after_device.0);
    println!("after one step, the next minibatch: {} on the CPU, {} there", after_cpu.1, after_device.1);
    // The same loss again and again: a kernel that autotuning swaps in after the first calls
    // shows here, with no update in between.
    let again: Vec<f64> = (0..4).map(|_| gradients(&model, &x, &y, &device).0).collect();
    println!("the same loss there, again: {again:?}");
    // The device against itself: the same gradients twice, unless a kernel races.
    let (_, twice) = gradients(&model, &x, &y, &device);
    let mut itself = Compare { cpu: &on_device, device: &twice, path: vec![], rows: vec![] };
    model.visit(&mut itself);
    let worst = itself.rows.iter().filter(|(path, ..)| !path.ends_with("bias")).fold(0f64, |m, r| m.max(r.2));
    println!("the device against itself, largest relative difference of a weight's gradient: {worst:.3e}");
    let mut compare = Compare { cpu: &on_cpu, device: &on_device, path: vec![], rows: vec![] };
    model.visit(&mut compare);
    println!("{:<40} {:>12} {:>12}", "parameter", "max |grad|", "rel. diff");
    for (path, scale, relative) in &compare.rows {
        println!("{path:<40} {scale:>12.3e} {relative:>12.3e}");
    }
}
