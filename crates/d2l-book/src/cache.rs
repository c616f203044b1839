//! Cached outputs of real runs, one JSON file per section, keyed by a hash of everything the
//! outputs depend on: the section's programs, the library crate's hand-written sources and the
//! code saved by the book up to the section itself, `Cargo.lock` and the scale. Full-scale
//! outputs are committed under `book/_outputs/`; smoke ones stay in `target/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fsutil::write_atomic;
use crate::library::Library;
use crate::parse::{Book, Page};
use crate::program::Programs;
use crate::workspace::Paths;

pub use d2l_capture::Scale;

/// One item a cell printed or displayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Output {
    /// Text on stdout.
    Stdout {
        /// The text.
        text: String,
    },
    /// Text on stderr.
    Stderr {
        /// The text.
        text: String,
    },
    /// An SVG image (a plot).
    Svg {
        /// The SVG document.
        svg: String,
    },
}

/// The outputs of one section at one scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionOutputs {
    /// The hash of what the outputs depend on.
    pub key: String,
    /// `full` or `smoke`.
    pub scale: String,
    /// Wall time of the run, in seconds (all frameworks).
    pub seconds: f64,
    /// Per framework, per cell index, what the cell printed and displayed.
    pub frameworks: BTreeMap<String, BTreeMap<usize, Vec<Output>>>,
}

/// The name of a scale.
pub fn scale_name(scale: Scale) -> &'static str {
    match scale {
        Scale::Full => "full",
        Scale::Smoke => "smoke",
    }
}

/// Parses a scale name.
pub fn parse_scale(name: &str) -> anyhow::Result<Scale> {
    match name {
        "full" => Ok(Scale::Full),
        "smoke" => Ok(Scale::Smoke),
        other => anyhow::bail!("unknown scale `{other}`: use `full` or `smoke`"),
    }
}

/// Where a section's outputs live at a scale.
pub fn path(book: &Book, paths: &Paths, page: &Page, scale: Scale) -> PathBuf {
    let rel = page.src.with_extension("json");
    match scale {
        Scale::Full => book.dir.join("_outputs").join(rel),
        Scale::Smoke => paths.work.join("outputs-smoke").join(rel),
    }
}

/// The hash of what a section's outputs depend on, computed once per build for the shared part.
pub struct KeyBase {
    shared: Sha256,
    /// The code of each saved cell (comment lines left out), with the index of its page.
    saved: Vec<(usize, Vec<u8>)>,
    /// Per page, the last page whose saved cells its key covers.
    horizons: Vec<usize>,
}

impl KeyBase {
    /// Hashes the tool version, the library crate's hand-written sources and the capture crate
    /// (comment lines left out) and `Cargo.lock`; keeps the saved cells of `library` for `key`.
    ///
    /// The generated modules are left out here: a section uses what the book saved before it
    /// or in it (`Library::check_order` makes sure of that), so its key covers the saved cells
    /// up to its own page (further only where saved code calls something saved later, see
    /// `Library::horizon`), and saving or editing something in a later section does not make
    /// earlier sections' outputs stale.
    pub fn new(book: &Book, paths: &Paths, library: &Library) -> anyhow::Result<KeyBase> {
        let mut h = Sha256::new();
        h.update(concat!("d2l-book ", env!("CARGO_PKG_VERSION"), "\n"));
        let capture = crate::library::capture_dir(book)?;
        let generated = crate::library::crate_dir(book).join("src").join("generated");
        for dir in [crate::library::crate_dir(book), capture] {
            for file in crate::library::crate_sources(&dir).into_iter().filter(|f| !f.starts_with(&generated)) {
                let mut bytes = std::fs::read(&file).with_context(|| format!("failed to read `{}`", file.display()))?;
                if file.extension().is_some_and(|e| e == "rs") {
                    bytes = without_comment_lines(&bytes);
                }
                let rel = file.strip_prefix(&dir).unwrap_or(&file);
                h.update(format!("{}\n{}\n", rel.display(), bytes.len()));
                h.update(&bytes);
            }
        }
        if let Ok(lock) = std::fs::read(paths.root.join("Cargo.lock")) {
            h.update(&lock);
        }
        let saved = library.saved.iter().map(|(page, code)| (*page, without_comment_lines(code.as_bytes()))).collect();
        let horizons = (0..book.pages.len()).map(|page| library.horizon(page)).collect();
        Ok(KeyBase { shared: h, saved, horizons })
    }

    /// The key of page `page` at `scale`.
    pub fn key(&self, programs: &Programs, page: usize, scale: Scale) -> String {
        let mut h = self.shared.clone();
        let horizon = self.horizons.get(page).copied().unwrap_or(usize::MAX);
        for (_, code) in self.saved.iter().filter(|(p, _)| *p <= horizon) {
            h.update(format!("\nsaved {}\n", code.len()));
            h.update(code);
        }
        h.update(scale_name(scale));
        for program in programs.of_page(page) {
            h.update(format!("\n{}\n", program.selector));
            h.update(&program.code.text);
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Rust source without its comment lines: they cannot change what a section prints, and the
/// generated library's docs carry section numbers that change whenever the toc does.
fn without_comment_lines(source: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(source);
    text.lines().filter(|l| !l.trim_start().starts_with("//")).flat_map(|l| [l, "\n"]).collect::<String>().into_bytes()
}

/// Reads cached outputs, if any; a corrupt file counts as missing (it is re-run and rewritten).
pub fn load(path: &Path) -> Option<SectionOutputs> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Writes outputs atomically.
pub fn store(path: &Path, outputs: &SectionOutputs) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(outputs)?;
    text.push('\n');
    write_atomic(path, text)
}
