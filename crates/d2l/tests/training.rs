//! The training library of chapter 3 (`book/chapter_linear-regression`): the trainer recovers
//! known parameters, the scratch optimizer agrees with burn's, gradient clipping bounds the global
//! norm, the board averages points, and the tensor loader serves every example once.

mod common;

use burn::module::Param;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::Distribution;
use common::{curve, max_abs_diff, quiet_trainer};
use d2l::prelude::*;

fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

/// Training runs for real only at full scale; `D2L_SCALE=smoke` cuts it to a few batches.
fn full_scale() -> bool {
    if scale() == Scale::Smoke {
        eprintln!("skipped: the trainer only trains a few batches at smoke scale");
        return false;
    }
    true
}

#[test]
fn trainer_recovers_the_parameters_of_synthetic_data() {
    if !full_scale() {
        return;
    }
    let device = d2l::device();
    device.seed(7);
    let data = SyntheticRegressionDataConfig::new(vec![2.0, -3.4], 4.2).init(&device);
    let mut trainer = quiet_trainer(TrainerConfig::new(10));
    let model = trainer.fit(LinearRegressionConfig::new(2, 0.03).init(&device), &data);
    let (w, b) = model.get_w_b();
    let w_error = max_abs_diff(w.reshape([2]), data.w.clone());
    let b_error = (b.into_scalar::<f32>() - 4.2).abs();
    assert!(w_error < 1e-2, "w is off by {w_error}");
    assert!(b_error < 1e-2, "b is off by {b_error}");

    // The board holds both curves: 2 training points and 1 validation point per epoch.
    let (train, val) = (curve(&trainer, "train_loss"), curve(&trainer, "val_loss"));
    assert_eq!((train.len(), val.len()), (20, 10));
    assert_eq!(val.iter().map(|p| p.0).collect::<Vec<_>>(), (1..=10).map(f64::from).collect::<Vec<_>>());
    // The noise has variance 1e-4, the lowest mean squared error any model can reach.
    let last_val_loss = val.last().unwrap().1;
    assert!(last_val_loss < 2e-4, "final validation loss {last_val_loss}");
    assert!(train[0].1 > 100.0 * last_val_loss, "the loss did not decrease: {train:?}");
}

#[test]
fn trainer_trains_the_scratch_model_too() {
    if !full_scale() {
        return;
    }
    let device = d2l::device();
    device.seed(11);
    let data = SyntheticRegressionDataConfig::new(vec![2.0, -3.4], 4.2).init(&device);
    let mut trainer = quiet_trainer(TrainerConfig::new(10));
    let model = trainer.fit(LinearRegressionScratchConfig::new(2, 0.03).init(&device), &data);
    assert!(max_abs_diff(model.w.val().reshape([2]), data.w.clone()) < 1e-2);
    assert!((model.b.val().into_scalar::<f32>() - 4.2).abs() < 1e-2);
}

#[test]
fn scratch_sgd_step_agrees_with_burns_sgd() {
    let device = d2l::device();
    let model = LinearRegressionScratchConfig::new(5, 0.1).with_sigma(1.0).init(&device).train();
    let x = Tensor::<2>::random([16, 5], Distribution::Normal(0.0, 1.0), &device);
    let y = Tensor::<2>::random([16, 1], Distribution::Normal(0.0, 1.0), &device);
    let grads = |model: &LinearRegressionScratch| {
        let loss = model.loss(model.forward(x.clone()), y.clone());
        GradientsParams::from_grads(loss.backward(), model)
    };
    let ours = Optim::new(Sgd, 0.1).step(model.clone(), grads(&model));
    let burns = Optim::new(SgdConfig::new().init(), 0.1).step(model.clone(), grads(&model));
    assert!(max_abs_diff(ours.w.val(), burns.w.val()) < 1e-6);
    assert!(max_abs_diff(ours.b.val(), burns.b.val()) < 1e-6);
    // Both took a real step: w - lr * grad, not w.
    let moved = max_abs_diff(ours.w.val(), model.w.val());
    assert!(moved > 1e-3, "the step moved w by only {moved}");
    let expected = model.w.val() - grads(&model).get::<2>(model.w.id).unwrap() * 0.1;
    assert!(max_abs_diff(ours.w.val(), expected) < 1e-6);
}

/// A model with parameters `w` of shape [3, 1] and `b` of shape [1], and gradients for them.
fn model_and_grads(w_grad: [f32; 3], b_grad: f32) -> (LinearRegressionScratch, GradientsParams) {
    let device = d2l::device();
    let model = LinearRegressionScratchConfig::new(3, 0.1).init(&device);
    let mut grads = GradientsParams::new();
    grads.register(model.w.id, Tensor::<1>::from_floats(w_grad, &device).reshape([3, 1]));
    grads.register(model.b.id, Tensor::<1>::from_floats([b_grad], &device));
    (model, grads)
}

#[test]
fn clipping_scales_all_gradients_to_the_global_norm() {
    // Global norm sqrt(3^2 + 4^2) = 5; no single gradient exceeds 4, so per-tensor clipping
    // to 1 would give a global norm of sqrt(2): only global clipping gives 1.
    let (model, grads) = model_and_grads([3.0, 0.0, 0.0], 4.0);
    let clipped = clip_gradients(grads, 1.0, &model);
    let w = values(clipped.get::<2>(model.w.id).unwrap());
    let b = values(clipped.get::<1>(model.b.id).unwrap());
    let norm = (w.iter().chain(&b).map(|v| v * v).sum::<f32>()).sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "global norm after clipping: {norm}");
    // The direction is kept: every gradient is scaled by the same factor 1/5.
    assert!((w[0] - 0.6).abs() < 1e-6 && w[1] == 0.0 && (b[0] - 0.8).abs() < 1e-6, "{w:?} {b:?}");
}

