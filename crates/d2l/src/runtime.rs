//! Hand-written support that no section teaches: the default device, the run scale, and the
//! allocator of section programs.

pub use d2l_capture::{Scale, in_book, scale, show_svg};

/// The device the book's code runs on: the first GPU of a build with a GPU backend (features
/// `vulkan`, `wgpu`, `cuda`), and burn's pure-Rust CPU backend (Flex) otherwise, which is
/// always the case in the default build. burn's `BURN_DEVICE` variable (`flex`, `vulkan`, ...)
/// overrides the choice. Which device a GPU build took goes to stderr, once.
pub fn device() -> burn::tensor::Device {
    static CHOSEN: std::sync::OnceLock<burn::tensor::Device> = std::sync::OnceLock::new();
    CHOSEN
        .get_or_init(|| {
            let device = match std::env::var_os("BURN_DEVICE") {
                Some(_) => burn::tensor::Device::default(),
                None => crate::prelude::try_gpu(0),
            };
            if cfg!(any(feature = "vulkan", feature = "wgpu", feature = "cuda")) {
                eprintln!("d2l: computing on {}", describe(&device));
            }
            device
        })
        .clone()
}

/// The name of the card behind `device` where its backend reports one, else its debug form.
fn describe(device: &burn::tensor::Device) -> String {
    #[cfg(any(feature = "vulkan", feature = "wgpu", feature = "cuda"))]
    if let Some(id) = device.identity() {
        return format!("{} ({device:?})", id.name);
    }
    format!("{device:?}")
}

/// The global allocator of the book's programs (`[programs] global_allocator` in `d2l.toml`):
/// mimalloc keeps freed buffers for the next training step instead of returning them to the
/// system, which made the MLP's training steps about 1.6 times as fast (bench/README.md).
pub use mimalloc::MiMalloc as Allocator;
