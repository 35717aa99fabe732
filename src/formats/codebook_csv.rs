//! Codebooks as CSV: one row per code, its path from the top of the tree
//! (`Inpatient frames / Sanctuary`) and its fields. Header
//! `path,definition,inclusion,exclusion,example,colour` in any case and
//! order (only `path` is required; `shortcut` is understood too, and
//! Taguette's `description` stands for the definition). Comma,
//! semicolon (European Excel) or tab separated.
//!
//! Written files have every text cell neutralised against spreadsheet
//! formulas (see [`neutralise`]); reading undoes that, so a written codebook
//! reads back as it was.

use super::FormatError;
use crate::domain::ValidationError;
use crate::domain::code::{self, Colour};
use std::borrow::Cow;
use std::collections::HashMap;

/// One code as written in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeRow {
    pub line: usize,
    /// Names from the root down, at least one.
    pub path: Vec<String>,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub colour: Option<Colour>,
    pub shortcut: Option<String>,
}

/// What [`write`] needs of each code, in tree order (parents before
/// children). `colour` may be empty.
#[derive(Debug, Clone, Copy)]
pub struct CodeOut<'a> {
    pub path: &'a str,
    pub definition: &'a str,
    pub inclusion: &'a str,
    pub exclusion: &'a str,
    pub example: &'a str,
    pub colour: &'a str,
    pub shortcut: Option<&'a str>,
}

/// The columns a codebook may have, in the order [`write`] puts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Path,
    Definition,
    Inclusion,
    Exclusion,
    Example,
    Colour,
    Shortcut,
    /// Taguette's name for the definition: written as a copy of it so
    /// Taguette imports the definitions; read when there is no definition.
    Description,
}

const COLUMNS: [(Column, &str); 8] = [
    (Column::Path, "path"),
    (Column::Definition, "definition"),
    (Column::Inclusion, "inclusion"),
    (Column::Exclusion, "exclusion"),
    (Column::Example, "example"),
    (Column::Colour, "colour"),
    (Column::Shortcut, "shortcut"),
    (Column::Description, "description"),
];

impl Column {
    fn from_header(header: &str) -> Option<Column> {
        let header = header.to_lowercase();
        if header == "color" {
            return Some(Column::Colour);
        }
        COLUMNS
            .iter()
            .find(|(_, name)| *name == header)
            .map(|(column, _)| *column)
    }

    fn name(self) -> &'static str {
        COLUMNS
            .iter()
            .find(|(column, _)| *column == self)
            .map_or("", |(_, name)| name)
    }
}

/// Characters that make a spreadsheet read a cell as a formula when they
/// begin it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A cell that a spreadsheet would read as a formula — it begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return, also after leading spaces or
/// line breaks (spreadsheets skip those) — gets a leading apostrophe;
/// anything else is returned unchanged.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    if is_formula(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn is_formula(cell: &str) -> bool {
    cell.starts_with(FORMULA_STARTS)
        || cell
            .trim_start_matches([' ', '\n', '\u{a0}'])
            .starts_with(FORMULA_STARTS)
}

/// Undo [`neutralise`]: drop an apostrophe that stands before a formula.
fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if is_formula(rest) => rest,
        _ => cell,
    }
}

