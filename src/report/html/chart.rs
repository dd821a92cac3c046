//! The small inline SVG chart of each agent in the retro: its findings by severity, its
//! duration and its cost, each bar scaled against the largest among the review's agents.
//! Colours come from the page's stylesheet (classes), so the chart follows dark mode and print.

use super::md::escape;
use crate::review::AgentColumn;
use crate::util::human_duration;
use std::fmt::Write as _;
use std::time::Duration;

/// The largest values among the agents, which the bars are scaled against.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scale {
    pub findings: u32,
    pub duration_ms: u64,
    pub cost_usd: f64,
}

impl Scale {
    pub fn of(agents: &[AgentColumn]) -> Scale {
        let mut s = Scale::default();
        for a in agents {
            s.findings = s.findings.max(a.metrics.findings.total());
            s.duration_ms = s.duration_ms.max(a.metrics.duration_ms);
            s.cost_usd = s.cost_usd.max(a.metrics.cost_usd.unwrap_or(0.0));
        }
        s
    }
}

const WIDTH: f64 = 320.0;
const LABEL: f64 = 74.0;
const BAR: f64 = 160.0;
const ROW: f64 = 24.0;

fn width(value: f64, max: f64) -> f64 {
    if max <= 0.0 || value <= 0.0 {
        0.0
    } else {
        (value / max * BAR).max(2.0)
    }
}

fn row_label(out: &mut String, y: f64, label: &str) {
    let _ = write!(
        out,
        "<text class=\"lbl\" x=\"0\" y=\"{:.0}\">{label}</text>",
        y + 15.0
    );
}

fn value_text(out: &mut String, x: f64, y: f64, text: &str) {
    let _ = write!(
        out,
        "<text class=\"val\" x=\"{:.1}\" y=\"{:.0}\">{}</text>",
        x + 6.0,
        y + 15.0,
        escape(text)
    );
}

/// The chart of agent `a` as an `<svg>` element.
pub fn agent(a: &AgentColumn, scale: Scale) -> String {
    let m = &a.metrics;
    let mut out = String::new();
    let label = format!(
        "{}: findings {}, duration {}, cost {}",
        a.display,
        m.findings.short(),
        human_duration(Duration::from_millis(m.duration_ms)),
        cost(m.cost_usd)
    );
    let _ = write!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {}\" width=\"{WIDTH}\" height=\"{}\" role=\"img\" aria-label=\"{}\"><title>{}</title>",
        ROW * 3.0,
        ROW * 3.0,
        escape(&label),
        escape(&label)
    );
    // Findings: one stacked bar, a segment per severity.
    row_label(&mut out, 0.0, "Findings");
    let mut x = LABEL;
    for (n, class) in [
        (m.findings.critical, "critical"),
        (m.findings.important, "important"),
        (m.findings.suggestion, "suggestion"),
    ] {
        let w = width(n as f64, scale.findings as f64);
        if w > 0.0 {
            let _ = write!(
                out,
                "<rect class=\"bar {class}\" x=\"{x:.1}\" y=\"4\" width=\"{w:.1}\" height=\"14\" rx=\"2\"/>"
            );
            x += w;
        }
    }
    value_text(&mut out, x, 0.0, &m.findings.short());
    // Duration and cost: one bar each.
    row_label(&mut out, ROW, "Duration");
    let w = width(m.duration_ms as f64, scale.duration_ms as f64);
    bar(&mut out, ROW, w, "time");
    value_text(
        &mut out,
        LABEL + w,
        ROW,
        &human_duration(Duration::from_millis(m.duration_ms)),
    );
    row_label(&mut out, ROW * 2.0, "Cost");
    let w = width(m.cost_usd.unwrap_or(0.0), scale.cost_usd);
    bar(&mut out, ROW * 2.0, w, "cost");
    value_text(&mut out, LABEL + w, ROW * 2.0, &cost(m.cost_usd));
    out.push_str("</svg>");
    out
}

fn bar(out: &mut String, y: f64, w: f64, class: &str) {
    if w > 0.0 {
        let _ = write!(
            out,
            "<rect class=\"bar {class}\" x=\"{LABEL}\" y=\"{:.0}\" width=\"{w:.1}\" height=\"14\" rx=\"2\"/>",
            y + 4.0
        );
    }
}

fn cost(c: Option<f64>) -> String {
    c.map_or_else(|| "not reported".into(), |c| format!("${c:.2}"))
}
