//! Hand-written support that no section teaches: the default device, the run scale, and the
//! allocator of section programs.

pub use d2l_capture::{Scale, in_book, scale, show_svg};

/// The device the book's code runs on: burn's default, which is the pure-Rust CPU backend
/// (Flex) in the default build.
pub fn device() -> burn::tensor::Device {
    burn::tensor::Device::default()
}

/// The global allocator of the book's programs (`[programs] global_allocator` in `d2l.toml`):
/// mimalloc keeps freed buffers for the next training step instead of returning them to the
/// system, which made the MLP's training steps about 1.6 times as fast (bench/README.md).
pub use mimalloc::MiMalloc as Allocator;
