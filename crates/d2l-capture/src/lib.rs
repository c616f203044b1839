//! The protocol between a section program and the `d2l-book` runner.
//!
//! A section program prints its cells' output to stdout and stderr as any program does. The
//! runner needs to know which cell printed what, and which images a cell displayed, so the
//! generated program calls [`cell`] before each cell and library code calls [`show_svg`] to
//! display a plot. Both print marker lines that carry a per-run nonce (env [`NONCE_ENV`]), so no
//! output a learner's code prints can be mistaken for a marker.
//!
//! Outside the runner (no nonce set), [`cell`] prints nothing and [`show_svg`] writes the image
//! to a file and prints its path, so a section also runs as a plain program in a terminal.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Env var holding the nonce that makes marker lines unambiguous.
pub const NONCE_ENV: &str = "D2L_CELL_NONCE";
/// Env var naming the folder where displayed images are written.
pub const OUT_DIR_ENV: &str = "D2L_OUT_DIR";
/// Env var selecting the run scale: `full` (default) or `smoke`.
pub const SCALE_ENV: &str = "D2L_SCALE";

/// The marker line that starts cell `index`, as printed on stdout and stderr.
pub fn cell_marker(nonce: &str, index: usize) -> String {
    format!("\u{1e}d2l-cell {nonce} {index}\u{1e}")
}

/// The marker line that displays the image file `name` (relative to the output folder).
pub fn image_marker(nonce: &str, name: &str) -> String {
    format!("\u{1e}d2l-image {nonce} {name}\u{1e}")
}

/// Parses a line printed by a section program: a cell or image marker of this run, or `None`.
pub fn parse_marker<'a>(nonce: &str, line: &'a str) -> Option<Marker<'a>> {
    let body = line.strip_prefix('\u{1e}')?.strip_suffix('\u{1e}')?;
    let (kind, rest) = body.split_once(' ')?;
    let (found, arg) = rest.split_once(' ')?;
    if found != nonce {
        return None;
    }
    match kind {
        "d2l-cell" => arg.parse().ok().map(Marker::Cell),
        "d2l-image" => Some(Marker::Image(arg)),
        _ => None,
    }
}

/// A marker recognised by [`parse_marker`].
#[derive(Debug, PartialEq, Eq)]
pub enum Marker<'a> {
    /// Output from here on belongs to the cell with this index.
    Cell(usize),
    /// The current cell displayed this image file.
    Image(&'a str),
}

/// How much work a section does: the reader's real run, or a quick check for tests and CI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// The run whose outputs are published: the book's settings as written.
    Full,
    /// Seconds per section: epochs and data are capped inside the library, never in the cells.
    Smoke,
}

/// The scale this program runs at, from the `D2L_SCALE` env var (`full` when unset).
///
/// # Panics
/// On a value other than `full` or `smoke`, naming the variable.
pub fn scale() -> Scale {
    match std::env::var(SCALE_ENV).as_deref() {
        Err(_) | Ok("") | Ok("full") => Scale::Full,
        Ok("smoke") => Scale::Smoke,
        Ok(other) => panic!("{SCALE_ENV}={other:?} is not a scale: use `full` or `smoke`"),
    }
}

/// Whether this program runs under the book tool (`d2l-book` sets [`NONCE_ENV`] for every section
/// it runs), rather than on its own in a terminal. Library code uses it to choose between
/// book output (a final figure) and terminal output (a live progress bar).
pub fn in_book() -> bool {
    std::env::var_os(NONCE_ENV).is_some()
}

/// Starts cell `index` of the running section (called by generated programs only).
#[doc(hidden)]
pub fn cell(index: usize) {
    let Ok(nonce) = std::env::var(NONCE_ENV) else { return };
    let marker = cell_marker(&nonce, index);
    // Both streams get the marker, flushed, so each stream splits at the same cell boundaries.
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{marker}");
    let _ = out.flush();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{marker}");
    let _ = err.flush();
}

/// Displays an SVG image below the current cell: in the book it appears in the cell's output,
/// in a terminal it is written to `d2l-plots/` and its path printed.
pub fn show_svg(svg: &str) {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let nonce = std::env::var(NONCE_ENV).ok();
    let dir = std::env::var_os(OUT_DIR_ENV).map_or_else(|| PathBuf::from("d2l-plots"), PathBuf::from);
    let name = format!("image-{n}.svg");
    let path = dir.join(&name);
    let written = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, svg));
    let mut out = std::io::stdout().lock();
    let _ = match (written, nonce) {
        (Ok(()), Some(nonce)) => writeln!(out, "{}", image_marker(&nonce, &name)),
        (Ok(()), None) => writeln!(out, "[plot written to {}]", path.display()),
        (Err(e), _) => writeln!(out, "[could not write plot to {}: {e}]", path.display()),
    };
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_round_trip_and_need_the_nonce() {
        assert_eq!(parse_marker("abc", &cell_marker("abc", 7)), Some(Marker::Cell(7)));
        assert_eq!(parse_marker("abc", &image_marker("abc", "image-0.svg")), Some(Marker::Image("image-0.svg")));
        assert_eq!(parse_marker("xyz", &cell_marker("abc", 7)), None);
        assert_eq!(parse_marker("abc", "d2l-cell abc 7"), None);
    }
}
