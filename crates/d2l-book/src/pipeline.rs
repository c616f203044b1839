//! The driver: runs the stages in order (parse -> lib -> program -> build -> run -> render).
//! Commands are thin wrappers around these functions.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::cache::{self, KeyBase, Scale, SectionOutputs, scale_name};
use crate::diag::{Diagnostic, Diagnostics};
use crate::library::{self, Library};
use crate::parse::Book;
use crate::program::{self, Programs};
use crate::render::{self, OutputsByPage};
use crate::run::{self, Job};
use crate::sourcemap::MappedText;
use crate::workspace::Paths;

/// Parses the book and checks what needs no compiler: references, citations, math, and (with
/// `lib`) that the library matches the book. `features`, when given, replaces `[programs]
/// features` of `d2l.toml`.
pub fn check(book_dir: &Path, features: Option<&[String]>, lib: bool) -> anyhow::Result<(Book, Library)> {
    let mut book = Book::load(book_dir)?;
    if let Some(features) = features {
        book.config.programs.features = features.to_vec();
    }
    let library = library::generate(&book)?;
    let bib = render::load_bib(&book.dir.join("d2l.bib"))?;
    let mut diags = Vec::new();
    for page in &book.pages {
        for r in page.refs.iter().filter(|r| r.role == "cite" || r.role == "citet") {
            for key in r.targets.iter().filter(|k| !bib.contains_key(k.as_str())) {
                diags.push(Diagnostic::new(page.location(r.offset), format!("unknown citation key `{key}`")).hint(format!("add an entry `{key}` to `{}`", book.dir.join("d2l.bib").display())));
            }
        }
        for (ev, range) in crate::parse::events::events(&page.source) {
            if let crate::parse::events::Ev::Md(pulldown_cmark::Event::InlineMath(latex) | pulldown_cmark::Event::DisplayMath(latex)) = ev
                && let Err(e) = render::math::check(&latex)
            {
                diags.push(Diagnostic::new(page.location(range.start), format!("invalid math: {e}")).hint("the book renders standard LaTeX math; custom macros and `\\tag` are not available"));
            }
        }
    }
    diags.extend(library.check_order(&book));
    if lib && let Err(e) = library::check(&book, &library) {
        diags.extend(e.0);
    }
    if diags.is_empty() { Ok((book, library)) } else { Err(Diagnostics(diags).into()) }
}

/// Which sections to evaluate.
pub enum Selection<'a> {
    /// Every section whose cached outputs are stale.
    Stale,
    /// These sections (by name), stale or not.
    Named(&'a [String]),
}

/// Regenerates the library, generates the programs, builds the ones to run with one
/// `cargo build`, runs them and stores their outputs. Returns the outputs of every page.
pub fn evaluate(book: &Book, library: &Library, paths: &Paths, scale: Scale, selection: Selection<'_>) -> anyhow::Result<OutputsByPage> {
    for changed in library::write(book, library)? {
        eprintln!("   generated {}", changed.display());
    }
    let programs = program::generate(book, paths)?;
    // Written before the keys: they hash what cargo resolves for this workspace.
    program::write(&programs, paths)?;
    let base = KeyBase::new(book, &programs, library)?;
    let mut outputs = OutputsByPage::new();
    let mut todo = Vec::new();
    let named: BTreeSet<usize> = match &selection {
        Selection::Named(names) => names.iter().map(|n| book.find(n).map(|p| page_index(book, &p.src))).collect::<anyhow::Result<_>>()?,
        Selection::Stale => BTreeSet::new(),
    };
    let runnable: BTreeSet<usize> = programs.sections.iter().map(|s| s.page).collect();
    for &p in &runnable {
        let key = base.key(&programs, p, scale);
        let cached = cache::load(&cache::path(book, paths, &book.pages[p], scale));
        let fresh = cached.as_ref().is_some_and(|c| c.key == key);
        let wanted = match selection {
            Selection::Stale => !fresh,
            Selection::Named(_) => named.contains(&p),
        };
        if wanted {
            todo.push((p, key));
        } else if let Some(c) = cached {
            if !fresh {
                eprintln!("       stale {} (its outputs are from older code; `d2l-book eval` refreshes them)", book.pages[p].shown.display());
            }
            outputs.insert(p, c);
        }
    }
    if todo.is_empty() {
        eprintln!("    outputs: all {} sections fresh at scale `{}`", runnable.len(), scale_name(scale));
        return Ok(outputs);
    }
    let names: Vec<String> = todo.iter().map(|(p, _)| book.pages[*p].src.with_extension("").display().to_string()).collect();
    eprintln!("    outputs: {} of {} sections to run at scale `{}`: {}", todo.len(), runnable.len(), scale_name(scale), names.join(", "));
    build(book, library, &programs, paths)?;
    let mut failures = Vec::new();
    for (p, key) in todo {
        match run_section(book, &programs, paths, p, scale, key) {
            Ok(out) => {
                cache::store(&cache::path(book, paths, &book.pages[p], scale), &out)?;
                outputs.insert(p, out);
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                failures.push(book.pages[p].shown.display().to_string());
            }
        }
    }
    if !failures.is_empty() {
        anyhow::bail!("{} section{} failed: {}", failures.len(), if failures.len() == 1 { "" } else { "s" }, failures.join(", "));
    }
    Ok(outputs)
}

