//! Cached outputs of real runs, one JSON file per section, keyed by a hash of everything the
//! outputs depend on: the section's programs, the library crate's hand-written sources and the
//! code saved by the book up to the section itself, the packages cargo resolved for the programs
//! and the scale. Full-scale outputs are committed under `book/_outputs/`; smoke ones stay in
//! `target/`.

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
    /// (comment lines left out) and the packages the programs build with (`resolved_packages`);
    /// keeps the saved cells of `library` for `key`. The generated workspace must be written.
    ///
    /// The generated modules are left out here: a section uses what the book saved before it
    /// or in it (`Library::check_order` makes sure of that), so its key covers the saved cells
    /// up to its own page (further only where saved code calls something saved later, see
    /// `Library::horizon`), and saving or editing something in a later section does not make
    /// earlier sections' outputs stale.
    pub fn new(book: &Book, programs: &Programs, library: &Library) -> anyhow::Result<KeyBase> {
        let mut h = Sha256::new();
        h.update(concat!("d2l-book ", env!("CARGO_PKG_VERSION"), "\n"));
        let capture = crate::library::capture_dir(book)?;
        let generated = crate::library::crate_dir(book).join("src").join("generated");
        let hashed = [crate::library::crate_dir(book), capture];
        for dir in &hashed {
            // Manifests are covered by what cargo resolved from them.
            for file in crate::library::crate_sources(dir).into_iter().filter(|f| !f.starts_with(&generated) && !f.ends_with("Cargo.toml")) {
                let mut bytes = read_source(&file)?;
                if file.extension().is_some_and(|e| e == "rs") {
                    bytes = without_comment_lines(&bytes);
                }
                hash_file(&mut h, dir, &file, &bytes);
            }
        }
        h.update(resolved_packages(&programs.dir, &hashed)?);
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

/// The packages the generated workspace builds, one line each: name, version, where it comes
/// from and enabled features, as `cargo tree` resolves them from `Cargo.lock` and the manifests
/// for every target platform (so the key is the same on every host), dev-dependencies left out.
/// A path package is `local`; outside the workspace and `hashed` (the library and capture
/// crates, hashed on their own), such as a vendored crate the root patches in, it also gets the
/// digest of its sources: editing its kernels changes results.
///
/// Not `Cargo.lock`, which also lists packages that only an optional feature builds (the GPU
/// backends), and a library feature turned on for the programs (`[programs] features`) changes
/// the features resolved here, not the lock. Not `cargo metadata` either: its resolve keeps an
/// optional dependency that some enabled feature names only weakly (`dep?/std`) although nothing
/// builds it (rust-lang/cargo#10801), so patching in a crate only a GPU feature builds, such as
/// cubecl-cuda, changed the CPU build's keys.
fn resolved_packages(workspace: &Path, hashed: &[PathBuf]) -> anyhow::Result<String> {
    let manifest = workspace.join("Cargo.toml");
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["tree", "--target", "all", "--edges", "normal,build", "--prefix", "none", "--format", "{p} [{f}]", "--manifest-path"])
        .arg(&manifest)
        .output()
        .context("failed to start `cargo tree`")?;
    if !out.status.success() {
        anyhow::bail!("`cargo tree` failed on `{}`:\n{}", manifest.display(), String::from_utf8_lossy(&out.stderr).trim_end());
    }
    let tree = String::from_utf8(out.stdout).context("`cargo tree` printed something that is not UTF-8")?;
    // Each member's tree repeats the packages the members share: digest each once.
    let packages: std::collections::BTreeSet<&str> = tree.lines().map(|l| l.trim_end_matches(" (*)")).filter(|l| !l.is_empty()).collect();
    packages.into_iter().map(|line| package_line(line, workspace, hashed)).collect()
}

/// One line of `cargo tree --format "{p} [{f}]"`, `name vX.Y.Z (from) [features]` where `from`
/// is a path, a git URL, `proc-macro` or missing (crates.io), with a path replaced by
/// `local_digest`.
fn package_line(line: &str, workspace: &Path, hashed: &[PathBuf]) -> anyhow::Result<String> {
    let (package, features) = line.rsplit_once(" [").with_context(|| format!("unexpected line from `cargo tree`: {line}"))?;
    let mut parts = package.splitn(3, ' ');
    let (name, version, from) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    let from = match from.strip_prefix('(').and_then(|f| f.split_once(')')) {
        Some((dir, rest)) if Path::new(dir).is_absolute() => format!("({}){rest}", local_digest(Path::new(dir), workspace, hashed)?),
        _ => from.to_string(),
    };
    Ok(format!("{name} {version} {from} [{features}\n"))
}

/// `local`, plus the SHA-256 of the sources of a path package that is neither in the generated
/// `workspace` (the programs, hashed per page) nor one of the `hashed` crates.
fn local_digest(dir: &Path, workspace: &Path, hashed: &[PathBuf]) -> anyhow::Result<String> {
    let canonical = |p: &Path| p.canonicalize().with_context(|| format!("failed to find `{}`", p.display()));
    let dir = canonical(dir)?;
    if dir.starts_with(canonical(workspace)?) || hashed.iter().any(|h| h.canonicalize().ok().as_deref() == Some(dir.as_path())) {
        return Ok("local".into());
    }
    let mut h = Sha256::new();
    for file in crate::library::crate_sources(&dir) {
        hash_file(&mut h, &dir, &file, &read_source(&file)?);
    }
    Ok(format!("local {:x}", h.finalize()))
}

fn read_source(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| format!("failed to read `{}`", file.display()))
}

/// Adds `file` (named relative to `dir`) and its `bytes` to a key.
fn hash_file(h: &mut Sha256, dir: &Path, file: &Path, bytes: &[u8]) {
    h.update(format!("{}\n{}\n", file.strip_prefix(dir).unwrap_or(file).display(), bytes.len()));
    h.update(bytes);
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
