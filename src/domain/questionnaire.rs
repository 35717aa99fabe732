//! Questionnaire files as Parley reads them: one row per response, columns
//! classified as the respondent's id, the wave, attributes (locality, team,
//! profession: text) and items (numbers). The classification is a guess the
//! user can correct; the checks list every problem with its row and column,
//! so a file is either clean and written whole or refused with all its
//! faults at once.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColumnKind {
    Respondent,
    Wave,
    Attribute,
    Item,
    /// Left out of the survey.
    Ignore,
}

impl ColumnKind {
    pub fn parse(raw: &str) -> Option<ColumnKind> {
        match raw.trim().to_lowercase().as_str() {
            "respondent" => Some(ColumnKind::Respondent),
            "wave" => Some(ColumnKind::Wave),
            "attribute" => Some(ColumnKind::Attribute),
            "item" => Some(ColumnKind::Item),
            "ignore" => Some(ColumnKind::Ignore),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Respondent => "respondent",
            ColumnKind::Wave => "wave",
            ColumnKind::Attribute => "attribute",
            ColumnKind::Item => "item",
            ColumnKind::Ignore => "ignore",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub kind: ColumnKind,
}

/// A table as read from a file: the header and each row with its line
/// number in the file (the header is line 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// The most responses one survey holds.
pub const MAX_ROWS: usize = 100_000;
/// The most columns.
pub const MAX_COLUMNS: usize = 500;

fn is_named(name: &str, names: &[&str]) -> bool {
    let n = name.trim().to_lowercase().replace(['_', '-'], " ");
    names.contains(&n.as_str())
}

/// A number as questionnaires write them: `3`, `3.0`, `2,5` (a decimal
/// comma), surrounding spaces ignored.
pub fn number(cell: &str) -> Option<f64> {
    let t = cell.trim();
    if t.is_empty() {
        return None;
    }
    let t = if t.contains(',') && !t.contains('.') {
        t.replace(',', ".")
    } else {
        t.to_owned()
    };
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Guess each column's kind: `id`/`respondent` is the respondent, `wave`/
/// `year`/`round`/`time` the wave, a column whose filled cells are at least
/// half numbers an item (its stray words are then listed as problems), anything
/// else an attribute.
pub fn classify(table: &Table) -> Vec<Column> {
    let mut respondent = false;
    let mut wave = false;
    table
        .headers
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let cells = || table.rows.iter().filter_map(|(_, r)| r.get(i));
            let filled = cells().filter(|c| !c.trim().is_empty()).count();
            let numbers = cells().filter(|c| number(c).is_some()).count();
            let numeric = numbers > 0 && numbers * 2 >= filled;
            let kind = if !respondent
                && is_named(
                    name,
                    &["id", "respondent", "respondent id", "participant", "case"],
                ) {
                respondent = true;
                ColumnKind::Respondent
            } else if !wave && is_named(name, &["wave", "year", "round", "time", "survey wave"]) {
                wave = true;
                ColumnKind::Wave
            } else if numeric {
                ColumnKind::Item
            } else {
                ColumnKind::Attribute
            };
            Column {
                name: name.clone(),
                kind,
            }
        })
        .collect()
}

/// A fault in a file: where (its line, counting the header as line 1, and
/// column) and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub row: Option<usize>,
    pub column: Option<String>,
    pub problem: String,
}

impl Problem {
    fn at(row: usize, column: &str, problem: impl Into<String>) -> Problem {
        Problem {
            row: Some(row),
            column: Some(column.to_owned()),
            problem: problem.into(),
        }
    }

    fn whole(problem: impl Into<String>) -> Problem {
        Problem {
            row: None,
            column: None,
            problem: problem.into(),
        }
    }
}

/// One response, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Response {
    pub line: usize,
    pub respondent: Option<String>,
    pub wave: String,
    pub attributes: BTreeMap<String, String>,
    /// In the order of the item columns; `None` where blank.
    pub items: Vec<Option<f64>>,
}

/// A wave's label as written: `2002`, also when a spreadsheet stored it as
/// the number 2002.0.
fn wave_label(cell: &str) -> String {
    let t = cell.trim();
    match number(t) {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        _ => t.to_owned(),
    }
}

/// The columns' check before any row: one wave column, at most one
/// respondent column, at least one item, names unique.
pub fn check_columns(columns: &[Column]) -> Vec<Problem> {
    let mut out = Vec::new();
    let count = |k: ColumnKind| columns.iter().filter(|c| c.kind == k).count();
    if count(ColumnKind::Wave) != 1 {
        out.push(Problem::whole(format!(
            "choose exactly one wave column (found {})",
            count(ColumnKind::Wave)
        )));
    }
    if count(ColumnKind::Respondent) > 1 {
        out.push(Problem::whole("choose at most one respondent column"));
    }
    if count(ColumnKind::Item) == 0 {
        out.push(Problem::whole("choose at least one item column (numbers)"));
    }
    let mut seen = HashSet::new();
    for c in columns {
        let key = c.name.trim().to_lowercase();
        if key.is_empty() {
            out.push(Problem::whole("a column has no name in the header row"));
        } else if !seen.insert(key) {
            out.push(Problem::whole(format!(
                "two columns are named “{}”",
                c.name
            )));
        }
    }
    out
}

