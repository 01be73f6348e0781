//! The simulator's outputs: a text table, `results.json` (byte-identical
//! for the same seed) and `report.html` (inline SVG, no scripts, viewable
//! offline).

use std::fmt::Write as _;

use crate::fleet::{Outcome, LOAD_BIN_MS, RECOVERED, SUCCESS_BIN_MS, TAIL_MS};
use crate::occ::{self, Point};
use crate::Results;

/// `x` rounded to 4 decimals, written as JSON (shortest form that reads back).
fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{}", (x * 1e4).round() / 1e4)
    } else {
        "null".to_owned()
    }
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn recovery(o: &Outcome) -> String {
    o.recovery_ms.map_or("never".to_owned(), |ms| format!("{ms} ms"))
}

/// The tables printed on stdout.
pub fn table(r: &Results) -> String {
    let sc = &r.scenario;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Fleet: {} clients x {} calls/s against {} workers x {} ms (queue {}, client timeout {} ms); outage {}-{} s of {} s; seed {}",
        sc.clients,
        sc.calls_per_sec,
        sc.workers,
        sc.service_ms,
        sc.queue_limit,
        sc.timeout_ms,
        sc.outage_ms.0 / 1000,
        sc.outage_ms.1 / 1000,
        sc.duration_ms / 1000,
        r.seed
    );
    let _ = writeln!(
        out,
        "{:<32} {:>11} {:>10} {:>11} {:>8} {:>10}",
        "strategy", "total_calls", "peak_load", "outage_load", "goodput", "recovery"
    );
    for o in &r.fleet {
        let _ = writeln!(
            out,
            "{:<32} {:>11} {:>9.2}x {:>10.2}x {:>7.1}% {:>10}",
            o.strategy,
            o.total_calls,
            o.peak_load_ratio,
            o.outage_load_ratio,
            o.goodput * 100.0,
            recovery(o)
        );
    }
    let _ = writeln!(
        out,
        "\nAWS backoff study: N clients, one OCC row, network |N(10 ms, 2 ms)|, base {} ms, cap {} s; mean of {} runs",
        occ::BASE.as_millis(),
        occ::CAP.as_secs(),
        r.occ_runs
    );
    let _ = writeln!(out, "{:<22} {:>4} {:>10} {:>10}", "mode", "N", "work", "time_ms");
    for p in &r.occ {
        let _ = writeln!(
            out,
            "{:<22} {:>4} {:>10.1} {:>10.1}",
            p.mode, p.clients, p.work, p.time_ms
        );
    }
    out
}

/// `results.json`: one record per strategy, then the AWS study's points.
pub fn json(r: &Results) -> String {
    let sc = &r.scenario;
    let mut out = String::new();
    let _ = writeln!(out, "{{\n  \"seed\": {},", r.seed);
    let _ = writeln!(
        out,
        "  \"scenario\": {{ \"clients\": {}, \"calls_per_sec\": {}, \"duration_ms\": {}, \"outage_start_ms\": {}, \"outage_end_ms\": {}, \"workers\": {}, \"service_ms\": {}, \"queue_limit\": {}, \"timeout_ms\": {}, \"network_ms\": {}, \"max_attempts\": {}, \"base_delay_ms\": {}, \"max_delay_ms\": {}, \"breaker_failure_threshold\": {}, \"breaker_recovery_ms\": {} }},",
        sc.clients,
        num(sc.calls_per_sec),
        sc.duration_ms,
        sc.outage_ms.0,
        sc.outage_ms.1,
        sc.workers,
        sc.service_ms,
        sc.queue_limit,
        sc.timeout_ms,
        sc.network_ms,
        sc.max_attempts,
        sc.base_delay_ms,
        sc.max_delay_ms,
        sc.breaker.0,
        sc.breaker.1
    );
    out.push_str("  \"strategies\": [\n");
    for (i, o) in r.fleet.iter().enumerate() {
        let _ = write!(
            out,
            "    {{ \"strategy\": {}, \"total_calls\": {}, \"peak_load_ratio\": {}, \"goodput\": {}, \"recovery_ms\": {}, \"outage_load_ratio\": {}, \"calls\": {}, \"succeeded\": {}, \"shed\": {} }}",
            json_str(o.strategy),
            o.total_calls,
            num(o.peak_load_ratio),
            num(o.goodput),
            o.recovery_ms.map_or("null".to_owned(), |ms| ms.to_string()),
            num(o.outage_load_ratio),
            o.calls,
            o.succeeded,
            o.shed
        );
        out.push_str(if i + 1 < r.fleet.len() { ",\n" } else { "\n" });
    }
    let _ = writeln!(
        out,
        "  ],\n  \"aws_backoff\": {{ \"runs\": {}, \"base_ms\": {}, \"cap_ms\": {}, \"points\": [",
        r.occ_runs,
        occ::BASE.as_millis(),
        occ::CAP.as_millis()
    );
    for (i, p) in r.occ.iter().enumerate() {
        let _ = write!(
            out,
            "    {{ \"mode\": {}, \"clients\": {}, \"work\": {}, \"time_ms\": {} }}",
            json_str(p.mode),
            p.clients,
            num(p.work),
            num(p.time_ms)
        );
        out.push_str(if i + 1 < r.occ.len() { ",\n" } else { "\n" });
    }
    out.push_str("  ] }\n}\n");
    out
}

