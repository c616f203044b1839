//! `book/d2l.toml`: the book's settings, typed and strict.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The book's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookConfig {
    /// The book's title, shown in the header of every page.
    pub title: String,
    /// The authors, shown on the front page.
    pub authors: Vec<String>,
    /// Frameworks shown as tabs, in order; the first is the tab of an unmarked cell.
    pub frameworks: Vec<String>,
    /// Discussion link of a section; `{chapter}` and `{section}` are replaced by file stems.
    pub discussion_url: String,
    /// The library crate that `//@save` cells are generated into.
    pub library: LibraryConfig,
    /// How section programs are built and run.
    pub programs: ProgramsConfig,
}

/// Where the generated library lives.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibraryConfig {
    /// Crate folder, relative to `d2l.toml`.
    pub path: PathBuf,
    /// Crate name that section programs import (`d2l`).
    pub name: String,
}

/// How section programs are built and run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramsConfig {
    /// Crates a program may `use` directly; specs come from the root `[workspace.dependencies]`.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Time limit for one section at full scale, in seconds (default 1800).
    #[serde(default = "default_timeout")]
    pub timeout_s: u64,
    /// The path of a unit struct that every program uses as its global allocator, such as
    /// `d2l::runtime::Allocator`; the Rust default when unset.
    #[serde(default)]
    pub global_allocator: Option<String>,
    /// Features of the library crate that programs are built with, such as `vulkan` for a GPU
    /// backend; none by default. `--features` (or `D2L_FEATURES`) on the command line replaces
    /// the list. The features are part of every section's cache key.
    #[serde(default)]
    pub features: Vec<String>,
}

fn default_timeout() -> u64 {
    1800
}

impl BookConfig {
    /// Reads `d2l.toml` in `book_dir`.
    pub fn load(book_dir: &Path) -> anyhow::Result<Self> {
        let path = book_dir.join("d2l.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("failed to read `{}`: is this a book folder?", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid book settings in `{}`", path.display()))
    }

    /// The framework of a cell without `//@tab`.
    pub fn default_framework(&self) -> &str {
        &self.frameworks[0]
    }
}
