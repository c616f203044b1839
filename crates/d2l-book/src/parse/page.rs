//! One page: its title, numbered anchors (headings, figures, tables, equations), labels,
//! references, cells and table of contents, with byte offsets for error messages.

use std::path::PathBuf;

use pulldown_cmark::{CodeBlockKind, Event, Tag, TagEnd};

use super::cell::{self, Cell, Tabs};
use super::events::{Ev, ROLES, events};
use crate::diag::{Diagnostic, LineIndex, Location};

/// Where a page sits in the book.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageKind {
    /// `book/index.md`.
    Front,
    /// `book/chapter_x/index.md`.
    Chapter,
    /// `book/chapter_x/section.md`.
    Section,
}

/// What an anchor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorKind {
    /// `#`, `##`, ... (the level).
    Heading(u8),
    /// An image paragraph.
    Figure,
    /// A GFM table.
    Table,
    /// `$$..$$`.
    Equation,
}

/// An element that can carry a label and a number.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// Byte offset where the element starts (the render stage finds it by this).
    pub offset: usize,
    /// What it is.
    pub kind: AnchorKind,
    /// Its `:label:` / `:eqlabel:`.
    pub label: Option<String>,
    /// Its number as shown, e.g. `2.1.3` (None when unnumbered).
    pub number: Option<String>,
    /// Heading text or figure caption.
    pub title: String,
}

impl Anchor {
    /// The HTML id: the label, or a generated one.
    pub fn id(&self) -> String {
        self.label.clone().unwrap_or_else(|| format!("a{}", self.offset))
    }
}

/// A use of `:numref:`, `:eqref:`, `:ref:`, `:cite:` or `:citet:`, or a link to a `.md` file.
#[derive(Debug, Clone)]
pub struct Reference {
    /// The role (`link` for Markdown links).
    pub role: String,
    /// The labels, citation keys or link target.
    pub targets: Vec<String>,
    /// Byte offset of the reference.
    pub offset: usize,
}

/// One entry of a ```` ```toc ```` block.
#[derive(Debug, Clone)]
pub struct TocEntry {
    /// The path as written, without `.md`.
    pub target: String,
    /// 1-based line in the page.
    pub line: usize,
}

/// A parsed page.
#[derive(Debug, Clone)]
pub struct Page {
    /// Path relative to the book folder, e.g. `chapter_preliminaries/ndarray.md`.
    pub src: PathBuf,
    /// The path shown in messages and generated code: the book folder's name and `src`, e.g.
    /// `book/chapter_preliminaries/ndarray.md`.
    pub shown: PathBuf,
    /// The Markdown text.
    pub source: String,
    /// Front, chapter or section.
    pub kind: PageKind,
    /// Numbers, e.g. `[2, 1]` for Section 2.1 (empty for the front page).
    pub number: Vec<usize>,
    /// The `#` heading.
    pub title: String,
    /// Numbered and labelable elements in order.
    pub anchors: Vec<Anchor>,
    /// References to check and resolve.
    pub refs: Vec<Reference>,
    /// Rust cells in order.
    pub cells: Vec<Cell>,
    /// Entries of the page's toc blocks.
    pub toc: Vec<TocEntry>,
    lines: LineIndex,
}

