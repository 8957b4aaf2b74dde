//! Rows of cells printed four ways: an aligned table for people, and `--raw`,
//! `--export` and `--json` for scripts. Rows are made on demand and written
//! through one buffer, never gathered into one string: a table of 15,000 rows
//! costs two passes over the objects (widths, then text), not a copy of the text.
//!
//! Cells arrive as text already safe for a terminal (names and commands escaped,
//! see [`crate::render::escape_name`]). A cell with nothing to show is `-`.
//!
//! - **table**: columns separated by two spaces, padded to the widest cell (the
//!   last column is not padded; numbers are right-aligned), one header line.
//! - **raw**: cells separated by one space, a space inside a cell written `\x20`
//!   (so every row splits on spaces into exactly its columns), one header line.
//! - **export**: one line per row of `KEY="value"` pairs; inside the quotes `\`,
//!   `"`, `$` and `` ` `` are preceded by a backslash, so a shell's `eval` sets
//!   each variable to the text the table shows.
//! - **json**: an array of objects; numbers are JSON numbers.

use std::io::{BufWriter, Write};

use serde::Serialize;

/// How rows are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns with a header.
    Table,
    /// Space-separated cells with no alignment.
    Raw,
    /// `KEY="value"` pairs.
    Export,
    /// A JSON array of objects.
    Json,
}

/// A column as the printer sees it.
pub struct Heading {
    /// The header, and the key of `--export`.
    pub name: &'static str,
    /// Right-aligned (numbers) in a table.
    pub right: bool,
}

/// Buffered stdout that exits quietly (status 0) on a broken pipe and with
/// status 1 on any other write error.
pub struct Out {
    inner: BufWriter<std::io::StdoutLock<'static>>,
}

impl Out {
    /// Locks stdout behind a 64 KiB buffer.
    pub fn new() -> Out {
        Out {
            inner: BufWriter::with_capacity(64 * 1024, std::io::stdout().lock()),
        }
    }

    /// Writes `bytes`, or ends the program as described on [`Out`].
    pub fn write(&mut self, bytes: &[u8]) {
        if let Err(e) = self.inner.write_all(bytes) {
            write_failed(&e);
        }
    }

    /// Writes `value` as pretty JSON and a newline.
    pub fn json<T: Serialize + ?Sized>(&mut self, value: &T) {
        if let Err(e) = serde_json::to_writer_pretty(&mut self.inner, value) {
            match e.io_error_kind() {
                Some(kind) => write_failed(&std::io::Error::from(kind)),
                None => panic!("our values serialise: {e}"),
            }
        }
        self.write(b"\n");
    }

    /// Flushes the buffer.
    pub fn finish(mut self) {
        if let Err(e) = self.inner.flush() {
            write_failed(&e);
        }
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        // A panic elsewhere must not turn into a second one here.
        let _ = self.inner.flush();
    }
}

/// Ends the program after a failed write to stdout.
pub fn write_failed(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("posix-ipc: write to stdout: {e}");
    std::process::exit(1);
}

/// Prints `rows` rows of `headings`; `fill(i, cells)` sets row `i`'s cells (one
/// per heading, already cleared). `json(i)` gives row `i` as JSON fields in
/// column order, used only for [`Format::Json`].
pub fn print(
    format: Format,
    headings: &[Heading],
    show_headings: bool,
    rows: usize,
    mut fill: impl FnMut(usize, &mut [String]),
    json: impl Fn(usize) -> Vec<(&'static str, serde_json::Value)>,
) {
    let mut out = Out::new();
    let mut cells = vec![String::new(); headings.len()];
    let mut row = |i: usize, cells: &mut [String]| {
        cells.iter_mut().for_each(String::clear);
        fill(i, cells);
        if format != Format::Export {
            for cell in cells.iter_mut().filter(|c| c.is_empty()) {
                cell.push('-');
            }
        }
    };
    match format {
        Format::Json => {
            out.json(&JsonRows { rows, json: &json });
        }
        Format::Table => {
            let mut widths: Vec<usize> = headings.iter().map(|h| h.name.len()).collect();
            for i in 0..rows {
                row(i, &mut cells);
                for (w, cell) in widths.iter_mut().zip(&cells) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            let mut line = String::new();
            let mut put = |out: &mut Out, cells: &mut dyn Iterator<Item = &str>| {
                line.clear();
                for (i, (cell, heading)) in cells.zip(headings).enumerate() {
                    if i > 0 {
                        line.push_str("  ");
                    }
                    let pad = widths[i].saturating_sub(cell.chars().count());
                    let last = i + 1 == headings.len();
                    if heading.right {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    } else {
                        line.push_str(cell);
                        if !last {
                            line.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                }
                line.truncate(line.trim_end().len());
                line.push('\n');
                out.write(line.as_bytes());
            };
            if show_headings {
                put(&mut out, &mut headings.iter().map(|h| h.name));
            }
            for i in 0..rows {
                row(i, &mut cells);
                put(&mut out, &mut cells.iter().map(String::as_str));
            }
        }
        Format::Raw => {
            if show_headings {
                let names: Vec<&str> = headings.iter().map(|h| h.name).collect();
                out.write(names.join(" ").as_bytes());
                out.write(b"\n");
            }
            let mut line = String::new();
            for i in 0..rows {
                row(i, &mut cells);
                line.clear();
                for (n, cell) in cells.iter().enumerate() {
                    if n > 0 {
                        line.push(' ');
                    }
                    line.push_str(&cell.replace(' ', "\\x20"));
                }
                line.push('\n');
                out.write(line.as_bytes());
            }
        }
        Format::Export => {
            let mut line = String::new();
            for i in 0..rows {
                row(i, &mut cells);
                line.clear();
                for (n, (cell, heading)) in cells.iter().zip(headings).enumerate() {
                    if n > 0 {
                        line.push(' ');
                    }
                    line.push_str(&shell_key(heading.name));
                    line.push_str("=\"");
                    for c in cell.chars() {
                        if matches!(c, '\\' | '"' | '$' | '`') {
                            line.push('\\');
                        }
                        line.push(c);
                    }
                    line.push('"');
                }
                line.push('\n');
                out.write(line.as_bytes());
            }
        }
    }
    out.finish();
}

/// A column name as a shell variable name: `USE%` becomes `USE_PCT`, any other
/// character that is not a letter, digit or `_` becomes `_`.
fn shell_key(name: &str) -> String {
    name.replace('%', "_PCT")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

type JsonRow = Vec<(&'static str, serde_json::Value)>;

/// The rows as a JSON array of objects, serialised one at a time, each object's
/// fields in column order.
struct JsonRows<'a, F: Fn(usize) -> JsonRow> {
    rows: usize,
    json: &'a F,
}

impl<F: Fn(usize) -> JsonRow> Serialize for JsonRows<'_, F> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Fields(JsonRow);
        impl Serialize for Fields {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (key, value) in &self.0 {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.rows))?;
        for i in 0..self.rows {
            seq.serialize_element(&Fields((self.json)(i)))?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_keys() {
        assert_eq!(shell_key("USE%"), "USE_PCT");
        assert_eq!(shell_key("MAX-MSGS"), "MAX_MSGS");
        assert_eq!(shell_key("NAME"), "NAME");
    }
}