const PALETTE: [&str; 10] = [
    "#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
];

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// A polyline through `points` mapped into a plot box.
struct Plot {
    x: (f64, f64),
    y: (f64, f64),
    w: f64,
    h: f64,
    left: f64,
    top: f64,
}

impl Plot {
    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * self.w
    }
    fn py(&self, y: f64) -> f64 {
        self.top + self.h - (y - self.y.0) / (self.y.1 - self.y.0) * self.h
    }
    fn path(&self, points: &[(f64, f64)]) -> String {
        let mut d = String::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{:.1},{:.1}",
                if i == 0 { "M" } else { " L" },
                self.px(x),
                self.py(y.min(self.y.1))
            );
        }
        d
    }
    fn axes(&self, svg: &mut String, x_ticks: &[f64], y_ticks: &[f64], x_label: &str, y_label: &str) {
        let (l, t, w, h) = (self.left, self.top, self.w, self.h);
        let _ = write!(
            svg,
            r##"<rect x="{l}" y="{t}" width="{w}" height="{h}" fill="none" stroke="#999"/>"##
        );
        for &x in x_ticks {
            let px = self.px(x);
            let _ = write!(
                svg,
                r##"<line x1="{px:.1}" y1="{}" x2="{px:.1}" y2="{}" stroke="#999"/><text x="{px:.1}" y="{}" font-size="10" text-anchor="middle">{}</text>"##,
                t + h,
                t + h + 4.0,
                t + h + 15.0,
                x
            );
        }
        for &y in y_ticks {
            let py = self.py(y);
            let _ = write!(
                svg,
                r##"<line x1="{l}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#eee"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
                l + w,
                l - 4.0,
                py + 3.0,
                y
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle">{}</text><text x="12" y="{:.1}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {:.1})">{}</text>"##,
            l + w / 2.0,
            t + h + 30.0,
            esc(x_label),
            t + h / 2.0,
            t + h / 2.0,
            esc(y_label)
        );
    }
}

fn ticks(max: f64, n: usize) -> Vec<f64> {
    let raw = max / n as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(mag * 10.0);
    (0..=n * 2)
        .map(|i| i as f64 * step)
        .take_while(|v| *v <= max + 1e-9)
        .collect()
}

