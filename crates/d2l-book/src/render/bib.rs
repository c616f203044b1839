//! The bibliography (`book/d2l.bib`): author-year citations and a references page.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use biblatex::{Bibliography, ChunksExt};

/// One entry, formatted.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Reference {
    /// The BibTeX key.
    pub key: String,
    /// `Turing, 1950` style label.
    pub cite: String,
    /// Authors.
    pub authors: String,
    /// Year.
    pub year: String,
    /// Title.
    pub title: String,
    /// Journal, book title or publisher.
    pub venue: String,
}

/// The book's references by key.
pub type Bib = BTreeMap<String, Reference>;

/// Reads the `.bib` file; a missing file is an empty bibliography.
pub fn load(path: &Path) -> anyhow::Result<Bib> {
    let Ok(src) = std::fs::read_to_string(path) else { return Ok(Bib::new()) };
    let bib = Bibliography::parse(&src).map_err(|e| anyhow::anyhow!("{}: {e}", path.display())).with_context(|| format!("invalid bibliography `{}`", path.display()))?;
    let field = |e: &biblatex::Entry, k: &str| e.get(k).map(|c| c.format_verbatim()).unwrap_or_default();
    let mut out = Bib::new();
    for entry in bib.iter() {
        let people: Vec<String> = field(entry, "author").split(" and ").map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
        let last = |p: &str| p.split_once(',').map(|(l, _)| l.to_string()).unwrap_or_else(|| p.rsplit(' ').next().unwrap_or(p).to_string());
        let year = field(entry, "year");
        let who = match people.as_slice() {
            [] => "Anonymous".to_string(),
            [a] => last(a),
            [a, b] => format!("{} and {}", last(a), last(b)),
            [a, ..] => format!("{} et al.", last(a)),
        };
        let venue = ["journal", "booktitle", "publisher", "howpublished"].iter().map(|k| field(entry, k)).find(|v| !v.is_empty()).unwrap_or_default();
        out.insert(entry.key.clone(), Reference { key: entry.key.clone(), cite: format!("{who}, {year}"), authors: people.join(", "), year, title: field(entry, "title").replace(['{', '}'], ""), venue });
    }
    Ok(out)
}
