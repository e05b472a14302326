//! Writing the Prometheus text exposition format (version 0.0.4) for the gauges rendered at scrape time.

use std::fmt::Write as _;

/// One metric family: `# HELP`, `# TYPE`, then its samples.
pub struct Family<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> Family<'a> {
    pub fn gauge(out: &'a mut String, name: &'static str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {}", help.replace('\\', "\\\\").replace('\n', "\\n"));
        let _ = writeln!(out, "# TYPE {name} gauge");
        Self { out, name }
    }

    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        let _ = write!(self.out, "{}", self.name);
        if !labels.is_empty() {
            let rendered: Vec<String> =
                labels.iter().map(|(name, value)| format!("{name}=\"{}\"", escape_label(value))).collect();
            let _ = write!(self.out, "{{{}}}", rendered.join(","));
        }
        let _ = writeln!(self.out, " {}", number(value));
    }
}

/// Label values escape backslash, double quote and newline.
pub fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn number(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf".into() } else { "-Inf".into() }
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_written_with_escaped_labels() {
        let mut out = String::new();
        let mut family = Family::gauge(&mut out, "certdesk_x", "An example.");
        family.sample(&[("name", "a\"b\\c\nd")], 3.0);
        family.sample(&[], -1.5);
        assert_eq!(
            out,
            "# HELP certdesk_x An example.\n# TYPE certdesk_x gauge\ncertdesk_x{name=\"a\\\"b\\\\c\\nd\"} 3\ncertdesk_x -1.5\n"
        );
    }
}
