//! The book's Markdown dialect as an event stream: pulldown-cmark's events plus d2l roles.
//!
//! pulldown-cmark reads `` :numref:`sec_x` `` as the text `:numref:` followed by inline code
//! `sec_x`. This layer merges adjacent text and turns such pairs into [`Ev::Role`], so the
//! parse and render stages see one event per reference or label.

use std::ops::Range;

use pulldown_cmark::{CowStr, Event, Options, Parser};

/// The roles the dialect knows.
pub const ROLES: &[&str] = &["label", "eqlabel", "numref", "eqref", "ref", "cite", "citet"];

/// A Markdown event or a role.
#[derive(Debug, Clone, PartialEq)]
pub enum Ev<'a> {
    /// An ordinary Markdown event.
    Md(Event<'a>),
    /// `` :name:`arg` ``: a label, a reference or a citation.
    Role {
        /// The role, one of [`ROLES`] (others are kept so that they can be reported).
        name: String,
        /// The text between the backticks.
        arg: String,
    },
}

/// The Markdown extensions the book uses.
pub fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_MATH | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Parses `source` into events with their byte ranges.
pub fn events(source: &str) -> Vec<(Ev<'_>, Range<usize>)> {
    let mut out: Vec<(Ev<'_>, Range<usize>)> = Vec::new();
    for (event, range) in Parser::new_ext(source, options()).into_offset_iter() {
        match event {
            Event::Text(text) => match out.last_mut() {
                Some((Ev::Md(Event::Text(prev)), prev_range)) if prev_range.end == range.start => {
                    *prev = CowStr::from(format!("{prev}{text}"));
                    prev_range.end = range.end;
                }
                _ => out.push((Ev::Md(Event::Text(text)), range)),
            },
            Event::Code(code) => match role_before(&out) {
                Some((name, keep)) => {
                    let (last, last_range) = out.pop().expect("role_before saw a text event");
                    let start = last_range.start + keep;
                    if let Ev::Md(Event::Text(text)) = last
                        && keep > 0
                    {
                        out.push((Ev::Md(Event::Text(CowStr::from(text[..keep].to_string()))), last_range.start..start));
                    }
                    out.push((Ev::Role { name, arg: code.to_string() }, start..range.end));
                }
                None => out.push((Ev::Md(Event::Code(code)), range)),
            },
            other => out.push((Ev::Md(other), range)),
        }
    }
    out
}

/// If the last event is text ending in `:name:`, the role name and how many bytes of the text
/// stay text.
fn role_before(out: &[(Ev<'_>, Range<usize>)]) -> Option<(String, usize)> {
    let Some((Ev::Md(Event::Text(text)), _)) = out.last() else { return None };
    let body = text.strip_suffix(':')?;
    let colon = body.rfind(':')?;
    let name = &body[colon + 1..];
    let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase());
    // `a:b:` inside a word is prose, not a role: a role starts the text or follows a space.
    let starts_word = colon == 0 || body[..colon].ends_with(|c: char| c.is_whitespace() || c == '(');
    (is_name && starts_word).then(|| (name.to_string(), colon))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(src: &str) -> Vec<(String, String)> {
        events(src)
            .into_iter()
            .filter_map(|(e, _)| match e {
                Ev::Role { name, arg } => Some((name, arg)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn roles_become_one_event_and_keep_the_text_before() {
        let src = "See :numref:`sec_x` and :eqref:`eq_y`, :cite:`A.1,B.2`.\n";
        assert_eq!(
            roles(src),
            [("numref".into(), "sec_x".into()), ("eqref".into(), "eq_y".into()), ("cite".into(), "A.1,B.2".into())]
        );
        let texts: Vec<_> = events(src)
            .into_iter()
            .filter_map(|(e, _)| if let Ev::Md(Event::Text(t)) = e { Some(t.to_string()) } else { None })
            .collect();
        assert_eq!(texts, ["See ", " and ", ", ", "."]);
    }

    #[test]
    fn ordinary_code_and_colons_in_words_stay_as_they_are() {
        assert!(roles("a `code` span and std::mem:`x`\n").is_empty());
    }

    #[test]
    fn role_ranges_cover_the_role_text() {
        let src = "x :label:`sec_a`\n";
        let (_, range) = events(src).into_iter().find(|(e, _)| matches!(e, Ev::Role { .. })).unwrap();
        assert_eq!(&src[range], ":label:`sec_a`");
    }
}
