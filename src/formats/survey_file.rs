//! Questionnaire files: CSV (comma, semicolon or tab separated, UTF-8 with
//! or without BOM) or an Excel workbook's first sheet, read into a
//! [`Table`] of text cells with line numbers. What the cells mean is
//! decided in [`crate::domain::questionnaire`].

use super::FormatError;
use crate::domain::questionnaire::{MAX_COLUMNS, MAX_ROWS, Table};
use calamine::{Data, Reader, Xlsx};
use std::io::Cursor;

/// Read a file by its name's extension (`.xlsx`, else CSV).
pub fn read(name: &str, bytes: &[u8]) -> Result<Table, FormatError> {
    let lower = name.to_lowercase();
    if lower.ends_with(".xlsx") || bytes.starts_with(b"PK\x03\x04") {
        xlsx(bytes)
    } else if lower.ends_with(".xls") {
        Err(FormatError::new(
            "this is an old Excel file (.xls): save it as .xlsx or CSV and upload it again",
        ))
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            FormatError::new("the CSV is not UTF-8: save it as “CSV UTF-8” and upload it again")
        })?;
        csv(text)
    }
}

fn too_big(rows: usize, columns: usize) -> Result<(), FormatError> {
    if columns > MAX_COLUMNS {
        return Err(FormatError::new(format!(
            "the file has {columns} columns; a survey has at most {MAX_COLUMNS}"
        )));
    }
    if rows > MAX_ROWS {
        return Err(FormatError::new(format!(
            "the file has more than {MAX_ROWS} responses; split it into several surveys"
        )));
    }
    Ok(())
}

/// A CSV with a header row.
pub fn csv(text: &str) -> Result<Table, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text.lines().next().unwrap_or("");
    let delimiter = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())
        .unwrap_or(b',');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| FormatError::new(format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    too_big(0, headers.len())?;
    let mut table = Table {
        headers,
        rows: Vec::new(),
    };
    for record in reader.records() {
        let record = record.map_err(|e| FormatError::new(format!("cannot read the CSV: {e}")))?;
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        too_big(table.rows.len() + 1, record.len())?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        table
            .rows
            .push((line, record.iter().map(str::to_owned).collect()));
    }
    Ok(table)
}

/// The first sheet of a workbook; its first row is the header.
pub fn xlsx(bytes: &[u8]) -> Result<Table, FormatError> {
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes))
        .map_err(|e| FormatError::new(format!("cannot open the workbook: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| FormatError::new("the workbook has no sheet"))?
        .map_err(|e| FormatError::new(format!("cannot read the first sheet: {e}")))?;
    let (height, width) = range.get_size();
    too_big(height.saturating_sub(1), width)?;
    // Line numbers as Excel shows them: the range may start below row 1.
    let top = range.start().map_or(0, |(r, _)| r as usize);
    let mut rows = range.rows().enumerate();
    let headers: Vec<String> = match rows.next() {
        Some((_, r)) => r.iter().map(|c| cell(c).trim().to_owned()).collect(),
        None => return Err(FormatError::new("the first sheet is empty")),
    };
    let mut table = Table {
        headers,
        rows: Vec::new(),
    };
    for (i, r) in rows {
        let cells: Vec<String> = r.iter().map(cell).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        table.rows.push((top + i + 1, cells));
    }
    Ok(table)
}

/// A cell as text: numbers without a trailing `.0`, errors as blank.
fn cell(c: &Data) -> String {
    match c {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_their_line_numbers() {
        let t = csv("\u{feff}id;wave;q1\nR1;2002;3\n\"R\n2\";2004;2,5\nR3;2004;1\n").unwrap();
        assert_eq!(t.headers, ["id", "wave", "q1"]);
        assert_eq!(t.rows[0].0, 2);
        assert_eq!(t.rows[1].0, 3);
        assert_eq!(t.rows[2].0, 5, "a line break inside a cell is a line");
        assert_eq!(t.rows[1].1[2], "2,5");
    }

    #[test]
    fn a_workbook_reads_like_its_csv() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "id").unwrap();
        sheet.write_string(0, 1, "wave").unwrap();
        sheet.write_string(0, 2, "q1").unwrap();
        sheet.write_string(1, 0, "R1").unwrap();
        sheet.write_number(1, 1, 2002.0).unwrap();
        sheet.write_number(1, 2, 3.5).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let t = read("survey.xlsx", &bytes).unwrap();
        assert_eq!(t.headers, ["id", "wave", "q1"]);
        assert_eq!(
            t.rows,
            vec![(2, vec!["R1".into(), "2002".into(), "3.5".into()])]
        );
        assert!(read("old.xls", b"\xd0\xcf").is_err());
        assert!(read("x.csv", b"\xff\xfe").is_err());
    }
}
