//! Participant spreadsheets as CSV: a header `label,group,` then one column
//! per attribute. Comma, semicolon (European Excel) or tab separated.

use super::FormatError;

/// One data row as written, with its line number in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub label: String,
    pub group: String,
    pub attributes: Vec<(String, String)>,
}

/// The most participants one CSV may hold.
pub const MAX_ROWS: usize = 10_000;
/// The most columns (label, group and attributes).
pub const MAX_COLUMNS: usize = 200;

/// Read the rows; the header must start with `label` and `group` (any case).
pub fn read(text: &str) -> Result<Vec<Row>, FormatError> {
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
    if headers.len() > MAX_COLUMNS {
        return Err(FormatError::new(format!(
            "the header has {} columns; a participants CSV has at most {MAX_COLUMNS}",
            headers.len()
        )));
    }
    let is = |i: usize, name: &str| headers.get(i).is_some_and(|h| h.eq_ignore_ascii_case(name));
    if !(is(0, "label") && is(1, "group")) {
        return Err(FormatError::new(format!(
            "the first row must be the header label,group followed by one column per attribute (found: {})",
            headers.join(",")
        )));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| FormatError::new(format!("cannot read the CSV: {e}")))?;
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if rows.len() == MAX_ROWS {
            return Err(FormatError::new(format!(
                "at most {} participants can be imported at once; split the file",
                crate::domain::document::thousands(MAX_ROWS)
            )));
        }
        if record.len() > headers.len() {
            return Err(FormatError::new(format!(
                "line {line} has {} cells but the header has {}",
                record.len(),
                headers.len()
            )));
        }
        rows.push(Row {
            line,
            label: record.get(0).unwrap_or("").to_owned(),
            group: record.get(1).unwrap_or("").to_owned(),
            attributes: headers
                .iter()
                .skip(2)
                .enumerate()
                .map(|(i, name)| (name.clone(), record.get(i + 2).unwrap_or("").to_owned()))
                .collect(),
        });
    }
    if rows.is_empty() {
        return Err(FormatError::new(
            "the file has a header but no participants",
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_carry_label_group_and_attributes() {
        let rows = read("\u{feff}Label,Group,locality,wave\nP01,Staff,North,2004\n,,,\nC07,Carer,\"South, East\",\n").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].label, "P01");
        assert_eq!(rows[1].line, 4);
        assert_eq!(
            rows[1].attributes,
            [
                ("locality".into(), "South, East".into()),
                ("wave".into(), String::new())
            ]
        );
    }

    #[test]
    fn semicolons_and_tabs_are_understood() {
        assert_eq!(
            read("label;group;team\nP1;Staff;CMHT 3").unwrap()[0].attributes[0].1,
            "CMHT 3"
        );
        assert_eq!(read("label\tgroup\nP1\tStaff").unwrap()[0].group, "Staff");
    }

    #[test]
    fn a_wrong_header_or_no_rows_is_an_error() {
        assert!(
            read("name,group\nP1,Staff")
                .unwrap_err()
                .to_string()
                .contains("label,group")
        );
        assert!(read("label,group\n").is_err());
        assert!(read("label,group\nP1,Staff,extra").is_err());
    }
}

#[cfg(test)]
mod cap_tests {
    use super::{MAX_COLUMNS, MAX_ROWS, read};

    #[test]
    fn files_past_the_row_or_column_cap_are_refused() {
        let mut csv = String::from("label,group\n");
        for i in 0..=MAX_ROWS {
            csv.push_str(&format!("P{i},Staff\n"));
        }
        assert!(read(&csv).unwrap_err().to_string().contains("at most"));
        let wide = format!("label,group{}\nP1,Staff\n", ",x".repeat(MAX_COLUMNS));
        assert!(read(&wide).unwrap_err().to_string().contains("columns"));
    }
}
