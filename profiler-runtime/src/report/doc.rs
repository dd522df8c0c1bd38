//! The document model both renderers write to: headings, lines, bullets and tables, as plain
//! text or Markdown.

use std::borrow::Cow;
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

/// `s` with every control character (newlines and tabs too, and escape sequences a terminal
/// would obey) written as a visible escape (`\n`, `\u{1b}`), so a name can neither break a
/// line or a table nor drive the terminal.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
                let _ = writeln!(self.out, "{} {}\n", "#".repeat(level), clean(t));
            }
            Style::Text => {
                let u = if level == 1 { '=' } else { '-' };
                let t = clean(t);
                let _ = writeln!(self.out, "{t}\n{}", u.to_string().repeat(t.chars().count()));
            }
        }
    }

    /// A line of text (control characters in it are escaped: see [`clean`]).
    pub(crate) fn line(&mut self, t: &str) {
        let _ = writeln!(self.out, "{}", clean(t));
    }

    /// A bullet (escaped as [`Doc::line`]).
    pub(crate) fn bullet(&mut self, t: &str) {
        let _ = writeln!(self.out, "- {}", clean(t));
    }

    pub(crate) fn gap(&mut self) {
        self.out.push('\n');
    }

    /// A table; cells are escaped as [`Doc::line`], and in Markdown `|` too.
    pub(crate) fn table(&mut self, head: &[&str], rows: &[Vec<String>]) {
        if rows.is_empty() {
            return;
        }

        match self.style {
            Style::Markdown => {
                let _ = writeln!(self.out, "| {} |", head.join(" | "));
                let _ = writeln!(self.out, "|{}", "---|".repeat(head.len()));
                for r in rows {
                    let cells: Vec<String> =
                        r.iter().map(|c| clean(c).replace('|', "\\|")).collect();
                    let _ = writeln!(self.out, "| {} |", cells.join(" | "));
                }
            }
            Style::Text => {
                let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
                for r in rows {
                    for (i, c) in r.iter().enumerate().take(w.len()) {
                        w[i] = w[i].max(clean(c).chars().count().min(48));
                    }
                }
                let fmt_row = |cells: &mut dyn Iterator<Item = String>| -> String {
                    let mut s = String::from(" ");
                    for (i, c) in cells.enumerate() {
                        let c: String = clean(&c).chars().take(48).collect();
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

#[cfg(test)]
mod tests {
    use super::*;

    const NAME: &str = "solve\n| x |\u{1b}[2Jdone\u{7}";

    #[test]
    fn names_cannot_break_a_markdown_table_or_drive_the_terminal() {
        let mut md = Doc::new(Style::Markdown);
        md.table(
            &["operation", "count"],
            &[vec![NAME.to_owned(), "1".to_owned()]],
        );
        md.line(NAME);
        let rows: Vec<&str> = md.out.lines().filter(|l| l.starts_with('|')).collect();
        assert_eq!(rows.len(), 3, "one header, one rule, one row: {}", md.out);
        assert_eq!(rows[2], "| solve\\n\\| x \\|\\u{1b}[2Jdone\\u{7} | 1 |");
        let mut text = Doc::new(Style::Text);
        text.heading(1, NAME);
        text.bullet(NAME);
        text.table(&["operation"], &[vec![NAME.to_owned()]]);
        for out in [&md.out, &text.out] {
            assert!(
                !out.chars().any(|c| c.is_control() && c != '\n'),
                "raw control characters: {out:?}"
            );
        }
        assert_eq!(text.out.lines().count(), 2 + 1 + 3, "{}", text.out);
    }
}
