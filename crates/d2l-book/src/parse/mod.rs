//! Stage 1, parse: reads the book folder into plain data (pages in reading order, with their
//! cells, anchors and references) and checks everything that needs only the text.

pub mod cell;
pub mod events;
pub mod page;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::BookConfig;
use crate::workspace::absolute as workspace_absolute;
use crate::diag::{Diagnostic, Diagnostics, Location};
pub use cell::{Cell, Tabs};
pub use page::{Anchor, AnchorKind, Page, PageKind};

/// The whole book, parsed.
#[derive(Debug, Clone)]
pub struct Book {
    /// The book folder as given (e.g. `book`).
    pub dir: PathBuf,
    /// `d2l.toml`.
    pub config: BookConfig,
    /// Pages in reading order: the front page, then each chapter's index and sections.
    pub pages: Vec<Page>,
}

/// What a label points at.
#[derive(Debug, Clone)]
pub struct Target {
    /// Index of the page in [`Book::pages`].
    pub page: usize,
    /// The anchor's HTML id.
    pub id: String,
    /// What it is.
    pub kind: AnchorKind,
    /// Its number, if numbered.
    pub number: Option<String>,
    /// Heading text or caption.
    pub title: String,
}

impl Book {
    /// Loads and parses the book in `dir`, following the toc blocks from `index.md`.
    /// Every problem in the text is collected into one [`Diagnostics`] error.
    pub fn load(dir: &Path) -> anyhow::Result<Book> {
        let config = BookConfig::load(dir)?;
        let mut diags = Vec::new();
        let mut pages = Vec::new();
        let front = read_page(dir, Path::new("index.md"), PageKind::Front, vec![], &mut diags)?;
        let chapters = front.toc.clone();
        pages.push(front);
        // Each page once: a page listed twice would repeat all its labels and programs.
        let mut listed: HashMap<PathBuf, Location> = HashMap::new();
        let mut listed_twice = |src: &Path, at: Location, diags: &mut Vec<Diagnostic>| match listed.get(src) {
            Some(first) => {
                let hint = format!("first listed at {}:{}; remove one of the entries", first.file.display(), first.line);
                diags.push(Diagnostic::new(at, format!("`{}` is listed twice in the toc blocks", src.display())).hint(hint));
                true
            }
            None => {
                listed.insert(src.to_path_buf(), at);
                false
            }
        };
        for (c, entry) in chapters.iter().enumerate() {
            let src = PathBuf::from(format!("{}.md", entry.target));
            if listed_twice(&src, pages[0].location_of_line(entry.line), &mut diags) {
                continue;
            }
            if !dir.join(&src).is_file() {
                diags.push(Diagnostic::new(pages[0].location_of_line(entry.line), format!("toc entry `{}` names no file `{}`", entry.target, dir.join(&src).display())).hint("toc entries are paths without `.md`, relative to the page"));
                continue;
            }
            let chapter = read_page(dir, &src, PageKind::Chapter, vec![c + 1], &mut diags)?;
            let chapter_index = pages.len();
            let folder = src.parent().map(Path::to_path_buf).unwrap_or_default();
            let sections = chapter.toc.clone();
            pages.push(chapter);
            for (s, entry) in sections.iter().enumerate() {
                let src = folder.join(format!("{}.md", entry.target));
                if listed_twice(&src, pages[chapter_index].location_of_line(entry.line), &mut diags) {
                    continue;
                }
                if !dir.join(&src).is_file() {
                    diags.push(Diagnostic::new(pages[chapter_index].location_of_line(entry.line), format!("toc entry `{}` names no file `{}`", entry.target, dir.join(&src).display())).hint("toc entries are paths without `.md`, relative to the page"));
                    continue;
                }
                pages.push(read_page(dir, &src, PageKind::Section, vec![c + 1, s + 1], &mut diags)?);
            }
        }
        let book = Book { dir: dir.to_path_buf(), config, pages };
        book.check_structure(&mut diags);
        if diags.is_empty() { Ok(book) } else { Err(Diagnostics(diags).into()) }
    }

    /// Every label in the book and what it points at.
    pub fn targets(&self) -> HashMap<&str, Target> {
        let mut map = HashMap::new();
        for (p, page) in self.pages.iter().enumerate() {
            for anchor in &page.anchors {
                if let Some(label) = &anchor.label {
                    map.entry(label.as_str()).or_insert_with(|| Target { page: p, id: anchor.id(), kind: anchor.kind, number: anchor.number.clone(), title: anchor.title.clone() });
                }
            }
        }
        map
    }

    /// The pages that have cells, with their chapter: the sections that become programs.
    pub fn runnable(&self) -> impl Iterator<Item = &Page> {
        self.pages.iter().filter(|p| p.cells.iter().any(|c| !c.save))
    }

