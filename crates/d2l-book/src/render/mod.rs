//! Stage 6, render: the static site in `_build/html/`, usable from `file://` and offline.
//! Pages go through a minijinja template; CSS and JS are files under `assets/` (a book may
//! override any of them with a file of the same name in `book/theme/`).

mod bib;
mod highlight;
pub mod math;
mod notebook;
mod page;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Serialize;

use crate::cache::SectionOutputs;
use crate::fsutil::write_atomic;
use crate::parse::{Book, PageKind, Target};
pub use bib::{Bib, load as load_bib};
pub use page::OutputsByPage;

/// What every page's rendering needs to know about the whole book.
pub struct Context<'a> {
    /// The book.
    pub book: &'a Book,
    /// Every label.
    pub targets: HashMap<&'a str, Target>,
    /// The bibliography.
    pub bib: Bib,
}

impl Context<'_> {
    /// The relative path from page `from` to the site root (`""` or `"../"`).
    fn root(&self, from: usize) -> &'static str {
        if self.book.pages[from].kind == PageKind::Front { "" } else { "../" }
    }

    /// A relative link from page `from` to page `to`, with an optional anchor.
    fn href(&self, from: usize, to: usize, id: Option<&str>) -> String {
        let page = &self.book.pages[to];
        let frag = id.filter(|_| page.label() != id).map(|i| format!("#{i}")).unwrap_or_default();
        format!("{}{}{frag}", self.root(from), page.html_path().display())
    }
}

/// HTML-escapes text.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

const TEMPLATE: &str = include_str!("../../assets/page.html");
const STYLE: &str = include_str!("../../assets/style.css");
const SCRIPT: &str = include_str!("../../assets/book.js");

/// Options of one render.
pub struct Options {
    /// A banner saying which scale produced the outputs (smoke builds are not the real book).
    pub scale_note: Option<String>,
    /// Poll the server for rebuilds (set by `serve`).
    pub live_reload: bool,
}

#[derive(Serialize)]
struct NavPage {
    number: String,
    title: String,
    url: String,
    current: bool,
    sections: Vec<NavPage>,
}

#[derive(Serialize)]
struct SearchEntry<'a> {
    t: &'a str,
    n: String,
    u: String,
    b: String,
}

/// Renders every page into `out`; returns how many pages were written.
pub fn site(book: &Book, outputs: &OutputsByPage, out: &Path, options: &Options) -> anyhow::Result<usize> {
    let bib = bib::load(&book.dir.join("d2l.bib"))?;
    let cx = Context { book, targets: book.targets(), bib };
    let mut env = minijinja::Environment::new();
    let template = theme_file(book, "page.html").unwrap_or_else(|| TEMPLATE.to_string());
    env.add_template_owned("page.html", template).context("invalid page template")?;
    let tmpl = env.get_template("page.html")?;
    let setup = notebook_setup(book)?;
    let mut search = Vec::new();
    for (i, page) in book.pages.iter().enumerate() {
        let rendered = page::render(&cx, i, outputs.get(&i));
        let prev = i.checked_sub(1).map(|p| link(&cx, i, p));
        let next = (i + 1 < book.pages.len()).then(|| link(&cx, i, i + 1));
        let notebook = notebook::notebook(&cx, i, outputs.get(&i), &setup).map(|nb| -> anyhow::Result<String> {
            let rel = Path::new("notebooks").join(page.src.with_extension("ipynb"));
            write_atomic(&out.join(&rel), nb)?;
            Ok(format!("{}{}", cx.root(i), rel.display()))
        });
        let discussion = (page.kind == PageKind::Section).then(|| book.config.discussion_url.replace("{chapter}", page.chapter()).replace("{section}", page.stem()));
        let html = tmpl.render(minijinja::context! {
            book_title => &book.config.title,
            authors => &book.config.authors,
            title => &page.title,
            number => page.number_text(),
            content => minijinja::Value::from_safe_string(rendered.html),
            nav => minijinja::Value::from(minijinja::value::Serde(nav(&cx, i))),
            prev => prev,
            next => next,
            root => cx.root(i),
            notebook => notebook.transpose()?.map(|url| minijinja::Value::from_safe_string(escape(&url))),
            discussion => discussion.map(|url| minijinja::Value::from_safe_string(escape(&url))),
            scale_note => &options.scale_note,
            live_reload => options.live_reload,
            source => page.src.display().to_string(),
            seconds => outputs.get(&i).map(|o: &SectionOutputs| format!("{:.1}", o.seconds)),
        })?;
        write_atomic(&out.join(page.html_path()), html)?;
        search.push(SearchEntry { t: &page.title, n: page.number_text(), u: page.html_path().display().to_string(), b: rendered.text.split_whitespace().collect::<Vec<_>>().join(" ") });
    }
    let bib_page = bibliography(&cx, &tmpl, options)?;
    write_atomic(&out.join("bibliography.html"), bib_page)?;
    write_atomic(&out.join("search-index.js"), format!("window.D2L_SEARCH = {};\n", serde_json::to_string(&search)?))?;
    write_atomic(&out.join("style.css"), theme_file(book, "style.css").unwrap_or_else(|| STYLE.to_string()))?;
    write_atomic(&out.join("highlight.css"), highlight::css())?;
    write_atomic(&out.join("book.js"), theme_file(book, "book.js").unwrap_or_else(|| SCRIPT.to_string()))?;
    copy_dir(&book.dir.join("img"), &out.join("img"))?;
    Ok(book.pages.len())
}

