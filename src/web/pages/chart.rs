//! Line charts as inline SVG: the geometry here (pure), the drawing in `templates/web/chart.svg.hbs`. A day
//! without a value breaks its line; every chart has a title saying what it shows, and the pages put a table of the
//! same numbers beside it.

use chrono::NaiveDate;
use serde::Serialize;

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 30.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;
/// Line colours, in series order (colour-blind safe, after Okabe and Ito).
const COLOURS: [&str; 8] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"];

/// One line: a value per day (`None`: no value that day).
pub struct Series {
    pub label: String,
    pub values: Vec<Option<f64>>,
}

#[derive(Debug, Serialize)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    /// What the chart shows, for screen readers and as a tooltip.
    pub title: String,
    pub lines: Vec<Line>,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

#[derive(Debug, Serialize)]
pub struct Line {
    pub label: String,
    pub colour: &'static str,
    /// Runs of consecutive days with a value, as SVG `points`.
    pub segments: Vec<String>,
    /// How many days have a value.
    pub points: usize,
    /// The last point, marked with a dot.
    pub last: Option<(f64, f64)>,
}

#[derive(Debug, Serialize)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// A chart of `series` over `days`, values from 0 to `y_max`, with `y_ticks` (value, label).
pub fn chart(title: String, days: &[NaiveDate], series: Vec<Series>, y_max: f64, y_ticks: Vec<(f64, String)>) -> Chart {
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x = |i: usize| LEFT + if days.len() > 1 { i as f64 * plot_w / (days.len() - 1) as f64 } else { plot_w / 2.0 };
    let y = |v: f64| TOP + (1.0 - (v / y_max.max(f64::MIN_POSITIVE)).clamp(0.0, 1.0)) * plot_h;
    let round = |v: f64| (v * 10.0).round() / 10.0;
    let lines = series
        .into_iter()
        .enumerate()
        .map(|(n, s)| {
            let mut segments = Vec::new();
            let mut run: Vec<String> = Vec::new();
            let mut last = None;
            for (i, value) in s.values.iter().enumerate() {
                match value {
                    Some(v) => {
                        let point = (round(x(i)), round(y(*v)));
                        run.push(format!("{},{}", point.0, point.1));
                        last = Some(point);
                    }
                    None if !run.is_empty() => segments.push(std::mem::take(&mut run).join(" ")),
                    None => {}
                }
            }
            if !run.is_empty() {
                segments.push(run.join(" "));
            }
            let points = s.values.iter().filter(|v| v.is_some()).count();
            Line { label: s.label, colour: COLOURS[n % COLOURS.len()], segments, points, last }
        })
        .collect();
    let y_ticks = y_ticks.into_iter().map(|(v, label)| Tick { at: round(y(v)), label }).collect();
    let x_ticks = x_tick_days(days)
        .into_iter()
        .map(|i| Tick { at: round(x(i)), label: days[i].format("%b %-d").to_string() })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        title,
        lines,
        y_ticks,
        x_ticks,
        left: LEFT,
        right: WIDTH - RIGHT,
        top: TOP,
        bottom: HEIGHT - BOTTOM,
    }
}

/// The first and last day, and about four between.
fn x_tick_days(days: &[NaiveDate]) -> Vec<usize> {
    match days.len() {
        0 => vec![],
        1 => vec![0],
        n => {
            let step = ((n - 1) as f64 / 5.0).ceil().max(1.0) as usize;
            let mut at: Vec<usize> = (0..n - 1).step_by(step).collect();
            if (n - 1) - at.last().copied().unwrap_or(0) < step / 2 && at.len() > 1 {
                at.pop();
            }
            at.push(n - 1);
            at
        }
    }
}

/// Percentage ticks for a share chart.
pub fn share_ticks() -> Vec<(f64, String)> {
    [0.0, 0.25, 0.5, 0.75, 1.0].iter().map(|&v| (v, format!("{}%", (v * 100.0) as u32))).collect()
}