/// One small chart: server load (req/s) and the success rate of calls, over time.
fn fleet_chart(r: &Results, o: &Outcome, color: &str, y_max: f64) -> String {
    let sc = &r.scenario;
    let plot = Plot {
        x: (0.0, sc.duration_ms as f64 / 1000.0),
        y: (0.0, y_max),
        w: 400.0,
        h: 150.0,
        left: 50.0,
        top: 28.0,
    };
    let mut svg = format!(
        r##"<svg width="470" height="225" role="img" aria-label="{0}"><text x="50" y="16" font-size="13" font-weight="bold">{0}</text>"##,
        esc(o.strategy)
    );
    let (o0, o1) = (
        plot.px(sc.outage_ms.0 as f64 / 1000.0),
        plot.px(sc.outage_ms.1 as f64 / 1000.0),
    );
    let _ = write!(
        svg,
        r##"<rect x="{o0:.1}" y="{}" width="{:.1}" height="{}" fill="#fde0dd"/>"##,
        plot.top,
        o1 - o0,
        plot.h
    );
    // Aggregate 100 ms bins into 500 ms points, as requests per second.
    let per = (500 / LOAD_BIN_MS) as usize;
    let load: Vec<(f64, f64)> = o
        .load
        .chunks(per)
        .enumerate()
        .map(|(i, c)| {
            let rate = c.iter().map(|&n| f64::from(n)).sum::<f64>() * 1000.0 / (per as f64 * LOAD_BIN_MS as f64);
            ((i as f64 + 0.5) * 0.5, rate)
        })
        .collect();
    let capacity = f64::from(sc.workers) * 1000.0 / sc.service_ms as f64;
    let normal = f64::from(sc.clients) * sc.calls_per_sec;
    for (value, dash, label) in [(capacity, "6,3", "capacity"), (normal, "2,3", "normal load")] {
        let py = plot.py(value);
        let _ = write!(
            svg,
            r##"<line x1="{}" y1="{py:.1}" x2="{}" y2="{py:.1}" stroke="#555" stroke-dasharray="{dash}"/><text x="{}" y="{:.1}" font-size="9" fill="#555">{label}</text>"##,
            plot.left,
            plot.left + plot.w,
            plot.left + plot.w - 60.0,
            py - 2.0
        );
    }
    let _ = write!(
        svg,
        r##"<path d="{}" fill="none" stroke="{color}" stroke-width="1.5"/>"##,
        plot.path(&load)
    );
    // The success rate of calls, scaled so 100% is the top of the chart.
    let success: Vec<(f64, f64)> = o
        .success
        .iter()
        .enumerate()
        .map(|(i, s)| ((i as f64 + 0.5) * SUCCESS_BIN_MS as f64 / 1000.0, s * y_max))
        .collect();
    let _ = write!(
        svg,
        r##"<path d="{}" fill="none" stroke="#2ca02c" stroke-width="1" stroke-dasharray="4,2"/>"##,
        plot.path(&success)
    );
    plot.axes(
        &mut svg,
        &ticks(plot.x.1, 6),
        &ticks(y_max, 4),
        "time (s)",
        "requests/s",
    );
    svg.push_str("</svg>");
    svg
}