#[test]
fn clipping_leaves_small_gradients_alone() {
    let (model, grads) = model_and_grads([0.3, -0.4, 0.0], 0.1);
    let clipped = clip_gradients(grads, 1.0, &model);
    assert_eq!(values(clipped.get::<2>(model.w.id).unwrap()), vec![0.3, -0.4, 0.0]);
    assert_eq!(values(clipped.get::<1>(model.b.id).unwrap()), vec![0.1]);
}

#[test]
fn trainer_clips_gradients_when_configured() {
    // With a tiny bound, each step moves the parameters by at most lr * bound.
    let device = d2l::device();
    let data = SyntheticRegressionDataConfig::new(vec![2.0, -3.4], 4.2).with_num_train(64).with_num_val(32).init(&device);
    let model = LinearRegressionScratchConfig::new(2, 0.1).init(&device);
    let start = (model.w.val(), model.b.val());
    let mut trainer = quiet_trainer(TrainerConfig::new(1).with_gradient_clip_val(Some(1e-3)));
    let model = trainer.fit(model, &data);
    let steps = trainer.train_batch_idx as f32;
    let moved = (model.w.val() - start.0).square().sum() + (model.b.val() - start.1).square().sum();
    let moved = moved.sqrt().into_scalar::<f32>();
    assert!(steps >= 1.0);
    assert!(moved <= steps * 0.1 * 1e-3 * 1.0001, "moved {moved} in {steps} steps");
    assert!(moved > 0.5 * steps * 0.1 * 1e-3, "clipped steps should still have full length: moved {moved}");
}

#[test]
fn board_averages_every_n_points() {
    let mut board = ProgressBoard::new(PlotOptions::default());
    for i in 0..10 {
        let x = f64::from(i);
        board.draw(x, 2.0 * x, "a", 3);
        board.draw(x, -x, "b", 1);
        board.draw(x, x, "c", 0); // 0 means no averaging, like 1
    }
    let a = &board.series[0];
    assert_eq!(a.label, "a");
    assert_eq!(a.points, vec![(1.0, 2.0), (4.0, 8.0), (7.0, 14.0)]);
    assert_eq!(a.pending, vec![(9.0, 18.0)], "the 10th point waits for two more");
    assert_eq!(board.series[1].points.len(), 10);
    assert_eq!(board.series[1].points[3], (3.0, -3.0));
    assert_eq!(board.series[2].points.len(), 10);
    let svg = board.to_svg();
    let legend = ["a", "b", "c"].map(|label| format!(">\n{label}\n</text>"));
    assert!(svg.starts_with("<svg") && legend.iter().all(|label| svg.contains(label)), "legend missing");
}

#[test]
fn tensor_loader_serves_every_example_once() {
    let device = d2l::device();
    let x = Tensor::<1, Int>::arange(0..10, &device).float().reshape([10, 1]);
    let y = Tensor::<1, Int>::arange(100..110, &device);
    for train in [true, false] {
        let loader = get_tensorloader((x.clone(), y.clone()), train, 4, &device);
        assert_eq!(loader.len(), 3);
        let batches: Vec<(Tensor<2>, Tensor<1, Int>)> = loader.collect();
        assert_eq!(batches.iter().map(|(x, _)| x.dims()[0]).collect::<Vec<_>>(), vec![4, 4, 2]);
        let mut seen: Vec<i64> = Vec::new();
        for (xb, yb) in batches {
            let xs: Vec<f32> = values(xb);
            let ys: Vec<i64> = yb.into_data().iter::<i64>().collect();
            // Features and labels stay paired.
            assert!(xs.iter().zip(&ys).all(|(x, y)| *x as i64 + 100 == *y), "{xs:?} {ys:?}");
            seen.extend(ys);
        }
        if !train {
            assert_eq!(seen, (100..110).collect::<Vec<_>>(), "validation data is read in order");
        }
        seen.sort();
        assert_eq!(seen, (100..110).collect::<Vec<_>>());
    }
}

#[test]
fn shuffling_changes_the_order() {
    let device = d2l::device();
    let x = Tensor::<1, Int>::arange(0..1000, &device);
    let first: Vec<i64> = get_tensorloader(x.clone(), true, 1000, &device).next().unwrap().into_data().iter::<i64>().collect();
    let second: Vec<i64> = get_tensorloader(x, true, 1000, &device).next().unwrap().into_data().iter::<i64>().collect();
    assert_ne!(first, (0..1000).collect::<Vec<_>>());
    assert_ne!(first, second);
}

#[test]
fn params_of_scratch_model_have_the_documented_shapes() {
    let device = d2l::device();
    let model = LinearRegressionScratchConfig::new(4, 0.1).init(&device);
    assert_eq!(model.w.val().dims(), [4, 1]);
    assert_eq!(values(model.b.val()), vec![0.0]);
    let _: &Param<Tensor<2>> = &model.w;
    let out = model.forward(Tensor::<2>::ones([3, 4], &device));
    assert_eq!(out.dims(), [3, 1]);
}
