use super::*;

fn days(n: u32) -> Vec<NaiveDate> {
    (1..=n).map(|d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap()).collect()
}

#[test]
fn a_day_without_a_value_breaks_the_line_and_values_map_onto_the_plot() {
    let values = vec![Some(0.0), Some(1.0), None, Some(0.5), Some(0.5)];
    let c = chart("t".into(), &days(5), vec![Series { label: "all".into(), values }], 1.0, share_ticks());
    let line = &c.lines[0];
    assert_eq!(line.points, 4);
    assert_eq!(line.segments.len(), 2, "{:?}", line.segments);
    // 0 at the bottom of the plot, 1 at its top; the first day at the left edge, the last at the right.
    assert_eq!(line.segments[0], format!("{},{} {},{}", LEFT, c.bottom, LEFT + (c.right - LEFT) / 4.0, TOP));
    assert_eq!(line.last, Some((c.right, (TOP + c.bottom) / 2.0)));
    assert_eq!(c.y_ticks.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(), ["0%", "25%", "50%", "75%", "100%"]);
}

#[test]
fn x_ticks_start_and_end_at_the_first_and_last_day() {
    for n in [1, 2, 7, 90] {
        let c = chart("t".into(), &days(n.min(30)), vec![], 1.0, vec![]);
        let labels: Vec<&str> = c.x_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels.first(), Some(&"Nov 1"), "{n}: {labels:?}");
        assert!(labels.len() <= 7, "{n}: {labels:?}");
        let last = format!("Nov {}", n.min(30));
        assert_eq!(labels.last(), Some(&last.as_str()), "{n}: {labels:?}");
    }
}

#[test]
fn values_outside_the_range_are_clamped_and_lines_get_distinct_colours() {
    let series = (0..3).map(|i| Series { label: format!("s{i}"), values: vec![Some(2.0), Some(-1.0)] }).collect();
    let c = chart("t".into(), &days(2), series, 1.0, vec![]);
    assert_eq!(c.lines[0].segments[0], format!("{},{} {},{}", LEFT, TOP, c.right, c.bottom));
    let colours: std::collections::BTreeSet<&str> = c.lines.iter().map(|l| l.colour).collect();
    assert_eq!(colours.len(), 3);
}
