//! The book tool on fixture books: errors at the right Markdown line, library generation,
//! compile and run errors mapped back to the book, the output cache, and a full site build.

mod common;

use common::Fixture;

const SUMS: &str = "book/chapter_basics/sums.md";
const PLOTS: &str = "book/chapter_basics/plots.md";

#[test]
fn the_fixture_book_checks_clean_once_its_library_is_generated() {
    let fx = Fixture::new("basic");
    fx.run(&["lib"]).success();
    let run = fx.run(&["check"]).success();
    assert!(run.stderr.contains("checked 4 pages and 6 cells"), "{}", run.stderr);
}

#[test]
fn parse_errors_name_the_markdown_line() {
    let fx = Fixture::new("basic");
    fx.edit(PLOTS, "//@hide", "//@hdie");
    fx.edit(PLOTS, "Back to :numref:`fig_square`.", "Back to :numref:`fig_circle`.");
    fx.edit(SUMS, "## Details\n:label:`sec_sums_details`", "## Details\n:label:`sec_plots`");
    fx.append(PLOTS, "\n```rust\nlet unfinished = 1;\n");
    let err = fx.run(&["check"]).failure().stderr;
    let expect = |needle: &str, rel: &str, line: usize| {
        let at = format!("{rel}:{line}:");
        let found = err.split("\n\n").any(|block| block.contains(needle) && block.contains(&at));
        assert!(found, "expected `{needle}` at {at} in:\n{err}");
    };
    expect("unknown directive `//@hdie`", PLOTS, fx.line_of(PLOTS, "//@hdie"));
    expect("unresolved reference `:numref:`fig_circle``", PLOTS, fx.line_of(PLOTS, "fig_circle"));
    expect("duplicate label `sec_plots`", SUMS, fx.line_of(SUMS, "## Details"));
    expect("unterminated code fence", PLOTS, fx.line_of(PLOTS, "let unfinished") - 1);
    assert!(err.contains("4 problems in the book"), "{err}");
}

#[test]
fn a_page_listed_twice_in_the_tocs_is_one_clear_error() {
    let fx = Fixture::new("basic");
    const INDEX: &str = "book/chapter_basics/index.md";
    fx.edit(INDEX, "sums\nplots\n", "sums\nplots\nsums\n");
    let err = fx.run(&["check"]).failure().stderr;
    let second = fx.read(INDEX).lines().collect::<Vec<_>>().iter().rposition(|l| *l == "sums").unwrap() + 1;
    assert!(err.contains("`chapter_basics/sums.md` is listed twice in the toc blocks"), "{err}");
    assert!(err.contains(&format!("{INDEX}:{second}:")) && err.contains(&format!("first listed at {INDEX}:{}", second - 2)), "{err}");
    assert!(err.contains("1 problem in the book") && !err.contains("duplicate label"), "{err}");
}

#[test]
fn unknown_citations_and_bad_math_are_reported() {
    let fx = Fixture::new("basic");
    fx.edit(SUMS, ":cite:`Gauss.1809`", ":cite:`Euler.1748`");
    fx.edit(SUMS, "The sum of the first $n$ integers", "The sum of the first $\\frac{n}$ integers");
    let err = fx.run(&["check"]).failure().stderr;
    assert!(err.contains("unknown citation key `Euler.1748`") && err.contains(&format!("{SUMS}:{}:", fx.line_of(SUMS, "Euler"))), "{err}");
    assert!(err.contains("invalid math") && err.contains(&format!("{SUMS}:{}:", fx.line_of(SUMS, "first $"))), "{err}");
}

#[test]
fn the_library_is_generated_from_save_cells_and_checked() {
    let fx = Fixture::new("basic");
    fx.run(&["lib"]).success();
    let module = fx.read("lib/src/generated/basics.rs");
    assert!(module.contains("pub fn gauss_sum(n: u64) -> u64"), "{module}");
    assert!(module.contains("/// Defined in Section 1.1 *Sums*."), "{module}");
    assert!(fx.read("lib/src/generated/mod.rs").contains("pub use super::basics::*;"));
    fx.run(&["lib", "--check"]).success();

    fx.edit(SUMS, "n * (n + 1) / 2", "(n * n + n) / 2");
    let err = fx.run(&["lib", "--check"]).failure().stderr;
    assert!(err.contains("the generated library is out of date with the book"), "{err}");
    assert!(err.contains(&format!("{SUMS}:{}", fx.line_of(SUMS, "(n * n + n) / 2"))), "{err}");
    assert!(err.contains("run `cargo run -p d2l-book -- lib`"), "{err}");
    fx.run(&["lib"]).success();
    fx.run(&["lib", "--check"]).success();
}

