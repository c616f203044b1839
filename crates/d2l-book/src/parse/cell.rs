//! Code cells and their directives (`//@save`, `//@hide`, `//@tab ...`).

/// Which framework tabs a cell belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tabs {
    /// No `//@tab`: the book's default framework.
    Default,
    /// `//@tab all`: every framework.
    All,
    /// `//@tab a, b`: these frameworks.
    Only(Vec<String>),
}

/// A ```` ```rust ```` cell of a page.
#[derive(Debug, Clone)]
pub struct Cell {
    /// Position among the page's cells, from 0.
    pub index: usize,
    /// Byte offset of the opening fence in the page.
    pub offset: usize,
    /// Byte offset just after the closing fence.
    pub end: usize,
    /// 1-based line of the opening fence.
    pub line: usize,
    /// 1-based line of the first code line after the directives.
    pub code_line: usize,
    /// The code without directive lines.
    pub code: String,
    /// `//@tab`.
    pub tabs: Tabs,
    /// `//@save`: the cell goes into the library and is not run by its own section.
    pub save: bool,
    /// `//@hide`: run, but the page does not show the code.
    pub hide: bool,
}

impl Cell {
    /// Whether the cell belongs to `framework`, given the book's default framework.
    pub fn is_for(&self, framework: &str, default: &str) -> bool {
        match &self.tabs {
            Tabs::Default => framework == default,
            Tabs::All => true,
            Tabs::Only(names) => names.iter().any(|n| n == framework),
        }
    }
}

/// The directives at the top of a cell.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `//@tab` (None when absent).
    pub tabs: Option<Tabs>,
    /// `//@save`.
    pub save: bool,
    /// `//@hide`.
    pub hide: bool,
    /// How many leading lines were directives.
    pub lines: usize,
}

/// A directive that is not understood: the 0-based line within the cell and the message.
#[derive(Debug, PartialEq, Eq)]
pub struct DirectiveError {
    /// 0-based line within the cell's code.
    pub line: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: &'static str,
}

const HINT: &str = "directives are `//@save`, `//@hide`, `//@tab NAME[, NAME..]` and `//@tab all`, on the first lines of a cell";

/// Reads the directive lines at the top of a cell's code.
pub fn directives(code: &str) -> Result<Directives, DirectiveError> {
    let mut found = Directives::default();
    for (line, text) in code.lines().enumerate() {
        let Some(rest) = text.trim().strip_prefix("//@") else { break };
        let error = |message: String| DirectiveError { line, message, hint: HINT };
        let (name, arg) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let arg = arg.trim();
        match name {
            "save" | "hide" if !arg.is_empty() => return Err(error(format!("`//@{name}` takes no argument, found `{arg}`"))),
            "save" => found.save = true,
            "hide" => found.hide = true,
            "tab" if found.tabs.is_some() => return Err(error("a cell has one `//@tab` line".into())),
            "tab" if arg.is_empty() => return Err(error("`//@tab` needs a framework name or `all`".into())),
            "tab" if arg == "all" => found.tabs = Some(Tabs::All),
            "tab" => found.tabs = Some(Tabs::Only(arg.split(',').map(|s| s.trim().to_string()).collect())),
            other => return Err(error(format!("unknown directive `//@{other}`"))),
        }
        found.lines = line + 1;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_leading_directives_only() {
        let d = directives("//@save\n//@tab burn, candle\nlet x = 1; //@hide\n").unwrap();
        assert_eq!(d, Directives { tabs: Some(Tabs::Only(vec!["burn".into(), "candle".into()])), save: true, hide: false, lines: 2 });
        assert_eq!(directives("let x = 1;\n").unwrap(), Directives::default());
    }

    #[test]
    fn unknown_and_malformed_directives_name_their_line() {
        assert_eq!(directives("//@hide\n//@svae\n").unwrap_err().line, 1);
        assert!(directives("//@svae\n").unwrap_err().message.contains("unknown directive `//@svae`"));
        assert!(directives("//@tab\n").is_err());
        assert!(directives("//@save now\n").is_err());
    }
}
