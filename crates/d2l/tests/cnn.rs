//! The convolutional networks of chapters 7 and 8 (`book/chapter_convolutional-neural-networks`,
//! `book/chapter_convolutional-modern`): the scratch cross-correlation against burn's
//! convolution, the output-size rule against the layers, the shapes and parameter counts of the
//! networks against the original's PyTorch models, resized minibatches, and that they learn.

mod common;

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::Distribution;
use common::{max_abs_diff, quiet_trainer, random_images_of_size};
use d2l::prelude::*;

fn normal<const D: usize>(shape: [usize; D]) -> Tensor<D> {
    Tensor::random(shape, Distribution::Normal(0.0, 1.0), &d2l::device())
}

/// The names and output shapes that `forward_inspect` reports.
fn trace(forward: impl FnOnce(&mut dyn FnMut(&str, &[usize]))) -> Vec<(String, Vec<usize>)> {
    let mut seen = Vec::new();
    forward(&mut |name, dims| seen.push((name.to_string(), dims.to_vec())));
    seen
}

#[test]
fn corr2d_agrees_with_burns_convolution() {
    let device = d2l::device();
    let conv = Conv2dConfig::new([1, 1], [3, 2]).with_bias(false).init(&device);
    let x = normal([7, 9]);
    let ours = corr2d(x.clone(), conv.weight.val().reshape([3, 2]));
    let theirs = conv.forward(x.reshape([1, 1, 7, 9])).reshape([5, 8]);
    assert_eq!(ours.dims(), [5, 8]);
    assert!(max_abs_diff(ours, theirs) < 1e-5);
}

#[test]
fn corr2d_passes_gradients_to_the_kernel() {
    // d(sum(corr2d(x, k)))/dk[a, b] is the sum of the window of x at offset (a, b).
    let device = d2l::device().autodiff();
    let x = Tensor::<1, Int>::arange(0..12, &device).float().reshape([3, 4]);
    let k = Tensor::<2>::zeros([2, 2], &device).require_grad();
    let grads = corr2d(x.clone(), k.clone()).sum().backward();
    let grad = k.grad(&grads).expect("a gradient for the kernel");
    let expected = Tensor::<2>::from_data([[0.0 + 1. + 2. + 4. + 5. + 6., 1.0 + 2. + 3. + 5. + 6. + 7.], [4.0 + 5. + 6. + 8. + 9. + 10., 5.0 + 6. + 7. + 9. + 10. + 11.]], &grad.device());
    assert!(max_abs_diff(grad, expected) < 1e-5);
}

#[test]
#[should_panic(expected = "kernel 3x3 is larger than the input 2x5")]
fn corr2d_names_a_kernel_that_does_not_fit() {
    corr2d(normal([2, 5]), normal([3, 3]));
}

#[test]
fn the_output_size_rule_matches_burns_layers() {
    let device = d2l::device();
    assert_eq!(conv_output_size(2, 3, 0, 2), 0, "a kernel that does not fit");
    for (n, kernel, padding, stride) in [(8, 3, 1, 1), (8, 3, 1, 2), (9, 5, 2, 3), (224, 11, 1, 4), (28, 5, 0, 1)] {
        let conv = Conv2dConfig::new([1, 1], [kernel, kernel])
            .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
            .with_stride([stride, stride])
            .init(&device);
        let [_, _, h, w] = conv.forward(normal([1, 1, n, n])).dims();
        assert_eq!([h, w], [conv_output_size(n, kernel, padding, stride); 2], "n {n} kernel {kernel} padding {padding} stride {stride}");
    }
}

#[test]
fn lenet_has_the_shapes_and_parameters_of_the_original() {
    let model = LeNetConfig::new().init(&d2l::device());
    let seen = trace(|inspect| {
        model.forward_inspect(normal([2, 1, 28, 28]), inspect);
    });
    let shapes: Vec<Vec<usize>> = seen.iter().map(|(_, dims)| dims.clone()).collect();
    assert_eq!(shapes[2], [2, 6, 14, 14]);
    assert_eq!(shapes[5], [2, 16, 5, 5]);
    assert_eq!(seen.last().unwrap(), &("Linear".to_string(), vec![2, 10]));
    // The PyTorch LeNet of the original edition has 61,706 parameters.
    assert_eq!(model.num_params(), 61_706);
}

