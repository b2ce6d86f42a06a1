//! Markdown tables of measured medians and the ratios between them.

use crate::lineup::Measured;
use core::fmt::Write as _;

/// A throughput table: one row per measured case.
pub fn throughput_table(measured: &[Measured]) -> String {
    let mut t = String::from("| benchmark | path | median per op | GB/s |\n|---|---|---:|---:|\n");
    for m in measured {
        let _ = writeln!(
            t,
            "| {} | {} | {} | {:.2} |",
            m.group,
            m.case,
            format_ns(m.median_ns),
            m.gb_per_s()
        );
    }
    t
}

/// A comparison of two measured cases: `numerator` speed / `denominator`
/// speed (higher is better for the numerator).
#[derive(Clone, Debug)]
pub struct Ratio {
    /// What is compared, in words.
    pub label: String,
    /// The case being judged.
    pub numerator: Measured,
    /// What it is judged against.
    pub denominator: Measured,
    /// The least ratio that counts as met; `None` for information only.
    pub goal: Option<f64>,
}

impl Ratio {
    /// Throughput of the numerator over throughput of the denominator.
    pub fn value(&self) -> f64 {
        self.numerator.gb_per_s() / self.denominator.gb_per_s()
    }

    /// `Some(true)` if there is a goal and the ratio reaches it.
    pub fn met(&self) -> Option<bool> {
        self.goal.map(|g| self.value() >= g)
    }
}

/// A ratio table: each comparison with both speeds, the ratio, its goal and
/// whether the goal was met.
pub fn ratio_table(ratios: &[Ratio]) -> String {
    let mut t = String::from("| comparison | numerator | denominator | ratio | goal | met |\n|---|---|---|---:|---:|:---:|\n");
    for r in ratios {
        let goal = r.goal.map_or("-".into(), |g| format!(">= {g:.2}"));
        let met = match r.met() {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "-",
        };
        let _ = writeln!(
            t,
            "| {} | {} {:.2} GB/s | {} {:.2} GB/s | {:.2} | {goal} | {met} |",
            r.label,
            r.numerator.case,
            r.numerator.gb_per_s(),
            r.denominator.case,
            r.denominator.gb_per_s(),
            r.value()
        );
    }
    t
}

/// Nanoseconds in the unit that keeps 3-4 significant digits readable.
pub fn format_ns(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.1} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(case: &str, ns: f64) -> Measured {
        Measured {
            group: "g".into(),
            case: case.into(),
            bytes: 1000,
            median_ns: ns,
            samples: 3,
        }
    }

    #[test]
    fn ratio_is_speed_over_speed_and_judged_against_its_goal() {
        let r = Ratio {
            label: "fast / slow".into(),
            numerator: m("fast", 100.0),
            denominator: m("slow", 500.0),
            goal: Some(5.0),
        };
        assert!((r.value() - 5.0).abs() < 1e-12);
        assert_eq!(r.met(), Some(true));
        let short = Ratio {
            goal: Some(5.5),
            ..r.clone()
        };
        assert_eq!(short.met(), Some(false));
        let table = ratio_table(&[r, short]);
        assert!(table.contains("| 5.00 | >= 5.00 | yes |"), "{table}");
        assert!(table.contains("| 5.00 | >= 5.50 | **no** |"), "{table}");
    }

    #[test]
    fn throughput_rows_carry_units() {
        let t = throughput_table(&[m("a", 12.34), m("b", 5_000.0), m("c", 7_250_000.0)]);
        assert!(t.contains("| g | a | 12.3 ns | 81.04 |"), "{t}");
        assert!(t.contains("5.00 µs"), "{t}");
        assert!(t.contains("7.25 ms"), "{t}");
    }
}
