//! Charts as inline SVG, drawn on the server: a line chart of rates over time and a horizontal bar
//! chart of one rate per label. Plain functions from numbers to markup — no script, no inline style
//! (colours are presentation attributes), a `viewBox` with `width="100%"` so a chart shrinks to a
//! phone's width, a `<title>` on every point and bar for its exact value, and `data-testid`s for tests.
//! Rates are fractions (0–1); every text is escaped here, so templates insert the result as is.

use std::fmt::Write;

/// Width of every chart's coordinate system; heights vary.
const WIDTH: f64 = 480.0;
/// Text size in chart units (about 11 px on a 390 px phone).
const FONT: f64 = 15.0;
/// Line colours of the series, in order (the party red first).
const COLOURS: [&str; 4] = ["#a8161b", "#1d4ed8", "#1b8a4a", "#8a5300"];

/// A rate as a percentage with one decimal (`66.7%`); `—` when there is none.
pub fn pct(rate: Option<f64>) -> String {
    match rate {
        Some(r) if r.is_finite() => format!("{:.1}%", r * 100.0),
        _ => "—".to_owned(),
    }
}

/// Text escaped for SVG (XML) text and double-quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// A number in chart units, short (`12.5`, `40`).
fn n(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn clamp(rate: f64) -> f64 {
    if rate.is_finite() {
        rate.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

fn open_svg(out: &mut String, testid: &str, title: &str, height: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" data-testid="{testid}" viewBox="0 0 {w} {h}" width="100%" role="img" xmlns="http://www.w3.org/2000/svg" font-size="{FONT}" font-family="inherit"><title>{title}</title>"#,
        w = n(WIDTH),
        h = n(height),
        title = escape(title),
    );
}

fn empty_chart(testid: &str, title: &str, empty: &str) -> String {
    let mut out = String::new();
    open_svg(&mut out, testid, title, 60.0);
    let _ = write!(
        out,
        r##"<text data-testid="chart-empty" x="{x}" y="34" text-anchor="middle" fill="#646a73">{}</text></svg>"##,
        escape(empty),
        x = n(WIDTH / 2.0),
    );
    out
}

/// One line of a line chart: its name and a value per label (`None`: no value there, a gap).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// Layout of the line chart, in chart units.
struct Plot {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    points: usize,
}

impl Plot {
    fn new(points: usize) -> Self {
        Plot { left: 48.0, right: WIDTH - 16.0, top: 12.0, bottom: 200.0, points }
    }

    /// The x of point `i`: spread over the width, one point in the middle.
    fn x(&self, i: usize) -> f64 {
        if self.points <= 1 {
            (self.left + self.right) / 2.0
        } else {
            self.left + (self.right - self.left) * i as f64 / (self.points - 1) as f64
        }
    }

    /// The y of a rate: 0 at the bottom, 1 at the top.
    fn y(&self, rate: f64) -> f64 {
        self.bottom - (self.bottom - self.top) * clamp(rate)
    }
}

/// A line chart of rates (0–100 % axis) over `labels`, one line per series, with a legend below.
/// `empty` is shown instead when there is nothing to draw.
pub fn line_chart(title: &str, labels: &[String], series: &[Series], empty: &str) -> String {
    let has_values = series.iter().any(|s| s.values.iter().take(labels.len()).any(Option::is_some));
    if labels.is_empty() || !has_values {
        return empty_chart("line-chart", title, empty);
    }
    let p = Plot::new(labels.len());
    let legend_top = p.bottom + 40.0;
    let height = legend_top + 22.0 * series.len() as f64;
    let mut out = String::new();
    open_svg(&mut out, "line-chart", title, height);
    // The percentage axis: a grid line and a label every 25 %.
    for step in 0..=4 {
        let rate = f64::from(step) / 4.0;
        let y = n(p.y(rate));
        let _ = write!(
            out,
            r##"<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#dee0e3" stroke-width="1"/><text x="{tx}" y="{y}" dy="5" text-anchor="end" fill="#646a73">{pc}%</text>"##,
            l = n(p.left),
            r = n(p.right),
            tx = n(p.left - 6.0),
            pc = step * 25,
        );
    }
    // Month labels: at most five or six, far enough apart, always the last.
    let step = labels.len().div_ceil(5).max(1);
    for (i, label) in labels.iter().enumerate() {
        let last = i + 1 == labels.len();
        if !last && (i % step != 0 || labels.len() - 1 - i < step) {
            continue;
        }
        let anchor = if labels.len() > 1 && last {
            "end"
        } else if i == 0 && labels.len() > 1 {
            "start"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r##"<text data-testid="x-label" x="{x}" y="{y}" text-anchor="{anchor}" fill="#646a73">{}</text>"##,
            escape(label),
            x = n(p.x(i)),
            y = n(p.bottom + 22.0),
        );
    }
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let mut d = String::new();
        let mut pen_down = false;
        for (i, v) in s.values.iter().take(labels.len()).enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(d, "{}{} {}", if pen_down { " L" } else { " M" }, n(p.x(i)), n(p.y(*v)));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            out,
            r#"<g data-testid="series" data-series="{k}"><path d="{}" fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"/>"#,
            d.trim_start(),
        );
        for (i, v) in s.values.iter().take(labels.len()).enumerate() {
            let Some(v) = v else { continue };
            let _ = write!(
                out,
                r##"<circle data-testid="point" cx="{x}" cy="{y}" r="3.5" fill="{colour}" stroke="#fff" stroke-width="1"><title>{name} {label}: {value}</title></circle>"##,
                x = n(p.x(i)),
                y = n(p.y(*v)),
                name = escape(&s.name),
                label = escape(&labels[i]),
                value = pct(Some(*v)),
            );
        }
        let ly = legend_top + 22.0 * k as f64;
        let _ = write!(
            out,
            r#"</g><g data-testid="legend"><line x1="{l}" y1="{ly}" x2="{l2}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{tx}" y="{ly}" dy="5">{}</text></g>"#,
            escape(&s.name),
            l = n(p.left),
            l2 = n(p.left + 24.0),
            ly = n(ly),
            tx = n(p.left + 32.0),
        );
    }
    out.push_str("</svg>");
    out
}

