//! Fashion-MNIST: the IDX reader on generated files (shapes, values, truncated and invalid
//! files), the tensors, minibatches, text labels and image grid, and the real data set.

mod common;

use std::path::Path;

use common::{DEBIAN_FASHION_MNIST, gzip, idx, pixels, temp_dir};
use d2l::burn::tensor::{Int, Tensor, TensorData};
use d2l::linear_regression::DataModule;
use d2l::linear_classification::{Batches, DataError, DataHub, FashionMnist, ImageDataset, Idx, read_idx, show_images_svg};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Generated images `[n, 3, 2]` and labels `i % 10`, as gzip-compressed IDX files.
fn generated(dir: &Path, n: usize) -> (std::path::PathBuf, std::path::PathBuf) {
    let images = write(dir, "images.gz", &gzip(&idx(&[n as u32, 3, 2], &pixels(n, 3, 2)), 6));
    let labels: Vec<u8> = (0..n).map(|i| (i % 10) as u8).collect();
    (images, write(dir, "labels.gz", &gzip(&idx(&[n as u32], &labels), 6)))
}

fn floats<const D: usize>(t: &Tensor<D>) -> Vec<f32> {
    t.to_data().iter::<f32>().collect()
}

fn ints<const D: usize>(t: &Tensor<D, Int>) -> Vec<i64> {
    t.to_data().iter::<i64>().collect()
}

#[test]
fn reads_an_idx_file() {
    let dir = temp_dir();
    let (images, labels) = generated(dir.path(), 5);
    assert_eq!(read_idx(&images, None).unwrap(), Idx { dims: vec![5, 3, 2], data: pixels(5, 3, 2) });
    assert_eq!(read_idx(&labels, None).unwrap(), Idx { dims: vec![5], data: vec![0, 1, 2, 3, 4] });
    // At most `max_items` entries of the first dimension, and never more than there are.
    assert_eq!(read_idx(&images, Some(2)).unwrap(), Idx { dims: vec![2, 3, 2], data: pixels(2, 3, 2) });
    assert_eq!(read_idx(&labels, Some(9)).unwrap().dims, [5]);
}

#[test]
fn rejects_a_truncated_file_with_a_clear_error() {
    let dir = temp_dir();
    // The gzip stream is complete, but the IDX content stops short of what its header promises.
    let short = write(dir.path(), "short.gz", &gzip(&idx(&[4, 3, 2], &pixels(3, 3, 2)), 6));
    let error = read_idx(&short, None).unwrap_err();
    assert!(matches!(&error, DataError::Format { path, .. } if *path == short), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("short.gz") && message.contains("ends after 18 of the 24 elements of shape [4, 3, 2]"), "{message}");

    // The gzip stream itself breaks off, as a partial download does.
    let compressed = gzip(&idx(&[50, 28, 28], &pixels(50, 28, 28)), 1);
    let cut = write(dir.path(), "cut.gz", &compressed[..compressed.len() / 2]);
    let error = read_idx(&cut, None).unwrap_err();
    assert!(matches!(&error, DataError::Format { path, .. } if *path == cut), "{error:?}");
    assert!(error.to_string().contains("cut.gz"), "{error}");

    // A header cut short.
    let header = write(dir.path(), "header.gz", &gzip(&[0, 0, 8, 3, 0, 0], 6));
    assert!(read_idx(&header, None).unwrap_err().to_string().contains("cannot read the IDX header"));
}

#[test]
fn rejects_files_that_are_not_idx() {
    let dir = temp_dir();
    let floats = write(dir.path(), "floats.gz", &gzip(&[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0], 6));
    let error = read_idx(&floats, None).unwrap_err().to_string();
    assert!(error.contains("the magic number is [00, 00, 0d, 01], expected [00, 00, 08, n]"), "{error}");
    let plain = write(dir.path(), "plain.idx", &idx(&[1], &[7]));
    assert!(matches!(read_idx(&plain, None), Err(DataError::Format { .. })));
    let missing = dir.path().join("missing.gz");
    assert!(matches!(read_idx(&missing, None), Err(DataError::Io { path, .. }) if path == missing));
}