/// The first cell of every notebook: evcxr `:dep` lines for the library (at its place in the
/// repository, seen from `_build/html/notebooks/<chapter>/`) and the crates programs may use.
fn notebook_setup(book: &Book) -> anyhow::Result<String> {
    let lib = &book.config.library;
    let mut setup = format!("// Run with the evcxr Jupyter kernel from the repository's `_build/html/notebooks/<chapter>/`.\n:dep {} = {{ path = \"../../../../{}\" }}\n", lib.name, Path::new("book").join(&lib.path).display());
    for (name, spec) in crate::program::program_dependencies(book, &crate::workspace::Paths::for_book(book)?)? {
        setup.push_str(&format!(":dep {name} = {spec}\n"));
    }
    setup.push_str(&format!("use {}::prelude::*;", lib.name.replace('-', "_")));
    Ok(setup)
}

fn theme_file(book: &Book, name: &str) -> Option<String> {
    std::fs::read_to_string(book.dir.join("theme").join(name)).ok()
}

fn link(cx: &Context<'_>, from: usize, to: usize) -> minijinja::Value {
    let p = &cx.book.pages[to];
    minijinja::context! { title => p.title.clone(), number => p.number_text(), url => cx.href(from, to, None) }
}

fn nav(cx: &Context<'_>, from: usize) -> Vec<NavPage> {
    let book = cx.book;
    let entry = |i: usize, sections| NavPage { number: book.pages[i].number_text(), title: book.pages[i].title.clone(), url: cx.href(from, i, None), current: i == from, sections };
    book.pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == PageKind::Chapter)
        .map(|(c, chapter)| {
            let sections = book.pages.iter().enumerate().filter(|(_, p)| p.kind == PageKind::Section && p.number[0] == chapter.number[0]).map(|(s, _)| entry(s, vec![])).collect();
            entry(c, sections)
        })
        .collect()
}

fn bibliography(cx: &Context<'_>, tmpl: &minijinja::Template<'_, '_>, options: &Options) -> anyhow::Result<String> {
    let cited: std::collections::BTreeSet<&str> = cx.book.pages.iter().flat_map(|p| &p.refs).filter(|r| r.role == "cite" || r.role == "citet").flat_map(|r| r.targets.iter().map(String::as_str)).collect();
    let mut items: Vec<_> = cx.bib.values().filter(|r| cited.contains(r.key.as_str())).collect();
    items.sort_by(|a, b| a.cite.cmp(&b.cite));
    let list: String = items
        .iter()
        .map(|r| format!("<li id=\"{}\"><span class=\"authors\">{}</span> ({}). <cite>{}</cite>. {}</li>", escape(&r.key), escape(&r.authors), escape(&r.year), escape(&r.title), escape(&r.venue)))
        .collect();
    let last = cx.book.pages.len() - 1;
    Ok(tmpl.render(minijinja::context! {
        book_title => &cx.book.config.title,
        title => "References",
        number => "",
        content => minijinja::Value::from_safe_string(format!("<h1 id=\"references\">References</h1>\n<ol class=\"bibliography\">{list}</ol>")),
        nav => minijinja::Value::from(minijinja::value::Serde(nav(cx, 0))),
        prev => link(cx, 0, last),
        root => "",
        scale_note => &options.scale_note,
        live_reload => options.live_reload,
    })?)
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.is_dir() {
        return Ok(());
    }
    for entry in walkdir::WalkDir::new(from).into_iter().flatten().filter(|e| e.file_type().is_file()) {
        let rel: PathBuf = entry.path().strip_prefix(from)?.to_path_buf();
        let bytes = std::fs::read(entry.path()).with_context(|| format!("failed to read `{}`", entry.path().display()))?;
        write_atomic(&to.join(rel), bytes)?;
    }
    Ok(())
}
