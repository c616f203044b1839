// The site's behaviour: framework tabs (remembered), dark mode, copy buttons, search, menu.
"use strict";

(function tabs() {
  const groups = document.querySelectorAll(".tabs");
  if (!groups.length) return;
  const show = (name) => {
    for (const g of groups) {
      const has = g.querySelector(`.tab[data-tab="${name}"]`);
      const pick = has ? name : g.querySelector(".tab").dataset.tab;
      for (const b of g.querySelectorAll(".tab")) b.setAttribute("aria-selected", b.dataset.tab === pick);
      for (const p of g.querySelectorAll(".tab-panel")) p.hidden = p.dataset.tab !== pick;
    }
  };
  for (const b of document.querySelectorAll(".tab")) {
    b.addEventListener("click", () => {
      localStorage.setItem("d2l-tab", b.dataset.tab);
      show(b.dataset.tab);
    });
  }
  show(localStorage.getItem("d2l-tab") || groups[0].querySelector(".tab").dataset.tab);
})();

document.querySelector(".theme").addEventListener("click", () => {
  const next = document.documentElement.dataset.theme === "dark" ? "light" : "dark";
  document.documentElement.dataset.theme = next;
  localStorage.setItem("d2l-theme", next);
});

document.querySelector(".menu").addEventListener("click", () => document.body.classList.toggle("nav-open"));

for (const button of document.querySelectorAll(".copy")) {
  button.addEventListener("click", () => {
    const code = button.parentElement.querySelector("code").innerText;
    navigator.clipboard?.writeText(code).then(() => {
      button.textContent = "Copied";
      setTimeout(() => (button.textContent = "Copy"), 1500);
    });
  });
}

(function search() {
  const input = document.getElementById("search");
  const list = document.getElementById("search-results");
  const pages = window.D2L_SEARCH || [];
  const root = document.body.dataset.root;
  const escape = (s) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
  input.addEventListener("input", () => {
    const words = input.value.toLowerCase().split(/\s+/).filter((w) => w.length > 1);
    list.innerHTML = "";
    list.hidden = words.length === 0;
    if (list.hidden) return;
    const hits = [];
    for (const page of pages) {
      const body = page.b.toLowerCase();
      const title = page.t.toLowerCase();
      if (!words.every((w) => body.includes(w) || title.includes(w))) continue;
      const score = words.reduce((s, w) => s + (title.includes(w) ? 10 : 0) + body.split(w).length - 1, 0);
      const at = Math.max(0, body.indexOf(words[0]) - 60);
      hits.push({ page, score, snippet: page.b.slice(at, at + 160) });
    }
    hits.sort((a, b) => b.score - a.score);
    for (const { page, snippet } of hits.slice(0, 12)) {
      const li = document.createElement("li");
      li.innerHTML = `<a href="${root}${page.u}"><strong>${escape(page.n)} ${escape(page.t)}</strong><span>…${escape(snippet)}…</span></a>`;
      list.appendChild(li);
    }
    if (!hits.length) list.innerHTML = "<li class=\"none\">No page contains all of these words.</li>";
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { input.value = ""; list.hidden = true; }
  });
})();
