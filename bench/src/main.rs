//! One measurement of one of the book's models: training steps (forward, backward, optimizer)
//! or inference on Fashion-MNIST-shaped minibatches, printed as one line of JSON.
//!
//! `bench/run.sh` runs this binary and `bench/torch_bench.py` in turns and writes
//! `bench/results.md`; see there for how to read the numbers.

use std::time::Instant;

// The allocator of the book's programs, unless measuring without it.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static ALLOCATOR: d2l::runtime::Allocator = d2l::runtime::Allocator;

use burn::optim::GradientsParams;
use burn::tensor::Distribution;
use clap::Parser;
use d2l::prelude::*;

#[derive(Parser)]
struct Args {
    /// `softmax`, `mlp`, `lenet`, `alexnet`, `vgg` (the VGG section's narrow 8-layer network),
    /// `resnet18` or `lstm` (the LSTM language model).
    model: String,
    /// `train` (forward, backward and SGD step), `infer` (forward only, no autodiff) or `check`
    /// (training steps on the CPU and on `--backend` from the same weights and minibatches,
    /// whose losses must agree).
    mode: String,
    /// `flex`; `gpu` (the first GPU, `gpu(0)`) in a build with the `cuda`, `vulkan` or `wgpu`
    /// feature; `default` (burn's `Device::default()`, which follows `BURN_DEVICE`); or, in a
    /// build with the `ndarray` feature, `ndarray`.
    #[arg(long, default_value = "flex")]
    backend: String,
    /// Examples per minibatch.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Untimed steps first.
    #[arg(long, default_value_t = 5)]
    warmup: usize,
    /// Timed steps, at least.
    #[arg(long, default_value_t = 50)]
    iters: usize,
    /// Timed seconds, at least: short steps are repeated until this much time has passed.
    #[arg(long, default_value_t = 2.0)]
    min_seconds: f64,
    /// Name of this build, reported with the result (e.g. the cargo features).
    #[arg(long, default_value = "")]
    build: String,
}

/// The size of the LSTM language model's vocabulary (The Time Machine's characters), its
/// hidden state, and the length of its subsequences, as in the original's LSTM section.
const LSTM_VOCAB: usize = 28;
const LSTM_HIDDENS: usize = 32;
const LSTM_STEPS: usize = 32;

/// Eight minibatches of random token subsequences and their targets, served in turn.
fn token_batches(batch: usize, device: &Device) -> Vec<(Tensor<2, Int>, Tensor<2, Int>)> {
    let tokens = || Tensor::<2, Int>::random([batch, LSTM_STEPS], Distribution::Uniform(0.0, LSTM_VOCAB as f64), device);
    (0..8).map(|_| (tokens(), tokens())).collect()
}

/// Eight minibatches of random `size` x `size` images and labels, served in turn.
fn batches(batch: usize, size: usize, device: &Device) -> Vec<(Tensor<4>, Tensor<1, Int>)> {
    (0..8)
        .map(|_| {
            let x = Tensor::random([batch, 1, size, size], Distribution::Uniform(0.0, 1.0), device);
            let y = Tensor::<1, Int>::random([batch], Distribution::Uniform(0.0, 10.0), device);
            (x, y)
        })
        .collect()
}

/// Runs `warmup` untimed steps, then timed steps, each on the next minibatch, until at least
/// `iters` steps and `min_seconds` have passed; returns the number of timed steps and their
/// seconds.
fn time_steps(args: &Args, mut step: impl FnMut(usize)) -> (usize, f64) {
    (0..args.warmup).for_each(&mut step);
    let tic = Instant::now();
    let mut steps = 0;
    while steps < args.iters || tic.elapsed().as_secs_f64() < args.min_seconds {
        step(args.warmup + steps);
        steps += 1;
    }
    (steps, tic.elapsed().as_secs_f64())
}

/// Training steps of `model`, moved to `device`, as `Trainer::fit_epoch` takes them: loss (read
/// out, as for the board), gradients, optimizer step. Each call takes one step and returns its
/// loss.
fn stepper<M: Model>(model: M, device: &Device) -> impl FnMut(Batch<M>) -> f64 {
    let mut model = Some(model.fork(device).train());
    let mut optim = model.as_ref().unwrap().configure_optimizers();
    move |batch| {
        let current = model.take().unwrap();
        let loss = current.training_step(batch);
        let value = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &current);
        model = Some(optim.step(current, grads));
        value
    }
}

/// Timed training steps.
fn train<M: Model>(model: M, data: &[Batch<M>], args: &Args, device: &Device) -> (usize, f64)
where
    Batch<M>: Clone,
{
    let mut step = stepper(model, device);
    time_steps(args, |i| {
        step(data[i % data.len()].clone());
    })
}

