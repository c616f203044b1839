//! Jupyter notebooks (nbformat 4) for the evcxr Rust kernel: one per page, with the prose as
//! Markdown cells, the default framework's code cells and their cached outputs.

use serde::Serialize;
use serde_json::{Value, json};

use super::Context;
use crate::cache::{Output, SectionOutputs};
use crate::parse::events::{Ev, events};

#[derive(Serialize)]
struct Notebook {
    cells: Vec<Value>,
    metadata: Value,
    nbformat: u32,
    nbformat_minor: u32,
}

/// The notebook of page `index`, as JSON text; `None` for a page without code.
pub(super) fn notebook(cx: &Context<'_>, index: usize, outputs: Option<&SectionOutputs>, setup: &str) -> Option<String> {
    let page = &cx.book.pages[index];
    let default = cx.book.config.default_framework();
    if !page.cells.iter().any(|c| c.is_for(default, default)) {
        return None;
    }
    let mut out = vec![code_cell("setup", setup, vec![])];
    let mut prose_from = 0;
    for cell in &page.cells {
        push_markdown(&mut out, cx, index, &page.source[prose_from..cell.offset]);
        prose_from = cell.end;
        // Other frameworks' variants are left out: a notebook runs in one kernel.
        if !cell.is_for(default, default) {
            continue;
        }
        let items = outputs.and_then(|o| o.frameworks.get(default)).and_then(|f| f.get(&cell.index)).cloned().unwrap_or_default();
        out.push(code_cell(&format!("cell-{}", cell.index), &cell.code, items.iter().map(output).collect()));
    }
    push_markdown(&mut out, cx, index, &page.source[prose_from..]);
    let metadata = json!({
        "kernelspec": { "display_name": "Rust", "language": "rust", "name": "rust" },
        "language_info": { "name": "rust", "file_extension": ".rs", "mimetype": "text/rust" },
    });
    serde_json::to_string_pretty(&Notebook { cells: out, metadata, nbformat: 4, nbformat_minor: 5 }).ok()
}

/// Prose with roles resolved to plain text (labels dropped), as one Markdown cell.
fn push_markdown(out: &mut Vec<Value>, cx: &Context<'_>, index: usize, text: &str) {
    let mut md = String::new();
    let mut from = 0;
    for (ev, range) in events(text) {
        let Ev::Role { name, arg } = ev else { continue };
        md.push_str(&text[from..range.start]);
        from = range.end;
        if name == "label" || name == "eqlabel" {
            continue;
        }
        let parts: Vec<String> = super::page::resolve_role(cx, index, &name, &arg).into_iter().map(|(shown, _)| shown).collect();
        md.push_str(&super::page::join_role(&name, parts));
    }
    md.push_str(&text[from..]);
    let md = md.trim();
    if !md.is_empty() {
        out.push(json!({ "cell_type": "markdown", "id": format!("md-{}", out.len()), "metadata": {}, "source": lines(md) }));
    }
}

fn code_cell(id: &str, code: &str, outputs: Vec<Value>) -> Value {
    json!({ "cell_type": "code", "id": id, "metadata": {}, "execution_count": null, "source": lines(code.trim_end()), "outputs": outputs })
}

fn output(item: &Output) -> Value {
    match item {
        Output::Stdout { text } => json!({ "output_type": "stream", "name": "stdout", "text": lines(text) }),
        Output::Stderr { text } => json!({ "output_type": "stream", "name": "stderr", "text": lines(text) }),
        Output::Svg { svg } => json!({ "output_type": "display_data", "data": { "image/svg+xml": svg, "text/plain": "<plot>" }, "metadata": {} }),
    }
}

/// nbformat keeps multi-line text as a list of lines, each with its newline.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}