#[test]
fn editing_prose_leaves_the_library_and_the_cached_outputs_alone() {
    let fx = Fixture::new("basic");
    fx.run(&["eval", "--scale", "smoke"]).success();
    // The programs ran with the allocator that `d2l.toml` names.
    let main = fx.read("target/d2l-book/programs/chapter_basics/src/main.rs");
    assert!(main.contains("#[global_allocator]\nstatic GLOBAL_ALLOCATOR: std::alloc::System = std::alloc::System;"), "{main}");
    let before = fx.read("lib/src/generated/basics.rs");
    fx.edit(SUMS, "We save a helper into the library.", "Some new prose.\n\nOn several lines.\n\nWe save a helper into the library.");
    fx.run(&["lib", "--check"]).success();
    assert_eq!(fx.read("lib/src/generated/basics.rs"), before);
    let again = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(again.contains("all 2 sections fresh"), "{again}");

    // Reordering sections renumbers them: the library's docs change, its code does not, so
    // `sums` stays fresh; `plots`, now before the saved cell, no longer depends on it and runs.
    fx.edit("book/chapter_basics/index.md", "sums\nplots", "plots\nsums");
    let reordered = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(fx.read("lib/src/generated/basics.rs").contains("Defined in Section 1.2 *Sums*"));
    assert!(reordered.contains("1 of 2 sections to run at scale `smoke`: chapter_basics/plots"), "{reordered}");
}

#[test]
fn a_save_cell_with_statements_is_an_error_at_its_line() {
    let fx = Fixture::new("basic");
    fx.edit(SUMS, "pub fn gauss_sum", "let oops = 1;\npub fn gauss_sum");
    let err = fx.run(&["lib"]).failure().stderr;
    assert!(err.contains("a `//@save` cell must hold items only") && err.contains(&format!("{SUMS}:{}:", fx.line_of(SUMS, "let oops"))), "{err}");
}

#[test]
fn compile_errors_point_at_the_markdown_line_and_column() {
    let fx = Fixture::new("basic");
    fx.edit(SUMS, "println!(\"iterator total: {total}\");", "println!(\"iterator total: {}\", totl);");
    let err = fx.run(&["eval", "--scale", "smoke"]).failure().stderr;
    let line = fx.line_of(SUMS, "totl");
    let col = fx.read(SUMS).lines().nth(line - 1).unwrap().find("totl").unwrap() + 1;
    assert!(err.contains(&format!("--> {SUMS}:{line}:{col}")), "{err}");
    assert!(err.contains("cannot find value `totl`"), "{err}");
    assert!(err.contains(" | println!(\"iterator total: {}\", totl);"), "the Markdown source line is shown:\n{err}");
}

#[test]
fn a_panic_names_the_section_the_cell_and_its_line() {
    let fx = Fixture::new("basic");
    fx.edit(PLOTS, "println!(\"hidden code, visible output\");", "println!(\"before\");\nlet v: Vec<u32> = vec![];\nprintln!(\"{}\", v[3]);");
    let err = fx.run(&["eval", "--scale", "smoke"]).failure().stderr;
    assert!(err.contains("chapter_basics/plots"), "{err}");
    assert!(err.contains(&format!("the cell at {PLOTS}:{}:1 failed", fx.line_of(PLOTS, "//@hide") - 1)), "{err}");
    assert!(err.contains(&format!("panic at {PLOTS}:{}:", fx.line_of(PLOTS, "v[3]"))), "{err}");
    assert!(err.contains("index out of bounds"), "{err}");
}