/// The losses of `steps` training steps from `model`'s weights, moved to `device`, on `data`.
fn losses<M: Model>(model: &M, data: &[Batch<M>], steps: usize, device: &Device) -> Vec<f64>
where
    Batch<M>: Clone,
{
    let mut step = stepper(model.clone(), device);
    (0..steps).map(|i| step(data[i % data.len()].clone())).collect()
}

/// Five training steps on the CPU and on `device` from the same weights (made on the CPU) and
/// the same minibatches (`cpu_data` and its copy `data` on `device`); returns both sides' losses
/// and the largest relative difference of the first `judged`. The first two cover the forward
/// pass, and the backward pass and optimizer step of every layer in between, so a wrong kernel
/// shows up there. Later losses are reported, not judged: differences grow with every step, and
/// in ResNet-18 a rounding-sized one can switch a ReLU (`check_model`), 1e-7 becoming 1e-2.
fn check<M: Model>(model: M, cpu_data: &[Batch<M>], data: &[Batch<M>], device: &Device, judged: usize) -> (Vec<f64>, Vec<f64>, f64)
where
    Batch<M>: Clone,
{
    let cpu = losses(&model, cpu_data, 5, &Device::flex());
    let other = losses(&model, data, 5, device);
    let worst = cpu.iter().zip(&other).take(judged).map(|(a, b)| (a - b).abs() / a.abs().max(1e-6)).fold(0.0, f64::max);
    (cpu, other, worst)
}

/// Predictions on a model without autodiff, read out to the host.
fn infer<M: Model<Output = Tensor<D>>, const D: usize>(model: M, data: &[Batch<M>], args: &Args) -> (usize, f64)
where
    M::Input: Clone,
{
    let model = model.valid();
    time_steps(args, |i| {
        // The scores of the classes (or next tokens) are on the last axis.
        let _ = model.forward(data[i % data.len()].0.clone()).argmax(D - 1).into_data();
    })
}

/// The peak resident memory of this process in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The image size of each model's measurements: Fashion-MNIST's, or for the modern CNNs that of
/// their sections' CPU setting (the smallest images AlexNet accepts; 32 pixels for VGG and ResNet).
fn image_size(model: &str) -> usize {
    match model {
        "alexnet" => 65,
        "vgg" | "resnet18" => 32,
        _ => 28,
    }
}

/// The narrow VGG of the VGG section: 5 blocks, 8 convolutions.
fn vgg_lite(lr: f64, size: usize, device: &Device) -> Vgg {
    VggConfig::new(vec![(1, 16), (1, 32), (2, 64), (2, 128), (2, 128)]).with_lr(lr).with_image_size(size).init(device)
}

/// Evaluates `$body` with `$model` bound to a fresh image model named `$name`, or exits with a
/// usage error. (A macro: the models are different types.)
macro_rules! with_image_model {
    ($name:expr, $lr:expr, $size:expr, $device:expr, |$model:ident| $body:expr) => {
        match $name {
            "softmax" => { let $model = SoftmaxRegressionConfig::new(784, 10, $lr).init($device); $body }
            "mlp" => { let $model = MlpConfig::new(784, 10, 256, $lr).init($device); $body }
            "lenet" => { let $model = LeNetConfig::new().with_lr($lr).init($device); $body }
            "alexnet" => { let $model = AlexNetConfig::new().with_lr($lr).with_image_size($size).init($device); $body }
            "vgg" => { let $model = vgg_lite($lr, $size, $device); $body }
            "resnet18" => { let $model = ResNetConfig::resnet18($lr).init($device); $body }
            other => {
                eprintln!("error: unknown model `{other}` (softmax, mlp, lenet, alexnet, vgg, resnet18, lstm)");
                std::process::exit(2);
            }
        }
    };
}