#[test]
fn image_datasets_hold_scaled_images_and_integer_labels() {
    let dir = temp_dir();
    let (images, labels) = generated(dir.path(), 12);
    let data = ImageDataset::from_idx(&images, &labels, None, &d2l::device()).unwrap();
    assert_eq!((data.len(), data.images.dims(), data.labels.dims()), (12, [12, 1, 3, 2], [12]));
    let expected: Vec<f32> = pixels(12, 3, 2).iter().map(|&p| p as f32 / 255.0).collect();
    assert_eq!(floats(&data.images), expected);
    assert_eq!(ints(&data.labels), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    assert_eq!(ImageDataset::from_idx(&images, &labels, Some(4), &d2l::device()).unwrap().len(), 4);

    // Labels that do not go with the images.
    let few = write(dir.path(), "few.gz", &gzip(&idx(&[3], &[0, 1, 2]), 6));
    let error = ImageDataset::from_idx(&images, &few, None, &d2l::device()).unwrap_err();
    assert!(error.to_string().contains("expected 12 labels to go with 12 images"), "{error}");
    // Images must be `[n, height, width]`.
    let error = ImageDataset::from_idx(&labels, &labels, None, &d2l::device()).unwrap_err();
    assert!(error.to_string().contains("expected images of shape [n, height, width], found shape [12]"), "{error}");
}

fn numbered(n: usize) -> (Tensor<2>, Tensor<1, Int>) {
    let device = d2l::device();
    let features: Vec<f32> = (0..n).flat_map(|i| [i as f32, -(i as f32)]).collect();
    let labels: Vec<i64> = (0..n as i64).collect();
    (Tensor::from_data(TensorData::new(features, [n, 2]), &device), Tensor::from_data(TensorData::new(labels, [n]), &device))
}

#[test]
fn batches_in_order_cover_every_example_once() {
    let mut batches = Batches::new(numbered(10), 4, false);
    assert_eq!(batches.len(), 3);
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    while let Some((x, y)) = batches.next() {
        sizes.push(y.dims()[0]);
        assert_eq!(x.dims(), [y.dims()[0], 2]);
        // The rows of the features and of the labels stay together.
        let (x, y) = (floats(&x), ints(&y));
        for (row, label) in x.chunks(2).zip(&y) {
            assert_eq!(row, [*label as f32, -(*label as f32)]);
        }
        seen.extend(y);
        assert_eq!(batches.len(), 3 - sizes.len());
    }
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(seen, (0..10).collect::<Vec<i64>>());
}

#[test]
fn shuffled_batches_are_a_permutation() {
    let batches = Batches::new(numbered(100), 32, true);
    assert_eq!(batches.len(), 4);
    let mut seen: Vec<i64> = batches.flat_map(|(_, y)| ints(&y)).collect();
    assert_ne!(seen, (0..100).collect::<Vec<i64>>(), "a random order of 100 examples is almost surely not the identity");
    seen.sort();
    assert_eq!(seen, (0..100).collect::<Vec<i64>>());
    // A single tensor works as well as a pair.
    assert_eq!(Batches::new(numbered(5).0, 2, true).map(|x| x.dims()[0]).collect::<Vec<_>>(), [2, 2, 1]);
}

fn tiny_fashion_mnist(n: usize) -> FashionMnist {
    let dir = temp_dir();
    let (images, labels) = generated(dir.path(), n);
    let data = ImageDataset::from_idx(&images, &labels, None, &d2l::device()).unwrap();
    FashionMnist { batch_size: 4, train: data.clone(), val: data, source: "generated".into(), resize: None }
}

#[test]
fn text_labels_and_dataloaders() {
    let data = tiny_fashion_mnist(10);
    let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 9, 5, 3], [4]), &d2l::device());
    assert_eq!(data.text_labels(&labels), ["t-shirt", "ankle boot", "sandal", "dress"]);
    let val: Vec<i64> = data.val_dataloader(&d2l::device()).flat_map(|(_, y)| ints(&y)).collect();
    assert_eq!(val, (0..10).collect::<Vec<i64>>());
    let (x, y) = data.train_dataloader(&d2l::device()).next().unwrap();
    assert_eq!((x.dims(), y.dims()), ([4, 1, 3, 2], [4]));
}

#[test]
fn the_image_grid_embeds_each_image_as_png_under_its_title() {
    let data = tiny_fashion_mnist(6);
    let images = data.train.images.clone().squeeze_dim::<3>(1);
    let titles: Vec<String> = ["a & b", "c", "two\nlines", "d", "e", "f"].map(String::from).to_vec();
    let svg = show_images_svg(&images, 2, 2, &titles, 10.0);
    assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    assert_eq!(svg.matches("<image ").count(), 4, "only num_rows * num_cols images");
    assert!(svg.contains(">a &amp; b</text>") && svg.contains(">two</text>") && svg.contains(">lines</text>"));
    assert!(!svg.contains(">e</text>"));
    // The first image decodes back to its pixels.
    let start = svg.find("base64,").unwrap() + "base64,".len();
    let end = start + svg[start..].find('"').unwrap();
    use base64::Engine;
    let png = base64::engine::general_purpose::STANDARD.decode(&svg[start..end]).unwrap();
    let mut reader = png::Decoder::new(std::io::Cursor::new(png)).read_info().unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buffer).unwrap();
    assert_eq!((info.width, info.height, info.color_type), (2, 3, png::ColorType::Grayscale));
    assert_eq!(&buffer[..info.buffer_size()], &pixels(1, 3, 2)[..]);
}

#[test]
fn loads_the_real_fashion_mnist() {
    let debian = Path::new(DEBIAN_FASHION_MNIST);
    assert!(debian.is_dir(), "install Debian's package `dataset-fashion-mnist` (scripts/test does)");
    let cache = temp_dir();
    let hub = DataHub { cache_dir: cache.path().to_path_buf(), mirrors: vec![debian.to_path_buf()] };
    let data = FashionMnist::load(&hub, 256).unwrap();
    assert_eq!(data.source, "/usr/share/datasets/fashion-mnist (SHA-1 verified)");
    let (n_train, n_val) = match d2l::scale() {
        d2l::Scale::Full => (60000, 10000),
        d2l::Scale::Smoke => (2000, 500),
    };
    assert_eq!((data.train.images.dims(), data.val.images.dims()), ([n_train, 1, 28, 28], [n_val, 1, 28, 28]));
    // The first validation images are an ankle boot, a pullover, two trousers and a shirt.
    assert_eq!(ints(&data.val.labels.clone().slice(0..5)), [9, 2, 1, 1, 6]);
    let (low, high) = (data.train.images.clone().min().into_scalar(), data.train.images.clone().max().into_scalar());
    assert_eq!((low, high), (0.0, 1.0));
    if n_train == 60000 {
        let mut counts = [0usize; 10];
        ints(&data.train.labels).into_iter().for_each(|c| counts[c as usize] += 1);
        assert_eq!(counts, [6000; 10], "6,000 training images per class");
    }
    assert_eq!(data.train_dataloader(&d2l::device()).len(), n_train.div_ceil(256));
}
