//! The bench's output: tables, and an SVG drawn with plotters.

use std::path::Path;

use plotters::prelude::*;

use super::channel::Mechanism;
use super::machine::Machine;
use super::measure::Placement;
use super::{BenchArgs, Row};

/// The spin floor: `spin`'s cross-core median round trip at `size`.
fn floor(rows: &[Row], size: usize) -> Option<u64> {
    rows.iter()
        .find(|r| {
            r.mechanism == Mechanism::Spin && r.placement == Placement::CrossCore && r.size == size
        })
        .and_then(|r| r.latency.as_ref())
        .map(|l| l.p50)
}

/// The tables, the machine and the command.
pub fn tables(rows: &[Row], machine: &Machine, command: &str, args: &BenchArgs) -> String {
    let mut t = String::new();
    t.push_str(&format!(
        "machine: {} ({} CPUs), Linux {}, {}\n",
        machine.cpu,
        machine.cpus,
        machine.kernel,
        if machine.virtualised {
            "virtualised"
        } else {
            "not virtualised"
        }
    ));
    t.push_str(&format!("command: {command}\n"));
    if !args.throughput_only {
        t.push_str(&format!(
            "\nround-trip latency in ns ({} timed after {} warm-up; x spin = p50 / spin's cross-core p50)\n",
            args.iterations, args.warmup
        ));
        t.push_str(&format!(
            "{:<14} {:<10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
            "mechanism", "placement", "size", "min", "p50", "p99", "p99.9", "max", "x spin"
        ));
        for r in rows {
            match &r.latency {
                Some(l) => {
                    let times = floor(rows, r.size).map_or("-".into(), |f| {
                        format!("{:.1}", l.p50 as f64 / f.max(1) as f64)
                    });
                    t.push_str(&format!(
                        "{:<14} {:<10} {:>7} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}\n",
                        r.mechanism.label(),
                        r.placement.label(),
                        r.size,
                        l.min,
                        l.p50,
                        l.p99,
                        l.p999,
                        l.max,
                        times
                    ));
                }
                None => t.push_str(&format!(
                    "{:<14} {:<10} {:>7}  n/a: {}\n",
                    r.mechanism.label(),
                    r.placement.label(),
                    r.size,
                    r.note.as_deref().unwrap_or("not measured")
                )),
            }
        }
    }
    if !args.latency_only {
        t.push_str(&format!(
            "\none-way stream ({} messages, depth {})\n",
            args.messages, args.depth
        ));
        t.push_str(&format!(
            "{:<14} {:<10} {:>7} {:>14} {:>10}\n",
            "mechanism", "placement", "size", "messages/s", "MB/s"
        ));
        for r in rows {
            match &r.throughput {
                Some(tp) => t.push_str(&format!(
                    "{:<14} {:<10} {:>7} {:>14.0} {:>10.1}\n",
                    r.mechanism.label(),
                    r.placement.label(),
                    r.size,
                    tp.messages_per_second,
                    tp.megabytes_per_second
                )),
                None => t.push_str(&format!(
                    "{:<14} {:<10} {:>7}  n/a: {}\n",
                    r.mechanism.label(),
                    r.placement.label(),
                    r.size,
                    r.note.as_deref().unwrap_or("not measured")
                )),
            }
        }
    }
    t
}

const COLOURS: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

/// Two charts side by side: median round trip and stream MB/s against message size,
/// one line per mechanism, for one placement (cross-core where measured).
pub fn svg(path: &Path, rows: &[Row]) -> Result<(), Box<dyn std::error::Error>> {
    let placement = [
        Placement::CrossCore,
        Placement::Unpinned,
        Placement::SameCore,
    ]
    .into_iter()
    .find(|p| {
        rows.iter()
            .any(|r| r.placement == *p && r.latency.is_some())
    })
    .unwrap_or(Placement::Unpinned);
    let root = SVGBackend::new(path, (1200, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(600);
    let sizes: Vec<usize> = {
        let mut s: Vec<usize> = rows.iter().map(|r| r.size).collect();
        s.sort_unstable();
        s.dedup();
        s
    };
    let (lo, hi) = (
        *sizes.first().unwrap_or(&64) as f64,
        *sizes.last().unwrap_or(&64) as f64,
    );
    let x_range = (lo / 1.5)..(hi * 1.5);
    let series = |metric: &dyn Fn(&Row) -> Option<f64>| -> Vec<(Mechanism, Vec<(f64, f64)>)> {
        Mechanism::ALL
            .iter()
            .map(|&m| {
                let points = rows
                    .iter()
                    .filter(|r| r.mechanism == m && r.placement == placement)
                    .filter_map(|r| metric(r).map(|v| (r.size as f64, v)))
                    .collect();
                (m, points)
            })
            .filter(|(_, p): &(Mechanism, Vec<(f64, f64)>)| !p.is_empty())
            .collect()
    };
    for (area, title, unit, metric) in [
        (
            &left,
            "median round trip",
            "ns",
            &(|r: &Row| r.latency.as_ref().map(|l| l.p50 as f64)) as &dyn Fn(&Row) -> Option<f64>,
        ),
        (
            &right,
            "one-way stream",
            "MB/s",
            &(|r: &Row| r.throughput.as_ref().map(|t| t.megabytes_per_second))
                as &dyn Fn(&Row) -> Option<f64>,
        ),
    ] {
        let lines = series(metric);
        let top = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|&(_, y)| y))
            .fold(1.0, f64::max);
        let bottom = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|&(_, y)| y))
            .fold(top, f64::min);
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!("{title} ({unit}), {}", placement.label()),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(60)
            .build_cartesian_2d(
                x_range.clone().log_scale(),
                ((bottom / 2.0).max(0.01)..top * 2.0).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("message size (bytes)")
            .y_desc(unit)
            .draw()?;
        for (i, (mechanism, points)) in lines.into_iter().enumerate() {
            let colour = COLOURS[i % COLOURS.len()];
            chart
                .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(mechanism.label())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
