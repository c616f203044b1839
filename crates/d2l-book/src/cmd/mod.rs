//! The command line: one file per subcommand.

pub mod serve;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cache::parse_scale;
use crate::pipeline::{self, Selection};
use crate::workspace::Paths;

/// Builds Dive into Deep Learning in Rust: checks the Markdown, generates the `d2l` crate,
/// compiles and runs every section, renders the site.
#[derive(Parser)]
#[command(version, about)]
pub struct Args {
    /// The book folder (holding `d2l.toml`).
    #[arg(long, global = true, default_value = "book")]
    book: PathBuf,
    /// Features of the library crate to build the programs with, such as `vulkan` (a GPU
    /// backend; see the README); replaces `[programs] features` of `d2l.toml`.
    #[arg(long, global = true, env = "D2L_FEATURES", value_delimiter = ',')]
    features: Option<Vec<String>>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, regenerate the library, run stale sections, render `_build/html/`.
    Build {
        /// `full` (the published outputs) or `smoke` (seconds per section).
        #[arg(long, default_value = "full", env = "D2L_SCALE")]
        scale: String,
        /// Where the site goes (default `_build/html` next to the book folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run sections and cache their outputs: the named ones, or every stale one.
    Eval {
        /// Sections as `chapter_x/section`, a file stem or a label; none means all stale.
        sections: Vec<String>,
        /// `full` or `smoke`.
        #[arg(long, default_value = "full", env = "D2L_SCALE")]
        scale: String,
    },
    /// Run one section in the terminal, showing its output as it comes.
    Run {
        /// The section: `chapter_x/section`, a file stem or a label.
        section: String,
        /// `full` or `smoke`.
        #[arg(long, default_value = "full", env = "D2L_SCALE")]
        scale: String,
    },
    /// Regenerate the `d2l` crate from the `//@save` cells.
    Lib {
        /// Only verify that the crate matches the book.
        #[arg(long)]
        check: bool,
    },
    /// Parse every page; check references, citations, math, and that the library is in sync.
    Check,
    /// Build, serve on 127.0.0.1 and rebuild when the book or the library changes.
    Serve {
        /// The port.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// `full` or `smoke`.
        #[arg(long, default_value = "full", env = "D2L_SCALE")]
        scale: String,
    },
}

/// Runs a command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let dir = args.book;
    // `D2L_FEATURES=` (empty) means none.
    let features: Option<Vec<String>> = args.features.map(|list| list.into_iter().filter(|f| !f.is_empty()).collect());
    let features = features.as_deref();
    match args.command {
        Command::Build { scale, out } => pipeline::build_book(&dir, features, parse_scale(&scale)?, out.as_deref(), false).map(|_| ()),
        Command::Eval { sections, scale } => {
            let (book, library) = pipeline::check(&dir, features, false)?;
            let paths = Paths::for_book(&book)?;
            let selection = if sections.is_empty() { Selection::Stale } else { Selection::Named(&sections) };
            pipeline::evaluate(&book, &library, &paths, parse_scale(&scale)?, selection).map(|_| ())
        }
        Command::Run { section, scale } => {
            let (book, library) = pipeline::check(&dir, features, false)?;
            let paths = Paths::for_book(&book)?;
            pipeline::run_in_terminal(&book, &library, &paths, &section, parse_scale(&scale)?)
        }
        Command::Lib { check: true } => {
            pipeline::check(&dir, features, true)?;
            eprintln!("the library matches the book");
            Ok(())
        }
        Command::Lib { check: false } => {
            let (book, library) = pipeline::check(&dir, features, false)?;
            let changed = crate::library::write(&book, &library)?;
            eprintln!("library: {} file{} changed", changed.len(), if changed.len() == 1 { "" } else { "s" });
            Ok(())
        }
        Command::Check => {
            let (book, _) = pipeline::check(&dir, features, true)?;
            let cells: usize = book.pages.iter().map(|p| p.cells.len()).sum();
            eprintln!("checked {} pages and {cells} cells: no problems", book.pages.len());
            Ok(())
        }
        Command::Serve { port, scale } => serve::serve(&dir, features, port, parse_scale(&scale)?),
    }
}
