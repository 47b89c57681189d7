//! Renderers: a [`Report`] to coloured grouped text, JSON or SARIF 2.1.0. They only
//! read the report, so every scanner gets every format for free.

pub mod json;
pub mod sarif;
pub mod text;

use std::io::Write;

use crate::report::Report;
use crate::Error;

/// Output format of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            "sarif" => Ok(Self::Sarif),
            _ => Err(Error::Usage(format!(
                "unknown format `{s}` (expected text, json or sarif)"
            ))),
        }
    }
}

/// Writes `report` to `out`. `color` applies to text only, and the caller sets it
/// only when `out` is a terminal, so escapes never land in files or pipes.
pub fn render(
    report: &Report,
    format: Format,
    color: bool,
    out: &mut dyn Write,
) -> Result<(), Error> {
    match format {
        Format::Text => text::render(report, color, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, out),
    }
}