/// Check every row against the columns (and, when given, the items'
/// response range); the responses when the file is clean, else every
/// problem found.
pub fn responses(
    table: &Table,
    columns: &[Column],
    range: Option<(f64, f64)>,
) -> Result<Vec<Response>, Vec<Problem>> {
    let mut problems = check_columns(columns);
    if columns.len() != table.headers.len() {
        problems.push(Problem::whole(format!(
            "the file has {} columns but {} were classified",
            table.headers.len(),
            columns.len()
        )));
    }
    if table.rows.is_empty() {
        problems.push(Problem::whole("no responses"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let mut out = Vec::with_capacity(table.rows.len());
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for (line, cells) in &table.rows {
        let mut r = Response {
            line: *line,
            respondent: None,
            wave: String::new(),
            attributes: BTreeMap::new(),
            items: Vec::new(),
        };
        for (c, column) in columns.iter().enumerate() {
            let cell = cells.get(c).map_or("", |s| s.trim());
            match column.kind {
                ColumnKind::Ignore => {}
                ColumnKind::Respondent => {
                    r.respondent = (!cell.is_empty()).then(|| wave_label(cell));
                }
                ColumnKind::Wave if cell.is_empty() => {
                    problems.push(Problem::at(*line, &column.name, "missing wave"));
                }
                ColumnKind::Wave => r.wave = wave_label(cell),
                ColumnKind::Attribute => {
                    if !cell.is_empty() {
                        r.attributes.insert(column.name.clone(), cell.to_owned());
                    }
                }
                ColumnKind::Item => r
                    .items
                    .push(item(cell, *line, column, range, &mut problems)),
            }
        }
        if let Some(id) = &r.respondent
            && !r.wave.is_empty()
            && !seen.insert((r.wave.clone(), id.clone()))
        {
            let column = columns
                .iter()
                .find(|c| c.kind == ColumnKind::Respondent)
                .map_or("", |c| c.name.as_str());
            problems.push(Problem::at(
                *line,
                column,
                format!("duplicate respondent {id} in wave {}", r.wave),
            ));
        }
        out.push(r);
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

fn item(
    cell: &str,
    line: usize,
    column: &Column,
    range: Option<(f64, f64)>,
    problems: &mut Vec<Problem>,
) -> Option<f64> {
    if cell.is_empty() {
        return None;
    }
    let Some(x) = number(cell) else {
        problems.push(Problem::at(
            line,
            &column.name,
            format!("not a number: “{cell}”"),
        ));
        return None;
    };
    if let Some((lo, hi)) = range
        && !(lo..=hi).contains(&x)
    {
        problems.push(Problem::at(
            line,
            &column.name,
            format!("{x} is out of range ({lo}–{hi})"),
        ));
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(headers: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            headers: headers.iter().map(|s| (*s).to_owned()).collect(),
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, r)| (i + 2, r.iter().map(|s| (*s).to_owned()).collect()))
                .collect(),
        }
    }

    #[test]
    fn columns_are_guessed_from_names_and_contents() {
        let t = table(
            &["ID", "Wave", "Locality", "rc1", "notes"],
            &[
                &["R1", "2002", "North", "3", "ok"],
                &["R2", "2004", "South", "", "fine"],
            ],
        );
        let kinds: Vec<ColumnKind> = classify(&t).into_iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                ColumnKind::Respondent,
                ColumnKind::Wave,
                ColumnKind::Attribute,
                ColumnKind::Item,
                ColumnKind::Attribute
            ]
        );
    }

    #[test]
    fn every_problem_is_listed_with_its_row_and_column() {
        let t = table(
            &["id", "wave", "q1", "q2"],
            &[
                &["R1", "2002", "3", "often"],
                &["R2", "", "2", "2"],
                &["R1", "2002", "7", "1"],
                &["R3", "2004", "2,5", ""],
            ],
        );
        let columns = classify(&t);
        let problems = responses(&t, &columns, Some((1.0, 5.0))).unwrap_err();
        let got: Vec<(Option<usize>, Option<&str>)> = problems
            .iter()
            .map(|p| (p.row, p.column.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(2), Some("q2")),
                (Some(3), Some("wave")),
                (Some(4), Some("q1")),
                (Some(4), Some("id"))
            ],
            "{problems:?}"
        );
        assert!(problems[0].problem.contains("not a number"));
        assert!(problems[3].problem.contains("duplicate respondent R1"));
    }

    #[test]
    fn a_clean_file_gives_its_responses() {
        let t = table(
            &["id", "wave", "locality", "q1"],
            &[&["R1", "2002.0", "North", "3"], &["R1", "2004", "", "2,5"]],
        );
        let got = responses(&t, &classify(&t), None).unwrap();
        assert_eq!(got[0].wave, "2002");
        assert_eq!(got[1].items, vec![Some(2.5)]);
        assert!(got[1].attributes.is_empty(), "blank attributes are absent");
        let empty = table(&["id", "wave", "q1"], &[]);
        let p = responses(&empty, &classify(&empty), None).unwrap_err();
        assert!(p.iter().any(|p| p.problem == "no responses"));
    }
}
