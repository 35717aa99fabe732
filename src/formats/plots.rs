//! Pictures people read before numbers, as self-contained SVG: a forest plot
//! of each group's change with its interval beside the overall change, and
//! box plots of each group's scores per wave. Drawn in the server (no
//! script), in greys and one accent, readable in print and by colour-blind
//! readers (the waves differ in fill pattern as well as shade).

use std::fmt::Write as _;

/// One line of a forest plot.
#[derive(Debug, Clone)]
pub struct ForestRow {
    pub label: String,
    /// e.g. "n = 50 → 42".
    pub note: String,
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// The overall line, drawn as a diamond below a rule.
    pub overall: bool,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A nice step for about `n` ticks over `span`.
fn step(span: f64, n: f64) -> f64 {
    let raw = span / n;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm < 1.5 {
        1.0
    } else if norm < 3.5 {
        2.0
    } else if norm < 7.5 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The axis range: the data's, widened to take in zero and nice ends.
fn axis(lo: f64, hi: f64, with_zero: bool) -> (f64, f64, f64) {
    let (mut lo, mut hi) = (lo, hi);
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if (hi - lo).abs() < 1e-9 {
        lo -= 0.5;
        hi += 0.5;
    }
    let s = step(hi - lo, 5.0);
    ((lo / s).floor() * s, (hi / s).ceil() * s, s)
}

/// A forest plot: a point and interval per row, a line at zero, the axis
/// labelled `axis_label`. `title` is for screen readers and print.
pub fn forest(title: &str, axis_label: &str, rows: &[ForestRow]) -> String {
    let finite: Vec<&ForestRow> = rows
        .iter()
        .filter(|r| r.low.is_finite() && r.high.is_finite() && r.estimate.is_finite())
        .collect();
    let lo = finite.iter().map(|r| r.low).fold(f64::INFINITY, f64::min);
    let hi = finite
        .iter()
        .map(|r| r.high)
        .fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi, tick) = if finite.is_empty() {
        (-1.0, 1.0, 0.5)
    } else {
        axis(lo, hi, true)
    };
    let (left, width, row_h, top) = (210.0, 420.0, 30.0, 16.0);
    let height = top + row_h * rows.len() as f64 + 56.0;
    let x = |v: f64| left + (v - lo) / (hi - lo) * width;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {height}" width="{w}" height="{height}" role="img" aria-labelledby="forest-title" font-family="system-ui, sans-serif" font-size="13"><title id="forest-title">{t}</title>"##,
        w = left + width + 150.0,
        t = esc(title)
    );
    let axis_y = top + row_h * rows.len() as f64 + 6.0;
    let mut v = lo;
    while v <= hi + tick / 2.0 {
        let _ = write!(
            svg,
            r##"<line x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{axis_y}" stroke="#e3e6ea"/><text x="{x:.1}" y="{ty}" text-anchor="middle" fill="#444">{label}</text>"##,
            x = x(v),
            ty = axis_y + 16.0,
            label = trim_number(v)
        );
        v += tick;
    }
    let _ = write!(
        svg,
        r##"<line x1="{z:.1}" y1="{top}" x2="{z:.1}" y2="{axis_y}" stroke="#555" stroke-dasharray="4 3"/><text x="{cx:.1}" y="{ly}" text-anchor="middle" fill="#222">{label}</text>"##,
        z = x(0.0),
        cx = left + width / 2.0,
        ly = axis_y + 36.0,
        label = esc(axis_label)
    );
    for (i, r) in rows.iter().enumerate() {
        let y = top + row_h * (i as f64 + 0.5);
        if r.overall && i > 0 {
            let _ = write!(
                svg,
                r##"<line x1="8" y1="{ry}" x2="{rx}" y2="{ry}" stroke="#999"/>"##,
                ry = y - row_h / 2.0,
                rx = left + width + 140.0
            );
        }
        let weight = if r.overall { "700" } else { "400" };
        let _ = write!(
            svg,
            r##"<text x="8" y="{ty:.1}" font-weight="{weight}" fill="#111">{label}</text><text x="{nx}" y="{ty:.1}" fill="#555">{note}</text>"##,
            ty = y + 4.5,
            label = esc(&r.label),
            nx = left + width + 10.0,
            note = esc(&r.note)
        );
        if !(r.low.is_finite() && r.high.is_finite() && r.estimate.is_finite()) {
            continue;
        }
        let _ = write!(
            svg,
            r##"<line x1="{a:.1}" y1="{y:.1}" x2="{b:.1}" y2="{y:.1}" stroke="#1f4e79" stroke-width="2"/>"##,
            a = x(r.low),
            b = x(r.high)
        );
        if r.overall {
            let (cx, d) = (x(r.estimate), 8.0);
            let _ = write!(
                svg,
                r##"<polygon points="{l:.1},{y:.1} {cx:.1},{t:.1} {r:.1},{y:.1} {cx:.1},{b:.1}" fill="#1f4e79"/>"##,
                l = cx - d,
                r = cx + d,
                t = y - d,
                b = y + d
            );
        } else {
            let _ = write!(
                svg,
                r##"<rect x="{rx:.1}" y="{ry:.1}" width="10" height="10" fill="#1f4e79"/>"##,
                rx = x(r.estimate) - 5.0,
                ry = y - 5.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn trim_number(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// One group's scores in each of two waves.
#[derive(Debug, Clone)]
pub struct BoxGroup {
    pub label: String,
    pub waves: [Vec<f64>; 2],
}

/// Tukey's box: quartiles (linear interpolation), whiskers to the furthest
/// values within 1.5 IQR, the rest as points.
fn five(values: &[f64]) -> Option<([f64; 5], Vec<f64>)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (v.len() - 1) as f64 * p;
        let (a, b) = (h.floor() as usize, h.ceil() as usize);
        v[a] + (h - a as f64) * (v[b] - v[a])
    };
    let (q1, q2, q3) = (q(0.25), q(0.5), q(0.75));
    let iqr = q3 - q1;
    let low = v
        .iter()
        .copied()
        .find(|x| *x >= q1 - 1.5 * iqr)
        .unwrap_or(q1);
    let high = v
        .iter()
        .rev()
        .copied()
        .find(|x| *x <= q3 + 1.5 * iqr)
        .unwrap_or(q3);
    let outliers = v
        .iter()
        .copied()
        .filter(|x| *x < low || *x > high)
        .collect();
    Some(([low, q1, q2, q3, high], outliers))
}

/// Box plots per group, the two waves side by side (the earlier in light
/// grey, the later in the accent with hatching), on a shared axis.
pub fn boxes(title: &str, axis_label: &str, waves: &[String; 2], groups: &[BoxGroup]) -> String {
    let all = groups
        .iter()
        .flat_map(|g| g.waves.iter().flatten())
        .copied();
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let (lo, hi, tick) = if lo.is_finite() {
        axis(lo, hi, false)
    } else {
        (0.0, 1.0, 0.25)
    };
    let (left, top, plot_h, slot) = (48.0, 28.0, 220.0, 96.0);
    let width = left + slot * groups.len().max(1) as f64 + 20.0;
    let y = |v: f64| top + plot_h - (v - lo) / (hi - lo) * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="{width}" height="{h}" role="img" aria-labelledby="boxes-title" font-family="system-ui, sans-serif" font-size="13"><title id="boxes-title">{t}</title><defs><pattern id="hatch" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="5" height="5" fill="#8fb3d9"/><line x1="0" y1="0" x2="0" y2="5" stroke="#1f4e79" stroke-width="1.5"/></pattern></defs>"##,
        h = top + plot_h + 60.0,
        t = esc(title)
    );
    let mut v = lo;
    while v <= hi + tick / 2.0 {
        let _ = write!(
            svg,
            r##"<line x1="{left}" y1="{yy:.1}" x2="{r}" y2="{yy:.1}" stroke="#e3e6ea"/><text x="{tx}" y="{ty:.1}" text-anchor="end" fill="#444">{label}</text>"##,
            yy = y(v),
            r = width - 10.0,
            tx = left - 6.0,
            ty = y(v) + 4.0,
            label = trim_number(v)
        );
        v += tick;
    }
    let _ = write!(
        svg,
        r##"<text x="12" y="{cy}" transform="rotate(-90 12 {cy})" text-anchor="middle" fill="#222">{label}</text>"##,
        cy = top + plot_h / 2.0,
        label = esc(axis_label)
    );
    for (i, g) in groups.iter().enumerate() {
        let x0 = left + slot * i as f64 + 14.0;
        for (w, values) in g.waves.iter().enumerate() {
            let Some(([low, q1, q2, q3, high], outliers)) = five(values) else {
                continue;
            };
            let (bx, bw) = (x0 + w as f64 * 36.0, 28.0);
            let cx = bx + bw / 2.0;
            let fill = if w == 0 { "#d9d9d9" } else { "url(#hatch)" };
            let _ = write!(
                svg,
                r##"<line x1="{cx}" y1="{a:.1}" x2="{cx}" y2="{b:.1}" stroke="#333"/><rect x="{bx}" y="{t:.1}" width="{bw}" height="{h:.1}" fill="{fill}" stroke="#333"/><line x1="{bx}" y1="{m:.1}" x2="{r}" y2="{m:.1}" stroke="#000" stroke-width="2.5"/>"##,
                a = y(high),
                b = y(low),
                t = y(q3),
                h = (y(q1) - y(q3)).max(1.0),
                m = y(q2),
                r = bx + bw
            );
            for o in outliers {
                let _ = write!(
                    svg,
                    r##"<circle cx="{cx}" cy="{oy:.1}" r="2.5" fill="none" stroke="#333"/>"##,
                    oy = y(o)
                );
            }
        }
        let _ = write!(
            svg,
            r##"<text x="{cx}" y="{ty}" text-anchor="middle" fill="#111">{label}</text>"##,
            cx = x0 + 32.0,
            ty = top + plot_h + 20.0,
            label = esc(&g.label)
        );
    }
    let ly = top + plot_h + 44.0;
    let _ = write!(
        svg,
        r##"<rect x="{left}" y="{ry}" width="14" height="12" fill="#d9d9d9" stroke="#333"/><text x="{t1}" y="{ty}" fill="#222">{w0}</text><rect x="{r2}" y="{ry}" width="14" height="12" fill="url(#hatch)" stroke="#333"/><text x="{t2}" y="{ty}" fill="#222">{w1}</text></svg>"##,
        ry = ly - 10.0,
        t1 = left + 20.0,
        ty = ly,
        w0 = esc(&waves[0]),
        r2 = left + 120.0,
        t2 = left + 140.0,
        w1 = esc(&waves[1])
    );
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forest_plot_escapes_labels_and_skips_undefined_intervals() {
        let rows = vec![
            ForestRow {
                label: "North <&>".into(),
                note: "n = 3 → 4".into(),
                estimate: 0.3,
                low: -0.1,
                high: 0.7,
                overall: false,
            },
            ForestRow {
                label: "West".into(),
                note: "too few".into(),
                estimate: f64::NAN,
                low: f64::NAN,
                high: f64::NAN,
                overall: false,
            },
            ForestRow {
                label: "Overall".into(),
                note: String::new(),
                estimate: 0.1,
                low: 0.0,
                high: 0.2,
                overall: true,
            },
        ];
        let svg = forest("Change", "Difference", &rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("North &lt;&amp;&gt;"));
        assert!(!svg.contains("NaN"));
        assert_eq!(svg.matches("<polygon").count(), 1, "the overall diamond");
        assert_eq!(svg.matches("<rect").count(), 1, "one group drawn");
    }

    #[test]
    fn boxes_have_tukey_whiskers() {
        let ([low, q1, q2, q3, high], out) = five(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
        assert_eq!((q1, q2, q3), (2.0, 3.0, 4.0));
        assert_eq!((low, high), (1.0, 4.0));
        assert_eq!(out, vec![100.0]);
        let svg = boxes(
            "Scores",
            "Score",
            &["2002".into(), "2004".into()],
            &[BoxGroup {
                label: "North".into(),
                waves: [vec![1.0, 2.0, 3.0], vec![]],
            }],
        );
        assert!(svg.contains("North") && !svg.contains("NaN"));
    }
}
