//! Where things are: the Cargo workspace around the library, the tool's work folder, the cargo
//! target folder and the site's output folder.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::parse::Book;

/// The folders a build reads and writes.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The Cargo workspace that holds the library (its `Cargo.toml`, `Cargo.lock`, profiles).
    pub root: PathBuf,
    /// The tool's own folder for generated programs, smoke outputs and run files.
    pub work: PathBuf,
    /// Cargo's target folder, shared with the root workspace so the library builds once.
    pub cargo_target: PathBuf,
    /// The site.
    pub html: PathBuf,
}

impl Paths {
    /// The default layout: everything next to the book folder (`target/`, `_build/html/`).
    pub fn for_book(book: &Book) -> anyhow::Result<Paths> {
        let lib = absolute(&crate::library::crate_dir(book))?;
        let root = workspace_root(&lib).with_context(|| format!("the library crate `{}` is in no Cargo workspace", lib.display()))?;
        let base = absolute(book.dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))?;
        let cargo_target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).map_or_else(|| Ok(base.join("target")), |p| absolute(&p))?;
        Ok(Paths { root, work: base.join("target/d2l-book"), cargo_target, html: base.join("_build/html") })
    }
}

/// `path` made absolute against the current directory (without resolving links).
pub fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("failed to resolve `{}`", path.display()))
}

/// The nearest folder at or above `dir` whose `Cargo.toml` has a `[workspace]` table.
fn workspace_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| std::fs::read_to_string(d.join("Cargo.toml")).is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))).map(Path::to_path_buf)
}

/// The root workspace's `Cargo.toml`, parsed.
pub fn root_manifest(paths: &Paths) -> anyhow::Result<toml::Table> {
    let path = paths.root.join("Cargo.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
    text.parse().with_context(|| format!("invalid `{}`", path.display()))
}
