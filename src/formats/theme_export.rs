//! Writers for the theme table and its companions: a Word table for a
//! paper, workbook sheets (theme table, one matrix per measure, codebook,
//! participants, excerpts), tidy CSV for R and pandas. Pure: they take
//! plain rows and write bytes. Every text cell goes through
//! [`neutralise`], so transcript text can never become a spreadsheet
//! formula.

use super::codebook_csv::neutralise;
use docx_rs::{
    AlignmentType, Docx, PageMargin, PageOrientationType, Paragraph, Run, Shading, ShdType, Table,
    TableCell, TableLayoutType, TableRow, WidthType,
};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet, XlsxError};

/// A column of the table: a group, attribute value or both, with its N.
#[derive(Debug, Clone)]
pub struct ColumnHead {
    pub label: String,
    /// `None` for Unassigned.
    pub n: Option<i64>,
}

/// One cell's counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cell {
    pub references: i64,
    pub cases: i64,
    pub documents: i64,
    pub words: i64,
    pub n: Option<i64>,
}

impl Cell {
    pub fn cases_pct(&self) -> Option<f64> {
        crate::domain::matrix::cases_pct(self.cases, self.n)
    }

    /// `7/12 (58%)`, or `—` where there is no N.
    pub fn cases_text(&self) -> String {
        match (self.n, self.cases_pct()) {
            (Some(n), Some(p)) => format!("{}/{n} ({p:.0}%)", self.cases),
            (Some(n), None) => format!("{}/{n}", self.cases),
            (None, _) => "—".into(),
        }
    }

    pub fn refs_text(&self) -> String {
        match self.references {
            1 => "1 ref.".into(),
            n => format!("{n} refs."),
        }
    }
}

/// A quote and who said it (`C07, Carer, North`).
#[derive(Debug, Clone)]
pub struct QuoteOut {
    pub text: String,
    pub tag: String,
}

#[derive(Debug, Clone)]
pub struct ThemeRow {
    pub depth: usize,
    pub name: String,
    pub path: String,
    pub definition: String,
    pub cells: Vec<Cell>,
    pub total: Cell,
    pub quotes: Vec<QuoteOut>,
}

/// The theme table, ready to write.
#[derive(Debug, Clone)]
pub struct ThemeSheet {
    pub title: String,
    /// What was counted ("codings by Ann; sub-codes rolled up"), or empty.
    pub scope: String,
    pub columns: Vec<ColumnHead>,
    pub total_n: i64,
    pub rows: Vec<ThemeRow>,
}

/// The measures, as named in the tidy CSV and the API.
pub const MEASURES: [&str; 5] = ["references", "cases", "cases_pct", "documents", "words"];

fn measure(cell: &Cell, m: &str) -> Option<f64> {
    match m {
        "references" => Some(cell.references as f64),
        "cases" => Some(cell.cases as f64),
        "cases_pct" => cell.cases_pct(),
        "documents" => Some(cell.documents as f64),
        "words" => Some(cell.words as f64),
        _ => None,
    }
}

fn column_head(c: &ColumnHead) -> String {
    match c.n {
        Some(n) => format!("{} (N = {n})", c.label),
        None => c.label.clone(),
    }
}

/// Tidy CSV: `code_path, column, measure, value`, one row per code, column
/// (and `Total`) and measure; an empty value where a measure does not apply.
pub fn tidy_csv(sheet: &ThemeSheet) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    // `n`: the column's participants (its N), blank for Unassigned.
    let _ = w.write_record(["code_path", "column", "measure", "value", "n"]);
    for row in &sheet.rows {
        let cells = sheet
            .columns
            .iter()
            .map(|c| c.label.as_str())
            .zip(row.cells.iter())
            .chain(std::iter::once(("Total", &row.total)));
        for (column, cell) in cells {
            for m in MEASURES {
                let value = measure(cell, m).map(number).unwrap_or_default();
                let n = cell.n.map(|n| n.to_string()).unwrap_or_default();
                let _ = w.write_record([
                    neutralise(&row.path).as_ref(),
                    neutralise(column).as_ref(),
                    m,
                    value.as_str(),
                    n.as_str(),
                ]);
            }
        }
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A number as R and pandas read it: integers without a decimal point.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

// ---- Word ----------------------------------------------------------------

/// Text as XML 1.0 allows it: control characters other than tab and line
/// breaks (which Word would refuse) become spaces.
pub(crate) fn xml_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r')
                || matches!(c, '\u{FFFE}' | '\u{FFFF}')
            {
                ' '
            } else {
                c
            }
        })
        .collect()
}