#[test]
fn outputs_are_cached_until_the_code_changes() {
    let fx = Fixture::new("basic");
    let first = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(first.contains("2 of 2 sections to run"), "{first}");
    let again = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(again.contains("all 2 sections fresh"), "{again}");
    assert!(!again.contains("cargo build"), "nothing is built when all outputs are fresh:\n{again}");

    fx.edit(PLOTS, "hidden code, visible output", "hidden code, new output");
    let edited = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(edited.contains("1 of 2 sections to run at scale `smoke`: chapter_basics/plots"), "{edited}");
    let cached = fx.read("target/d2l-book/outputs-smoke/chapter_basics/plots.json");
    assert!(cached.contains("hidden code, new output"), "{cached}");

    // Full-scale outputs are a separate cache, committed with the book.
    let full = fx.run(&["eval"]).success().stderr;
    assert!(full.contains("2 of 2 sections to run at scale `full`"), "{full}");
    assert!(fx.root.join("book/_outputs/chapter_basics/sums.json").is_file());

    // A change to the library's hand-written code invalidates every section.
    fx.edit("lib/src/lib.rs", "fill=\\\"steelblue\\\"", "fill=\\\"tomato\\\"");
    let lib_changed = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(lib_changed.contains("2 of 2 sections to run"), "{lib_changed}");
}

#[test]
fn library_features_are_part_of_the_key_and_manifest_edits_that_resolve_alike_are_not() {
    let fx = Fixture::new("basic");
    fx.run(&["eval", "--scale", "smoke"]).success();
    // The key covers what cargo resolves from the manifests, not their text.
    fx.edit("lib/Cargo.toml", "publish = false", "publish = false\ndescription = \"The fixture's library\"");
    let same = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(same.contains("all 2 sections fresh"), "{same}");

    // A library feature turned on for the programs changes what they are built from.
    let featured = fx.run(&["--features", "tomato", "eval", "--scale", "smoke"]).success().stderr;
    assert!(featured.contains("2 of 2 sections to run"), "{featured}");
    let manifest = fx.read("target/d2l-book/programs/chapter_basics/Cargo.toml");
    assert!(manifest.contains("features = [\"tomato\"]"), "{manifest}");
    let again = fx.run(&["--features", "tomato", "eval", "--scale", "smoke"]).success().stderr;
    assert!(again.contains("all 2 sections fresh"), "{again}");

    let err = fx.run(&["--features", "no-such-feature", "eval", "--scale", "smoke"]).failure().stderr;
    assert!(err.contains("`cargo tree` failed") && err.contains("no-such-feature"), "{err}");
}

/// A crate `sauce` in the copy's `vendor/`, with `lib_rs` as its source; returns its folder.
fn vendored_crate(fx: &Fixture, lib_rs: &str) -> std::path::PathBuf {
    let sauce = fx.root.join("vendor/sauce");
    std::fs::create_dir_all(sauce.join("src")).unwrap();
    std::fs::write(sauce.join("Cargo.toml"), "[package]\nname = \"sauce\"\nversion = \"0.1.0\"\nedition = \"2024\"\n").unwrap();
    std::fs::write(sauce.join("src/lib.rs"), lib_rs).unwrap();
    sauce
}

#[test]
fn the_roots_patched_crates_reach_the_programs_with_rooted_paths() {
    let fx = Fixture::new("basic");
    fx.run(&["eval", "--scale", "smoke"]).success();
    // A patch that nothing uses resolves alike: the outputs stay fresh.
    let sauce = vendored_crate(&fx, "");
    fx.append("lib/Cargo.toml", "\n[patch.crates-io]\nsauce = { path = \"../vendor/sauce\" }\n");
    let patched = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(patched.contains("all 2 sections fresh"), "{patched}");
    let manifest = fx.read("target/d2l-book/programs/Cargo.toml");
    assert!(manifest.contains("[patch.crates-io.sauce]"), "{manifest}");
    let path = manifest.lines().find_map(|l| l.strip_prefix("path = \"")).and_then(|l| l.strip_suffix('"')).expect("a path");
    assert!(std::path::Path::new(path).is_absolute() && std::path::Path::new(path).canonicalize().unwrap() == sauce.canonicalize().unwrap(), "{manifest}");
}

#[test]
fn editing_a_vendored_crates_sources_makes_outputs_stale() {
    let fx = Fixture::new("basic");
    let sauce = vendored_crate(&fx, "pub fn salt() -> u32 { 1 }\n");
    fx.edit("lib/Cargo.toml", "[dependencies]\n", "[dependencies]\nsauce = { path = \"../vendor/sauce\" }\n");
    fx.run(&["eval", "--scale", "smoke"]).success();
    // What the crate computes is part of every key; files beside its sources are not.
    std::fs::write(sauce.join("README.md"), "notes\n").unwrap();
    let notes = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(notes.contains("all 2 sections fresh"), "{notes}");
    std::fs::write(sauce.join("src/lib.rs"), "pub fn salt() -> u32 { 2 }\n").unwrap();
    let edited = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(edited.contains("2 of 2 sections to run"), "{edited}");
}

