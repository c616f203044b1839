//! The data hub: downloads from a local HTTP server, checksums, the atomic cache, mirrors, and
//! the errors a reader sees when a file cannot be had. Files are generated here in the real
//! formats (CSV, gzip-compressed IDX); the hub's table is checked against the real files at hand.

mod common;

use std::path::Path;

use common::{Server, entries, gzip, house_csv, idx, pixels, refused_url, sha1_hex, temp_dir};
use d2l::linear_classification::{DATA_HUB, DataError, DataFile, DataHub, FASHION_MNIST_HUB, Source};

fn hub(cache: &Path, mirrors: &[&Path]) -> DataHub {
    DataHub { cache_dir: cache.to_path_buf(), mirrors: mirrors.iter().map(|m| m.to_path_buf()).collect() }
}

fn file(url: String, content: &[u8]) -> DataFile {
    DataFile { url, sha1: sha1_hex(content), gunzip: false }
}

#[test]
fn downloads_verifies_and_caches() {
    let csv = house_csv();
    let server = Server::start(vec![("data/house.csv", csv.clone())]);
    let cache = temp_dir();
    let hub = hub(cache.path(), &[]);
    let wanted = file(server.url("data/house.csv"), &csv);

    let fetched = hub.fetch(&wanted).unwrap();
    assert_eq!(fetched.path, cache.path().join("house.csv"));
    assert_eq!(fetched.source, Source::Url(server.url("data/house.csv")));
    assert_eq!(std::fs::read(&fetched.path).unwrap(), csv);
    // The file and the note of its origin, and no temporary file left behind.
    assert_eq!(entries(cache.path()), ["house.csv", "house.csv.source"]);

    // A second fetch is served by the cache and still knows where the bytes came from.
    let again = hub.fetch(&wanted).unwrap();
    assert_eq!(again, fetched);
    assert_eq!(server.hits("data/house.csv"), 1);
}

#[test]
fn creates_the_cache_folder() {
    let csv = house_csv();
    let server = Server::start(vec![("house.csv", csv.clone())]);
    let root = temp_dir();
    let cache = root.path().join("deep/er/cache");
    let fetched = hub(&cache, &[]).fetch(&file(server.url("house.csv"), &csv)).unwrap();
    assert_eq!(fetched.path, cache.join("house.csv"));
}

#[test]
fn gzip_files_are_checked_by_their_decompressed_content() {
    let content = idx(&[3, 2, 2], &pixels(3, 2, 2));
    let (original, recompressed) = (gzip(&content, 6), gzip(&content, 9));
    let server = Server::start(vec![("a/images.gz", original), ("b/images.gz", recompressed)]);
    for path in ["a/images.gz", "b/images.gz"] {
        let cache = temp_dir();
        let wanted = DataFile { url: server.url(path), sha1: sha1_hex(&content), gunzip: true };
        let fetched = hub(cache.path(), &[]).fetch(&wanted).unwrap();
        assert!(wanted.verify(&fetched.path).is_ok());
    }
}

#[test]
fn a_checksum_mismatch_is_an_error_and_stores_nothing() {
    let csv = house_csv();
    let server = Server::start(vec![("house.csv", csv)]);
    let cache = temp_dir();
    let wanted = DataFile { url: server.url("house.csv"), sha1: "0".repeat(40), gunzip: false };

    let error = hub(cache.path(), &[]).fetch(&wanted).unwrap_err();
    let DataError::Checksum { ref file, ref from, ref expected, ref found } = error else { panic!("{error}") };
    assert_eq!((file.as_str(), from.as_str(), expected.as_str()), ("house.csv", server.url("house.csv").as_str(), "0".repeat(40).as_str()));
    assert_eq!(found, &sha1_hex(&house_csv()));
    assert!(error.to_string().contains("it was not stored"), "{error}");
    assert_eq!(entries(cache.path()), Vec::<String>::new(), "the cache must stay empty");
}

