//! Server-rendered SVG charts (no script, no third-party code): horizontal bars for league
//! tables and a line for monthly trends, each mark with a `<title>` tooltip and, where given, a
//! link for drill-down. Text is escaped here; the result is inserted into pages as markup.

use std::fmt::Write;

/// Escapes text for SVG/HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    /// Label on the left.
    pub label: String,
    /// Value (`None`: no data).
    pub value: Option<f64>,
    /// Shown value text.
    pub text: String,
    /// Link of the bar.
    pub href: Option<String>,
    /// Meets its target (`None`: there is no target).
    pub good: Option<bool>,
}

/// Horizontal bars, one row each, scaled to the largest value (and the target), with the target
/// as a dashed line.
pub fn bars(bars: &[Bar], target: Option<f64>, target_text: &str) -> String {
    if bars.iter().all(|b| b.value.is_none()) {
        return NO_DATA.to_string();
    }
    let row = 22.0;
    let (label_w, bar_w, value_w) = (156.0, 300.0, 90.0);
    let h = row * bars.len() as f64 + 24.0;
    let w = label_w + bar_w + value_w;
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .chain(target)
        .fold(0.0_f64, f64::max);
    let scale = |v: f64| {
        if max <= 0.0 {
            0.0
        } else {
            (v.max(0.0) / max * bar_w).max(if v > 0.0 { 2.0 } else { 0.0 })
        }
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="排名"><g font-size="12">"#
    );
    for (i, b) in bars.iter().enumerate() {
        let y = i as f64 * row + 4.0;
        let open = b
            .href
            .as_ref()
            .map(|h| format!(r#"<a href="{}">"#, esc(h)))
            .unwrap_or_default();
        let close = if b.href.is_some() { "</a>" } else { "" };
        let class = match (b.value, b.good) {
            (None, _) => "none",
            (_, None) => "plain",
            (_, Some(true)) => "good",
            (_, Some(false)) => "bad",
        };
        let _ = write!(
            s,
            r#"{open}<g class="cbar {class}"><title>{label}：{text}</title><text x="{tx}" y="{ty}" text-anchor="end">{label}</text><rect class="ctrack" x="{label_w}" y="{y}" width="{bar_w}" height="14"></rect><rect class="cfill" x="{label_w}" y="{y}" width="{bw:.1}" height="14"></rect><text x="{vx}" y="{ty}">{text}</text></g>{close}"#,
            label = esc(&b.label),
            text = esc(&b.text),
            tx = label_w - 6.0,
            ty = y + 11.0,
            bw = b.value.map_or(0.0, scale),
            vx = label_w + bar_w + 6.0,
        );
    }
    if let Some(t) = target {
        let x = label_w + scale(t);
        let _ = write!(
            s,
            r#"<g class="target"><title>目标：{tt}</title><line x1="{x:.1}" y1="0" x2="{x:.1}" y2="{y2}"></line><text x="{x:.1}" y="{ty}" text-anchor="middle">目标 {tt}</text></g>"#,
            tt = esc(target_text),
            y2 = h - 14.0,
            ty = h - 2.0,
        );
    }
    s.push_str("</g></svg>");
    s
}

/// What a chart without a single value shows instead of empty axes.
pub const NO_DATA: &str = r#"<p class="muted no-data">暂无数据：尚无报送或可计算的数值。</p>"#;

/// A line of monthly values with the target as a dashed line. Points: (label, value, text).
pub fn line(
    points: &[(String, Option<f64>, String)],
    target: Option<f64>,
    target_text: &str,
) -> String {
    if points.iter().all(|p| p.1.is_none()) {
        return NO_DATA.to_string();
    }
    let (w, h, left, right, top, bottom) = (560.0, 200.0, 50.0, 20.0, 16.0, 30.0);
    let values: Vec<f64> = points.iter().filter_map(|p| p.1).chain(target).collect();
    let (mut lo, mut hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
    if values.is_empty() {
        (lo, hi) = (0.0, 1.0);
    }
    if lo > 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    let n = points.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + (w - left - right) / 2.0
        } else {
            left + (w - left - right) * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + (h - top - bottom) * (1.0 - (v - lo) / (hi - lo));
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="趋势"><g font-size="11">"#
    );
    let _ = write!(
        s,
        r#"<line class="axis" x1="{left}" y1="{b}" x2="{r}" y2="{b}"></line><text x="{tx}" y="{ty0}" text-anchor="end">{lo}</text><text x="{tx}" y="{ty1}" text-anchor="end">{hi}</text>"#,
        b = h - bottom,
        r = w - right,
        tx = left - 4.0,
        ty0 = h - bottom,
        ty1 = top + 4.0,
        lo = fmt(lo),
        hi = fmt(hi),
    );
    if let Some(t) = target {
        let _ = write!(
            s,
            r#"<g class="target"><title>目标：{tt}</title><line x1="{left}" y1="{yt:.1}" x2="{r}" y2="{yt:.1}"></line></g>"#,
            tt = esc(target_text),
            yt = y(t),
            r = w - right,
        );
    }
    let mut path = String::new();
    for (i, p) in points.iter().enumerate() {
        if let Some(v) = p.1 {
            let _ = write!(
                path,
                "{}{:.1},{:.1} ",
                if path.is_empty() { "M" } else { "L" },
                x(i),
                y(v)
            );
        }
    }
    if !path.is_empty() {
        let _ = write!(s, r#"<path class="series" d="{}"></path>"#, path.trim_end());
    }
    for (i, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            x(i),
            h - bottom + 16.0,
            esc(&p.0)
        );
        if let Some(v) = p.1 {
            let _ = write!(
                s,
                r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="4"><title>{}：{}</title></circle>"#,
                x(i),
                y(v),
                esc(&p.0),
                esc(&p.2)
            );
        }
    }
    s.push_str("</g></svg>");
    s
}

fn fmt(v: f64) -> String {
    yimeng_domain::plan::format_value(v, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_without_a_value_says_so() {
        let empty = Bar {
            label: "兰山区".into(),
            value: None,
            text: "—".into(),
            href: None,
            good: None,
        };
        assert_eq!(bars(&[empty.clone(), empty], Some(1.0), "目标"), NO_DATA);
        assert_eq!(
            line(&[("2020-01".into(), None, "—".into())], Some(1.0), "目标"),
            NO_DATA
        );
        assert!(line(&[("2020-01".into(), Some(2.0), "2".into())], None, "").starts_with("<svg"));
    }

    #[test]
    fn bars_escape_labels_and_scale_to_the_largest_value() {
        let svg = bars(
            &[
                Bar {
                    label: "<script>".into(),
                    value: Some(50.0),
                    text: "50%".into(),
                    href: Some("/indicators/x?region=1&a=2".into()),
                    good: Some(true),
                },
                Bar {
                    label: "兰山区".into(),
                    value: Some(100.0),
                    text: "100%".into(),
                    href: None,
                    good: Some(false),
                },
            ],
            Some(80.0),
            "80%",
        );
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("region=1&amp;a=2"));
        assert!(svg.contains(r#"width="150.0""#), "50 of 100 is half of 300");
        assert!(svg.contains(r#"width="300.0""#));
    }

    #[test]
    fn a_line_skips_months_without_a_value() {
        let svg = line(
            &[
                ("2020-01".into(), Some(1.0), "1".into()),
                ("2020-02".into(), None, "—".into()),
                ("2020-03".into(), Some(3.0), "3".into()),
            ],
            None,
            "",
        );
        assert_eq!(svg.matches("<circle").count(), 2);
        assert_eq!(
            svg.matches('L').count(),
            1,
            "one segment joins the two points"
        );
    }
}
