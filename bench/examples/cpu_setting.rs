//! Tries a CPU setting for one of chapter 8's networks: trains on Fashion-MNIST and prints the
//! validation accuracy after each epoch, to find settings that learn within a few minutes.
//!
//!     cargo run --release -p d2l-bench --example cpu_setting -- MODEL SIZE EXAMPLES EPOCHS LR [BATCH]

#[global_allocator]
static ALLOCATOR: d2l::runtime::Allocator = d2l::runtime::Allocator;

use d2l::prelude::*;

fn run<M: Classifier<Input = Tensor<4>>>(model: M, data: &FashionMnist, epochs: usize) {
    let device = d2l::device();
    let tic = std::time::Instant::now();
    let mut model = model;
    for epoch in 1..=epochs {
        let mut trainer = TrainerConfig::new(1).init(&device);
        trainer.board.display = false;
        model = trainer.fit(model, data);
        let acc = validation_accuracy(&model, data, &device);
        println!("epoch {epoch}: val acc {acc:.4} after {:.0} s", tic.elapsed().as_secs_f64());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, size, examples, epochs, lr] = [0, 1, 2, 3, 4].map(|i| args.get(i).cloned().unwrap_or_default());
    let (size, examples, epochs, lr): (usize, usize, usize, f64) = (size.parse().unwrap(), examples.parse().unwrap(), epochs.parse().unwrap(), lr.parse().unwrap());
    let batch = args.get(5).map_or(128, |b| b.parse().unwrap());
    let device = d2l::device();
    let data = FashionMnist::new(batch).with_resize([size, size]).with_train_examples(examples);
    match model.as_str() {
        "alexnet" => run(AlexNetConfig::new().with_lr(lr).with_image_size(size).init(&device), &data, epochs),
        "vgg" => run(VggConfig::new(vec![(1, 16), (1, 32), (2, 64), (2, 128), (2, 128)]).with_lr(lr).with_image_size(size).init(&device), &data, epochs),
        "nin" => run(NinConfig::new().with_lr(lr).init(&device), &data, epochs),
        "googlenet" => run(GoogLeNetConfig::new().with_lr(lr).init(&device), &data, epochs),
        other => panic!("unknown model {other}"),
    }
}