fn main() {
    let args = Args::parse();
    let device = match args.backend.as_str() {
        "flex" => Device::flex(),
        "gpu" if num_gpus() > 0 => gpu(0),
        "gpu" => {
            eprintln!("error: no GPU found: build with `--features cuda` (or `vulkan`, `wgpu`) on a machine with a GPU and its driver");
            std::process::exit(2);
        }
        // Checked by d2l first: for a missing driver burn panics with a backtrace.
        "default" => d2l::runtime::device_override().unwrap_or_default(),
        // Deprecated upstream; measured to show what the book would lose or gain by it.
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Device::ndarray(),
        other => {
            eprintln!("error: unknown or not built backend `{other}` (flex, gpu, default; ndarray with --features ndarray)");
            std::process::exit(2);
        }
    };
    let size = image_size(&args.model);
    let lr = 0.1;
    if args.mode == "check" {
        // A small learning rate: at 0.1, ResNet-18's loss jumps from 3.4 to 17 in three steps on
        // random data, and such a jump amplifies rounding differences to percents.
        return check_model(&args, &device, size, 0.01);
    }
    if args.model == "lstm" {
        let data = token_batches(args.batch, &device);
        let lm = || RecurrentLm::new(Lstm::new(LSTM_VOCAB, LSTM_HIDDENS, &device), LSTM_VOCAB, lr, &device);
        let (steps, seconds) = match args.mode.as_str() {
            "train" => train(lm(), &data, &args, &device),
            _ => infer(lm(), &data, &args),
        };
        return report(&args, LSTM_STEPS, steps, seconds);
    }
    let data = batches(args.batch, size, &device);
    let (steps, seconds) = match args.mode.as_str() {
        "train" => with_image_model!(args.model.as_str(), lr, size, &device, |model| train(model, &data, &args, &device)),
        "infer" => with_image_model!(args.model.as_str(), lr, size, &device, |model| infer(model, &data, &args)),
        mode => {
            eprintln!("error: unknown mode `{mode}` (train, infer, check)");
            std::process::exit(2);
        }
    };
    report(&args, size, steps, seconds);
}

/// Copies of minibatches on `device`.
fn to_device<const A: usize, const B: usize, K: burn::tensor::kind::Basic, L: burn::tensor::kind::Basic>(data: &[(Tensor<A, K>, Tensor<B, L>)], device: &Device) -> Vec<(Tensor<A, K>, Tensor<B, L>)> {
    data.iter().map(|(x, y)| (x.clone().to_device(device), y.clone().to_device(device))).collect()
}

/// `check` mode: the model made on the CPU, trained on both devices; prints one line of JSON and
/// exits with 1 where the losses differ by more than float rounding could explain.
fn check_model(args: &Args, device: &Device, size: usize, lr: f64) {
    let cpu = Device::flex();
    let images = batches(args.batch, size, &cpu);
    let moved = |data| to_device(data, device);
    if matches!(args.model.as_str(), "alexnet" | "vgg") {
        // Their dropout draws its masks from each device's own generator.
        eprintln!("error: `check` compares models without dropout (softmax, mlp, lenet, resnet18, lstm), not `{}`", args.model);
        std::process::exit(2);
    }
    // ResNet-18's gradient jumps at rounding scale: a ReLU or max-pool input within 1e-7 of its
    // switch takes the other branch on the other device, a valid but other gradient, in about
    // every other run (bench/README.md, examples/resnet_grads.rs). So only its first loss, the
    // forward pass, is judged; the models without such kinks are judged on two.
    let judged = if args.model == "resnet18" { 1 } else { 2 };
    let (ours, theirs, worst) = if args.model == "lstm" {
        let tokens = token_batches(args.batch, &cpu);
        check(RecurrentLm::new(Lstm::new(LSTM_VOCAB, LSTM_HIDDENS, &cpu), LSTM_VOCAB, lr, &cpu), &tokens, &to_device(&tokens, device), device, judged)
    } else {
        with_image_model!(args.model.as_str(), lr, size, &cpu, |model| check(model, &images, &moved(&images), device, judged))
    };
    // float32 sums in another order differ in the 6th or 7th digit (measured on lavapipe: at
    // most 1e-6 over the judged steps); a wrong kernel is off in the first digits.
    let agree = worst < 1e-4;
    let result = serde_json::json!({
        "side": "check", "backend": args.backend, "device": format!("{device:?}"), "model": args.model, "batch": args.batch,
        "cpu_losses": ours, "device_losses": theirs, "judged_losses": judged, "max_relative_difference_judged": worst, "agree": agree,
    });
    println!("{result}");
    if !agree {
        std::process::exit(1);
    }
}

/// Prints the result as one line of JSON.
fn report(args: &Args, size: usize, steps: usize, seconds: f64) {
    // `size`: the images' height and width, or the language model's subsequence length.
    let result = serde_json::json!({
        "side": "burn",
        "backend": args.backend,
        "build": args.build,
        "model": args.model,
        "mode": args.mode,
        "batch": args.batch,
        "size": size,
        "iters": steps,
        "seconds": seconds,
        "examples_per_s": (args.batch * steps) as f64 / seconds,
        "peak_rss_mib": peak_rss_mib(),
        "threads": std::env::var("RAYON_NUM_THREADS").ok(),
    });
    println!("{result}");
}