#[test]
fn a_crate_that_only_an_unused_feature_builds_is_not_part_of_the_key() {
    let fx = Fixture::new("basic");
    let sauce = vendored_crate(&fx, "pub fn salt() -> u32 { 1 }\n");
    fx.append("vendor/sauce/Cargo.toml", "\n[features]\nstd = []\n");
    fx.edit("lib/Cargo.toml", "[dependencies]\n", "[dependencies]\nsauce = { path = \"../vendor/sauce\", optional = true }\n");
    // `std` names sauce weakly, as burn names cubecl-cuda: `cargo metadata` lists it anyway
    // (rust-lang/cargo#10801), but only `gpu` builds it.
    fx.edit("lib/Cargo.toml", "tomato = []", "tomato = []\ndefault = [\"std\"]\nstd = [\"sauce?/std\"]\ngpu = [\"dep:sauce\"]");
    fx.run(&["eval", "--scale", "smoke"]).success();
    std::fs::write(sauce.join("src/lib.rs"), "pub fn salt() -> u32 { 2 }\n").unwrap();
    let unbuilt = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(unbuilt.contains("all 2 sections fresh"), "{unbuilt}");

    // With the feature that builds it, its sources count.
    fx.run(&["--features", "gpu", "eval", "--scale", "smoke"]).success();
    std::fs::write(sauce.join("src/lib.rs"), "pub fn salt() -> u32 { 3 }\n").unwrap();
    let built = fx.run(&["--features", "gpu", "eval", "--scale", "smoke"]).success().stderr;
    assert!(built.contains("2 of 2 sections to run"), "{built}");
}

#[test]
fn saving_code_in_a_later_section_keeps_earlier_outputs_fresh() {
    let fx = Fixture::new("basic");
    fx.run(&["eval", "--scale", "smoke"]).success();
    // Named like the method `.sum()` that the earlier section calls: methods, fields and
    // path-qualified names are not uses of a saved item.
    let saved_later = "```rust\n//@save\n/// The sum of `values`.\npub fn sum(values: &[u64]) -> u64 {\n    values.iter().sum()\n}\n```\n\nBack to";
    fx.edit(PLOTS, "Back to", saved_later);
    fx.run(&["lib"]).success();
    let later = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(later.contains("1 of 2 sections to run at scale `smoke`: chapter_basics/plots"), "{later}");

    // The earlier section's saved code is part of the later section's key.
    fx.edit(SUMS, "n * (n + 1) / 2", "n * (n + 1) / 2 + 0");
    fx.run(&["lib"]).success();
    let earlier = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(earlier.contains("2 of 2 sections to run"), "{earlier}");
}

#[test]
fn a_section_cannot_use_what_is_saved_only_later() {
    let fx = Fixture::new("basic");
    fx.edit(PLOTS, "Back to", "```rust\n//@save\n/// Doubles `n`.\npub fn double(n: u64) -> u64 {\n    2 * n\n}\n```\n\nBack to");
    fx.edit(SUMS, "println!(\"closed form: {}\", gauss_sum(100));", "println!(\"closed form: {}\", double(gauss_sum(50)));");
    let err = fx.run(&["check"]).failure().stderr;
    let line = fx.line_of(SUMS, "double(gauss_sum(50))");
    assert!(err.contains("`double` is used here but saved only later, in `book/chapter_basics/plots.md`"), "{err}");
    assert!(err.contains(&format!("{SUMS}:{line}:")), "{err}");
    assert!(err.contains("move the `//@save` cell earlier, or the use later"), "{err}");
}

#[test]
fn a_corrupt_cache_file_is_run_again() {
    let fx = Fixture::new("basic");
    fx.run(&["eval", "--scale", "smoke"]).success();
    std::fs::write(fx.root.join("target/d2l-book/outputs-smoke/chapter_basics/sums.json"), "{ \"key\": ").unwrap();
    let err = fx.run(&["eval", "--scale", "smoke"]).success().stderr;
    assert!(err.contains("1 of 2 sections to run at scale `smoke`: chapter_basics/sums"), "{err}");
}

