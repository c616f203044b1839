//! Syntax highlighting at build time (syntect), as CSS classes so that light and dark themes
//! are a stylesheet each.

use std::sync::OnceLock;

use syntect::highlighting::ThemeSet;
use syntect::html::{ClassStyle, ClassedHTMLGenerator, css_for_theme_with_class_style};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

const STYLE: ClassStyle = ClassStyle::SpacedPrefixed { prefix: "hl-" };

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// `code` as highlighted HTML (without the `<pre>`), for a language name or file extension.
pub(super) fn highlight(code: &str, lang: &str) -> String {
    let set = syntaxes();
    let Some(syntax) = set.find_syntax_by_token(lang) else { return super::escape(code) };
    let mut html = ClassedHTMLGenerator::new_with_class_style(syntax, set, STYLE);
    for line in LinesWithEndings::from(code) {
        if html.parse_html_for_line_which_includes_newline(line).is_err() {
            return super::escape(code);
        }
    }
    html.finalize()
}

/// The stylesheet: a light theme, and a dark one under `html[data-theme=dark]`.
pub(super) fn css() -> String {
    let themes = ThemeSet::load_defaults();
    let light = css_for_theme_with_class_style(&themes.themes["InspiredGitHub"], STYLE).unwrap_or_default();
    let dark = css_for_theme_with_class_style(&themes.themes["base16-ocean.dark"], STYLE).unwrap_or_default();
    let dark: String = dark.lines().map(|l| if l.starts_with('.') { format!("html[data-theme=dark] {}\n", l.replace(", .", ", html[data-theme=dark] .")) } else { format!("{l}\n") }).collect();
    format!("{light}\n{dark}")
}