#[test]
fn a_gzip_file_that_does_not_decompress_fails_its_checksum() {
    let server = Server::start(vec![("images.gz", b"not gzip at all".to_vec())]);
    let cache = temp_dir();
    let wanted = DataFile { url: server.url("images.gz"), sha1: sha1_hex(b"anything"), gunzip: true };
    let error = hub(cache.path(), &[]).fetch(&wanted).unwrap_err();
    assert!(matches!(&error, DataError::Checksum { found, .. } if found.contains("unreadable")), "{error}");
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[test]
fn a_partial_or_corrupt_cached_file_is_fetched_again() {
    let csv = house_csv();
    let server = Server::start(vec![("house.csv", csv.clone())]);
    let cache = temp_dir();
    let wanted = file(server.url("house.csv"), &csv);
    for (round, stale) in [&csv[..10], b"garbage garbage garbage".as_slice()].into_iter().enumerate() {
        std::fs::write(cache.path().join("house.csv"), stale).unwrap();
        let fetched = hub(cache.path(), &[]).fetch(&wanted).unwrap();
        assert_eq!(std::fs::read(&fetched.path).unwrap(), csv);
        assert_eq!(server.hits("house.csv"), round + 1);
    }
}

#[test]
fn a_file_put_into_the_cache_by_hand_is_used() {
    let csv = house_csv();
    let cache = temp_dir();
    std::fs::write(cache.path().join("house.csv"), &csv).unwrap();
    // The URL refuses connections: the cache must answer without the network.
    let fetched = hub(cache.path(), &[]).fetch(&file(refused_url("house.csv"), &csv)).unwrap();
    assert_eq!(fetched.source, Source::Cache(cache.path().to_path_buf()));
    assert!(fetched.source.to_string().ends_with("(put there by hand)"));
}

#[test]
fn offline_gives_an_error_that_names_the_file_the_url_and_the_cache() {
    let cache = temp_dir();
    let url = refused_url("kaggle_house_pred_train.csv");
    let error = hub(cache.path(), &[]).fetch(&file(url.clone(), b"x")).unwrap_err();
    assert!(matches!(error, DataError::Download { .. }), "{error:?}");
    let message = error.to_string();
    for part in ["`kaggle_house_pred_train.csv`", url.as_str(), &cache.path().display().to_string(), "D2L_DATA_MIRROR"] {
        assert!(message.contains(part), "`{part}` missing from: {message}");
    }
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[test]
fn an_http_error_status_is_an_error() {
    let server = Server::start(vec![]);
    let cache = temp_dir();
    let error = hub(cache.path(), &[]).fetch(&file(server.url("missing.csv"), b"x")).unwrap_err();
    assert!(matches!(&error, DataError::HttpStatus { status: 404, file, .. } if file == "missing.csv"), "{error:?}");
    assert!(error.to_string().contains("HTTP status 404"), "{error}");
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[test]
fn mirrors_come_before_the_network_in_order() {
    let csv = house_csv();
    let server = Server::start(vec![("house.csv", csv.clone())]);
    let (empty, mirror, later, cache) = (temp_dir(), temp_dir(), temp_dir(), temp_dir());
    std::fs::write(mirror.path().join("house.csv"), &csv).unwrap();
    std::fs::write(later.path().join("house.csv"), &csv).unwrap();

    let hub = hub(cache.path(), &[empty.path(), mirror.path(), later.path()]);
    let fetched = hub.fetch(&file(server.url("house.csv"), &csv)).unwrap();
    assert_eq!(fetched.source, Source::Folder(mirror.path().to_path_buf()));
    assert_eq!(std::fs::read(&fetched.path).unwrap(), csv);
    assert_eq!(server.hits("house.csv"), 0);
    // Later runs find it in the cache and remember the mirror.
    assert_eq!(hub.fetch(&file(server.url("house.csv"), &csv)).unwrap().source, fetched.source);
}

#[test]
fn a_wrong_file_in_a_mirror_is_an_error_that_names_the_mirror() {
    let csv = house_csv();
    let (mirror, cache) = (temp_dir(), temp_dir());
    std::fs::write(mirror.path().join("house.csv"), b"Id,Other\n1,2\n").unwrap();
    let error = hub(cache.path(), &[mirror.path()]).fetch(&file(refused_url("house.csv"), &csv)).unwrap_err();
    assert!(matches!(&error, DataError::Checksum { from, .. } if *from == mirror.path().display().to_string()), "{error:?}");
    assert_eq!(entries(cache.path()), Vec::<String>::new());
}

#[test]
fn the_hub_knows_the_book_files() {
    let house = DataFile::from_hub("kaggle_house_train").unwrap();
    assert_eq!(house.url, "http://d2l-data.s3-accelerate.amazonaws.com/kaggle_house_pred_train.csv");
    assert_eq!(house.sha1, "585e9cc93e70b39160e7921475f9bcd7d31219ce");
    assert_eq!(house.name(), "kaggle_house_pred_train.csv");
    assert!(!house.gunzip);
    let wiki = DataFile::from_hub("wikitext-2").unwrap();
    assert_eq!(wiki.url, "https://s3.amazonaws.com/research.metamind.io/wikitext/wikitext-2-v1.zip");
    let images = DataFile::from_hub("fashion_mnist_train_images").unwrap();
    assert_eq!(images.url, "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz");
    assert!(images.gunzip);
    for (name, _, sha1) in DATA_HUB.iter().chain(FASHION_MNIST_HUB) {
        assert!(sha1.len() == 40 && sha1.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "{name}");
        assert!(DataFile::from_hub(name).is_some());
    }
    assert_eq!(DataFile::from_hub("no-such-data"), None);
    let error = d2l::linear_classification::download("no-such-data").unwrap_err();
    assert!(matches!(error, DataError::UnknownName(ref name) if name == "no-such-data"), "{error}");
}

#[test]
fn the_hub_digests_match_the_real_files_at_hand() {
    // The project's shared data folder holds several of the book's files byte for byte.
    let shared = common::shared_data();
    let mut checked = Vec::new();
    for (name, _, _) in DATA_HUB {
        let wanted = DataFile::from_hub(name).unwrap();
        let path = shared.join(wanted.name());
        if path.is_file() {
            assert_eq!(wanted.verify(&path), Ok(()), "{name}: {}", path.display());
            checked.push(*name);
        }
    }
    for name in ["kaggle_house_train", "kaggle_house_test", "time_machine", "airfoil", "ptb"] {
        assert!(checked.contains(&name), "{name} is not in {}", shared.display());
    }
    // Debian's recompressed Fashion-MNIST files pass the checks of the decompressed content.
    let debian = Path::new(common::DEBIAN_FASHION_MNIST);
    assert!(debian.is_dir(), "install Debian's package `dataset-fashion-mnist` (scripts/test does)");
    for (name, _, _) in FASHION_MNIST_HUB {
        let wanted = DataFile::from_hub(name).unwrap();
        assert_eq!(wanted.verify(&debian.join(wanted.name())), Ok(()), "{name}");
    }
}
