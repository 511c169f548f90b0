// The panel of your verdicts: added to the book's pages only by `just serve`
// (MDBOOK_OUTPUT__HTML__ADDITIONAL_JS), which also starts the runner's panel endpoint on
// 127.0.0.1:4001 (chapters.toml's [[port]] table). A section's page shows that section's tests
// passed out of total and, when one fails, the runner's sentence and the hint command; a chapter's
// page shows the chapter's bar; the sidebar marks the sections that pass. It asks the endpoint
// with a long poll (`/verdicts?after=SEQ`: answered when a newer run is recorded), so the panel
// changes within a second of a `just test` ending, with no reload and the scroll left alone.
// Every text goes in with textContent. Without the endpoint it shows nothing.
(function () {
  "use strict";
  const ENDPOINT = "http://127.0.0.1:4001/verdicts";
  let seq = 0;
  let panel = null;

  function here() {
    let path = decodeURIComponent(window.location.pathname);
    if (path.endsWith("/")) path += "index.html";
    return path;
  }

  function isPage(page) {
    return page && here().endsWith("/" + page);
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function bar(passed, total) {
    const outer = el("span", undefined, "wb-panel-bar");
    const inner = el("span");
    inner.style.width = total > 0 ? `${Math.round((100 * passed) / total)}%` : "0";
    outer.append(inner);
    return outer;
  }

  function show(parts, green) {
    if (!panel) {
      panel = el("aside", undefined, "wb-panel");
      panel.id = "wb-panel";
      panel.setAttribute("aria-live", "polite");
      document.body.append(panel);
    }
    panel.classList.toggle("wb-green", green);
    panel.classList.toggle("wb-red", !green);
    panel.replaceChildren(...parts);
  }

  function sectionParts(s) {
    const v = s.verdict;
    const title = el("div", `${s.id} ${s.title}`, "wb-panel-title");
    if (!v) {
      return [title, el("div", "Not run yet:"), el("code", s.command)];
    }
    const parts = [
      title,
      el("div", `${v.passed} of ${v.total} tests pass`, "wb-panel-count"),
      bar(v.passed, v.total),
    ];
    if (v.failure) parts.push(el("p", v.failure, "wb-panel-failure"));
    if (v.hint) parts.push(el("code", v.hint));
    return parts;
  }

  function chapterParts(c) {
    return [
      el("div", `Chapter ${c.number}: ${c.title}`, "wb-panel-title"),
      el("div", `${c.passed} of ${c.total} tests pass; ${c.sections_green} of ${c.sections} sections`,
        "wb-panel-count"),
      bar(c.sections_green, c.sections),
    ];
  }

  function markSidebar(sections) {
    for (const s of sections) {
      if (!s.page) continue;
      for (const a of document.querySelectorAll(`.sidebar a[href$="${s.page}"]`)) {
        a.classList.toggle("wb-passed", s.green);
      }
    }
  }

  function draw(data) {
    const section = data.sections.find((s) => isPage(s.page));
    const chapter = data.chapters.find((c) => isPage(c.page));
    if (section) show(sectionParts(section), section.green);
    else if (chapter) show(chapterParts(chapter), chapter.sections_green === chapter.sections);
    markSidebar(data.sections);
  }

  async function poll() {
    try {
      const answer = await fetch(`${ENDPOINT}?after=${seq}`, { cache: "no-store" });
      if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
      const data = await answer.json();
      seq = data.seq;
      draw(data);
      setTimeout(poll, 0);
    } catch (err) {
      // The runner stopped (`just serve` ended): try again now and then, quietly.
      setTimeout(poll, 3000);
    }
  }

  // The first answer at once (after=0 waits only if no run was ever recorded).
  async function start() {
    try {
      const answer = await fetch(ENDPOINT, { cache: "no-store" });
      const data = await answer.json();
      seq = data.seq;
      draw(data);
    } catch (err) {
      return setTimeout(start, 3000);
    }
    poll();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