pub(crate) fn text_cell(text: &str, bold: bool) -> TableCell {
    let mut run = Run::new().add_text(xml_text(text)).size(18);
    if bold {
        run = run.bold();
    }
    TableCell::new().add_paragraph(Paragraph::new().add_run(run))
}

pub(crate) fn lines_cell(lines: &[String]) -> TableCell {
    let mut cell = TableCell::new();
    for l in lines {
        cell = cell.add_paragraph(
            Paragraph::new()
                .align(AlignmentType::Center)
                .add_run(Run::new().add_text(xml_text(l)).size(18)),
        );
    }
    cell
}

/// Mark the first row of every table in a packed `.docx` as a header row
/// that Word and LibreOffice repeat at the top of each page (`w:tblHeader`,
/// which docx-rs does not write). The row must already have row properties
/// (`cant_split` gives it some). Every other part is copied as it is.
pub fn repeat_header_rows(docx: Vec<u8>) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    let fail = |e: &dyn std::fmt::Display| format!("cannot write the Word file: {e}");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(docx)).map_err(|e| fail(&e))?;
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| fail(&e))?;
        let name = entry.name().map_err(|e| fail(&e))?.into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| fail(&e))?;
        if name == "word/document.xml" {
            let xml = String::from_utf8(bytes).map_err(|e| fail(&e))?;
            bytes = mark_header_rows(&xml).into_bytes();
        }
        out.start_file(name, options).map_err(|e| fail(&e))?;
        out.write_all(&bytes).map_err(|e| fail(&e))?;
    }
    Ok(out.finish().map_err(|e| fail(&e))?.into_inner())
}

