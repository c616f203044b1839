//! LaTeX math to MathML at build time (pulldown-latex): no JavaScript, no CDN.

use pulldown_latex::config::DisplayMode;
use pulldown_latex::{Parser, RenderConfig, Storage, push_mathml};

/// Renders `latex` as MathML, block or inline.
pub fn to_mathml(latex: &str, block: bool) -> String {
    let storage = Storage::new();
    let parser = Parser::new(latex, &storage);
    let config = RenderConfig { display_mode: if block { DisplayMode::Block } else { DisplayMode::Inline }, annotation: Some(latex), ..Default::default() };
    let mut out = String::new();
    if push_mathml(&mut out, parser, config).is_err() {
        out = format!("<code class=\"math-error\">{}</code>", super::escape(latex));
    }
    // pulldown-latex 0.8 escapes the entity it writes for `~` (a no-break space) a second time.
    out.replace("&amp;nbsp;", "&#160;")
}

/// The first LaTeX error in `latex`, if any.
pub fn check(latex: &str) -> Result<(), String> {
    let storage = Storage::new();
    for event in Parser::new(latex, &storage) {
        if let Err(e) = event {
            return Err(e.to_string().lines().next().unwrap_or_default().to_string());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_mathml_and_reports_errors() {
        assert!(to_mathml(r"\mathbf{x}^\top \mathbf{w}", false).starts_with("<math"));
        assert!(to_mathml(r"\sum_{i=1}^n x_i", true).contains("display=\"block\""));
        assert!(check(r"\frac{1}{2}").is_ok());
        assert!(check(r"\frac{1}").is_err());
        assert!(check(r"\notacommand x").is_err());
        assert!(to_mathml("a~b", false).contains("<mtext>&#160;</mtext>"), "`~` is a no-break space");
    }
}
