//! Bar charts for the dashboard, drawn as inline SVG on the server: no script and no
//! style attribute, so they live under the console's strict CSP. This module turns
//! counts into rectangles; the template only prints numbers and escaped labels.

/// One data series (one colour).
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: &'static str,
    /// CSS class of its bars (colours are in the console stylesheet).
    pub class: &'static str,
    /// One value per bucket, oldest first.
    pub values: Vec<u64>,
}

/// One rectangle of the SVG.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    /// Left edge.
    pub x: f64,
    /// Top edge.
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
    /// CSS class (the series colour).
    pub class: &'static str,
    /// Tooltip (`<title>`).
    pub tip: String,
}

/// A chart ready for the template.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Heading.
    pub title: String,
    /// Accessible summary (the total of each series).
    pub summary: String,
    /// Legend entries: (class, name, total).
    pub legend: Vec<(&'static str, &'static str, u64)>,
    /// The bars, series side by side within each bucket.
    pub bars: Vec<Bar>,
    /// Largest value, printed on the axis.
    pub max: u64,
    /// Label under the first bucket.
    pub from_label: String,
    /// Label under the last bucket.
    pub to_label: String,
}

/// Width of the plotting area in SVG units.
pub const WIDTH: f64 = 600.0;
/// Height of the plotting area in SVG units.
pub const HEIGHT: f64 = 120.0;

/// Lays out `series` (all of the same length) as grouped bars. `bucket_label(i)`
/// names bucket `i` in tooltips.
pub fn bars(
    title: &str,
    series: &[Series],
    bucket_label: impl Fn(usize) -> String,
    from_label: &str,
    to_label: &str,
) -> Chart {
    let buckets = series.iter().map(|s| s.values.len()).max().unwrap_or(0);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0);
    let mut out = Vec::new();
    if buckets > 0 && !series.is_empty() {
        let slot = WIDTH / buckets as f64;
        let gap = (slot * 0.15).min(2.0);
        let w = (slot - gap) / series.len() as f64;
        for (i, bucket) in (0..buckets).map(|i| (i, bucket_label(i))) {
            for (k, s) in series.iter().enumerate() {
                let v = s.values.get(i).copied().unwrap_or(0);
                if v == 0 {
                    continue;
                }
                // A non-zero value always gets at least one unit of height so it shows.
                let h = (v as f64 / max.max(1) as f64 * HEIGHT).max(1.0);
                out.push(Bar {
                    x: i as f64 * slot + k as f64 * w,
                    y: HEIGHT - h,
                    w,
                    h,
                    class: s.class,
                    tip: format!("{bucket}: {v} {}", s.name),
                });
            }
        }
    }
    let legend: Vec<_> = series
        .iter()
        .map(|s| (s.class, s.name, s.values.iter().sum::<u64>()))
        .collect();
    let summary = legend
        .iter()
        .map(|(_, n, t)| format!("{t} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    Chart {
        title: title.to_owned(),
        summary,
        legend,
        bars: out,
        max,
        from_label: from_label.to_owned(),
        to_label: to_label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_skip_zeros() {
        let c = bars(
            "Logins",
            &[
                Series {
                    name: "ok",
                    class: "s1",
                    values: vec![0, 2, 4],
                },
                Series {
                    name: "failed",
                    class: "s2",
                    values: vec![1, 0, 0],
                },
            ],
            |i| format!("h{i}"),
            "a",
            "b",
        );
        assert_eq!(c.max, 4);
        assert_eq!(c.bars.len(), 3);
        let tallest = c.bars.iter().find(|b| b.tip == "h2: 4 ok").expect("bar");
        assert!((tallest.h - HEIGHT).abs() < 1e-9 && tallest.y.abs() < 1e-9);
        let half = c.bars.iter().find(|b| b.tip == "h1: 2 ok").expect("bar");
        assert!((half.h - HEIGHT / 2.0).abs() < 1e-9);
        assert!(c
            .bars
            .iter()
            .all(|b| b.x >= 0.0 && b.x + b.w <= WIDTH + 1e-9));
        assert_eq!(c.summary, "6 ok, 1 failed");
    }

    #[test]
    fn empty_series_draw_nothing() {
        let c = bars("x", &[], |_| String::new(), "", "");
        assert!(c.bars.is_empty());
        assert_eq!(c.max, 0);
    }
}