/// Write the codebook as comma-separated UTF-8 with the header
/// `path,definition,inclusion,exclusion,example,colour,shortcut,description`
/// (the description repeats the definition under the name Taguette reads).
pub fn write<'a>(codes: impl IntoIterator<Item = CodeOut<'a>>) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to a Vec cannot fail, and every cell is valid UTF-8, so the
    // results below are safe to ignore.
    let _ = writer.write_record(COLUMNS.iter().map(|(_, name)| *name));
    for c in codes {
        let cells = [
            c.path,
            c.definition,
            c.inclusion,
            c.exclusion,
            c.example,
            c.colour,
            c.shortcut.unwrap_or(""),
            c.definition,
        ];
        let _ = writer.write_record(cells.iter().map(|cell| neutralise(cell).into_owned()));
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The most codes one codebook CSV may hold.
pub const MAX_ROWS: usize = 10_000;

/// Read every row. Errors carry the line number and say what to fix. Blank
/// rows are skipped. A path that appears twice (case-insensitively, per
/// level) is an error naming both lines, and so is a shortcut given to two
/// codes. Parents need not have their own row: `A / B` alone implies `A`
/// (the caller creates it). A file with a header and no rows gives no codes.
pub fn read(text: &str) -> Result<Vec<CodeRow>, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FormatError::new(format!("cannot read the header row: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let columns = header_columns(&headers)?;

    let mut lines = LineCounter::new(text);
    let mut rows = Vec::new();
    let mut paths: HashMap<Vec<String>, usize> = HashMap::new();
    let mut shortcuts: HashMap<String, usize> = HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| FormatError::new(format!("cannot read the CSV: {e}")))?;
        let line = record
            .position()
            .map_or(0, |p| lines.line_at(p.byte() as usize));
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FormatError::new(format!(
                "a codebook CSV holds at most {} codes; split the file",
                crate::domain::document::thousands(MAX_ROWS)
            )));
        }
        if record.len() > headers.len() {
            return Err(FormatError::new(format!(
                "line {line} has {} cells but the header has {}; put cells that contain the separator in double quotes",
                record.len(),
                headers.len()
            )));
        }
        let mut cells: [&str; COLUMNS.len()] = [""; COLUMNS.len()];
        for (i, cell) in record.iter().enumerate() {
            match columns[i] {
                Some(column) => cells[column as usize] = restore(cell),
                None if cell.is_empty() => {}
                None => {
                    return Err(FormatError::new(format!(
                        "line {line} has a value in column {}, which has no name in the header; name the column or empty it",
                        i + 1
                    )));
                }
            }
        }
        let row = code_row(line, &cells)?;

        let key: Vec<String> = row.path.iter().map(|n| n.to_lowercase()).collect();
        if let Some(earlier) = paths.insert(key, line) {
            return Err(FormatError::new(format!(
                "lines {earlier} and {line} both give the code “{}”; keep one of them",
                code::join_path(&row.path)
            )));
        }
        if let Some(shortcut) = &row.shortcut
            && let Some(earlier) = shortcuts.insert(shortcut.clone(), line)
        {
            return Err(FormatError::new(format!(
                "lines {earlier} and {line} both use the shortcut “{shortcut}”; a shortcut can belong to one code only"
            )));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Line numbers of records from their byte offsets. (The csv crate's own
/// line count is one short after a `\r\n` line end, as Excel writes, and a
/// record's offset may point at the `\n` that ends the line before it.)
struct LineCounter<'a> {
    text: &'a [u8],
    counted_to: usize,
    newlines: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            counted_to: 0,
            newlines: 0,
        }
    }

    /// The 1-based line of the record at `byte`; offsets must not decrease.
    fn line_at(&mut self, byte: usize) -> usize {
        let byte = byte.clamp(self.counted_to, self.text.len());
        let start = byte
            + self.text[byte..]
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
        // A line ends at `\n`, at `\r\n`, or at a lone `\r` (old Mac files,
        // which the CSV reader splits on too).
        let text = self.text;
        self.newlines += (self.counted_to..start)
            .filter(|&i| text[i] == b'\n' || (text[i] == b'\r' && text.get(i + 1) != Some(&b'\n')))
            .count();
        self.counted_to = start;
        self.newlines + 1
    }
}

