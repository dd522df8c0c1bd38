//! The document model both renderers write to: headings, lines, bullets and tables, as plain
//! text or Markdown.

use std::fmt::Write;

use crate::model::energy::CpuEnergy;

/// Output style.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Plain text for a terminal.
    Text,
    /// GitHub-flavoured Markdown.
    Markdown,
}

/// A document under construction.
pub(crate) struct Doc {
    style: Style,
    /// The text so far.
    pub(crate) out: String,
}

impl Doc {
    pub(crate) fn new(style: Style) -> Self {
        Doc {
            style,
            out: String::with_capacity(8192),
        }
    }

    pub(crate) fn heading(&mut self, level: usize, t: &str) {
        match self.style {
            Style::Markdown => {
                let _ = writeln!(self.out, "{} {t}\n", "#".repeat(level));
            }
            Style::Text => {
                let u = if level == 1 { '=' } else { '-' };
                let _ = writeln!(self.out, "{t}\n{}", u.to_string().repeat(t.chars().count()));
            }
        }
    }

    pub(crate) fn line(&mut self, t: &str) {
        let _ = writeln!(self.out, "{t}");
    }

    pub(crate) fn bullet(&mut self, t: &str) {
        let _ = writeln!(self.out, "- {t}");
    }

    pub(crate) fn gap(&mut self) {
        self.out.push('\n');
    }

    pub(crate) fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        if rows.is_empty() {
            return;
        }
        match self.style {
            Style::Markdown => {
                let _ = writeln!(self.out, "| {} |", head.join(" | "));
                let _ = writeln!(self.out, "|{}", "---|".repeat(head.len()));
                for r in rows {
                    let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
                    let _ = writeln!(self.out, "| {} |", cells.join(" | "));
                }
            }
            Style::Text => {
                let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
                for r in rows {
                    for (i, c) in r.iter().enumerate().take(w.len()) {
                        w[i] = w[i].max(c.chars().count().min(48));
                    }
                }
                let fmt_row = |cells: &mut dyn Iterator<Item = String>| -> String {
                    let mut s = String::from(" ");
                    for (i, c) in cells.enumerate() {
                        let c: String = c.chars().take(48).collect();
                        let pad = w
                            .get(i)
                            .copied()
                            .unwrap_or(0)
                            .saturating_sub(c.chars().count());
                        if i == 0 {
                            let _ = write!(s, " {c}{}", " ".repeat(pad));
                        } else {
                            let _ = write!(s, "  {}{c}", " ".repeat(pad));
                        }
                    }
                    s
                };
                let h = fmt_row(&mut head.iter().map(|h| (*h).to_owned()));
                let _ = writeln!(self.out, "{h}");
                for r in rows {
                    let line = fmt_row(&mut r.iter().cloned());
                    let _ = writeln!(self.out, "{line}");
                }
            }
        }
        self.gap();
    }
}

pub(crate) fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

pub(crate) fn cpu_line(c: &CpuEnergy) -> String {
    format!(
        "CPU energy: {:.3} J, mean {:.2} W over {:.2} s [{}: {}]",
        c.energy_j,
        c.mean_power_w,
        c.duration_s,
        c.source.label(),
        c.method
    )
}