/// Work or time against N, one line per mode.
fn occ_chart(points: &[Point], title: &str, y_label: &str, value: fn(&Point) -> f64) -> String {
    let y_max = points.iter().map(value).fold(0.0, f64::max) * 1.05;
    let plot = Plot {
        x: (10.0, 50.0),
        y: (0.0, y_max),
        w: 420.0,
        h: 220.0,
        left: 60.0,
        top: 28.0,
    };
    let mut svg = format!(
        r##"<svg width="640" height="300" role="img" aria-label="{0}"><text x="60" y="16" font-size="13" font-weight="bold">{0}</text>"##,
        esc(title)
    );
    plot.axes(
        &mut svg,
        &[10.0, 20.0, 30.0, 40.0, 50.0],
        &ticks(y_max, 5),
        "clients (N)",
        y_label,
    );
    for (i, (_, mode)) in occ::MODES.iter().enumerate() {
        let line: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| p.mode == *mode)
            .map(|p| (f64::from(p.clients), value(p)))
            .collect();
        let color = PALETTE[i % PALETTE.len()];
        let _ = write!(
            svg,
            r##"<path d="{}" fill="none" stroke="{color}" stroke-width="2"/><rect x="500" y="{}" width="12" height="3" fill="{color}"/><text x="518" y="{}" font-size="11">{}</text>"##,
            plot.path(&line),
            40 + i * 18,
            45 + i * 18,
            esc(mode)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// `report.html`: the two experiments' tables and charts, self-contained.
pub fn html(r: &Results) -> String {
    let sc = &r.scenario;
    let y_max = r
        .fleet
        .iter()
        .flat_map(|o| o.load.chunks((500 / LOAD_BIN_MS) as usize))
        .map(|c| c.iter().map(|&n| f64::from(n)).sum::<f64>() * 2.0)
        .fold(f64::from(sc.workers) * 1000.0 / sc.service_ms as f64, f64::max)
        * 1.05;
    let mut h = String::new();
    h.push_str(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>resilience fleet simulator</title>\n",
    );
    h.push_str("<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap}code{background:#f4f4f4}</style></head><body>\n");
    h.push_str("<h1>Fleet simulator</h1>\n");
    let _ = writeln!(
        h,
        "<p>A deterministic discrete-event simulation on <code>resilience-core</code> and virtual time (seed {}): every backoff delay, retry decision, budget withdrawal, throttle draw and breaker transition below was taken by the core the bindings share. Regenerate with <code>make sim</code>.</p>",
        r.seed
    );
    h.push_str("<h2>1. An outage, through each strategy</h2>\n");
    let _ = writeln!(
        h,
        "<p>{} clients each make {} calls/s (Poisson) — {} calls/s in all — to a server of {} workers × {} ms ({} requests/s) with a queue of {} (beyond it a request is refused at once). A client waits {} ms for an answer; a late answer is wasted work. From {} s to {} s (shaded) a dependency is down: every request the server processes fails, at the same cost. Retrying strategies make up to {} attempts, exponential from {} ms capped at {} ms. Budgets and throttles use core's defaults (ttl 10 s, 10 retries/s, ratio 0.2; window 120 s, k 2); the breaker opens after {} consecutive failures for {} s. Locally refused calls fail at once. Traffic goes on {} s past the measured {} s.</p>",
        sc.clients,
        sc.calls_per_sec,
        f64::from(sc.clients) * sc.calls_per_sec,
        sc.workers,
        sc.service_ms,
        f64::from(sc.workers) * 1000.0 / sc.service_ms as f64,
        sc.queue_limit,
        sc.timeout_ms,
        sc.outage_ms.0 / 1000,
        sc.outage_ms.1 / 1000,
        sc.max_attempts,
        sc.base_delay_ms,
        sc.max_delay_ms,
        sc.breaker.0,
        sc.breaker.1 / 1000,
        TAIL_MS / 1000,
        sc.duration_ms / 1000
    );
    h.push_str("<table><tr><th>strategy</th><th>requests to the server</th><th>peak load (× normal)</th><th>load during outage (× normal)</th><th>goodput</th><th>shed on the client</th><th>recovery after the outage</th></tr>\n");
    for o in &r.fleet {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.2}</td><td>{:.1}%</td><td>{}</td><td>{}</td></tr>",
            esc(o.strategy),
            o.total_calls,
            o.peak_load_ratio,
            o.outage_load_ratio,
            o.goodput * 100.0,
            o.shed,
            recovery(o)
        );
    }
    h.push_str("</table>\n");
    let _ = writeln!(
        h,
        "<p>Goodput: calls that succeeded over calls made. Recovery: from the outage's end until every later {} ms of calls succeeds at {:.0}% or better (<em>never</em>: not within the run). Charts: server arrivals per second (solid), the success rate of calls by start time (dashed green, 100% at the top).</p>",
        SUCCESS_BIN_MS,
        RECOVERED * 100.0
    );
    h.push_str("<div class=\"grid\">\n");
    for (i, o) in r.fleet.iter().enumerate() {
        h.push_str(&fleet_chart(r, o, PALETTE[i % PALETTE.len()], y_max));
        h.push('\n');
    }
    h.push_str("</div>\n<h2>2. The AWS “Exponential Backoff and Jitter” study</h2>\n");
    let _ = writeln!(
        h,
        "<p>N clients start together and each updates one row once with optimistic concurrency; a stale write fails and the client backs off (exponential, base {} ms, cap {} s, no attempt limit) and reads again. Network delay |N(10 ms, 2 ms)| per message. Work: writes the server received; time: until the last client finished. Mean of {} seeded runs per point.</p>",
        occ::BASE.as_millis(),
        occ::CAP.as_secs(),
        r.occ_runs
    );
    h.push_str(&occ_chart(&r.occ, "Work (writes)", "writes", |p| p.work));
    h.push_str(&occ_chart(&r.occ, "Completion time", "ms", |p| p.time_ms));
    h.push_str("<table><tr><th>mode</th>");
    for n in [10, 20, 30, 40, 50] {
        let _ = write!(h, "<th>N={n} work</th><th>N={n} time (ms)</th>");
    }
    h.push_str("</tr>\n");
    for (_, mode) in occ::MODES {
        let _ = write!(h, "<tr><td>{}</td>", esc(mode));
        for p in r.occ.iter().filter(|p| p.mode == mode) {
            let _ = write!(h, "<td>{:.1}</td><td>{:.1}</td>", p.work, p.time_ms);
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body></html>\n");
    h
}
