//! Where output goes. Stdout is for data (script prints, diffs, summaries, JSON); stderr for
//! diagnostics (`warning:`, `note:`, `error:`). Under `--output json` everything is collected
//! and printed once as a JSON document.

use std::io::Write;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON document on stdout at the end.
    Json,
}

/// Writes data and diagnostics, or collects them for JSON.
pub struct Printer {
    format: Format,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    /// Lines the script printed (kept for JSON).
    pub printed: Vec<String>,
    /// Warnings and notes (kept for JSON).
    pub warnings: Vec<String>,
    /// Whether `--verbose` lines are printed.
    pub verbose: bool,
    /// `--strict`: any warning fails the run before it writes.
    pub strict: bool,
    /// Structured items the script handed to `emit()` (`--output json`'s `data`).
    pub values: Vec<serde_json::Value>,
}

impl std::fmt::Debug for Printer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Printer")
            .field("format", &self.format)
            .finish()
    }
}

impl Printer {
    /// A printer to the process's stdout and stderr.
    pub fn stdio(format: Format) -> Printer {
        Printer::new(
            format,
            Box::new(std::io::stdout()),
            Box::new(std::io::stderr()),
        )
    }

    /// A printer to any two writers (tests).
    pub fn new(format: Format, out: Box<dyn Write>, err: Box<dyn Write>) -> Printer {
        Printer {
            format,
            out,
            err,
            printed: Vec::new(),
            warnings: Vec::new(),
            verbose: false,
            strict: false,
            values: Vec::new(),
        }
    }

    /// A line of data: the script's `print`.
    pub fn data(&mut self, line: &str) {
        match self.format {
            Format::Text => {
                // A closed pipe (`| head`) is not an error worth reporting.
                let _ = writeln!(self.out, "{line}");
            }
            Format::Json => self.printed.push(line.to_string()),
        }
    }

    /// Raw data text (a diff), written as is.
    pub fn raw(&mut self, text: &str) {
        if self.format == Format::Text {
            let _ = self.out.write_all(text.as_bytes());
            let _ = self.out.flush();
        }
    }

    /// A warning, on stderr.
    pub fn warn(&mut self, message: &str) {
        self.diagnostic("warning", message);
    }

    /// How many warnings (not notes) were raised so far.
    pub fn warning_count(&self) -> usize {
        self.warnings
            .iter()
            .filter(|w| w.starts_with("warning:"))
            .count()
    }

    /// A note, on stderr.
    pub fn note(&mut self, message: &str) {
        self.diagnostic("note", message);
    }

    /// A `--verbose` line on stderr (never holds secrets: callers pass ARNs and names only).
    pub fn verbose(&mut self, message: &str) {
        if self.verbose {
            let _ = writeln!(self.err, "verbose: {message}");
        }
    }

    /// A line on stderr for the script's `debug`.
    pub fn debug(&mut self, message: &str) {
        let _ = writeln!(self.err, "debug: {message}");
    }

    fn diagnostic(&mut self, level: &str, message: &str) {
        let _ = writeln!(self.err, "{level}: {message}");
        self.warnings.push(format!("{level}: {message}"));
    }

    /// An error (and its hint), on stderr, in the `error:`, blank line, `hint:` form.
    pub fn error(&mut self, message: &str, hint: Option<&str>) {
        let _ = writeln!(self.err, "error: {message}");
        if let Some(h) = hint {
            let _ = writeln!(self.err, "\nhint: {h}");
        }
        let _ = self.err.flush();
    }

    /// Writes a JSON document to stdout.
    pub fn json(&mut self, value: &serde_json::Value) {
        let _ = writeln!(
            self.out,
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
        let _ = self.out.flush();
    }
}
