// The instructor's page: asks the room for its table every second and redraws it. Everything a
// learner sent (a name, a sentence) goes into the page with textContent, never as HTML: a name
// like <img src=x onerror=alert(1)> shows as those characters.
"use strict";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function minutes(ms) {
  return Math.max(0, Math.round(ms / 60000));
}

function draw(table) {
  const total = table.learners.length;
  document.getElementById("status").textContent =
    `${total} learner${total === 1 ? "" : "s"}; stuck means the same first failure for ` +
    `${minutes(table.stuck_after_ms)} min or more. Updated ${new Date(table.now).toLocaleTimeString()}.`;

  const counts = document.getElementById("counts");
  counts.replaceChildren(...table.sections.map((s) => {
    const li = el("li", `${s.past} of ${total} past ${s.id}`);
    li.title = s.title;
    li.dataset.section = s.id;
    return li;
  }));

  const head = document.getElementById("head");
  head.replaceChildren(el("th", "Learner"), ...table.sections.map((s) => {
    const th = el("th", s.id);
    th.title = s.title;
    return th;
  }));

  const stuck = table.learners.filter((l) => l.stuck && l.failure);
  const stuckList = document.getElementById("stuck");
  stuckList.replaceChildren(...(stuck.length ? stuck.map((l) => {
    const li = el("li");
    li.append(el("strong", l.name), el("span",
      ` on ${l.failure.section} for ${minutes(table.now - l.failure.since)} min: `),
      el("q", l.failure.sentence));
    return li;
  }) : [el("li", "Nobody.")]));

  const rows = document.getElementById("rows");
  rows.replaceChildren(...table.learners.map((l) => {
    const tr = el("tr", undefined, l.stuck ? "stuck" : "");
    tr.append(el("th", l.name, "name"));
    for (const s of table.sections) {
      const cell = l.cells[s.id];
      if (!cell) {
        tr.append(el("td", "", "none"));
        continue;
      }
      const [passed, all] = cell;
      const td = el("td", `${passed}/${all}`, passed === all && all > 0 ? "pass" : "fail");
      if (l.failure && l.failure.section === s.id) td.title = l.failure.sentence;
      tr.append(td);
    }
    return tr;
  }));
}

async function refresh() {
  try {
    const answer = await fetch("/api/state", { cache: "no-store" });
    if (answer.ok) draw(await answer.json());
  } catch (err) {
    document.getElementById("status").textContent = "The room does not answer (is `just room` still running?).";
  }
  setTimeout(refresh, 1000);
}

refresh();