/// Which column each header cell names; `None` for a header cell left empty
/// (as spreadsheets leave after the last column).
fn header_columns(headers: &[String]) -> Result<Vec<Option<Column>>, FormatError> {
    let expected = "path,definition,inclusion,exclusion,example,colour (and optionally shortcut)";
    let mut columns = Vec::with_capacity(headers.len());
    let mut unknown = Vec::new();
    for header in headers {
        if header.is_empty() {
            columns.push(None);
            continue;
        }
        match Column::from_header(header) {
            Some(column) if columns.contains(&Some(column)) => {
                return Err(FormatError::new(format!(
                    "the header has the column “{}” twice; keep one",
                    column.name()
                )));
            }
            Some(column) => columns.push(Some(column)),
            None => {
                unknown.push(format!("“{header}”"));
                columns.push(None);
            }
        }
    }
    if !columns.contains(&Some(Column::Path)) {
        return Err(FormatError::new(format!(
            "the first row must be a header with a path column: {expected} (found: {})",
            headers.join(",")
        )));
    }
    if !unknown.is_empty() {
        let (noun, verb) = if unknown.len() == 1 {
            ("column", "is")
        } else {
            ("columns", "are")
        };
        return Err(FormatError::new(format!(
            "the {noun} {} {verb} not understood; the columns are {expected}",
            unknown.join(", ")
        )));
    }
    Ok(columns)
}

