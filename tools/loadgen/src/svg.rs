//! The timeline of a run as an SVG picture: requests per time slice stacked by status, then one
//! lane per instance showing when it answered, and marks for events (a replica killed, a deploy
//! started). The book shows these pictures; `just load` draws your own (target/lab/load.svg), and
//! `loadgen --svg FILE` does for any run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use crate::{Outcome, Report};

// 760 wide, so that the book shows it at its own size (its column is about 790 px at a 1024 px
// window) and 13 px text stays 13 px: a wider picture is scaled down, and its text with it.
const WIDTH: f64 = 760.0;
const LEFT: f64 = 130.0;
const RIGHT: f64 = 20.0;
const BARS: f64 = 150.0;
const LANE: f64 = 22.0;

const OK: &str = "#2e7d32";
const CLIENT: &str = "#f9a825";
const SERVER: &str = "#c62828";
const NO_ANSWER: &str = "#424242";

fn class(outcome: &Outcome) -> usize {
    match outcome {
        Outcome::Status(s) if *s < 400 => 0,
        Outcome::Status(s) if *s < 500 => 1,
        Outcome::Status(_) => 2,
        _ => 3,
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Draws `report`, with `events` (time from the start, label) as vertical marks.
pub fn render(report: &Report, title: &str, events: &[(Duration, String)]) -> String {
    let elapsed = report.elapsed.as_secs_f64().max(0.001);
    let slices = 120usize;
    let slice = elapsed / slices as f64;
    let plot = WIDTH - LEFT - RIGHT;
    let x = |t: f64| LEFT + plot * (t / elapsed).clamp(0.0, 1.0);

    // Per slice: counts by status class; per instance and slice: count, and whether any failed.
    let mut stacks = vec![[0usize; 4]; slices];
    let mut lanes: BTreeMap<String, Vec<(usize, bool)>> = BTreeMap::new();
    for s in &report.samples {
        let i = ((s.at.as_secs_f64() / slice) as usize).min(slices - 1);
        let c = class(&s.outcome);
        stacks[i][c] += 1;
        let lane = s.instance.clone().unwrap_or_else(|| "no answer".into());
        let cells = lanes
            .entry(lane)
            .or_insert_with(|| vec![(0, false); slices]);
        cells[i].0 += 1;
        cells[i].1 |= c != 0;
    }
    let top = stacks
        .iter()
        .map(|s| s.iter().sum::<usize>())
        .max()
        .unwrap_or(0)
        .max(1);
    let lanes_top = 60.0 + BARS + 40.0;
    let height = lanes_top + LANE * lanes.len() as f64 + 70.0;

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="13">"##
    );
    let _ = writeln!(svg, r##"<rect width="100%" height="100%" fill="white"/>"##);
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="22" font-size="16" font-weight="bold">{}</text>"##,
        escape(title)
    );
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="42" fill="#555">{} requests in {:.1} s, {} failed; requests per {:.0} ms slice, by status</text>"##,
        report.samples.len(),
        elapsed,
        report.failed(),
        slice * 1000.0
    );

    // Stacked bars.
    let base = 60.0 + BARS;
    let w = (plot / slices as f64).max(1.0);
    for (i, stack) in stacks.iter().enumerate() {
        let mut y = base;
        for (c, colour) in [OK, CLIENT, SERVER, NO_ANSWER].iter().enumerate() {
            if stack[c] == 0 {
                continue;
            }
            let h = BARS * stack[c] as f64 / top as f64;
            y -= h;
            let _ = writeln!(
                svg,
                r##"<rect x="{:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{colour}"/>"##,
                LEFT + i as f64 * plot / slices as f64
            );
        }
    }
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="end" fill="#555">{top}</text><text x="{}" y="{base}" text-anchor="end" fill="#555">0</text>"##,
        LEFT - 6.0,
        64.0,
        LEFT - 6.0
    );

    // Lanes.
    for (row, (name, cells)) in lanes.iter().enumerate() {
        let y = lanes_top + LANE * row as f64;
        let peak = cells.iter().map(|c| c.0).max().unwrap_or(1).max(1);
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT - 6.0,
            y + LANE * 0.65,
            escape(&name.chars().take(16).collect::<String>())
        );
        let _ = writeln!(
            svg,
            r##"<rect x="{LEFT}" y="{:.1}" width="{plot}" height="{:.1}" fill="#f3f3f3"/>"##,
            y + 2.0,
            LANE - 4.0
        );
        for (i, (count, failed)) in cells.iter().enumerate() {
            if *count == 0 {
                continue;
            }
            let colour = if name == "no answer" {
                NO_ANSWER
            } else if *failed {
                SERVER
            } else {
                OK
            };
            let opacity = 0.25 + 0.75 * *count as f64 / peak as f64;
            let _ = writeln!(
                svg,
                r##"<rect x="{:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{colour}" fill-opacity="{opacity:.2}"/>"##,
                LEFT + i as f64 * plot / slices as f64,
                y + 2.0,
                LANE - 4.0
            );
        }
    }

    // Time axis, events, legend.
    let axis = lanes_top + LANE * lanes.len() as f64 + 8.0;
    let step = [0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]
        .into_iter()
        .find(|s| elapsed / s <= 12.0)
        .unwrap_or(120.0);
    let mut t = 0.0;
    while t <= elapsed + 1e-9 {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="60" x2="{0:.1}" y2="{axis:.1}" stroke="#ddd"/><text x="{0:.1}" y="{1:.1}" text-anchor="middle" fill="#555">{t} s</text>"##,
            x(t),
            axis + 14.0
        );
        t += step;
    }
    for (at, label) in events {
        let ex = x(at.as_secs_f64());
        let _ = writeln!(
            svg,
            r##"<line x1="{ex:.1}" y1="52" x2="{ex:.1}" y2="{axis:.1}" stroke="#1565c0" stroke-dasharray="4 3"/><text x="{:.1}" y="58" fill="#1565c0">{}</text>"##,
            ex + 3.0,
            escape(label)
        );
    }
    let legend = axis + 36.0;
    for (i, (colour, label)) in [
        (OK, "2xx/3xx"),
        (CLIENT, "4xx"),
        (SERVER, "5xx"),
        (NO_ANSWER, "refused, reset or timed out"),
    ]
    .iter()
    .enumerate()
    {
        // Each label's start, after the one before it (13 px text: about 7 px a character).
        let lx = LEFT + [0.0, 95.0, 165.0, 235.0][i];
        let _ = writeln!(
            svg,
            r##"<rect x="{lx}" y="{:.1}" width="12" height="12" fill="{colour}"/><text x="{}" y="{legend:.1}">{label}</text>"##,
            legend - 10.0,
            lx + 16.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}