impl Page {
    /// Parses `source`; problems are pushed to `diags`.
    pub fn parse(src: PathBuf, shown: PathBuf, source: String, kind: PageKind, number: Vec<usize>, diags: &mut Vec<Diagnostic>) -> Page {
        let lines = LineIndex::new(&source);
        let mut page = Page { src, shown, kind, number, title: String::new(), anchors: vec![], refs: vec![], cells: vec![], toc: vec![], source: source.clone(), lines };
        let evs = events(&source);
        let mut text_sink: Option<String> = None;
        let mut code: Option<(String, usize, usize)> = None; // (lang, fence offset, range end)
        let mut code_text = String::new();
        for (ev, range) in &evs {
            match ev {
                Ev::Md(Event::Start(Tag::Heading { level, .. })) => {
                    page.anchors.push(Anchor { offset: range.start, kind: AnchorKind::Heading(*level as u8), label: None, number: None, title: String::new() });
                    text_sink = Some(String::new());
                }
                Ev::Md(Event::Start(Tag::Image { .. })) => {
                    page.anchors.push(Anchor { offset: range.start, kind: AnchorKind::Figure, label: None, number: None, title: String::new() });
                    text_sink = Some(String::new());
                }
                Ev::Md(Event::End(TagEnd::Heading(_) | TagEnd::Image)) => {
                    if let (Some(text), Some(anchor)) = (text_sink.take(), page.anchors.last_mut()) {
                        anchor.title = text.trim().to_string();
                    }
                }
                Ev::Md(Event::Start(Tag::Table(_))) => page.anchors.push(Anchor { offset: range.start, kind: AnchorKind::Table, label: None, number: None, title: String::new() }),
                Ev::Md(Event::DisplayMath(_)) => page.anchors.push(Anchor { offset: range.start, kind: AnchorKind::Equation, label: None, number: None, title: String::new() }),
                Ev::Md(Event::Text(t) | Event::Code(t) | Event::InlineMath(t)) if code.is_none() => {
                    if let Some(sink) = &mut text_sink {
                        sink.push_str(t);
                    }
                }
                Ev::Md(Event::Start(Tag::Link { dest_url, .. })) => {
                    let dest = dest_url.split('#').next().unwrap_or_default();
                    if dest.ends_with(".md") && !dest.contains("://") {
                        page.refs.push(Reference { role: "link".into(), targets: vec![dest.to_string()], offset: range.start });
                    }
                }
                Ev::Md(Event::Start(Tag::CodeBlock(kind))) => {
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or_default().to_string(),
                        CodeBlockKind::Indented => String::new(),
                    };
                    code = Some((lang, range.start, range.end));
                    code_text.clear();
                }
                Ev::Md(Event::Text(t)) => code_text.push_str(t),
                Ev::Md(Event::End(TagEnd::CodeBlock)) => {
                    let (lang, start, end) = code.take().expect("a code block was open");
                    page.code_block(&lang, start, end, &code_text, diags);
                }
                Ev::Role { name, arg } => page.role(name, arg, range.start, diags),
                _ => {}
            }
        }
        page.title = page.anchors.iter().find(|a| a.kind == AnchorKind::Heading(1)).map(|a| a.title.clone()).unwrap_or_default();
        if page.title.is_empty() {
            diags.push(Diagnostic::new(page.location(0), "the page has no `# Title` heading").hint("start the page with `# Title` and a `:label:` line"));
        }
        page.number_anchors();
        page
    }

    /// The location of byte `offset`.
    pub fn location(&self, offset: usize) -> Location {
        let (line, col) = self.lines.line_col(&self.source, offset);
        Location { file: self.shown.clone(), line, col }
    }

    /// The 1-based line of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.location(offset).line
    }

    /// The file stem (`ndarray`), and `index` for index pages.
    pub fn stem(&self) -> &str {
        self.src.file_stem().and_then(|s| s.to_str()).unwrap_or_default()
    }

    /// The chapter folder (`chapter_preliminaries`), empty for the front page.
    pub fn chapter(&self) -> &str {
        self.src.parent().and_then(|p| p.to_str()).unwrap_or_default()
    }

    /// The page's number as text (`2.1`), empty for the front page.
    pub fn number_text(&self) -> String {
        self.number.iter().map(ToString::to_string).collect::<Vec<_>>().join(".")
    }

    /// The page's output path in the site, e.g. `chapter_preliminaries/ndarray.html`.
    pub fn html_path(&self) -> PathBuf {
        self.src.with_extension("html")
    }

    /// The label of the page's `#` heading.
    pub fn label(&self) -> Option<&str> {
        self.anchors.iter().find(|a| a.kind == AnchorKind::Heading(1)).and_then(|a| a.label.as_deref())
    }

    fn code_block(&mut self, lang: &str, start: usize, end: usize, text: &str, diags: &mut Vec<Diagnostic>) {
        let fence_line = self.line_of(start);
        let block = &self.source[start..end];
        let fence: String = block.trim_start().chars().take_while(|&c| c == '`' || c == '~').collect();
        let closed = fence.len() >= 3 && block.trim_end().lines().count() > 1 && block.trim_end().lines().last().is_some_and(|l| l.trim().starts_with(&fence));
        if !fence.is_empty() && !closed {
            diags.push(Diagnostic::new(self.location(start), format!("unterminated code fence `{fence}`")).hint(format!("close the cell with a line `{fence}`")));
            return;
        }
        match lang {
            "rust" => {
                let parsed = match cell::directives(text) {
                    Ok(d) => d,
                    Err(e) => {
                        let loc = Location { file: self.shown.clone(), line: fence_line + 1 + e.line, col: 1 };
                        diags.push(Diagnostic::new(loc, e.message).hint(e.hint));
                        return;
                    }
                };
                let code: String = text.lines().skip(parsed.lines).map(|l| format!("{l}\n")).collect();
                self.cells.push(Cell {
                    index: self.cells.len(),
                    offset: start,
                    end,
                    line: fence_line,
                    code_line: fence_line + 1 + parsed.lines,
                    code,
                    tabs: parsed.tabs.unwrap_or(Tabs::Default),
                    save: parsed.save,
                    hide: parsed.hide,
                });
            }
            "toc" => {
                for (i, line) in text.lines().enumerate() {
                    let entry = line.trim();
                    if !entry.is_empty() && !entry.starts_with(':') {
                        self.toc.push(TocEntry { target: entry.trim_end_matches(".md").to_string(), line: fence_line + 1 + i });
                    }
                }
            }
            _ => {}
        }
    }

    fn role(&mut self, name: &str, arg: &str, offset: usize, diags: &mut Vec<Diagnostic>) {
        if !ROLES.contains(&name) {
            let loc = self.location(offset);
            diags.push(Diagnostic::new(loc, format!("unknown role `:{name}:`")).hint(format!("roles are {}", ROLES.iter().map(|r| format!("`:{r}:`")).collect::<Vec<_>>().join(", "))));
            return;
        }
        match name {
            "label" | "eqlabel" => {
                let wanted_eq = name == "eqlabel";
                match self.anchors.last_mut() {
                    Some(anchor) if anchor.label.is_none() && (anchor.kind == AnchorKind::Equation) == wanted_eq => anchor.label = Some(arg.to_string()),
                    _ => {
                        let what = if wanted_eq { "`:eqlabel:` must follow a `$$..$$` equation" } else { "`:label:` must follow a heading, a figure or a table" };
                        let loc = self.location(offset);
                        diags.push(Diagnostic::new(loc, format!("`{arg}` labels nothing: {what}")).hint("put the label on the line right after the element it names"));
                    }
                }
            }
            _ => self.refs.push(Reference { role: name.to_string(), targets: arg.split(',').map(|s| s.trim().to_string()).collect(), offset }),
        }
    }

    fn number_anchors(&mut self) {
        let base = self.number_text();
        let numbered = !self.number.is_empty();
        let (mut h2, mut fig, mut tab, mut eq) = (0, 0, 0, 0);
        let join = |n: usize| if base.is_empty() { n.to_string() } else { format!("{base}.{n}") };
        for anchor in &mut self.anchors {
            anchor.number = match anchor.kind {
                AnchorKind::Heading(1) if numbered => Some(base.clone()),
                AnchorKind::Heading(2) if numbered => {
                    h2 += 1;
                    Some(join(h2))
                }
                AnchorKind::Figure if numbered => {
                    fig += 1;
                    Some(join(fig))
                }
                AnchorKind::Table if numbered && anchor.label.is_some() => {
                    tab += 1;
                    Some(join(tab))
                }
                AnchorKind::Equation if numbered && anchor.label.is_some() => {
                    eq += 1;
                    Some(join(eq))
                }
                _ => None,
            };
        }
    }
}

impl Page {
    /// The location of the start of 1-based `line`.
    pub fn location_of_line(&self, line: usize) -> Location {
        Location { file: self.shown.clone(), line, col: 1 }
    }
}
