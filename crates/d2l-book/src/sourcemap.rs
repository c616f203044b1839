//! Generated Rust files remember, line by line, which Markdown line they came from, so that
//! compiler errors and panics point at the book.

use std::path::PathBuf;

use crate::diag::Location;

/// A generated file under construction, with its line map.
#[derive(Debug, Default, Clone)]
pub struct MappedText {
    /// The text so far.
    pub text: String,
    /// For each line of `text`, the Markdown file and line it came from.
    pub lines: Vec<Option<(PathBuf, usize)>>,
}

impl MappedText {
    /// Appends generated lines that come from no Markdown line.
    pub fn push_plain(&mut self, text: &str) {
        for line in lines(text) {
            self.text.push_str(line);
            self.text.push('\n');
            self.lines.push(None);
        }
    }

    /// Appends `code`, whose first line is line `first_line` of `file`.
    pub fn push_mapped(&mut self, code: &str, file: &std::path::Path, first_line: usize) {
        for (i, line) in lines(code).enumerate() {
            self.text.push_str(line);
            self.text.push('\n');
            self.lines.push(Some((file.to_path_buf(), first_line + i)));
        }
    }

    /// Where 1-based generated `line`, column `col`, came from.
    pub fn locate(&self, line: usize, col: usize) -> Option<Location> {
        let (file, md_line) = self.lines.get(line.checked_sub(1)?)?.as_ref()?;
        Some(Location { file: file.clone(), line: *md_line, col })
    }
}

/// The lines of `text`; an empty text is one empty line (a blank line of a cell).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let empty = text.is_empty().then_some("");
    empty.into_iter().chain(text.lines())
}