/// Builds the programs, written by `program::write`; compile errors point at the book.
pub fn build(book: &Book, library: &Library, programs: &Programs, paths: &Paths) -> anyhow::Result<()> {
    let lib_src = library::crate_dir(book).join("src");
    let mut maps: Vec<(std::path::PathBuf, &MappedText)> = programs.sections.iter().map(|s| (s.file.clone(), &s.code)).collect();
    maps.extend(library.files.iter().map(|(rel, m)| (lib_src.join(rel), m)));
    let started = Instant::now();
    eprintln!("   building {} section programs (cargo build --release)", programs.sections.len());
    crate::build::build(programs, paths, &maps)?;
    eprintln!("      built in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn page_index(book: &Book, src: &Path) -> usize {
    book.pages.iter().position(|p| p.src == src).expect("the page is in the book")
}

fn timeout(book: &Book, scale: Scale) -> Duration {
    match scale {
        Scale::Full => Duration::from_secs(book.config.programs.timeout_s),
        Scale::Smoke => Duration::from_secs(300),
    }
}

/// Runs every framework's program of page `p` and collects the outputs.
fn run_section(book: &Book, programs: &Programs, paths: &Paths, p: usize, scale: Scale, key: String) -> anyhow::Result<SectionOutputs> {
    let page = &book.pages[p];
    let started = Instant::now();
    let mut frameworks = std::collections::BTreeMap::new();
    for program in programs.of_page(p) {
        let job = job(book, paths, page, program, scale);
        frameworks.insert(program.framework.clone(), run::capture(&job)?);
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("         ran {} in {seconds:.1} s", page.shown.display());
    Ok(SectionOutputs { key, scale: scale_name(scale).into(), seconds: (seconds * 10.0).round() / 10.0, frameworks })
}

fn job<'a>(book: &Book, paths: &Paths, page: &'a crate::parse::Page, program: &'a program::SectionProgram, scale: Scale) -> Job<'a> {
    Job {
        page,
        program,
        binary: paths.cargo_target.join("release").join(&program.binary),
        out_dir: paths.work.join("run").join(page.src.with_extension("")).join(&program.framework),
        scale,
        timeout: timeout(book, scale),
    }
}

/// Builds and runs one section in the terminal, streaming its output.
pub fn run_in_terminal(book: &Book, library: &Library, paths: &Paths, name: &str, scale: Scale) -> anyhow::Result<()> {
    library::write(book, library)?;
    let page = book.find(name)?;
    let p = page_index(book, &page.src);
    let programs = program::generate(book, paths)?;
    if programs.of_page(p).next().is_none() {
        anyhow::bail!("`{}` has no code to run", page.shown.display());
    }
    program::write(&programs, paths)?;
    build(book, library, &programs, paths)?;
    for program in programs.of_page(p) {
        run::stream(&job(book, paths, page, program, scale))?;
    }
    Ok(())
}

/// Renders the site from the outputs.
pub fn render(book: &Book, outputs: &OutputsByPage, paths: &Paths, scale: Scale, live_reload: bool) -> anyhow::Result<()> {
    let scale_note = (scale == Scale::Smoke).then(|| "These outputs come from a smoke-scale run (few epochs, little data): they show that the code runs, not the book's results.".to_string());
    let started = Instant::now();
    let n = render::site(book, outputs, &paths.html, &render::Options { scale_note, live_reload })?;
    eprintln!("    rendered {n} pages into {} in {:.1} s", paths.html.display(), started.elapsed().as_secs_f64());
    Ok(())
}

/// The whole build: check, lib, build and run stale sections, render.
pub fn build_book(book_dir: &Path, features: Option<&[String]>, scale: Scale, out: Option<&Path>, live_reload: bool) -> anyhow::Result<Paths> {
    let (book, library) = check(book_dir, features, false)?;
    let mut paths = Paths::for_book(&book)?;
    if let Some(out) = out {
        paths.html = out.to_path_buf();
    }
    let outputs = evaluate(&book, &library, &paths, scale, Selection::Stale)?;
    render(&book, &outputs, &paths, scale, live_reload)?;
    Ok(paths)
}
