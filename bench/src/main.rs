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

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::Distribution;
use burn::tensor::activation::sigmoid;
use clap::Parser;
use d2l::prelude::*;

#[derive(Parser)]
struct Args {
    /// `softmax`, `mlp` or `lenet`.
    model: String,
    /// `train` (forward, backward and SGD step) or `infer` (forward only, no autodiff).
    mode: String,
    /// `flex` or, in a build with the `ndarray` feature, `ndarray`.
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

/// LeNet-5 as in the original book's section on LeNet: sigmoid activations and average pooling.
/// It moves into the `d2l` crate with the chapter on convolutional networks.
#[derive(Module, Debug)]
struct LeNet {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: AvgPool2d,
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
    lr: f64,
}

impl LeNet {
    fn new(lr: f64, device: &Device) -> Self {
        let conv1 = Conv2dConfig::new([1, 6], [5, 5]).with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2));
        LeNet {
            conv1: conv1.init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(16 * 5 * 5, 120).init(device),
            fc2: LinearConfig::new(120, 84).init(device),
            fc3: LinearConfig::new(84, 10).init(device),
            lr,
        }
    }
}

impl Model for LeNet {
    type Input = Tensor<4>;
    type Output = Tensor<2>;
    type Target = Tensor<1, Int>;

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(sigmoid(self.conv1.forward(x)));
        let x = self.pool.forward(sigmoid(self.conv2.forward(x)));
        let x = sigmoid(self.fc1.forward(x.flatten(1, 3)));
        self.fc3.forward(sigmoid(self.fc2.forward(x)))
    }

    fn loss(&self, y_hat: Tensor<2>, y: Tensor<1, Int>) -> Tensor<1> {
        classifier_loss(y_hat, y)
    }

    fn configure_optimizers(&self) -> Optim {
        Optim::new(SgdConfig::new().init(), self.lr)
    }
}

/// Eight minibatches of random images and labels, served in turn.
fn batches(batch: usize, device: &Device) -> Vec<(Tensor<4>, Tensor<1, Int>)> {
    (0..8)
        .map(|_| {
            let x = Tensor::random([batch, 1, 28, 28], Distribution::Uniform(0.0, 1.0), device);
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

/// Training steps as `Trainer::fit_epoch` takes them: loss (read out, as for the board),
/// gradients, optimizer step.
fn train<M: Model<Input = Tensor<4>, Target = Tensor<1, Int>>>(model: M, data: &[(Tensor<4>, Tensor<1, Int>)], args: &Args, device: &Device) -> (usize, f64) {
    let mut model = Some(model.fork(device).train());
    let mut optim = model.as_ref().unwrap().configure_optimizers();
    time_steps(args, |i| {
        let current = model.take().unwrap();
        let loss = current.training_step(data[i % data.len()].clone());
        let _ = loss.clone().into_scalar::<f64>();
        let grads = GradientsParams::from_grads(loss.backward(), &current);
        model = Some(optim.step(current, grads));
    })
}

/// Predictions on a model without autodiff, read out to the host.
fn infer<M: Model<Input = Tensor<4>, Output = Tensor<2>>>(model: M, data: &[(Tensor<4>, Tensor<1, Int>)], args: &Args) -> (usize, f64) {
    let model = model.valid();
    time_steps(args, |i| {
        let _ = model.forward(data[i % data.len()].0.clone()).argmax(1).into_data();
    })
}

/// The peak resident memory of this process in MiB (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let args = Args::parse();
    let device = match args.backend.as_str() {
        "flex" => Device::flex(),
        // Deprecated upstream; measured to show what the book would lose or gain by it.
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        "ndarray" => Device::ndarray(),
        other => {
            eprintln!("error: unknown or not built backend `{other}` (flex; ndarray with --features ndarray)");
            std::process::exit(2);
        }
    };
    let data = batches(args.batch, &device);
    let lr = 0.1;
    let (steps, seconds) = match (args.model.as_str(), args.mode.as_str()) {
        ("softmax", "train") => train(SoftmaxRegressionConfig::new(784, 10, lr).init(&device), &data, &args, &device),
        ("softmax", "infer") => infer(SoftmaxRegressionConfig::new(784, 10, lr).init(&device), &data, &args),
        ("mlp", "train") => train(MlpConfig::new(784, 10, 256, lr).init(&device), &data, &args, &device),
        ("mlp", "infer") => infer(MlpConfig::new(784, 10, 256, lr).init(&device), &data, &args),
        ("lenet", "train") => train(LeNet::new(lr, &device), &data, &args, &device),
        ("lenet", "infer") => infer(LeNet::new(lr, &device), &data, &args),
        (model, mode) => {
            eprintln!("error: unknown model `{model}` or mode `{mode}` (models: softmax, mlp, lenet; modes: train, infer)");
            std::process::exit(2);
        }
    };
    let result = serde_json::json!({
        "side": "burn",
        "backend": args.backend,
        "build": args.build,
        "model": args.model,
        "mode": args.mode,
        "batch": args.batch,
        "iters": steps,
        "seconds": seconds,
        "examples_per_s": (args.batch * steps) as f64 / seconds,
        "peak_rss_mib": peak_rss_mib(),
        "threads": std::env::var("RAYON_NUM_THREADS").ok(),
    });
    println!("{result}");
}
