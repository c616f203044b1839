//! The classifiers of chapters 4 and 5 (`book/chapter_linear-classification`,
//! `book/chapter_multilayer-perceptrons`): accuracy, the classifier's validation step and loss,
//! and implementations from scratch that agree with the concise ones when they start from the
//! same parameters and see the same data in the same order.

mod common;

use burn::module::Param;
use burn::tensor::Distribution;
use common::{DEBIAN_FASHION_MNIST, curve, max_abs_diff, quiet_trainer, random_images};
use d2l::prelude::*;

/// Fashion-MNIST-shaped data served in a fixed order, so that two runs see the same batches
/// whatever other tests draw from the random generator meanwhile.
struct InOrder(FashionMnist);

impl DataModule for InOrder {
    type Batch = (Tensor<4>, Tensor<1, Int>);

    fn get_dataloader(&self, train: bool, device: &Device) -> DataLoader<'_, Self::Batch> {
        let data = if train { &self.0.train } else { &self.0.val };
        let data = (data.images.clone().to_device(device), data.labels.clone().to_device(device));
        Box::new(Batches::new(data, self.0.batch_size, false))
    }
}

#[test]
fn accuracy_counts_the_rows_whose_largest_score_is_the_label() {
    let device = d2l::device();
    let y_hat = Tensor::<2>::from_floats([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5], [0.2, 0.5, 0.3], [2.0, -1.0, 0.0]], &device);
    let y = Tensor::<1, Int>::from_ints([2, 1, 1, 0], &device);
    assert_eq!(accuracy(y_hat.clone(), y), 0.75);
    let all_wrong = Tensor::<1, Int>::from_ints([0, 0, 0, 1], &device);
    assert_eq!(accuracy(y_hat, all_wrong), 0.0);
}

#[test]
fn scratch_softmax_and_cross_entropy_match_their_definitions() {
    let device = d2l::device();
    let x = Tensor::<2>::from_floats([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], &device);
    let p: Vec<f32> = softmax(x).into_data().iter::<f32>().collect();
    let z = 1f32.exp() + 2f32.exp() + 3f32.exp();
    let expected = [1f32.exp() / z, 2f32.exp() / z, 3f32.exp() / z, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0];
    for (a, b) in p.iter().zip(expected) {
        assert!((a - b).abs() < 1e-6, "{p:?} vs {expected:?}");
    }
    let y_hat = Tensor::<2>::from_floats([[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]], &device);
    let y = Tensor::<1, Int>::from_ints([0, 2], &device);
    let loss = cross_entropy(y_hat, y).into_scalar::<f32>();
    assert!((loss - (-(0.1f32.ln() + 0.5f32.ln()) / 2.0)).abs() < 1e-6, "loss {loss}");
}

#[test]
fn the_classifier_loss_is_stable_where_the_naive_one_overflows() {
    let device = d2l::device();
    let logits = Tensor::<2>::from_floats([[100.0, 99.0, -10.0], [1.0, 2.0, 3.0]], &device);
    let y = Tensor::<1, Int>::from_ints([0, 2], &device);
    assert!(cross_entropy(softmax(logits.clone()), y.clone()).into_scalar::<f32>().is_nan());
    let loss = classifier_loss(logits, y).into_scalar::<f32>();
    let row2 = -(3f32.exp() / (1f32.exp() + 2f32.exp() + 3f32.exp())).ln();
    let expected = ((1.0 + (-1f32).exp()).ln() + row2) / 2.0;
    assert!((loss - expected).abs() < 1e-5, "loss {loss}, expected {expected}");
}