    /// Finds a page by `chapter/section`, by a unique section stem, or by its label.
    pub fn find(&self, name: &str) -> anyhow::Result<&Page> {
        let name = name.trim_end_matches(".md");
        let matches: Vec<&Page> = self
            .pages
            .iter()
            .filter(|p| p.src.with_extension("").to_str() == Some(name) || p.stem() == name || p.label() == Some(name))
            .collect();
        match matches.as_slice() {
            [page] => Ok(page),
            [] => anyhow::bail!("no section `{name}` in the book: name it as `chapter_x/section`, by its file stem or by its label"),
            _ => anyhow::bail!("`{name}` names several pages: use `chapter_x/section`"),
        }
    }

    /// Checks labels, references and cell tabs across the whole book.
    fn check_structure(&self, diags: &mut Vec<Diagnostic>) {
        let mut first: HashMap<&str, (usize, usize)> = HashMap::new();
        for (p, page) in self.pages.iter().enumerate() {
            for anchor in &page.anchors {
                let Some(label) = &anchor.label else { continue };
                if let Some(&(q, offset)) = first.get(label.as_str()) {
                    let earlier = self.pages[q].location(offset);
                    diags.push(Diagnostic::new(page.location(anchor.offset), format!("duplicate label `{label}`")).hint(format!("first defined at {earlier}; labels are unique in the book")));
                } else {
                    first.insert(label, (p, anchor.offset));
                }
            }
        }
        let targets = self.targets();
        for page in &self.pages {
            for r in &page.refs {
                for target in &r.targets {
                    let problem = match r.role.as_str() {
                        "numref" | "ref" | "eqref" => match targets.get(target.as_str()) {
                            None => Some(format!("unresolved reference `:{}:`{target}``", r.role)),
                            Some(t) if r.role == "eqref" && t.kind != AnchorKind::Equation => Some(format!("`:eqref:` names `{target}`, which is not an equation")),
                            Some(t) if r.role == "numref" && t.number.is_none() => Some(format!("`:numref:` names `{target}`, which has no number")),
                            _ => None,
                        },
                        "link" => {
                            let path = self.dir.join(page.chapter()).join(target);
                            (!path.is_file()).then(|| format!("link to `{target}`, but `{}` does not exist", path.display()))
                        }
                        _ => None, // citations are checked against the bibliography by `check`
                    };
                    if let Some(message) = problem {
                        diags.push(Diagnostic::new(page.location(r.offset), message).hint("check the spelling, or add the label after the element it names"));
                    }
                }
            }
            for cell in &page.cells {
                if let Tabs::Only(names) = &cell.tabs {
                    for name in names.iter().filter(|n| !self.config.frameworks.contains(n)) {
                        diags.push(Diagnostic::new(page.location_of_line(cell.line + 1), format!("unknown framework `{name}` in `//@tab`")).hint(format!("frameworks in d2l.toml: {}", self.config.frameworks.join(", "))));
                    }
                }
                if cell.save && !cell.is_for(self.config.default_framework(), self.config.default_framework()) {
                    diags.push(Diagnostic::new(page.location_of_line(cell.line), "a `//@save` cell must belong to the default framework").hint(format!("the library is built for `{}`", self.config.default_framework())));
                }
            }
        }
        self.check_unlisted(diags);
    }

    /// Every `.md` file under a chapter folder must be reachable from a toc.
    fn check_unlisted(&self, diags: &mut Vec<Diagnostic>) {
        let listed: BTreeSet<&Path> = self.pages.iter().map(|p| p.src.as_path()).collect();
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut folders: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("chapter_"))).collect();
        folders.sort();
        for folder in folders {
            let Ok(files) = std::fs::read_dir(&folder) else { continue };
            let mut files: Vec<PathBuf> = files.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
            files.sort();
            for file in files {
                let rel = file.strip_prefix(&self.dir).unwrap_or(&file);
                if !listed.contains(rel) {
                    let loc = crate::diag::Location { file: file.clone(), line: 1, col: 1 };
                    diags.push(Diagnostic::new(loc, "this page is in no toc").hint("list it in its chapter's `index.md` toc block"));
                }
            }
        }
    }
}

fn read_page(dir: &Path, src: &Path, kind: PageKind, number: Vec<usize>, diags: &mut Vec<Diagnostic>) -> anyhow::Result<Page> {
    let path = dir.join(src);
    let source = std::fs::read_to_string(&path).with_context(|| format!("failed to read `{}`", path.display()))?;
    // Shown as `<book folder name>/<src>` however the folder was named on the command line:
    // the name ends up in generated code, which must not depend on the working directory.
    let folder = workspace_absolute(dir).ok().and_then(|d| d.file_name().map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("book"));
    Ok(Page::parse(src.to_path_buf(), folder.join(src), source, kind, number, diags))
}
