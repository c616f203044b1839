//! One page's Markdown to HTML: roles resolved, math as MathML, figures and equations
//! numbered, cells highlighted with their outputs, framework variants as tabs.

use std::collections::{BTreeMap, HashMap};

use pulldown_cmark::{CodeBlockKind, CowStr, Event, Tag, TagEnd};

use super::{Context, escape, highlight, math};
use crate::cache::{Output, SectionOutputs};
use crate::parse::events::{Ev, events};
use crate::parse::{Anchor, AnchorKind, Page, Tabs};

/// A page's HTML body and its plain text (for search).
pub(super) struct Rendered {
    /// The HTML.
    pub(super) html: String,
    /// Prose and headings as plain text.
    pub(super) text: String,
}

enum Block<'a> {
    Events(Vec<Event<'a>>),
    Cell(usize),
}

/// Renders page `index` of the book.
pub(super) fn render(cx: &Context<'_>, index: usize, outputs: Option<&SectionOutputs>) -> Rendered {
    let page = &cx.book.pages[index];
    let anchors: HashMap<usize, &Anchor> = page.anchors.iter().map(|a| (a.offset, a)).collect();
    let evs = events(&page.source);
    let mut blocks: Vec<Block<'_>> = vec![Block::Events(vec![])];
    let mut text = String::new();
    let mut i = 0;
    let push = |blocks: &mut Vec<Block<'_>>, e: Event<'static>| match blocks.last_mut() {
        Some(Block::Events(v)) => v.push(e),
        _ => blocks.push(Block::Events(vec![e])),
    };
    let mut cell = 0;
    while i < evs.len() {
        let (ev, range) = &evs[i];
        i += 1;
        match ev {
            Ev::Md(Event::Start(Tag::Paragraph)) if only_labels(&evs[i..]) => {
                while !matches!(evs[i].0, Ev::Md(Event::End(TagEnd::Paragraph))) {
                    i += 1;
                }
                i += 1;
            }
            Ev::Md(Event::Start(Tag::Heading { level, .. })) => {
                let anchor = anchors.get(&range.start);
                let id = anchor.map(|a| a.id()).unwrap_or_default();
                let num = anchor.and_then(|a| a.number.as_deref()).map(|n| format!("<span class=\"num\">{n}</span> ")).unwrap_or_default();
                push(&mut blocks, Event::Html(format!("<{level} id=\"{id}\">{num}").into()));
                text.push('\n');
            }
            Ev::Md(Event::End(TagEnd::Heading(level))) => {
                let id = evs[..i].iter().rev().find_map(|(e, r)| matches!(e, Ev::Md(Event::Start(Tag::Heading { .. }))).then(|| anchors.get(&r.start).map(|a| a.id()))).flatten().unwrap_or_default();
                push(&mut blocks, Event::Html(format!("<a class=\"anchor\" href=\"#{id}\" aria-label=\"link to this heading\">#</a></{level}>\n").into()));
                text.push('\n');
            }
            Ev::Md(Event::Start(Tag::Image { dest_url, .. })) => {
                let anchor = anchors.get(&range.start);
                while !matches!(evs[i].0, Ev::Md(Event::End(TagEnd::Image))) {
                    i += 1;
                }
                i += 1;
                let caption = anchor.map(|a| a.title.clone()).unwrap_or_default();
                let id = anchor.filter(|a| a.label.is_some()).map(|a| format!(" id=\"{}\"", a.id())).unwrap_or_default();
                let num = anchor.and_then(|a| a.number.as_deref()).map(|n| format!("<span class=\"num\">Fig. {n}</span> ")).unwrap_or_default();
                push(&mut blocks, Event::InlineHtml(format!("<span class=\"figure\"{id}><img src=\"{}\" alt=\"{}\"><span class=\"caption\">{num}{}</span></span>", escape(dest_url), escape(&caption), escape(&caption)).into()));
                text.push_str(&caption);
            }
            Ev::Md(Event::Start(Tag::Table(align))) => {
                if let Some(a) = anchors.get(&range.start).filter(|a| a.number.is_some()) {
                    push(&mut blocks, Event::Html(format!("<div class=\"table\" id=\"{}\"><span class=\"caption\"><span class=\"num\">Table {}</span></span>\n", a.id(), a.number.as_deref().unwrap_or_default()).into()));
                }
                push(&mut blocks, Event::Start(Tag::Table(align.clone())));
            }
            Ev::Md(Event::End(TagEnd::Table)) => {
                push(&mut blocks, Event::End(TagEnd::Table));
                if let Some((_, r)) = evs[..i].iter().rev().find(|(e, _)| matches!(e, Ev::Md(Event::Start(Tag::Table(_)))))
                    && anchors.get(&r.start).is_some_and(|a| a.number.is_some())
                {
                    push(&mut blocks, Event::Html("</div>\n".into()));
                }
            }
            Ev::Md(Event::DisplayMath(latex)) => {
                let anchor = anchors.get(&range.start);
                let id = anchor.filter(|a| a.label.is_some()).map(|a| format!(" id=\"{}\"", a.id())).unwrap_or_default();
                let num = anchor.and_then(|a| a.number.as_deref()).map(|n| format!("<span class=\"eqno\">({n})</span>")).unwrap_or_default();
                push(&mut blocks, Event::InlineHtml(format!("<span class=\"equation\"{id}>{}{num}</span>", math::to_mathml(latex, true)).into()));
            }
            Ev::Md(Event::InlineMath(latex)) => {
                push(&mut blocks, Event::InlineHtml(math::to_mathml(latex, false).into()));
                text.push_str(latex);
            }
            // Labels were attached to their element by the parse stage.
            Ev::Role { name, .. } if name == "label" || name == "eqlabel" => {}
            Ev::Role { name, arg } => push(&mut blocks, Event::InlineHtml(role(cx, index, name, arg).into())),
            Ev::Md(Event::Start(Tag::Link { link_type, dest_url, title, id })) => {
                let dest = rewrite_link(dest_url);
                push(&mut blocks, Event::Start(Tag::Link { link_type: *link_type, dest_url: dest.into(), title: title.to_string().into(), id: id.to_string().into() }));
            }
            Ev::Md(Event::Start(Tag::CodeBlock(kind))) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or_default().to_string(),
                    CodeBlockKind::Indented => String::new(),
                };
                let mut code = String::new();
                while let (Ev::Md(Event::Text(t)), _) = &evs[i] {
                    code.push_str(t);
                    i += 1;
                }
                i += 1; // End(CodeBlock)
                match lang.as_str() {
                    "rust" => {
                        blocks.push(Block::Cell(cell));
                        cell += 1;
                    }
                    "toc" => push(&mut blocks, Event::Html(toc(cx, index).into())),
                    _ => push(&mut blocks, Event::Html(format!("<pre class=\"code\"><code>{}</code></pre>\n", highlight::highlight(&code, &lang)).into())),
                }
            }
            Ev::Md(Event::Text(t)) => {
                text.push_str(t);
                push(&mut blocks, Event::Text(t.to_string().into()));
            }
            Ev::Md(Event::Code(t)) => {
                text.push_str(t);
                push(&mut blocks, Event::Code(t.to_string().into()));
            }
            Ev::Md(e) => {
                if matches!(e, Event::SoftBreak | Event::HardBreak | Event::End(TagEnd::Paragraph)) {
                    text.push(' ');
                }
                push(&mut blocks, owned(e.clone()));
            }
        }
    }
    Rendered { html: blocks_to_html(cx, page, &blocks, outputs), text }
}