#[test]
fn scratch_and_concise_softmax_regression_train_alike() {
    let device = d2l::device();
    let data = InOrder(random_images(96, 16));
    let scratch = SoftmaxRegressionScratchConfig::new(16, 5, 0.1).init(&device);
    // The concise model starts from the scratch model's parameters: burn's `Linear` stores its
    // weight as `[inputs, outputs]`, like ours.
    let mut concise = SoftmaxRegressionConfig::new(16, 5, 0.1).init(&device);
    concise.net.weight = Param::from_tensor(scratch.w.val());
    concise.net.bias = Some(Param::from_tensor(scratch.b.val()));
    // Before training: probabilities and losses agree.
    let (x, y) = data.0.val_dataloader(&device).next().unwrap();
    let p_concise = softmax(concise.forward(x.clone()));
    assert!(max_abs_diff(p_concise, scratch.forward(x.clone())) < 1e-6);
    let (l_scratch, l_concise) = (scratch.loss(scratch.forward(x.clone()), y.clone()), concise.loss(concise.forward(x), y));
    assert!(max_abs_diff(l_scratch, l_concise) < 1e-6);
    // Trained on the same batches in the same order.
    let (mut t_scratch, mut t_concise) = (quiet_trainer(TrainerConfig::new(3)), quiet_trainer(TrainerConfig::new(3)));
    let scratch = t_scratch.fit(scratch, &data);
    let concise = t_concise.fit(concise, &data);
    let w_diff = max_abs_diff(scratch.w.val(), concise.net.weight.val());
    let b_diff = max_abs_diff(scratch.b.val(), concise.net.bias.as_ref().unwrap().val());
    assert!(w_diff < 1e-5 && b_diff < 1e-5, "parameters differ by {w_diff} and {b_diff}");
    let (losses, other) = (curve(&t_scratch, "train_loss"), curve(&t_concise, "train_loss"));
    assert!(!losses.is_empty() && losses.len() == other.len());
    for (a, b) in losses.iter().zip(&other) {
        assert!((a.1 - b.1).abs() < 1e-5, "training losses differ: {losses:?} vs {other:?}");
    }
    // The validation step reports the loss and the accuracy, and both models learned something.
    let acc = curve(&t_scratch, "val_acc");
    assert_eq!(acc.len(), t_scratch.max_epochs);
    assert!(acc.iter().all(|p| (0.0..=1.0).contains(&p.1)));
    assert!(curve(&t_scratch, "val_loss").last().unwrap().1 < losses[0].1);
}

#[test]
fn softmax_regression_learns_fashion_mnist() {
    if scale() == Scale::Smoke {
        eprintln!("skipped: a real epoch runs only at full scale");
        return;
    }
    let debian = std::path::Path::new(DEBIAN_FASHION_MNIST);
    assert!(debian.is_dir(), "install Debian's package `dataset-fashion-mnist` (scripts/test does)");
    let cache = common::temp_dir();
    let hub = DataHub { cache_dir: cache.path().to_path_buf(), mirrors: vec![debian.to_path_buf()] };
    let data = FashionMnist::load(&hub, 256).unwrap();
    let device = d2l::device();
    device.seed(1);
    let model = quiet_trainer(TrainerConfig::new(2)).fit(SoftmaxRegressionConfig::new(784, 10, 0.1).init(&device), &data);
    let acc = accuracy(model.forward(data.val.images.clone()), data.val.labels.clone());
    // The book reaches about 0.83 after 10 epochs; two epochs give more than 0.78.
    assert!(acc > 0.78, "validation accuracy {acc}");
}

#[test]
fn dropout_keeps_the_expected_value_and_is_off_outside_training() {
    let device = d2l::device();
    device.seed(9);
    let x = Tensor::<2>::ones([100, 100], &device);
    assert_eq!(max_abs_diff(dropout_layer(x.clone(), 0.0), x.clone()), 0.0);
    assert_eq!(dropout_layer(x.clone(), 1.0).abs().sum().into_scalar::<f32>(), 0.0);
    let values: Vec<f32> = dropout_layer(x.clone(), 0.5).into_data().iter::<f32>().collect();
    assert!(values.iter().all(|&v| v == 0.0 || v == 2.0), "entries are dropped or doubled");
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    assert!((mean - 1.0).abs() < 0.05, "mean {mean} after dropout");

    // Training (autodiff) draws a new mask on every call; validation uses the whole network.
    let images = Tensor::<4>::random([8, 1, 4, 4], Distribution::Uniform(0.0, 1.0), &device);
    let config = DropoutMlpScratchConfig::new(16, 3, 32, 32, 0.5, 0.5, 0.1);
    let model = config.init(&device).train();
    let (a, b) = (model.forward(images.clone()), model.forward(images.clone()));
    assert!(max_abs_diff(a, b) > 0.0, "dropout is active while training");
    let model = model.valid();
    assert_eq!(max_abs_diff(model.forward(images.clone()), model.forward(images.clone())), 0.0);
    let concise = config.init_concise(&device).train();
    let (a, b) = (concise.forward(images.clone()), concise.forward(images.clone()));
    assert!(max_abs_diff(a, b) > 0.0, "burn's dropout is active while training");
    let concise = concise.valid();
    assert_eq!(max_abs_diff(concise.forward(images.clone()), concise.forward(images)), 0.0);
}