/// One bar: its label, its rate, and the text beside it.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub rate: Option<f64>,
    /// Shown beside the bar and in its tooltip, e.g. `66.7% (2/3)`.
    pub note: String,
}

/// Longest label drawn in full; longer ones are cut with `…` (the tooltip has the whole).
const MAX_LABEL_CHARS: usize = 8;
const BAR_ROW: f64 = 28.0;
const BAR_LEFT: f64 = 124.0;
const BAR_RIGHT: f64 = WIDTH - 64.0;

fn short(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_owned()
    } else {
        let cut: String = label.chars().take(MAX_LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// A horizontal bar chart of rates (0–100 %), one row per bar, labels on the left.
pub fn bar_chart(title: &str, bars: &[Bar], empty: &str) -> String {
    let rows: Vec<Row> = bars
        .iter()
        .map(|b| Row { label: &b.label, fraction: b.rate.map(clamp).unwrap_or(0.0), note: &b.note, value: pct(b.rate) })
        .collect();
    horizontal_bars("bar-chart", title, &rows, empty)
}

/// One bar of a count chart: its label and its count.
#[derive(Debug, Clone)]
pub struct CountBar {
    pub label: String,
    pub count: i64,
}

/// A horizontal bar chart of counts, one row per bar, the longest bar the largest count, the count
/// beside each bar. `empty` is shown instead when every count is zero.
pub fn count_chart(title: &str, bars: &[CountBar], empty: &str) -> String {
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0);
    if max <= 0 {
        return empty_chart("count-chart", title, empty);
    }
    let counts: Vec<String> = bars.iter().map(|b| b.count.to_string()).collect();
    let rows: Vec<Row> = bars
        .iter()
        .zip(&counts)
        .map(|(b, c)| Row { label: &b.label, fraction: b.count.max(0) as f64 / max as f64, note: c, value: c.clone() })
        .collect();
    horizontal_bars("count-chart", title, &rows, empty)
}

/// A bar as drawn: its label, its length (0–1 of the full width), its tooltip note and the text beside it.
struct Row<'a> {
    label: &'a str,
    fraction: f64,
    note: &'a str,
    value: String,
}

