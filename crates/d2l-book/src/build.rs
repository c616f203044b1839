//! Stage 4, build: one `cargo build` of the generated workspace; compiler messages about
//! generated code are shown rustc-style at the Markdown line they came from.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde::Deserialize;

use crate::diag::Location;
use crate::program::Programs;
use crate::sourcemap::MappedText;
use crate::workspace::Paths;

/// A compile failure; the messages were already printed.
#[derive(Debug, thiserror::Error)]
#[error("{errors} compile error{} in the book's code (shown above)", if *.errors == 1 { "" } else { "s" })]
pub struct CompileFailed {
    /// How many errors.
    pub errors: usize,
}

#[derive(Deserialize)]
struct CargoLine {
    reason: String,
    message: Option<RustcMessage>,
    success: Option<bool>,
}

#[derive(Deserialize)]
struct RustcMessage {
    message: String,
    level: String,
    code: Option<RustcCode>,
    spans: Vec<RustcSpan>,
    children: Vec<RustcMessage>,
    rendered: Option<String>,
}

#[derive(Deserialize)]
struct RustcCode {
    code: String,
}

#[derive(Deserialize)]
struct RustcSpan {
    file_name: String,
    line_start: usize,
    column_start: usize,
    line_end: usize,
    column_end: usize,
    is_primary: bool,
    label: Option<String>,
}

/// Builds every program in release mode; maps messages from generated files (programs and
/// the generated library) back to the book.
pub fn build(programs: &Programs, paths: &Paths, maps: &[(PathBuf, &MappedText)]) -> anyhow::Result<()> {
    let mut child = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--message-format=json-diagnostic-rendered-ansi"])
        .current_dir(&programs.dir)
        .env("CARGO_TARGET_DIR", &paths.cargo_target)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("failed to start `cargo build`")?;
    let maps: HashMap<PathBuf, &MappedText> = maps.iter().map(|(p, m)| (canonical(p), *m)).collect();
    let stdout = child.stdout.take().expect("stdout is piped");
    let (mut errors, mut success) = (0, false);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        let Ok(parsed) = serde_json::from_str::<CargoLine>(&line) else { continue };
        match (parsed.reason.as_str(), parsed.message) {
            ("compiler-message", Some(msg)) => {
                let is_error = msg.level == "error";
                let text = render(&msg, &programs.dir, &maps);
                if let Some(text) = text {
                    eprintln!("{text}");
                    if is_error {
                        errors += 1;
                    }
                } else if is_error {
                    // An error in a file the book did not generate: show cargo's own rendering.
                    eprintln!("{}", msg.rendered.unwrap_or(msg.message));
                    errors += 1;
                }
            }
            ("build-finished", _) => success = parsed.success.unwrap_or(false),
            _ => {}
        }
    }
    let status = child.wait()?;
    if status.success() && success {
        return Ok(());
    }
    Err(CompileFailed { errors: errors.max(1) }.into())
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// A rustc message about a generated file, rendered with the Markdown source; `None` when its
/// primary span is in no generated file.
fn render(msg: &RustcMessage, dir: &Path, maps: &HashMap<PathBuf, &MappedText>) -> Option<String> {
    let span = msg.spans.iter().find(|s| s.is_primary)?;
    let at = locate(span, dir, maps)?;
    let code = msg.code.as_ref().map(|c| format!("[{}]", c.code)).unwrap_or_default();
    let mut out = format!("{}{code}: {}\n  --> {at}\n", msg.level, msg.message);
    if let Ok(source) = std::fs::read_to_string(&at.file)
        && let Some(text) = source.lines().nth(at.line - 1)
    {
        let gutter = at.line.to_string().len();
        let width = if span.line_start == span.line_end { span.column_end.saturating_sub(span.column_start).max(1) } else { 1 };
        let label = span.label.as_deref().unwrap_or("");
        out.push_str(&format!("{:gutter$} |\n{} | {text}\n{:gutter$} | {}{} {label}\n", "", at.line, "", " ".repeat(at.col - 1), "^".repeat(width)));
    }
    for child in &msg.children {
        let place = child.spans.iter().find(|s| s.is_primary).and_then(|s| locate(s, dir, maps)).map(|l| format!(" ({l})")).unwrap_or_default();
        out.push_str(&format!("  = {}: {}{place}\n", child.level, child.message));
    }
    Some(out)
}

fn locate(span: &RustcSpan, dir: &Path, maps: &HashMap<PathBuf, &MappedText>) -> Option<Location> {
    let file = canonical(&dir.join(&span.file_name));
    maps.get(&file)?.locate(span.line_start, span.column_start)
}
