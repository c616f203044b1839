//! Hand-written support that no section teaches: the default device and the run scale.

pub use d2l_capture::{Scale, in_book, scale, show_svg};

/// The device the book's code runs on: burn's default, which is the pure-Rust CPU backend
/// (Flex) in the default build.
pub fn device() -> burn::tensor::Device {
    burn::tensor::Device::default()
}