fn horizontal_bars(testid: &str, title: &str, bars: &[Row], empty: &str) -> String {
    if bars.is_empty() {
        return empty_chart(testid, title, empty);
    }
    let height = BAR_ROW * bars.len() as f64 + 8.0;
    let mut out = String::new();
    open_svg(&mut out, testid, title, height);
    let full = BAR_RIGHT - BAR_LEFT;
    // Backdrop lines at 0 and 100 %.
    for x in [BAR_LEFT, BAR_RIGHT] {
        let _ = write!(
            out,
            r##"<line x1="{x}" y1="2" x2="{x}" y2="{y2}" stroke="#dee0e3" stroke-width="1"/>"##,
            x = n(x),
            y2 = n(height - 4.0),
        );
    }
    for (i, b) in bars.iter().enumerate() {
        let top = 4.0 + BAR_ROW * i as f64;
        let mid = top + BAR_ROW / 2.0;
        let w = full * clamp(b.fraction);
        let _ = write!(
            out,
            r##"<g data-testid="bar"><title>{label}: {note}</title><text x="{lx}" y="{mid}" dy="5" text-anchor="end">{short}</text><rect x="{bx}" y="{by}" width="{w}" height="{bh}" rx="2" fill="#a8161b"/><text x="{vx}" y="{mid}" dy="5" fill="#646a73">{value}</text></g>"##,
            label = escape(b.label),
            note = escape(b.note),
            short = escape(&short(b.label)),
            lx = n(BAR_LEFT - 8.0),
            mid = n(mid),
            bx = n(BAR_LEFT),
            by = n(top + 5.0),
            w = n(w),
            bh = n(BAR_ROW - 10.0),
            vx = n(BAR_LEFT + w + 6.0),
            value = escape(&b.value),
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (1..=n).map(|m| format!("2025-{m:02}")).collect()
    }

    #[test]
    fn rates_read_as_percentages_with_one_decimal() {
        assert_eq!(pct(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(pct(Some(0.0)), "0.0%");
        assert_eq!(pct(Some(1.0)), "100.0%");
        assert_eq!(pct(None), "—");
        assert_eq!(pct(Some(f64::NAN)), "—");
    }

    #[test]
    fn coordinates_span_the_plot() {
        let p = Plot::new(3);
        assert_eq!((p.x(0), p.x(1), p.x(2)), (48.0, 256.0, 464.0));
        assert_eq!((p.y(0.0), p.y(1.0), p.y(0.5)), (200.0, 12.0, 106.0));
        assert_eq!(p.y(1.7), 12.0, "clamped");
        assert_eq!(Plot::new(1).x(0), 256.0, "a single point sits in the middle");
    }

    #[test]
    fn a_line_chart_has_a_point_per_value_and_a_legend_per_series() {
        let series = vec![
            Series { name: "组织覆盖率".into(), values: vec![Some(0.0), Some(0.5), Some(1.0)] },
            Series { name: "工作覆盖率".into(), values: vec![None, Some(0.25), Some(0.75)] },
        ];
        let svg = line_chart("趋势", &labels(3), &series, "无数据");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"viewBox="0 0 480 284""#) && svg.contains(r#"width="100%""#), "{svg}");
        assert_eq!(svg.matches(r#"data-testid="point""#).count(), 5);
        assert_eq!(svg.matches(r#"data-testid="legend""#).count(), 2);
        assert_eq!(svg.matches(r#"data-testid="x-label""#).count(), 3);
        assert!(svg.contains(r#"d="M48 200 L256 106 L464 12""#), "{svg}");
        assert!(svg.contains(r#"d="M256 153 L464 59""#), "a missing value starts the line later: {svg}");
        assert!(svg.contains("<title>组织覆盖率 2025-02: 50.0%</title>"));
        assert!(svg.contains(">100%</text>") && svg.contains(">0%</text>"));
        assert!(!svg.contains("style="), "no inline style (CSP)");
    }

    #[test]
    fn month_labels_thin_out_but_keep_the_last() {
        let series = vec![Series { name: "x".into(), values: vec![Some(0.5); 24] }];
        let months: Vec<String> = (0..24).map(|i| format!("{}-{:02}", 2024 + i / 12, i % 12 + 1)).collect();
        let svg = line_chart("t", &months, &series, "");
        let shown = svg.matches(r#"data-testid="x-label""#).count();
        assert!((2..=7).contains(&shown), "{shown}");
        assert_eq!(svg.matches(r#"data-testid="point""#).count(), 24);
        assert!(svg.contains(r#"x="464" y="222" text-anchor="end""#), "the last month is labelled: {svg}");
    }

    #[test]
    fn labels_and_names_are_escaped() {
        let series = vec![Series { name: "<b>&\"'".into(), values: vec![Some(0.5)] }];
        let svg = line_chart("a<b", &["<m>".to_owned()], &series, "");
        assert!(!svg.contains("<b>") && !svg.contains("<m>"), "{svg}");
        assert!(svg.contains("&lt;b&gt;&amp;&quot;&#x27;") && svg.contains("<title>a&lt;b</title>"));
        let bars = vec![Bar { label: "<script>".into(), rate: Some(0.5), note: "\"x\"".into() }];
        let svg = bar_chart("t", &bars, "");
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;") && svg.contains("&quot;x&quot;"));
    }

    #[test]
    fn empty_data_says_so() {
        let none = line_chart("趋势", &[], &[], "暂无数据");
        assert!(none.contains(r#"data-testid="chart-empty""#) && none.contains("暂无数据"));
        let all_gaps = vec![Series { name: "x".into(), values: vec![None, None] }];
        assert!(line_chart("t", &labels(2), &all_gaps, "空").contains("chart-empty"));
        let bars = bar_chart("t", &[], "空<");
        assert!(bars.contains("空&lt;") && !bars.contains("data-testid=\"bar\""));
    }

    #[test]
    fn bars_are_as_long_as_their_rate() {
        let bars = vec![
            Bar { label: "北京市".into(), rate: Some(1.0), note: "100.0% (3/3)".into() },
            Bar { label: "新疆生产建设兵团第八师".into(), rate: Some(0.5), note: "50.0%".into() },
            Bar { label: "天津市".into(), rate: None, note: "—".into() },
        ];
        let svg = bar_chart("覆盖率", &bars, "");
        assert_eq!(svg.matches(r#"data-testid="bar""#).count(), 3);
        assert!(svg.contains(r#"viewBox="0 0 480 92""#), "{svg}");
        assert!(svg.contains(r#"width="292""#) && svg.contains(r#"width="146""#) && svg.contains(r#"width="0""#));
        assert!(svg.contains(">新疆生产建设兵…</text>"), "long labels are cut: {svg}");
        assert!(svg.contains("<title>新疆生产建设兵团第八师: 50.0%</title>"));
        assert!(svg.contains(">—</text>"));
    }

    #[test]
    fn count_bars_are_as_long_as_their_share_of_the_largest() {
        let bars = vec![
            CountBar { label: "欠薪".into(), count: 4 },
            CountBar { label: "其他".into(), count: 1 },
            CountBar { label: "法律援助".into(), count: 0 },
        ];
        let svg = count_chart("类别", &bars, "无");
        assert!(svg.contains(r#"data-testid="count-chart""#) && svg.contains(r#"viewBox="0 0 480 92""#), "{svg}");
        assert!(svg.contains(r#"width="292""#) && svg.contains(r#"width="73""#) && svg.contains(r#"width="0""#));
        assert!(
            svg.contains("<title>欠薪: 4</title>") && svg.contains(">4</text>") && !svg.contains("%</text>"),
            "{svg}"
        );
        let none = count_chart("类别", &[CountBar { label: "x".into(), count: 0 }], "暂无");
        assert!(none.contains("chart-empty") && none.contains("暂无"));
    }
}
