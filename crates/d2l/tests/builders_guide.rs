//! The builders' guide (`book/chapter_builders-guide`): saving and loading parameters
//! (exact round trips, atomic writes, and errors that name the file) and the device helpers.

use burn::module::{ModuleVisitor, Param};
use burn::tensor::Distribution;
use d2l::prelude::*;
use std::path::Path;

/// Every float parameter of a module, by path, as raw bits (so that equality is exact).
#[derive(Default)]
struct Bits {
    path: Vec<String>,
    params: Vec<(String, Vec<usize>, Vec<u32>)>,
}

impl ModuleVisitor for Bits {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let bits = value.to_data().iter::<f32>().map(f32::to_bits).collect();
        self.params.push((self.path.join("."), value.dims().to_vec(), bits));
    }
}

fn bits<M: Module>(model: &M) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let mut visitor = Bits::default();
    model.visit(&mut visitor);
    visitor.params
}

fn mlp(num_hiddens: usize) -> Mlp {
    MlpConfig::new(20, 10, num_hiddens, 0.1).init(&d2l::device())
}

/// The files in `dir`, by name.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn saved_parameters_load_bit_for_bit_and_give_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.bpk");
    let net = mlp(32);
    save_params(&net, &path).unwrap();
    let fresh = mlp(32);
    assert_ne!(bits(&fresh), bits(&net), "a fresh model should start from other random values");
    let loaded = load_params(fresh, &path).unwrap();
    let (expected, actual) = (bits(&net), bits(&loaded));
    assert_eq!(expected.len(), 4, "{:?}", expected.iter().map(|p| &p.0).collect::<Vec<_>>());
    assert_eq!(actual, expected);
    let x = Tensor::<4>::random([3, 1, 4, 5], Distribution::Normal(0.0, 1.0), &d2l::device());
    let (y, y_loaded) = (net.forward(x.clone()), loaded.forward(x));
    let bits = |t: Tensor<2>| t.to_data().iter::<f32>().map(f32::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(y_loaded), bits(y));
}

#[test]
fn saving_is_atomic_leaves_no_temporary_file_and_replaces_an_existing_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.bpk");
    std::fs::write(&path, b"an older checkpoint").unwrap();
    let net = mlp(16);
    save_params(&net, &path).unwrap();
    assert_eq!(files(dir.path()), ["mlp.bpk"]);
    assert_eq!(bits(&load_params(mlp(16), &path).unwrap()), bits(&net));
    let newer = mlp(16);
    save_params(&newer, &path).unwrap();
    assert_eq!(files(dir.path()), ["mlp.bpk"]);
    assert_eq!(bits(&load_params(mlp(16), &path).unwrap()), bits(&newer));
}

#[test]
fn a_path_without_an_extension_is_used_as_given() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint");
    save_params(&mlp(8), &path).unwrap();
    assert_eq!(files(dir.path()), ["checkpoint"]);
}

#[test]
fn saving_into_a_missing_directory_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no/such/dir/mlp.bpk");
    let err = save_params(&mlp(8), &path).unwrap_err();
    assert!(matches!(err, ParamsError::Write { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn a_missing_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.bpk");
    let err = load_params(mlp(8), &path).unwrap_err();
    assert!(matches!(err, ParamsError::Missing { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("save the model there first"), "{message}");
}

#[test]
fn a_truncated_file_is_reported_as_corrupt_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp.bpk");
    save_params(&mlp(16), &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    for cut in [0, 7, bytes.len() / 2, bytes.len() - 1] {
        let truncated = dir.path().join(format!("cut-{cut}.bpk"));
        std::fs::write(&truncated, &bytes[..cut]).unwrap();
        let err = load_params(mlp(16), &truncated).unwrap_err();
        assert!(matches!(err, ParamsError::Corrupt { .. }), "cut at {cut}: {err:?}");
        let message = err.to_string();
        assert!(message.contains(&truncated.display().to_string()), "{message}");
        assert!(message.contains("truncated or corrupt"), "{message}");
        assert!(message.contains("save the model again"), "{message}");
    }
}

#[test]
fn a_file_that_is_not_a_parameter_file_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.bpk");
    std::fs::write(&path, "these are not parameters".repeat(10)).unwrap();
    let err = load_params(mlp(8), &path).unwrap_err();
    assert!(matches!(err, ParamsError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_file_of_another_shape_is_reported_as_a_different_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mlp-64.bpk");
    save_params(&mlp(64), &path).unwrap();
    let err = load_params(mlp(256), &path).unwrap_err();
    assert!(matches!(err, ParamsError::WrongModel { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("different model"), "{message}");
    assert!(message.contains("hidden.weight"), "the mismatched parameter should be named: {message}");
}

#[test]
fn a_file_of_another_architecture_is_reported_as_a_different_model() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dropout-mlp.bpk");
    let other = DropoutMlpScratchConfig::new(20, 10, 16, 16, 0.5, 0.5, 0.1).init(&d2l::device());
    save_params(&other, &path).unwrap();
    let err = load_params(mlp(16), &path).unwrap_err();
    assert!(matches!(err, ParamsError::WrongModel { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn without_gpu_support_every_device_helper_falls_back_to_the_cpu() {
    assert_eq!(num_gpus(), 0);
    assert_eq!(try_gpu(0), cpu());
    assert_eq!(try_gpu(3), cpu());
    assert_eq!(try_all_gpus(), vec![cpu()]);
    assert_eq!(d2l::device(), cpu());
    assert!(std::panic::catch_unwind(|| gpu(0)).is_err());
}

#[test]
fn burn_device_names_that_this_build_cannot_honour_are_explained() {
    assert_eq!(d2l::runtime::named_device("flex"), Ok(cpu()));
    assert_eq!(d2l::runtime::named_device("Flex"), Ok(cpu()));
    let no_feature = d2l::runtime::named_device("cuda").unwrap_err();
    assert!(no_feature.contains("--features cuda"), "{no_feature}");
    let unknown = d2l::runtime::named_device("gpu").unwrap_err();
    assert!(unknown.contains("which has: flex"), "{unknown}");
}

/// Not a test on its own: the child process of the test below, which sets `D2L_DEVICE_CHILD`.
#[test]
fn device_in_a_child_process() {
    if std::env::var_os("D2L_DEVICE_CHILD").is_some() {
        d2l::device();
    }
}

#[test]
fn a_burn_device_this_build_cannot_honour_ends_the_program_with_one_line_and_no_panic() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "device_in_a_child_process", "--nocapture"])
        .env("D2L_DEVICE_CHILD", "1")
        .env("BURN_DEVICE", "vulkan")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error: BURN_DEVICE=vulkan: this build has no vulkan backend"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
