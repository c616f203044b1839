// Opens a built site in headless Chromium and checks what a reader does: switch a framework
// tab (and find it remembered), see MathML and an SVG plot, search, with no console errors.
// Usage: node site.mjs fixture|book SITE_DIR [SCREENSHOT.png]
import { chromium } from "playwright-core";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [mode, dir, shot] = process.argv.slice(2);
const url = (rel) => pathToFileURL(path.resolve(dir, rel)).href;
const failures = [];
const check = (ok, what) => { if (!ok) failures.push(what); console.log(`${ok ? "ok  " : "FAIL"} ${what}`); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
const errors = [];
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));

async function search(word, expectTitle) {
  await page.fill("#search", word);
  const results = await page.locator("#search-results li").allInnerTexts();
  check(results.some((r) => r.includes(expectTitle)), `searching "${word}" finds "${expectTitle}" (${results.length} results)`);
}

if (mode === "fixture") {
  await page.goto(url("chapter_basics/sums.html"));
  check(await page.locator("math").count() > 0, "the page has rendered MathML");
  const visible = (tab) => page.locator(`.tab-panel[data-tab="${tab}"]`).first().isVisible();
  check(await visible("loops") && !(await visible("iterators")), "the default tab is shown first");
  await page.click('.tab[data-tab="iterators"]');
  check(await visible("iterators") && !(await visible("loops")), "clicking a tab switches the code");
  check((await page.locator('.tab-panel[data-tab="iterators"]').first().innerText()).includes("iterator total: 5050"), "the tab shows its own output");
  await page.goto(url("chapter_basics/plots.html"));
  await page.goto(url("chapter_basics/sums.html"));
  check(await visible("iterators"), "the chosen tab is remembered across pages");
  await page.goto(url("chapter_basics/plots.html"));
  check(await page.locator(".plot svg").count() === 1, "the plot is an inline SVG");
  await search("integers", "Sums");
  await page.click(".theme");
  check(await page.evaluate(() => document.documentElement.dataset.theme) === "dark", "dark mode switches on");
} else if (mode === "book") {
  await page.goto(url("chapter_preliminaries/calculus.html"));
  check(await page.locator("math").count() > 5, "calculus has rendered MathML");
  check(await page.locator(".plot svg").count() > 0, "calculus shows SVG plots");
  check(await page.locator(".output pre.stdout").count() > 0, "calculus shows text outputs");
  await page.goto(url("chapter_preliminaries/ndarray.html"));
  check(await page.locator(".cell").count() > 10, "ndarray has code cells");
  await search("broadcasting", "Data Manipulation");
  await page.goto(url("index.html"));
  check(await page.locator("nav.sidebar li.chapter").count() >= 3, "the sidebar lists the chapters");
} else {
  console.error("usage: node site.mjs fixture|book SITE_DIR [SCREENSHOT.png]");
  process.exit(2);
}
if (shot) await page.screenshot({ path: shot, fullPage: false });
check(errors.length === 0, `no console errors${errors.length ? ": " + errors.join(" | ") : ""}`);
await browser.close();
if (failures.length) {
  console.error(`${failures.length} browser check(s) failed`);
  process.exit(1);
}
