//! The 90-day expiry timeline: one bar per week, drawn as SVG on the server (hydrated, never drawn by script). It
//! reads without colour: every bar carries its count, the first 30 days are cross-hatched and the rest striped,
//! and a visually hidden table repeats the numbers for screen readers. Each bar with certificates links to the
//! inventory filtered to its window.

use leptos::prelude::*;

use crate::model::ExpiryWeek;

const WIDTH: f64 = 728.0;
const BASELINE: f64 = 196.0;
/// The tallest bar; the rest scale to it.
const MAX_BAR: f64 = 150.0;
const BAR_WIDTH: f64 = 34.0;
/// Bars starting before this day are "soon" (the dashboard's 30-day horizon).
const SOON_DAYS: u32 = 30;

#[component]
pub fn ExpiryTimeline(weeks: Vec<ExpiryWeek>, mine: bool) -> impl IntoView {
    let total: i64 = weeks.iter().map(|week| week.count).sum();
    let busiest = weeks.iter().max_by_key(|week| week.count).filter(|week| week.count > 0).cloned();
    let whose = if mine { "Your" } else { "All" };
    let description = match &busiest {
        Some(week) => format!(
            "{whose} issued certificates expiring in each week of the next 90 days: {total} in all; the busiest week \
             is {} with {}.",
            week.range(),
            certificates(week.count)
        ),
        None => format!("{whose} issued certificates: none expires in the next 90 days."),
    };
    let slot = WIDTH / weeks.len().max(1) as f64;
    let tallest = weeks.iter().map(|week| week.count).max().unwrap_or(0).max(1) as f64;
    let bars = weeks
        .iter()
        .enumerate()
        .map(|(index, week)| bar(week, slot * index as f64 + (slot - BAR_WIDTH) / 2.0, tallest))
        .collect_view();
    let rows = weeks
        .iter()
        .map(|week| {
            view! {
                <tr>
                    <th scope="row">{week.range()}</th>
                    <td>{week.count}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <figure class="timeline">
            <svg
                class="timeline-chart"
                viewBox=format!("0 0 {WIDTH} 236")
                role="group"
                aria-labelledby="timeline-title"
                aria-describedby="timeline-desc"
            >
                <title id="timeline-title">"Expiries per week, next 90 days"</title>
                <desc id="timeline-desc">{description.clone()}</desc>
                <defs>
                    <pattern id="hatch-soon" width="6" height="6" patternUnits="userSpaceOnUse">
                        <rect class="hatch-soon-bg" width="6" height="6" />
                        <path class="hatch-soon-line" d="M0,0 L6,6 M6,0 L0,6" />
                    </pattern>
                    <pattern id="hatch-later" width="8" height="8" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
                        <rect class="hatch-later-bg" width="8" height="8" />
                        <line class="hatch-later-line" x1="0" y1="0" x2="0" y2="8" />
                    </pattern>
                </defs>
                <line class="timeline-baseline" x1="0" y1=BASELINE.to_string() x2=WIDTH.to_string() y2=BASELINE.to_string() />
                {bars}
            </svg>
            <figcaption>
                <span class="legend"><span class="swatch soon" aria-hidden="true"></span>"Within 30 days (cross-hatched)"</span>
                <span class="legend"><span class="swatch later" aria-hidden="true"></span>"Later (striped)"</span>
                <span class="muted">"Each bar is a week; the number above it counts the certificates. Select a bar to list them."</span>
            </figcaption>
            <table class="sr-only">
                <caption>{description}</caption>
                <thead>
                    <tr>
                        <th scope="col">"Week"</th>
                        <th scope="col">"Certificates expiring"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </figure>
    }
}

/// One week: the bar (a link when it holds certificates), its count above and its first day below.
fn bar(week: &ExpiryWeek, x: f64, tallest: f64) -> AnyView {
    let height = if week.count > 0 { (week.count as f64 / tallest * MAX_BAR).max(3.0) } else { 0.0 };
    let top = BASELINE - height;
    let center = x + BAR_WIDTH / 2.0;
    let (kind, fill) =
        if week.from_day < SOON_DAYS { ("soon", "url(#hatch-soon)") } else { ("later", "url(#hatch-later)") };
    let count_y = (top - 6.0).to_string();
    let axis_label = week.first.clone();
    if week.count == 0 {
        return view! {
            <g class="timeline-week empty">
                <text class="timeline-count" x=center.to_string() y=count_y text-anchor="middle">"0"</text>
                <text class="timeline-axis" x=center.to_string() y="216" text-anchor="middle">{axis_label}</text>
            </g>
        }
        .into_any();
    }
    let label = format!("{} expiring {}: show them", certificates(week.count), week.range());
    view! {
        <g class=format!("timeline-week {kind}")>
            <a href=week.href() aria-label=label>
                <rect class="timeline-bar" x=x.to_string() y=top.to_string() width=BAR_WIDTH.to_string()
                    height=height.to_string() fill=fill />
                <text class="timeline-count" x=center.to_string() y=count_y text-anchor="middle">{week.count}</text>
            </a>
            <text class="timeline-axis" x=center.to_string() y="216" text-anchor="middle">{axis_label}</text>
        </g>
    }
    .into_any()
}

fn certificates(count: i64) -> String {
    if count == 1 { "1 certificate".into() } else { format!("{count} certificates") }
}
