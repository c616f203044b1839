//! Hand-written support that no section teaches: the default device, the run scale, and the
//! allocator of section programs.

pub use d2l_capture::{Scale, in_book, scale, show_svg};

/// The device the book's code runs on: the first GPU of a build with a GPU backend (features
/// `vulkan`, `wgpu`, `cuda`), and burn's pure-Rust CPU backend (Flex) otherwise, which is
/// always the case in the default build. burn's `BURN_DEVICE` variable (`flex`, `vulkan`, ...)
/// overrides the choice ([`device_override`]). Which device a GPU build took goes to stderr, once.
pub fn device() -> burn::tensor::Device {
    static CHOSEN: std::sync::OnceLock<burn::tensor::Device> = std::sync::OnceLock::new();
    CHOSEN
        .get_or_init(|| {
            let device = device_override().unwrap_or_else(|| crate::prelude::try_gpu(0));
            if cfg!(any(feature = "vulkan", feature = "wgpu", feature = "cuda")) {
                eprintln!("d2l: computing on {}", describe(&device));
            }
            device
        })
        .clone()
}

/// The device that burn's `BURN_DEVICE` variable names, if it is set. A name this build cannot
/// honour ends the program with a one-line error that says what to do (exit code 2).
pub fn device_override() -> Option<burn::tensor::Device> {
    let name = std::env::var("BURN_DEVICE").ok()?;
    Some(named_device(&name).unwrap_or_else(|why| {
        eprintln!("error: BURN_DEVICE={name}: {why}");
        std::process::exit(2)
    }))
}

/// The device that `BURN_DEVICE=name` picks, or why it can't be had. burn's own
/// `Device::default()` panics for a name it does not know or whose feature is off, and for an
/// absent CUDA driver it panics deep inside a worker thread (a screenful of backtrace that
/// never says "no GPU"). Checking the name and the devices first turns each into a sentence.
pub fn named_device(name: &str) -> Result<burn::tensor::Device, String> {
    #[allow(unused_imports)]
    use burn::tensor::{Device, DeviceType};
    let name = name.to_lowercase();
    // Whether a GPU backend of this build lists a device; `None` for a name it has no backend for.
    let found: Option<bool> = match name.as_str() {
        "flex" => return Ok(Device::flex()),
        #[cfg(feature = "cuda")]
        "cuda" => Some(!Device::enumerate(DeviceType::Cuda).is_empty()),
        #[cfg(feature = "vulkan")]
        "vulkan" => Some(!Device::enumerate(DeviceType::Vulkan).is_empty()),
        // burn's `vulkan` brings its `wgpu` along: the same runtime, the API left to wgpu.
        #[cfg(any(feature = "wgpu", feature = "vulkan"))]
        "wgpu" => Some(!Device::enumerate(DeviceType::Wgpu).is_empty()),
        _ => None,
    };
    match found {
        // burn's default device of that backend is its first one, which is there.
        Some(true) => Ok(Device::default()),
        Some(false) => {
            let why = match name.as_str() {
                "cuda" => "the NVIDIA driver's libcuda.so.1 did not load, or it sees no GPU",
                _ => "no graphics driver lists one; on Linux that takes libvulkan.so.1 and the GPU's Vulkan ICD",
            };
            Err(format!("no {name} device found ({why}); unset BURN_DEVICE to compute on the CPU"))
        }
        None if ["cuda", "vulkan", "wgpu"].contains(&name.as_str()) => Err(format!(
            "this build has no {name} backend: build with `--features {name}` (README, \"GPUs\"), or unset BURN_DEVICE"
        )),
        None => Err(format!("not a backend of this build, which has: {}", BUILT_BACKENDS.join(", "))),
    }
}

/// The `BURN_DEVICE` names this build accepts.
const BUILT_BACKENDS: &[&str] = &[
    "flex",
    #[cfg(feature = "cuda")]
    "cuda",
    #[cfg(feature = "vulkan")]
    "vulkan",
    #[cfg(any(feature = "wgpu", feature = "vulkan"))]
    "wgpu",
];

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
