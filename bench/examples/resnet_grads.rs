//! Where ResNet-18's CPU and device runs part (bench/README.md, "ResNet-18 drifts"): each
//! parameter's gradient after one backward pass, from the same weights and minibatch, on the CPU
//! and on the device `BURN_DEVICE` names, as the largest difference relative to the gradient's
//! largest entry (a conv's bias before batch norm has a gradient of exactly zero in exact
//! arithmetic, so its rows are rounding noise), the losses after one SGD step, the CPU against
//! itself from weights changed by 1e-7 (which shows the kinks that make the two sides part), and
//! central differences for the weight where the two sides differ most.
//!
//!     BURN_DEVICE=vulkan cargo run --release -p d2l-bench --example resnet_grads --features vulkan
use burn::module::{ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::{Distribution, TensorData};
use d2l::prelude::*;

/// Compares two sets of gradients of every float parameter, by path: `rows` holds each one's
/// largest entry in `reference` and largest difference relative to it.
struct Compare<'a> {
    reference: &'a GradientsParams,
    other: &'a GradientsParams,
    path: Vec<String>,
    rows: Vec<(String, f64, f64)>,
    /// The weight whose two gradients differ most: id, path, flat index, both values.
    largest: Option<(ParamId, String, usize, f32, f32)>,
}

impl<'a> Compare<'a> {
    fn of(model: &ResNet, reference: &'a GradientsParams, other: &'a GradientsParams) -> Self {
        let mut compare = Compare { reference, other, path: vec![], rows: vec![], largest: None };
        model.visit(&mut compare);
        compare
    }

    /// The largest relative difference of a weight's gradient (the biases before batch norm,
    /// whose gradients are rounding noise, left out).
    fn worst_weight(&self) -> f64 {
        self.rows.iter().filter(|(path, ..)| !path.ends_with("bias")).fold(0.0, |m, r| m.max(r.2))
    }
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
        let (Some(a), Some(b)) = (values(self.reference), values(self.other)) else { return };
        let scale = a.iter().fold(0f32, |m, x| m.max(x.abs())) as f64;
        let path = self.path.join(".");
        // The largest difference, and where it is.
        let (index, gap) = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).enumerate().fold((0, 0f32), |m, (i, d)| if d > m.1 { (i, d) } else { m });
        let widest = self.largest.as_ref().map_or(0.0, |(.., x, y)| (x - y).abs());
        if !path.ends_with("bias") && gap > widest {
            self.largest = Some((param.id, path.clone(), index, a[index], b[index]));
        }
        self.rows.push((path, scale, gap as f64 / scale.max(1e-30)));
    }
}

/// Adds `delta` to element `index` (flat) of the float parameter `id`.
struct Nudge {
    id: ParamId,
    index: usize,
    delta: f32,
}

impl ModuleMapper for Nudge {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        if param.id != self.id {
            return param;
        }
        let (index, delta) = (self.index, self.delta);
        param.map(|t| {
            let mut bump = vec![0f32; t.shape().num_elements()];
            bump[index] = delta;
            let bump = Tensor::<1>::from_data(TensorData::new(bump, [t.shape().num_elements()]), &t.device()).reshape(t.dims());
            t + bump
        })
    }
}

/// Multiplies every float parameter by 1 + (a uniform draw from [-size, size]) per entry: a
/// rounding-sized change of the weights.
struct Jitter {
    size: f64,
}

impl ModuleMapper for Jitter {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let size = self.size;
        param.map(|t| {
            let noise = Tensor::random(t.dims(), Distribution::Uniform(-size, size), &t.device());
            t.clone() + t * noise
        })
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
    let worst = Compare::of(&model, &on_device, &twice).worst_weight();
    println!("the device against itself, largest relative difference of a weight's gradient: {worst:.3e}");
    // The CPU against itself from weights changed by rounding-sized amounts: where the loss has
    // kinks close to the weights, the gradient jumps as it does between two devices.
    let (_, jittered) = gradients(&model.clone().map(&mut Jitter { size: 1e-7 }), &x, &y, &cpu);
    let worst = Compare::of(&model, &on_cpu, &jittered).worst_weight();
    println!("the CPU against itself, weights changed by 1e-7, largest relative difference of a weight's gradient: {worst:.3e}");
    let compare = Compare::of(&model, &on_cpu, &on_device);
    // A third opinion on the weight where the two differ most: central differences of the CPU's
    // forward pass (which agrees with the device's to 1e-7), no backward kernel involved.
    if let Some((id, path, index, on_cpu, there)) = compare.largest.clone() {
        let loss_at = |delta: f32| {
            let nudged = model.clone().map(&mut Nudge { id, index, delta }).fork(&cpu).train();
            nudged.training_step((x.clone(), y.clone())).into_scalar::<f64>()
        };
        // Too large a step crosses ReLU kinks, too small one drowns in float32 rounding: several.
        let estimates: Vec<String> = [1e-2f32, 3e-3, 1e-3, 3e-4]
            .iter()
            .map(|&h| format!("{:.4} (h = {h})", (loss_at(h) - loss_at(-h)) / (2.0 * h as f64)))
            .collect();
        println!("{path}[{index}]: gradient {on_cpu} on the CPU, {there} there; central differences: {}", estimates.join(", "));
    }
    println!("{:<40} {:>12} {:>12}", "parameter", "max |grad|", "rel. diff");
    for (path, scale, relative) in &compare.rows {
        println!("{path:<40} {scale:>12.3e} {relative:>12.3e}");
    }
}