#[test]
fn alexnet_accepts_its_smallest_size_and_names_a_smaller_one() {
    let device = d2l::device();
    let model = AlexNetConfig::new().with_image_size(65).init(&device);
    assert_eq!(model.logits(normal([1, 1, 65, 65])).dims(), [1, 10]);
    let too_small = std::panic::catch_unwind(|| AlexNetConfig::new().with_image_size(64).init(&d2l::device()));
    let message = too_small.expect_err("64 pixels are too few");
    let message = message.downcast_ref::<String>().expect("a formatted message");
    assert!(message.contains("at least 65x65 pixels, not 64"), "{message}");
}

#[test]
fn vgg_halves_the_size_in_every_block() {
    let model = VggConfig::new(vec![(1, 4), (2, 8), (1, 8)]).with_image_size(32).init(&d2l::device());
    let seen = trace(|inspect| {
        model.forward_inspect(normal([2, 1, 32, 32]), inspect);
    });
    let blocks: Vec<&Vec<usize>> = seen.iter().filter(|(name, _)| name == "VggBlock").map(|(_, dims)| dims).collect();
    assert_eq!(blocks, [&vec![2, 4, 16, 16], &vec![2, 8, 8, 8], &vec![2, 8, 4, 4]]);
}

#[test]
fn resnet18_has_the_parameters_of_the_original() {
    let model = ResNetConfig::resnet18(0.01).init(&d2l::device());
    // The original's PyTorch ResNet-18 for one channel and 10 classes has 11,178,378 parameters
    // (bench/torch_bench.py); burn also counts the running mean and variance of each of its
    // 3,904 batch-normalized channels.
    assert_eq!(model.num_params(), 11_178_378 + 2 * 3_904);
    assert_eq!(model.logits(normal([2, 1, 32, 32])).dims(), [2, 10]);
}

#[test]
fn residual_blocks_keep_or_change_the_shape_as_asked() {
    let device = d2l::device();
    let x = normal([4, 3, 6, 6]);
    assert_eq!(Residual::new(3, 3, false, 1, &device).forward(x.clone()).dims(), [4, 3, 6, 6]);
    assert_eq!(Residual::new(3, 6, true, 2, &device).forward(x).dims(), [4, 6, 3, 3]);
    let x = normal([2, 32, 8, 8]);
    assert_eq!(ResNeXtBlock::new(32, 32, 16, 1.0, false, 1, &device).forward(x.clone()).dims(), [2, 32, 8, 8]);
    assert_eq!(ResNeXtBlock::new(32, 64, 16, 0.5, true, 2, &device).forward(x).dims(), [2, 64, 4, 4]);
}

#[test]
fn resized_minibatches_have_the_asked_size_and_the_same_labels() {
    let device = d2l::device();
    let data = random_images_of_size(10, 28, 4);
    let (x, y) = data.val_dataloader(&device).next().unwrap();
    let resized = data.clone().with_resize([64, 48]);
    let (x_big, y_big) = resized.val_dataloader(&device).next().unwrap();
    assert_eq!(x_big.dims(), [4, 1, 64, 48]);
    assert_eq!(y.into_data(), y_big.into_data());
    // Bilinear interpolation keeps the mean brightness of an image (up to the borders).
    let (mean, mean_big) = (x.mean().into_scalar::<f32>(), x_big.mean().into_scalar::<f32>());
    assert!((mean - mean_big).abs() < 0.02, "{mean} vs {mean_big}");
    let fewer = data.with_train_examples(3);
    assert_eq!(fewer.train.len(), 3);
    assert_eq!(fewer.val.len(), 10);
}

#[test]
fn a_small_resnet_learns_and_validation_accuracy_counts_every_example() {
    let device = d2l::device();
    let data = random_images_of_size(128, 16, 16);
    let model = ResNetConfig::new(vec![(1, 8), (1, 16)]).with_lr(0.1).init(&device);
    let before = validation_accuracy(&model, &data, &device);
    let mut trainer = quiet_trainer(TrainerConfig::new(10));
    let model = trainer.fit(model, &data);
    let after = validation_accuracy(&model, &data, &device);
    eprintln!("accuracy {before} before training, {after} after");
    // Five classes: chance is 0.2.
    assert!(after > 0.5 && after > before, "accuracy {before} before training, {after} after");
    // The same number, computed on the whole validation set at once.
    let whole = accuracy(model.valid().logits(data.val.images.clone()), data.val.labels.clone());
    assert!((after - whole).abs() < 1e-9, "{after} vs {whole}");
}
