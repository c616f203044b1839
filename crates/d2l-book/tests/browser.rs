//! The built site in a real browser: Debian's headless Chromium, driven by playwright-core
//! (`tests/browser/`, installed with `npm ci` by the project's test command).

mod common;

use std::path::Path;
use std::process::Command;

use common::{Fixture, package_dir};

#[test]
fn a_reader_switches_tabs_sees_math_and_plots_and_searches() {
    let browser_dir = package_dir().join("tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run `npm ci --prefix {}` (the project's test command `scripts/test` does)",
        browser_dir.display()
    );
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(Path::new(&chromium).exists(), "no Chromium at {chromium}: `apt-get install chromium` (the project's test command `scripts/test` does), or set CHROMIUM");
    let fx = Fixture::new("basic");
    fx.run(&["build", "--scale", "smoke"]).success();
    let out = Command::new("node").arg(browser_dir.join("site.mjs")).arg("fixture").arg(fx.root.join("_build/html")).output().expect("node runs");
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser checks failed:\n{report}");
    assert!(report.contains("ok   clicking a tab switches the code") && report.contains("ok   no console errors"), "{report}");
}