fn mark_header_rows(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 64);
    let mut rest = xml;
    while let Some(t) = rest.find("<w:tbl>") {
        let (before, after) = rest.split_at(t);
        out.push_str(before);
        match after.find("<w:trPr>") {
            Some(p) => {
                let at = p + "<w:trPr>".len();
                out.push_str(&after[..at]);
                out.push_str("<w:tblHeader />");
                rest = &after[at..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The theme table as a Word document (landscape A4): a title, what was
/// counted, and one table — theme (indented by level), definition, cases
/// and references per column and in total, and quotes in italics.
pub fn docx(sheet: &ThemeSheet) -> Result<Vec<u8>, String> {
    let widths = docx_widths(sheet.columns.len());
    let sized = |cells: Vec<TableCell>| -> Vec<TableCell> {
        cells
            .into_iter()
            .zip(&widths)
            .map(|(c, w)| c.width(*w, WidthType::Dxa))
            .collect()
    };
    let header_fill = Shading::new().shd_type(ShdType::Clear).fill("E7F0F7");
    let mut head = vec![
        text_cell("Theme", true).shading(header_fill.clone()),
        text_cell("Definition", true).shading(header_fill.clone()),
    ];
    for c in &sheet.columns {
        head.push(lines_cell(&[column_head(c)]).shading(header_fill.clone()));
    }
    head.push(lines_cell(&[format!("Total (N = {})", sheet.total_n)]).shading(header_fill.clone()));
    head.push(text_cell("Illustrative quotes", true).shading(header_fill));
    // The header row repeats on every page; no row splits across pages.
    let mut rows = vec![TableRow::new(sized(head)).cant_split()];
    for r in &sheet.rows {
        let name = Paragraph::new()
            .indent(Some(r.depth as i32 * 240), None, None, None)
            .add_run({
                let run = Run::new().add_text(xml_text(&r.name)).size(18);
                if r.depth == 0 { run.bold() } else { run }
            });
        let mut cells = vec![
            TableCell::new().add_paragraph(name),
            text_cell(&r.definition, false),
        ];
        for c in r.cells.iter().chain(std::iter::once(&r.total)) {
            cells.push(lines_cell(&[c.cases_text(), c.refs_text()]));
        }
        let mut quotes = TableCell::new();
        if r.quotes.is_empty() {
            quotes = quotes.add_paragraph(Paragraph::new());
        }
        for q in &r.quotes {
            quotes = quotes.add_paragraph(
                Paragraph::new()
                    .add_run(
                        Run::new()
                            .add_text(xml_text(&format!("“{}”", q.text)))
                            .italic()
                            .size(18),
                    )
                    .add_run(
                        Run::new()
                            .add_text(xml_text(&format!(" ({})", q.tag)))
                            .size(18),
                    ),
            );
        }
        cells.push(quotes);
        rows.push(TableRow::new(sized(cells)).cant_split());
    }
    let table = Table::new(rows)
        .set_grid(widths.clone())
        .layout(TableLayoutType::Fixed)
        .width(widths.iter().sum(), WidthType::Dxa);
    let mut doc = Docx::new()
        .page_size(16838, 11906)
        .page_orient(PageOrientationType::Landscape)
        .page_margin(
            PageMargin::new()
                .top(1000)
                .bottom(1000)
                .left(1000)
                .right(1000),
        )
        .add_paragraph(
            Paragraph::new().add_run(Run::new().add_text(xml_text(&sheet.title)).bold().size(28)),
        );
    let mut note = String::from(
        "Cells: cases/N (cases %) and references. Cases are participants with at least one coded passage; N is the column's participants who speak in the documents counted; references are coded passages. Interviewer turns are not counted; a passage spoken by several participants counts once for each of them. Quotes: starred ones first.",
    );
    if !sheet.scope.is_empty() {
        note = format!("{note} Counted: {}.", xml_text(&sheet.scope));
    }
    doc = doc
        .add_paragraph(Paragraph::new().add_run(Run::new().add_text(note).size(16).color("555555")))
        .add_table(table);
    let mut buf = std::io::Cursor::new(Vec::new());
    doc.build()
        .pack(&mut buf)
        .map_err(|e| format!("cannot write the Word file: {e}"))?;
    repeat_header_rows(buf.into_inner())
}

/// Column widths (twentieths of a point) across landscape A4 with 1000
/// margins: theme and definition, narrow number columns, and the quotes
/// taking what is left (at least a third of the page).
fn docx_widths(columns: usize) -> Vec<usize> {
    const PAGE: usize = 16838 - 2 * 1000;
    let numbers = columns + 1;
    let quotes_min = PAGE / 3;
    let fixed = 1900 + 2300;
    let per = ((PAGE - fixed - quotes_min) / numbers).clamp(700, 1300);
    let mut w = vec![1900, 2300];
    w.extend(std::iter::repeat_n(per, numbers));
    let used: usize = w.iter().sum();
    w.push(PAGE.saturating_sub(used).max(3000));
    w
}

// ---- Excel ----------------------------------------------------------------

/// A text cell, neutralised.
pub fn put_text(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    text: &str,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    let text = neutralise(text);
    match format {
        Some(f) => sheet.write_string_with_format(row, col, text.as_ref(), f)?,
        None => sheet.write_string(row, col, text.as_ref())?,
    };
    Ok(())
}

pub fn header_format() -> Format {
    Format::new()
        .set_bold()
        .set_background_color("E7F0F7")
        .set_text_wrap()
        .set_align(FormatAlign::Top)
}

/// Write a header row, freeze it, and set column widths.
pub fn header(sheet: &mut Worksheet, names: &[&str], widths: &[f64]) -> Result<(), XlsxError> {
    let fmt = header_format();
    for (i, name) in names.iter().enumerate() {
        put_text(sheet, 0, i as u16, name, Some(&fmt))?;
    }
    for (i, w) in widths.iter().enumerate() {
        sheet.set_column_width(i as u16, *w)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// The "Theme table" sheet and one "Matrix – measure" sheet per measure,
/// numbers as numbers.
pub fn xlsx_theme_sheets(workbook: &mut Workbook, sheet: &ThemeSheet) -> Result<(), XlsxError> {
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    // Cases % is in percentage points (58.3) on every sheet, as in the
    // API and the CSV, shown with a % sign.
    let pct = Format::new()
        .set_num_format(PCT_FORMAT)
        .set_align(FormatAlign::Top);
    let int = Format::new().set_align(FormatAlign::Top);
    let quote = Format::new()
        .set_italic()
        .set_text_wrap()
        .set_align(FormatAlign::Top);

    let ws = workbook.add_worksheet();
    ws.set_name("Theme table")?;
    let mut names: Vec<String> = vec!["Theme".into(), "Definition".into()];
    for c in &sheet.columns {
        let head = column_head(c);
        names.push(format!("{head}: cases"));
        names.push(format!("{head}: cases %"));
        names.push(format!("{head}: references"));
    }
    names.push(format!("Total (N = {}): cases", sheet.total_n));
    names.push("Total: cases %".into());
    names.push("Total: references".into());
    names.push("Illustrative quotes".into());
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut widths = vec![34.0, 50.0];
    widths.extend(std::iter::repeat_n(11.0, (sheet.columns.len() + 1) * 3));
    widths.push(80.0);
    header(ws, &refs, &widths)?;
    ws.set_row_height(0, 45)?;
    for (i, r) in sheet.rows.iter().enumerate() {
        let row = i as u32 + 1;
        let indent = Format::new()
            .set_indent(r.depth as u8)
            .set_align(FormatAlign::Top);
        let indent = if r.depth == 0 {
            indent.set_bold()
        } else {
            indent
        };
        put_text(ws, row, 0, &r.name, Some(&indent))?;
        put_text(ws, row, 1, &r.definition, Some(&wrap))?;
        let mut col = 2u16;
        for c in r.cells.iter().chain(std::iter::once(&r.total)) {
            if c.n.is_some() {
                ws.write_number_with_format(row, col, c.cases as f64, &int)?;
            }
            if let Some(p) = c.cases_pct() {
                ws.write_number_with_format(row, col + 1, p, &pct)?;
            }
            ws.write_number_with_format(row, col + 2, c.references as f64, &int)?;
            col += 3;
        }
        let quotes: Vec<String> = r
            .quotes
            .iter()
            .map(|q| format!("“{}” ({})", q.text, q.tag))
            .collect();
        put_text(ws, row, col, &quotes.join("\n"), Some(&quote))?;
    }
    ws.autofilter(0, 0, sheet.rows.len() as u32, refs.len() as u16 - 1)?;

    for m in MEASURES {
        let ws = workbook.add_worksheet();
        ws.set_name(format!(
            "Matrix – {}",
            m.replace('_', " ").replace("pct", "%")
        ))?;
        let mut names: Vec<String> = vec!["Code".into()];
        names.extend(sheet.columns.iter().map(column_head));
        names.push(format!("Total (N = {})", sheet.total_n));
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let mut widths = vec![40.0];
        widths.extend(std::iter::repeat_n(14.0, sheet.columns.len() + 1));
        header(ws, &refs, &widths)?;
        let number_format = if m == "cases_pct" {
            Format::new().set_num_format(PCT_FORMAT)
        } else {
            Format::new()
        };
        for (i, r) in sheet.rows.iter().enumerate() {
            let row = i as u32 + 1;
            put_text(ws, row, 0, &r.path, None)?;
            for (j, c) in r.cells.iter().chain(std::iter::once(&r.total)).enumerate() {
                if let Some(v) = measure(c, m) {
                    ws.write_number_with_format(row, j as u16 + 1, v, &number_format)?;
                }
            }
        }
        ws.autofilter(0, 0, sheet.rows.len() as u32, refs.len() as u16 - 1)?;
    }
    Ok(())
}

/// Percentage points shown with a per cent sign (58.3 → "58.3%").
pub const PCT_FORMAT: &str = "0.0\"%\"";

/// A first sheet saying what a workbook was made with: filters, columns,
/// measures, roll-up, counting rules — so a file read months later
/// explains itself.
pub fn xlsx_about(workbook: &mut Workbook, rows: &[(String, String)]) -> Result<(), XlsxError> {
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let ws = workbook.add_worksheet();
    ws.set_name("Filters")?;
    header(ws, &["What", "How it was made"], &[22.0, 100.0])?;
    for (i, (k, v)) in rows.iter().enumerate() {
        put_text(ws, i as u32 + 1, 0, k, Some(&Format::new().set_bold()))?;
        put_text(ws, i as u32 + 1, 1, v, Some(&wrap))?;
    }
    Ok(())
}

/// One code for the "Codebook" sheet.
pub struct CodebookRow<'a> {
    pub path: &'a str,
    pub definition: &'a str,
    pub inclusion: &'a str,
    pub exclusion: &'a str,
    pub example: &'a str,
    pub colour: &'a str,
    pub codings: i64,
}

pub fn xlsx_codebook<'a>(
    workbook: &mut Workbook,
    rows: impl IntoIterator<Item = CodebookRow<'a>>,
) -> Result<(), XlsxError> {
    let ws = workbook.add_worksheet();
    ws.set_name("Codebook")?;
    header(
        ws,
        &[
            "path",
            "definition",
            "inclusion",
            "exclusion",
            "example",
            "colour",
            "codings",
        ],
        &[40.0, 50.0, 40.0, 40.0, 40.0, 10.0, 10.0],
    )?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    for (i, r) in rows.into_iter().enumerate() {
        let row = i as u32 + 1;
        put_text(ws, row, 0, r.path, Some(&wrap))?;
        put_text(ws, row, 1, r.definition, Some(&wrap))?;
        put_text(ws, row, 2, r.inclusion, Some(&wrap))?;
        put_text(ws, row, 3, r.exclusion, Some(&wrap))?;
        put_text(ws, row, 4, r.example, Some(&wrap))?;
        put_text(ws, row, 5, r.colour, None)?;
        ws.write_number(row, 6, r.codings as f64)?;
    }
    Ok(())
}

/// The "Participants" sheet: label, group, documents, then one column per
/// attribute.
pub fn xlsx_participants(
    workbook: &mut Workbook,
    attributes: &[String],
    rows: &[(String, String, i64, Vec<String>)],
) -> Result<(), XlsxError> {
    let ws = workbook.add_worksheet();
    ws.set_name("Participants")?;
    let mut names = vec!["label", "group", "documents"];
    names.extend(attributes.iter().map(String::as_str));
    let mut widths = vec![14.0, 18.0, 11.0];
    widths.extend(std::iter::repeat_n(16.0, attributes.len()));
    header(ws, &names, &widths)?;
    for (i, (label, group, docs, values)) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        put_text(ws, row, 0, label, None)?;
        put_text(ws, row, 1, group, None)?;
        ws.write_number(row, 2, *docs as f64)?;
        for (j, v) in values.iter().enumerate() {
            put_text(ws, row, 3 + j as u16, v, None)?;
        }
    }
    Ok(())
}

/// The columns of an excerpts export, before one column per attribute.
pub const EXCERPT_COLUMNS: [&str; 15] = [
    "code_path",
    "text",
    "speaker",
    "participant",
    "group",
    "document",
    "turn",
    "time",
    "document_id",
    "start",
    "end",
    "coder",
    "memo",
    "starred",
    "coding_id",
];

/// One excerpt as exported; a coding spanning several speakers lists them
/// joined with "; ".
#[derive(Debug, Clone, Default)]
pub struct ExcerptRow {
    pub code_path: String,
    pub text: String,
    pub speaker: String,
    pub participant: String,
    pub group: String,
    pub document: String,
    /// Where a reader finds it again: the turn it starts in, and its time
    /// mark in a captioned transcript (offsets stay, for scripts).
    pub turn: Option<i64>,
    pub time: Option<String>,
    pub document_id: i64,
    pub start: i64,
    pub end: i64,
    pub coder: String,
    pub memo: String,
    pub starred: bool,
    pub coding_id: i64,
    /// Values in the order of the export's attribute columns.
    pub attributes: Vec<String>,
}

impl ExcerptRow {
    /// The row as CSV cells, neutralised.
    pub fn record(&self) -> Vec<String> {
        let mut out: Vec<String> = [
            self.code_path.as_str(),
            self.text.as_str(),
            self.speaker.as_str(),
            self.participant.as_str(),
            self.group.as_str(),
            self.document.as_str(),
        ]
        .iter()
        .map(|s| neutralise(s).into_owned())
        .collect();
        out.push(self.turn.map_or_else(String::new, |t| t.to_string()));
        out.push(self.time.clone().unwrap_or_default());
        out.push(self.document_id.to_string());
        out.push(self.start.to_string());
        out.push(self.end.to_string());
        out.push(neutralise(&self.coder).into_owned());
        out.push(neutralise(&self.memo).into_owned());
        out.push(self.starred.to_string());
        out.push(self.coding_id.to_string());
        out.extend(self.attributes.iter().map(|a| neutralise(a).into_owned()));
        out
    }

    /// Write the row into an excerpts sheet, numbers as numbers.
    pub fn write(&self, ws: &mut Worksheet, row: u32, wrap: &Format) -> Result<(), XlsxError> {
        put_text(ws, row, 0, &self.code_path, None)?;
        put_text(ws, row, 1, &self.text, Some(wrap))?;
        put_text(ws, row, 2, &self.speaker, None)?;
        put_text(ws, row, 3, &self.participant, None)?;
        put_text(ws, row, 4, &self.group, None)?;
        put_text(ws, row, 5, &self.document, None)?;
        if let Some(t) = self.turn {
            ws.write_number(row, 6, t as f64)?;
        }
        if let Some(t) = &self.time {
            put_text(ws, row, 7, t, None)?;
        }
        ws.write_number(row, 8, self.document_id as f64)?;
        ws.write_number(row, 9, self.start as f64)?;
        ws.write_number(row, 10, self.end as f64)?;
        put_text(ws, row, 11, &self.coder, None)?;
        put_text(ws, row, 12, &self.memo, None)?;
        ws.write_boolean(row, 13, self.starred)?;
        ws.write_number(row, 14, self.coding_id as f64)?;
        for (j, v) in self.attributes.iter().enumerate() {
            put_text(ws, row, 15 + j as u16, v, None)?;
        }
        Ok(())
    }
}

/// Header and widths of an excerpts sheet with these attribute columns.
pub fn excerpts_header(ws: &mut Worksheet, attributes: &[String]) -> Result<(), XlsxError> {
    let mut names: Vec<&str> = EXCERPT_COLUMNS.to_vec();
    names.extend(attributes.iter().map(String::as_str));
    let mut widths = vec![
        30.0, 70.0, 14.0, 14.0, 16.0, 24.0, 7.0, 10.0, 11.0, 9.0, 9.0, 14.0, 30.0, 9.0, 10.0,
    ];
    widths.extend(std::iter::repeat_n(14.0, attributes.len()));
    header(ws, &names, &widths)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet() -> ThemeSheet {
        let cell = |refs, cases, n| Cell {
            references: refs,
            cases,
            documents: 1,
            words: 10,
            n,
        };
        ThemeSheet {
            title: "Study — themes".into(),
            scope: String::new(),
            columns: vec![
                ColumnHead {
                    label: "Staff".into(),
                    n: Some(12),
                },
                ColumnHead {
                    label: "Unassigned".into(),
                    n: None,
                },
            ],
            total_n: 12,
            rows: vec![ThemeRow {
                depth: 1,
                name: "=Sanctuary".into(),
                path: "=Frames / Sanctuary".into(),
                definition: "@calm".into(),
                cells: vec![cell(9, 7, Some(12)), cell(2, 0, None)],
                total: cell(11, 7, Some(12)),
                quotes: vec![QuoteOut {
                    text: "It felt like a sanctuary".into(),
                    tag: "C07, Carer, North".into(),
                }],
            }],
        }
    }

    #[test]
    fn cells_read_like_a_paper() {
        let s = sheet();
        assert_eq!(s.rows[0].cells[0].cases_text(), "7/12 (58%)");
        assert_eq!(s.rows[0].cells[0].refs_text(), "9 refs.");
        assert_eq!(s.rows[0].cells[1].cases_text(), "—");
    }

    #[test]
    fn tidy_csv_is_long_and_neutralised() {
        let csv = tidy_csv(&sheet());
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "code_path,column,measure,value,n");
        // 3 columns (2 + Total) × 5 measures.
        assert_eq!(lines.len(), 1 + 15);
        assert!(lines.contains(&"'=Frames / Sanctuary,Staff,references,9,12"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("'=Frames / Sanctuary,Staff,cases_pct,58.33"))
        );
        assert!(lines.contains(&"'=Frames / Sanctuary,Unassigned,cases_pct,,"));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("'=Frames / Sanctuary,Total,words,10,")),
            "the total with its N"
        );
    }

    #[test]
    fn the_word_file_is_a_zip_with_the_table() {
        let bytes = docx(&sheet()).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert!(xml.contains("7/12 (58%)"));
        assert!(xml.contains("It felt like a sanctuary"));
        assert!(
            xml.contains("<w:i />") || xml.contains("<w:i/>"),
            "quotes are in italics"
        );

        // Ready for a paper: the header repeats on each page, rows stay
        // whole, widths are set (the quotes column the widest), landscape.
        assert_eq!(xml.matches("<w:tblHeader").count(), 1, "one header row");
        assert_eq!(xml.matches("<w:cantSplit").count(), sheet().rows.len() + 1);
        assert!(xml.contains("w:orient=\"landscape\""));
        let widths = docx_widths(sheet().columns.len());
        let quotes = *widths.last().unwrap();
        assert!(widths.iter().all(|w| *w <= quotes), "{widths:?}");
        assert!(
            xml.contains(&format!("<w:gridCol w:w=\"{quotes}\"")),
            "grid set"
        );
    }

    #[test]
    fn excerpt_records_neutralise_formulas() {
        let row = ExcerptRow {
            text: "=HYPERLINK(\"http://x\")".into(),
            memo: "+1".into(),
            attributes: vec!["-North".into()],
            ..ExcerptRow::default()
        };
        let rec = row.record();
        assert_eq!(rec[1], "'=HYPERLINK(\"http://x\")");
        assert_eq!(rec[12], "'+1", "the memo column");
        assert_eq!(rec.last().unwrap(), "'-North");
    }
}
