//! Helpers shared by the tests: files in the real formats, a bounded local HTTP server, and
//! quiet trainers and tensor comparisons for the training tests.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha1::{Digest, Sha1};

/// The SHA-1 digest of `bytes` in lowercase hexadecimal.
pub fn sha1_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha1::digest(bytes))
}

/// Gzip-compresses `bytes` at `level` (0 to 9), as the `.gz` files of the data sets are.
pub fn gzip(bytes: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// An IDX file of unsigned bytes (uncompressed): magic number, big-endian sizes, elements.
pub fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes.extend(data);
    bytes
}

/// `n` images of `height` x `width` pixels: pixel `p` of image `i` is `(7 * i + p) % 256`.
pub fn pixels(n: usize, height: usize, width: usize) -> Vec<u8> {
    (0..n).flat_map(|i| (0..height * width).map(move |p| ((7 * i + p) % 256) as u8)).collect()
}

/// A small CSV file like the Kaggle house data.
pub fn house_csv() -> Vec<u8> {
    b"Id,MSSubClass,LotArea,SalePrice\n1,60,8450,208500\n2,20,9600,181500\n3,60,11250,223500\n".to_vec()
}

/// A fresh empty folder, removed with the value.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The names of the entries of `dir`, sorted.
pub fn entries(dir: &Path) -> Vec<String> {
    let Ok(read) = std::fs::read_dir(dir) else { return vec![] };
    let mut names: Vec<String> = read.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// A local HTTP server on an ephemeral port of 127.0.0.1, serving fixed files and counting the
/// requests for each path. It answers for at most 60 seconds and stops when dropped.
pub struct Server {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Serves `files` (URL path without the leading `/` -> bytes); other paths get 404.
    pub fn start(files: Vec<(&str, Vec<u8>)>) -> Self {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let port = server.server_addr().to_ip().unwrap().port();
        let files: HashMap<String, Vec<u8>> = files.into_iter().map(|(p, b)| (format!("/{p}"), b)).collect();
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (thread_hits, thread_stop) = (hits.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !thread_stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let Ok(Some(request)) = server.recv_timeout(Duration::from_millis(50)) else { continue };
                let path = request.url().to_string();
                *thread_hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                let response = match files.get(&path) {
                    Some(bytes) => tiny_http::Response::from_data(bytes.clone()),
                    None => tiny_http::Response::from_string("not found").with_status_code(404),
                };
                let _ = request.respond(response);
            }
        });
        Self { base: format!("http://127.0.0.1:{port}"), hits, stop, thread: Some(thread) }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    /// How many requests asked for `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(&format!("/{path}")).copied().unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A URL on 127.0.0.1 whose port refuses connections: one that was free a moment ago.
pub fn refused_url(file: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/{file}")
}

/// The project's folder of real data files: `D2L_DATA_MIRROR`'s first folder that exists,
/// else `shared/data` beside the project.
pub fn shared_data() -> PathBuf {
    let listed = std::env::var_os("D2L_DATA_MIRROR").unwrap_or_default();
    // Cargo sets the package folder for the running test too; `env!` alone would name the
    // checkout that compiled the binary, which may be another one sharing the target folder.
    let package = std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from);
    let beside = package.join("../../../shared/data");
    std::env::split_paths(&listed).chain([beside]).find(|p| p.join("timemachine.txt").is_file()).unwrap_or_else(|| {
        panic!("no folder with the book's data files: set `D2L_DATA_MIRROR` to the project's `shared/data`")
    })
}

/// Where Debian's package `dataset-fashion-mnist` installs Fashion-MNIST.
pub const DEBIAN_FASHION_MNIST: &str = "/usr/share/datasets/fashion-mnist";

/// The largest absolute difference between two tensors of the same shape.
pub fn max_abs_diff<const D: usize>(a: d2l::burn::tensor::Tensor<D>, b: d2l::burn::tensor::Tensor<D>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

/// A trainer that records its curves without showing them (no plot files from tests).
pub fn quiet_trainer(config: d2l::prelude::TrainerConfig) -> d2l::prelude::Trainer {
    let mut trainer = config.init(&d2l::device());
    trainer.board.display = false;
    trainer
}

/// The points of the board's curve `label` (empty when there is none).
pub fn curve(trainer: &d2l::prelude::Trainer, label: &str) -> Vec<(f64, f64)> {
    let series = trainer.board.series.iter().find(|s| s.label == label);
    series.map(|s| s.points.clone()).unwrap_or_default()
}

/// A Fashion-MNIST-shaped data set of `n` random `size` x `size` images in 5 classes, whose
/// class decides the mean brightness of the pixels, so that it can be learned.
pub fn random_images_of_size(n: usize, size: usize, batch_size: usize) -> d2l::prelude::FashionMnist {
    use d2l::prelude::*;
    let device = d2l::device();
    let labels = Tensor::<1, Int>::random([n], burn::tensor::Distribution::Uniform(0.0, 5.0), &device);
    let noise = Tensor::<4>::random([n, 1, size, size], burn::tensor::Distribution::Uniform(0.0, 1.0), &device);
    let signal = labels.clone().float().reshape([n, 1, 1, 1]) / 5.0;
    let data = ImageDataset { images: noise * 0.5 + signal, labels };
    FashionMnist { batch_size, train: data.clone(), val: data, source: "random".into(), resize: None }
}

/// [`random_images_of_size`] with 4x4 images.
pub fn random_images(n: usize, batch_size: usize) -> d2l::prelude::FashionMnist {
    random_images_of_size(n, 4, batch_size)
}