#[test]
fn the_site_has_numbered_pages_math_tabs_outputs_and_search() {
    let fx = Fixture::new("basic");
    fx.run(&["build", "--scale", "smoke"]).success();
    let html = |rel: &str| fx.read(&format!("_build/html/{rel}"));
    let sums = html("chapter_basics/sums.html");
    assert!(sums.contains("<span class=\"num\">1.1</span> Sums"), "numbered title");
    assert!(sums.contains("<math display=\"block\">") && sums.contains("<span class=\"eqno\">(1.1.1)</span>"), "numbered MathML equation");
    assert!(sums.contains("data-tab=\"loops\"") && sums.contains("data-tab=\"iterators\""), "tabs");
    assert!(sums.contains("loop total: 5050") && sums.contains("iterator total: 5050"), "outputs of both frameworks");
    assert!(sums.contains("<pre class=\"stderr\">a note on stderr</pre>"), "stderr is shown apart");
    assert!(sums.contains("href=\"../chapter_basics/plots.html\">Section 1.2</a>"), "numref to a section");
    assert!(sums.contains("href=\"../chapter_basics/sums.html#eq_gauss\">(1.1.1)</a>"), "eqref");
    assert!(sums.contains("href=\"../bibliography.html#Gauss.1809\">Gauss, 1809</a>"), "citation");
    assert!(sums.contains("<span class=\"num\">Table 1.1.1</span>"), "numbered table");
    assert!(sums.contains("https://example.org/discuss/chapter_basics/sums"), "discussion link");
    assert!(sums.contains("saved in <code>minilib::basics</code>"), "saved cell is marked");
    assert!(sums.contains("smoke-scale run"), "smoke outputs are labelled");
    let plots = html("chapter_basics/plots.html");
    assert!(plots.contains("<div class=\"plot\"><svg") && plots.contains("class=\"bars\""), "displayed SVG inline");
    assert!(plots.contains("<span class=\"num\">Fig. 1.2.1</span> A square."), "numbered figure");
    assert_eq!(plots.matches(">Fig. 1.2.1</a>").count(), 1, "the label line renders nothing, the one `:numref:` a link");
    assert!(!plots.contains("//@hide") && !plots.contains("hidden code, visible output\");"), "hidden code is not shown");
    assert!(plots.contains("hidden code, visible output"), "but its output is");
    assert!(html("bibliography.html").contains("Theoria motus corporum coelestium"));
    assert!(html("search-index.js").contains("\"t\":\"Plots\""));
    assert!(html("index.html").contains("chapter_basics/index.html"));
    assert!(fx.root.join("_build/html/img/square.svg").is_file());
}

#[test]
fn each_page_with_code_has_a_notebook_with_prose_code_and_outputs() {
    let fx = Fixture::new("basic");
    fx.run(&["build", "--scale", "smoke"]).success();
    assert!(fx.read("_build/html/chapter_basics/sums.html").contains("href=\"../notebooks/chapter_basics/sums.ipynb\" download"));
    let nb: serde_json::Value = serde_json::from_str(&fx.read("_build/html/notebooks/chapter_basics/sums.ipynb")).unwrap();
    assert_eq!(nb["nbformat"], 4);
    let cells = nb["cells"].as_array().unwrap();
    let text = |c: &serde_json::Value| c["source"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect::<String>();
    assert!(text(&cells[0]).contains(":dep minilib = { path = "), "the first cell brings in the library");
    let markdown: String = cells.iter().filter(|c| c["cell_type"] == "markdown").map(text).collect();
    assert!(markdown.contains("See Section 1.2 and (1.1.1), and (Gauss, 1809)."), "roles are resolved: {markdown}");
    assert!(!markdown.contains(":label:") && !markdown.contains("```"), "{markdown}");
    let code: Vec<_> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
    assert_eq!(code.len(), 4, "setup, the saved cell, the default framework's cell and the `all` cell");
    assert_eq!(code[2]["outputs"][0]["text"][0], "loop total: 5050\n");
    assert!(!fx.root.join("_build/html/notebooks/chapter_basics/index.ipynb").exists(), "no notebook for a page without code");
}