/// Check the cells of one row, indexed by [`Column`].
fn code_row(line: usize, cells: &[&str; COLUMNS.len()]) -> Result<CodeRow, FormatError> {
    let at = |e: ValidationError| FormatError::new(format!("line {line}, {e}"));
    let raw_path = cells[Column::Path as usize];
    let names = code::split_path(raw_path);
    if names.is_empty() {
        return Err(FormatError::new(format!(
            "line {line} has no path; give the code’s name, after its parents’ names if it has any (e.g. Inpatient frames / Sanctuary)"
        )));
    }
    let path = names
        .iter()
        .map(|n| code::name(n))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            FormatError::new(format!("line {line}, path “{}”: {}", raw_path, e.message))
        })?;
    let long = |column: Column| {
        let field = column.name();
        code::long_text(field, cells[column as usize]).map_err(at)
    };
    let colour = match cells[Column::Colour as usize] {
        "" => None,
        raw => Some(Colour::parse(raw).map_err(at)?),
    };
    Ok(CodeRow {
        line,
        path,
        definition: match cells[Column::Definition as usize] {
            "" => long(Column::Description)?,
            _ => long(Column::Definition)?,
        },
        inclusion: long(Column::Inclusion)?,
        exclusion: long(Column::Exclusion)?,
        example: long(Column::Example)?,
        colour,
        shortcut: code::shortcut(cells[Column::Shortcut as usize]).map_err(at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Taguette's codebook import takes the one column named `tag`,
    /// `name` or `path`, and `description`.
    #[test]
    fn taguette_reads_the_names_and_the_definitions() {
        let written = write([out("Frames / Sanctuary", "The ward as a refuge")]);
        let mut reader = csv::Reader::from_reader(written.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let names = ["tag", "name", "path"];
        assert_eq!(
            header
                .iter()
                .filter(|h| names.contains(&h.as_str()))
                .count(),
            1
        );
        let description = header.iter().position(|h| h == "description").unwrap();
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[description], "The ward as a refuge");
        // A Taguette-style file with a description alone reads it as the
        // definition.
        let rows = read("path,description\nSanctuary,The ward as a refuge\n").unwrap();
        assert_eq!(rows[0].definition, "The ward as a refuge");
        // Parley's own file reads back once, not twice.
        assert_eq!(
            read(&written).unwrap()[0].definition,
            "The ward as a refuge"
        );
    }

    fn out<'a>(path: &'a str, definition: &'a str) -> CodeOut<'a> {
        CodeOut {
            path,
            definition,
            inclusion: "",
            exclusion: "",
            example: "",
            colour: "",
            shortcut: None,
        }
    }

    fn error(text: &str) -> String {
        read(text).unwrap_err().to_string()
    }

    #[test]
    fn a_written_codebook_reads_back() {
        let written = write([
            CodeOut {
                path: "Cadre d’hospitalisation",
                definition: "Comment l’hôpital est décrit.\nDeux lignes, \"citées\"; et virgules, aussi.",
                inclusion: "Mentions of the ward",
                exclusion: "Home visits",
                example: "“It felt safe in there”",
                colour: "#4e79a7",
                shortcut: Some("h"),
            },
            CodeOut {
                colour: "#f28e2b",
                ..out(
                    "Cadre d’hospitalisation / Refuge 🏠",
                    "Ward as sanctuary 🙂",
                )
            },
            out("Staff/carer relations", ""),
        ]);
        assert!(written.starts_with(
            "path,definition,inclusion,exclusion,example,colour,shortcut,description\n"
        ));
        let rows = read(&written).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[0],
            CodeRow {
                line: 2,
                path: vec!["Cadre d’hospitalisation".into()],
                definition:
                    "Comment l’hôpital est décrit.\nDeux lignes, \"citées\"; et virgules, aussi."
                        .into(),
                inclusion: "Mentions of the ward".into(),
                exclusion: "Home visits".into(),
                example: "“It felt safe in there”".into(),
                colour: Some(Colour::parse("#4e79a7").unwrap()),
                shortcut: Some("h".into()),
            }
        );
        assert_eq!(
            rows[1].line, 5,
            "the definition above spans two lines, and so does its copy under description"
        );
        assert_eq!(rows[1].path, ["Cadre d’hospitalisation", "Refuge 🏠"]);
        assert_eq!(rows[1].definition, "Ward as sanctuary 🙂");
        assert_eq!(rows[1].colour.as_ref().map(Colour::as_str), Some("#f28e2b"));
        assert_eq!(rows[2].path, ["Staff/carer relations"]);
        assert_eq!(rows[2].colour, None);
        assert_eq!(rows[2].shortcut, None);
        assert_eq!(read(&write([])).unwrap(), []);
        // Excel's line ends give the same line numbers.
        let crlf = read(&written.replace('\n', "\r\n")).unwrap();
        assert_eq!(crlf.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 5, 6]);
        assert_eq!(crlf[0].definition, rows[0].definition);
    }

    #[test]
    fn semicolon_excel_files_with_a_bom_are_understood() {
        let text = "\u{feff}Path ; DEFINITION;Colour;Shortcut\r\n\
                    Fears over safety; Worry about \"risk\" ;#ABC; S \r\n\
                    ;;;\r\n\
                    Fears over safety / Self-harm;\"One; two\";;\r\n";
        let rows = read(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].path, ["Fears over safety"]);
        assert_eq!(rows[0].definition, "Worry about \"risk\"");
        assert_eq!(rows[0].colour.as_ref().map(Colour::as_str), Some("#aabbcc"));
        assert_eq!(rows[0].shortcut.as_deref(), Some("s"));
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].path, ["Fears over safety", "Self-harm"]);
        assert_eq!(rows[1].definition, "One; two");
        assert_eq!(rows[1].inclusion, "");
        let tabs = read("path\tdefinition\nA\tx\n").unwrap();
        assert_eq!(tabs[0].definition, "x");
    }

    #[test]
    fn parents_are_implied_and_double_colons_split() {
        let rows = read("path\nA / B / C\nX::Y\n  Spaced   out  /  child \n").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].path, ["A", "B", "C"]);
        assert_eq!(rows[1].path, ["X", "Y"]);
        assert_eq!(rows[2].path, ["Spaced out", "child"]);
        // A parent may also have its own row, before or after its children.
        let rows = read("path\nA / B\nA\n").unwrap();
        assert_eq!(rows[1].path, ["A"]);
    }

    #[test]
    fn a_path_given_twice_is_refused_with_both_lines() {
        let e = error("path,definition\nA / B,one\nC,\nA::b,two\n");
        assert!(e.contains("lines 2 and 4"), "{e}");
        assert!(e.contains("A / b"), "{e}");
        assert!(read("path\nA / B\nB / A\nA\n").is_ok());
        let e = error("path,shortcut\nA,s\nB,\nC,S\n");
        assert!(e.contains("lines 2 and 4") && e.contains("shortcut"), "{e}");
    }

    #[test]
    fn bad_values_are_refused_with_their_line() {
        let e = error("path,colour\nA,#4e79a7\nB,red\n");
        assert!(e.starts_with("line 3"), "{e}");
        assert!(e.contains("“red” is not a colour"), "{e}");
        let e = error("path,definition\nA,x\n,orphan definition\n");
        assert!(e.starts_with("line 3 has no path"), "{e}");
        let e = error("path,shortcut\nA,ab\n");
        assert!(e.starts_with("line 2, shortcut"), "{e}");
        let e = error(&format!("path\n{}\n", "x".repeat(201)));
        assert!(e.starts_with("line 2, path"), "{e}");
        let e = error(&format!("path,example\nA,{}\n", "x".repeat(20_001)));
        assert!(e.starts_with("line 2, example"), "{e}");
        let e = error("path,definition\nA,x,y\n");
        assert!(e.starts_with("line 2 has 3 cells"), "{e}");
    }

    #[test]
    fn unknown_columns_are_refused_by_name() {
        let e = error("path,defintion,colour\nA,x,\n");
        assert!(e.contains("“defintion”"), "{e}");
        let e = error("path,notes,memo\nA,x,y\n");
        assert!(e.contains("“notes”, “memo” are not understood"), "{e}");
        let e = error("path,colour,color\nA,,\n");
        assert!(e.contains("twice"), "{e}");
        // An unnamed trailing column, as spreadsheets leave, is fine when empty.
        assert_eq!(read("path,definition,\nA,x,\n").unwrap()[0].definition, "x");
        let e = error("path,definition,\nA,x,stray\n");
        assert!(e.contains("line 2 has a value in column 3"), "{e}");
    }

    #[test]
    fn a_missing_path_column_is_refused() {
        let e = error("name,definition\nA,x\n");
        assert!(e.contains("path column"), "{e}");
        assert!(e.contains("found: name,definition"), "{e}");
        assert!(read("").is_err());
    }

    #[test]
    fn formulas_are_neutralised_on_write_and_restored_on_read() {
        for payload in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1",
            "-2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            " =1+1",
            "\n=cmd|' /C calc'!A0",
            "  \n  @SUM(A1)",
            "\u{a0}-3",
        ] {
            assert_eq!(neutralise(payload), format!("'{payload}"));
            assert_eq!(restore(&neutralise(payload)), payload);
        }
        for plain in ["x", "'quoted", "a=b", "", "#4e79a7", "  text", "\nline"] {
            assert!(matches!(neutralise(plain), Cow::Borrowed(p) if p == plain));
        }

        let written = write([CodeOut {
            path: "=HYPERLINK(\"http://evil\",\"click\")",
            definition: "+1",
            inclusion: "-2",
            exclusion: "@SUM(A1:A9)",
            example: "\tx",
            colour: "",
            shortcut: None,
        }]);
        let second = written.lines().nth(1).unwrap();
        assert_eq!(
            second,
            r#""'=HYPERLINK(""http://evil"",""click"")",'+1,'-2,'@SUM(A1:A9),'	x,,,'+1"#
        );
        let row = &read(&written).unwrap()[0];
        assert_eq!(row.path, ["=HYPERLINK(\"http://evil\",\"click\")"]);
        assert_eq!(row.definition, "+1");
        assert_eq!(row.inclusion, "-2");
        assert_eq!(row.exclusion, "@SUM(A1:A9)");
        // The tab comes back, then is trimmed like any text's edges.
        assert_eq!(row.example, "x");
        // An apostrophe not guarding a formula is kept.
        assert_eq!(read("path\n'quoted\n").unwrap()[0].path, ["'quoted"]);
    }
}

#[cfg(test)]
mod cap_tests {
    use super::{MAX_ROWS, read};

    #[test]
    fn lines_ending_in_a_lone_carriage_return_are_numbered_too() {
        let rows = read("path,definition\rA,one\rB,two\r").unwrap();
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 3]);
    }

    #[test]
    fn a_codebook_past_the_row_cap_is_refused() {
        let mut csv = String::from("path\n");
        for i in 0..=MAX_ROWS {
            csv.push_str(&format!("Code {i}\n"));
        }
        assert!(read(&csv).unwrap_err().to_string().contains("at most"));
    }
}