/// Whether the paragraph starting here holds nothing but `:label:` / `:eqlabel:` roles.
fn only_labels(rest: &[(Ev<'_>, std::ops::Range<usize>)]) -> bool {
    let mut saw_label = false;
    for (e, _) in rest {
        match e {
            Ev::Md(Event::End(TagEnd::Paragraph)) => return saw_label,
            Ev::Role { name, .. } if name == "label" || name == "eqlabel" => saw_label = true,
            Ev::Md(Event::SoftBreak) => {}
            Ev::Md(Event::Text(t)) if t.trim().is_empty() => {}
            _ => return false,
        }
    }
    false
}

fn owned(e: Event<'_>) -> Event<'static> {
    match e {
        Event::Start(t) => Event::Start(t.into_static()),
        Event::End(t) => Event::End(t),
        Event::Text(t) => Event::Text(CowStr::from(t.to_string())),
        Event::Code(t) => Event::Code(CowStr::from(t.to_string())),
        Event::Html(t) => Event::Html(CowStr::from(t.to_string())),
        Event::InlineHtml(t) => Event::InlineHtml(CowStr::from(t.to_string())),
        Event::FootnoteReference(t) => Event::FootnoteReference(CowStr::from(t.to_string())),
        Event::InlineMath(t) => Event::InlineMath(CowStr::from(t.to_string())),
        Event::DisplayMath(t) => Event::DisplayMath(CowStr::from(t.to_string())),
        Event::SoftBreak => Event::SoftBreak,
        Event::HardBreak => Event::HardBreak,
        Event::Rule => Event::Rule,
        Event::TaskListMarker(b) => Event::TaskListMarker(b),
    }
}

fn rewrite_link(dest: &str) -> String {
    if dest.contains("://") {
        return dest.to_string();
    }
    match dest.split_once('#') {
        Some((file, frag)) if file.ends_with(".md") => format!("{}.html#{frag}", file.trim_end_matches(".md")),
        None if dest.ends_with(".md") => format!("{}.html", dest.trim_end_matches(".md")),
        _ => dest.to_string(),
    }
}

/// What a role shows: its text, and the link it points to (None when unresolved).
pub(super) fn resolve_role(cx: &Context<'_>, from: usize, name: &str, arg: &str) -> Vec<(String, Option<String>)> {
    arg.split(',')
        .map(str::trim)
        .map(|target| match name {
            "cite" | "citet" => match cx.bib.get(target) {
                Some(r) => {
                    let shown = if name == "citet" { format!("{} ({})", r.cite.rsplit_once(", ").map_or(r.cite.as_str(), |(who, _)| who), r.year) } else { r.cite.clone() };
                    (shown, Some(format!("{}bibliography.html#{}", cx.root(from), r.key)))
                }
                None => (target.to_string(), None),
            },
            _ => match cx.targets.get(target) {
                Some(t) => {
                    let number = t.number.as_deref().unwrap_or("?");
                    let shown = match (name, t.kind) {
                        ("ref", _) => t.title.clone(),
                        ("eqref", _) | (_, AnchorKind::Equation) => format!("({number})"),
                        (_, AnchorKind::Heading(_)) if cx.book.pages[t.page].kind == crate::parse::PageKind::Chapter && !number.contains('.') => format!("Chapter {number}"),
                        (_, AnchorKind::Heading(_)) => format!("Section {number}"),
                        (_, AnchorKind::Figure) => format!("Fig. {number}"),
                        (_, AnchorKind::Table) => format!("Table {number}"),
                    };
                    (shown, Some(cx.href(from, t.page, Some(&t.id))))
                }
                None => (target.to_string(), None),
            },
        })
        .collect()
}

/// A resolved role as HTML: links, and citations in parentheses.
fn role(cx: &Context<'_>, from: usize, name: &str, arg: &str) -> String {
    let class = if name.starts_with("cite") { "cite" } else { "ref" };
    let parts: Vec<String> = resolve_role(cx, from, name, arg)
        .into_iter()
        .map(|(shown, href)| match href {
            Some(href) => format!("<a class=\"{class}\" href=\"{}\">{}</a>", escape(&href), escape(&shown)),
            None => format!("<span class=\"missing\">{}</span>", escape(&shown)),
        })
        .collect();
    join_role(name, parts)
}

/// Several targets of one role: citations in parentheses, references in a list.
pub(super) fn join_role(name: &str, parts: Vec<String>) -> String {
    match name {
        "cite" => format!("({})", parts.join("; ")),
        _ => parts.join(", "),
    }
}

/// A chapter's list of sections (or the book's list of chapters) where its toc block stands.
fn toc(cx: &Context<'_>, from: usize) -> String {
    let page = &cx.book.pages[from];
    let children: Vec<usize> = cx
        .book
        .pages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.number.len() == page.number.len() + 1 && p.number.starts_with(&page.number))
        .map(|(i, _)| i)
        .collect();
    let items: String = children.iter().map(|&c| format!("<li><a href=\"{}\"><span class=\"num\">{}</span> {}</a></li>", cx.href(from, c, None), cx.book.pages[c].number_text(), escape(&cx.book.pages[c].title))).collect();
    format!("<ul class=\"toc\">{items}</ul>\n")
}

fn blocks_to_html(cx: &Context<'_>, page: &Page, blocks: &[Block<'_>], outputs: Option<&SectionOutputs>) -> String {
    let frameworks = &cx.book.config.frameworks;
    let tabbed = frameworks.len() > 1;
    let mut html = String::new();
    let mut k = 0;
    while k < blocks.len() {
        match &blocks[k] {
            Block::Events(events) => pulldown_cmark::html::push_html(&mut html, events.iter().cloned()),
            // Only cells marked for some frameworks form tabs; unmarked and `all` cells stand alone.
            Block::Cell(c) if !tabbed || !matches!(page.cells[*c].tabs, Tabs::Only(_)) => html.push_str(&cell_html(cx, page, *c, None, outputs)),
            Block::Cell(_) => {
                // A run of framework-specific cells becomes one tab group.
                let mut group = Vec::new();
                while let Some(Block::Cell(c)) = blocks.get(k).filter(|b| matches!(b, Block::Cell(c) if matches!(page.cells[*c].tabs, Tabs::Only(_)))) {
                    group.push(*c);
                    k += 1;
                }
                k -= 1;
                html.push_str(&tab_group(cx, page, &group, outputs));
            }
        }
        k += 1;
    }
    html
}

fn tab_group(cx: &Context<'_>, page: &Page, cells: &[usize], outputs: Option<&SectionOutputs>) -> String {
    let config = &cx.book.config;
    let mut bar = String::new();
    let mut panels = String::new();
    for fw in &config.frameworks {
        bar.push_str(&format!("<button class=\"tab\" data-tab=\"{fw}\" role=\"tab\">{fw}</button>"));
        let body: String = cells.iter().filter(|&&c| page.cells[c].is_for(fw, config.default_framework())).map(|&c| cell_html(cx, page, c, Some(fw), outputs)).collect();
        let body = if body.is_empty() { format!("<p class=\"no-variant\">This step has no {fw} code.</p>") } else { body };
        panels.push_str(&format!("<div class=\"tab-panel\" data-tab=\"{fw}\" role=\"tabpanel\">{body}</div>"));
    }
    format!("<div class=\"tabs\"><div class=\"tab-bar\" role=\"tablist\">{bar}</div>{panels}</div>\n")
}

fn cell_html(cx: &Context<'_>, page: &Page, c: usize, framework: Option<&str>, outputs: Option<&SectionOutputs>) -> String {
    let cell = &page.cells[c];
    let config = &cx.book.config;
    let mut html = format!("<div class=\"cell\" id=\"cell-{c}\">");
    if !cell.hide {
        let saved = if cell.save {
            format!("<span class=\"saved\" title=\"this cell is saved in the library\">saved in <code>{}::{}</code></span>", config.library.name.replace('-', "_"), crate::library::module_name(page.chapter()))
        } else {
            String::new()
        };
        html.push_str(&format!("<div class=\"code\">{saved}<button class=\"copy\" type=\"button\">Copy</button><pre><code class=\"language-rust\">{}</code></pre></div>", highlight::highlight(&cell.code, "rs")));
    }
    if !cell.save {
        let fw = framework.unwrap_or(match &cell.tabs {
            Tabs::Only(names) => &names[0],
            _ => config.default_framework(),
        });
        let items = outputs.and_then(|o| o.frameworks.get(fw)).map(|cells| cells.get(&c).cloned().unwrap_or_default());
        html.push_str(&outputs_html(items));
    }
    html.push_str("</div>\n");
    html
}

fn outputs_html(items: Option<Vec<Output>>) -> String {
    let Some(items) = items else { return "<div class=\"output not-run\">This cell has not been run yet: <code>d2l-book eval</code> runs it.</div>".into() };
    if items.is_empty() {
        return String::new();
    }
    let body: String = items
        .iter()
        .map(|item| match item {
            Output::Stdout { text } => format!("<pre class=\"stdout\">{}</pre>", escape(text.trim_end_matches('\n'))),
            Output::Stderr { text } => format!("<pre class=\"stderr\">{}</pre>", escape(text.trim_end_matches('\n'))),
            Output::Svg { svg } => format!("<div class=\"plot\">{}</div>", strip_xml_prolog(svg)),
        })
        .collect();
    format!("<div class=\"output\">{body}</div>")
}

fn strip_xml_prolog(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// Each runnable page's cached outputs, by page index.
pub type OutputsByPage = BTreeMap<usize, SectionOutputs>;
