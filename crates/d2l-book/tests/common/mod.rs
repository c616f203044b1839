//! Fixture books copied into a temporary folder, and the `d2l-book` binary run on them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// This package's folder, as cargo sets it for the running test. `env!` would bake in the
/// folder of the checkout that compiled the binary, and cargo reuses a test binary from another
/// checkout that shares the target folder when the sources there are not newer.
pub(crate) fn package_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
}

/// A copy of a fixture under `tests/fixtures/`.
pub(crate) struct Fixture {
    /// Keeps the folder alive.
    _dir: tempfile::TempDir,
    /// The copy's root (holding `book/` and `lib/`).
    pub(crate) root: PathBuf,
}

impl Fixture {
    /// Copies fixture `name`, pointing its library at this repository's `d2l-capture`.
    pub(crate) fn new(name: &str) -> Fixture {
        let src = package_dir().join("tests/fixtures").join(name);
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path().join(name);
        copy(&src, &root);
        let capture = package_dir().join("../d2l-capture").canonicalize().unwrap();
        let manifest = root.join("lib/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap().replace("D2L_CAPTURE_PATH", &capture.display().to_string());
        std::fs::write(&manifest, text).unwrap();
        Fixture { _dir: dir, root }
    }

    /// Runs `d2l-book --book book ARGS` in the copy.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_d2l-book"))
            .arg("--book")
            .arg("book")
            .args(args)
            .current_dir(&self.root)
            .env_remove("D2L_SCALE")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("d2l-book runs");
        Run::from(out)
    }

    /// Edits a file of the copy with a replacement that must apply.
    pub(crate) fn edit(&self, rel: &str, from: &str, to: &str) {
        let path = self.root.join(rel);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "`{from}` is not in {rel}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }

    /// Appends to a file of the copy.
    pub(crate) fn append(&self, rel: &str, text: &str) {
        let path = self.root.join(rel);
        let mut old = std::fs::read_to_string(&path).unwrap();
        old.push_str(text);
        std::fs::write(&path, old).unwrap();
    }

    /// Reads a file of the copy.
    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
    }

    /// The 1-based line of the first line of `rel` that contains `needle`.
    pub(crate) fn line_of(&self, rel: &str, needle: &str) -> usize {
        self.read(rel).lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("`{needle}` not in {rel}")) + 1
    }
}

/// What a run printed and how it ended.
pub(crate) struct Run {
    /// Exit success.
    pub(crate) ok: bool,
    /// stdout.
    pub(crate) stdout: String,
    /// stderr.
    pub(crate) stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run { ok: out.status.success(), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
    }
}

impl Run {
    /// Asserts success, showing stderr otherwise.
    pub(crate) fn success(self) -> Run {
        assert!(self.ok, "d2l-book failed:\n{}", self.stderr);
        self
    }

    /// Asserts failure.
    pub(crate) fn failure(self) -> Run {
        assert!(!self.ok, "d2l-book should have failed:\n{}", self.stderr);
        self
    }
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
