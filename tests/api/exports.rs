//! Exports: the theme table (tidy CSV, XLSX, DOCX, print view), excerpts
//! (CSV, XLSX) and the codebook CSV, checked against the API.
//!
//! A small study is built through the API only; every export must carry
//! exactly the numbers of `GET /projects/{id}/matrix` for every measure,
//! column choice and roll-up (and under filters). Text that a spreadsheet
//! would run as a formula must come out neutralised in every CSV and XLSX
//! cell, and no workbook cell may be a formula; text that a browser or Word
//! would read as markup must come out escaped. Starred quotes appear tagged
//! with who said them; viewers can download, outsiders see nothing; the
//! excerpts export lists each coding once.

use crate::helpers::{Api, TestApp, assert_error, expect, id, items};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use parley::domain::ids::ProjectId;
use quick_xml::events::Event;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

/// What makes a spreadsheet read a cell as a formula when it begins it.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];
const MEASURES: [&str; 5] = ["references", "cases", "cases_pct", "documents", "words"];
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const THEME_SHEETS: [&str; 10] = [
    "Filters",
    "Theme table",
    "Matrix – references",
    "Matrix – cases",
    "Matrix – cases %",
    "Matrix – documents",
    "Matrix – words",
    "Excerpts",
    "Codebook",
    "Participants",
];
const EXCERPT_COLUMNS: [&str; 15] = [
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

// ---- HTTP helpers ------------------------------------------------------------

type Query = Vec<(String, String)>;

fn query(pairs: &[(&str, &str)]) -> Query {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// GET with a query string built (and encoded) by reqwest.
async fn get_with(api: &Api, path: &str, query: &Query) -> reqwest::Response {
    let mut req = api.client.get(format!("{}{path}", api.base)).query(query);
    if let Some(token) = &api.token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// An export's bytes, after checking the status and the content type.
async fn download(api: &Api, path: &str, query: &Query, content_type: &str) -> Vec<u8> {
    let res = get_with(api, path, query).await;
    let status = res.status();
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(
        status,
        StatusCode::OK,
        "{path} {query:?}: {}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(
        ct.starts_with(content_type),
        "{path}: content type {ct}, wanted {content_type}"
    );
    bytes
}

// ---- reading the files -------------------------------------------------------

fn read_csv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = std::str::from_utf8(bytes).expect("CSV is UTF-8");
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

fn workbook(bytes: Vec<u8>) -> Xlsx<Cursor<Vec<u8>>> {
    open_workbook_from_rs(Cursor::new(bytes)).expect("a workbook calamine can read")
}

/// A sheet as rows of cells, from A1.
fn sheet(wb: &mut Xlsx<Cursor<Vec<u8>>>, name: &str) -> Vec<Vec<Data>> {
    let range = wb
        .worksheet_range(name)
        .unwrap_or_else(|e| panic!("sheet {name}: {e}"));
    if range.is_empty() {
        return Vec::new();
    }
    assert_eq!(range.start(), Some((0, 0)), "sheet {name} starts at A1");
    range.rows().map(<[Data]>::to_vec).collect()
}

/// A cell's text, or "" for an empty cell.
fn text_of(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Empty => String::new(),
        other => panic!("expected text, got {other:?}"),
    }
}

/// A numeric cell's value, `None` for an empty cell; text is an error.
fn number_of(d: &Data, what: &str) -> Option<f64> {
    match d {
        Data::Float(x) => Some(*x),
        Data::Int(x) => Some(*x as f64),
        Data::Empty => None,
        other => panic!("{what}: expected a number or nothing, got {other:?}"),
    }
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(1.0),
        _ => false,
    }
}

/// Every part of a DOCX (or XLSX) archive: name → text.
fn zip_parts(bytes: &[u8]) -> BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).unwrap();
        out.insert(
            f.name().unwrap().into_owned(),
            String::from_utf8_lossy(&buf).into_owned(),
        );
    }
    out
}

/// A paragraph of a Word table cell: its runs as (text, italic).
#[derive(Debug, Default, Clone)]
struct Para {
    runs: Vec<(String, bool)>,
}

impl Para {
    fn text(&self) -> String {
        self.runs.iter().map(|(t, _)| t.as_str()).collect()
    }
}

/// The rows of the tables of `word/document.xml`: row → cell → paragraph.
fn docx_rows(xml: &str) -> Vec<Vec<Vec<Para>>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut rows: Vec<Vec<Vec<Para>>> = Vec::new();
    let mut in_cell = false;
    let mut in_text = false;
    let mut run: Option<(String, bool)> = None;
    loop {
        let event = reader.read_event().expect("well-formed document.xml");
        match event {
            Event::Start(e) => match e.name().as_ref() {
                "w:tr" => rows.push(Vec::new()),
                "w:tc" => {
                    in_cell = true;
                    rows.last_mut().unwrap().push(Vec::new());
                }
                "w:p" if in_cell => rows
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .push(Para::default()),
                "w:r" if in_cell => run = Some((String::new(), false)),
                "w:t" => in_text = true,
                "w:i" => {
                    if let Some(r) = run.as_mut() {
                        r.1 = true;
                    }
                }
                _ => {}
            },
            Event::Empty(e) => match e.name().as_ref() {
                "w:p" if in_cell => rows
                    .last_mut()
                    .unwrap()
                    .last_mut()
                    .unwrap()
                    .push(Para::default()),
                "w:i" => {
                    if let Some(r) = run.as_mut() {
                        r.1 = true;
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_text => {
                if let Some(r) = run.as_mut() {
                    r.0.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) if in_text => {
                let c = match r.resolve_char_ref().unwrap() {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("unknown entity &{other};"),
                    },
                };
                if let Some(run) = run.as_mut() {
                    run.0.push(c);
                }
            }
            Event::End(e) => match e.name().as_ref() {
                "w:t" => in_text = false,
                "w:r" => {
                    if let Some(r) = run.take()
                        && in_cell
                        && let Some(p) = rows
                            .last_mut()
                            .and_then(|row| row.last_mut())
                            .and_then(|cell| cell.last_mut())
                    {
                        p.runs.push(r);
                    }
                }
                "w:tc" => in_cell = false,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    rows
}

fn cell_lines(cell: &[Para]) -> Vec<String> {
    cell.iter().map(Para::text).collect()
}

/// What the app promises of a text cell: a leading `'` before a formula
/// character.
fn neutral(s: &str) -> String {
    if s.starts_with(FORMULA_STARTS) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

// ---- building things through the API -----------------------------------------

/// A new coding of `[start, end)`, optionally starred and with a memo.
async fn coding(
    api: &Api,
    p: ProjectId,
    doc: i64,
    code: i64,
    (start, end): (i64, i64),
    starred: bool,
    memo: &str,
) -> Value {
    let mut body = json!({"document_id": doc, "code_id": code, "start": start, "end": end});
    if !memo.is_empty() {
        body["memo"] = json!(memo);
    }
    let mut c = expect(
        api.post(&format!("/projects/{p}/codings"), body).await,
        StatusCode::CREATED,
    )
    .await;
    if starred {
        c = expect(
            api.patch(
                &format!("/projects/{p}/codings/{}", id(&c)),
                json!({"starred": true}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(c["starred"], true, "{c}");
    }
    c
}

/// `[start, end)` in code points of the only occurrence of `needle`.
fn span(text: &str, needle: &str) -> (i64, i64) {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text:?}"));
    assert_eq!(
        text.rfind(needle),
        Some(byte),
        "{needle:?} occurs more than once"
    );
    let start = text[..byte].chars().count() as i64;
    (start, start + needle.chars().count() as i64)
}

/// All codings of a project (with their text), by the API.
async fn all_codings(api: &Api, p: ProjectId, filter: &str) -> Value {
    expect(
        api.get(&format!("/projects/{p}/codings?limit=1000{filter}"))
            .await,
        StatusCode::OK,
    )
    .await
}

// ---- the study ---------------------------------------------------------------

/// (label, group, locality). C09 never speaks: in no N, and "East" is no
/// column. C02 has no locality.
const PEOPLE: &[(&str, &str, Option<&str>)] = &[
    ("S01", "Staff", Some("North")),
    ("S02", "Staff", Some("South")),
    ("U01", "Service user", Some("North")),
    ("U02", "Service user", Some("South")),
    ("C07", "Carer", Some("North")),
    ("C02", "Carer", None),
    ("C09", "Carer", Some("East")),
];

const INTERVIEW_C07: &str = "\
Interviewer: How did the ward feel when you visited?
C07: It felt like a sanctuary for my son, calm and quiet.
Interviewer: And the nights?
C07: Nights were frightening, doors banging and no privacy at all.
";

const STAFF_GROUP: &str = "\
Facilitator: Let us talk about safety on the ward.
S01: Safety is about trust as much as locks.
S02: We never have enough staff at night, it is a worry.
S01: Carers should be told about discharge before it happens.

Facilitator: Anything on privacy?
S02: The dormitories give patients no privacy whatsoever.
";

/// "Visitor" stays unmapped: Unassigned.
const MIXED_GROUP: &str = "\
Moderator: What is the ward like for you?
U01: It is a refuge from the chaos outside, a real sanctuary.
U02: No privacy at all, curtains do not stop sound.
C02: As a carer I was never listened to by anyone.
Visitor: I am just sitting in, but the locks scared me.
U01: At night I felt unsafe with the shouting.
";

const INTERVIEW_U02: &str = "\
I: Tell me about the crisis house.
U02: It felt like asylum in the old sense, a safe place.
I: Did you feel safe at night?
U02: Mostly, but night staff changed all the time and I was scared.
";

const DOCS: [(&str, &str); 4] = [
    ("Interview C07", INTERVIEW_C07),
    ("Staff focus group", STAFF_GROUP),
    ("Mixed focus group", MIXED_GROUP),
    ("Interview U02", INTERVIEW_U02),
];

/// (name, parent, definition), parents first.
const CODES: &[(&str, Option<&str>, &str)] = &[
    (
        "Inpatient frames",
        None,
        "How the ward is framed by those who use it",
    ),
    (
        "Sanctuary",
        Some("Inpatient frames"),
        "The ward as a place of safety and rest",
    ),
    ("Lack of privacy", Some("Inpatient frames"), ""),
    ("Safety", None, "Talk of safety and risk"),
    (
        "Fears over safety",
        Some("Safety"),
        "Feeling unsafe on the ward",
    ),
    ("Carer focus", None, "Carers' place in care"),
];

/// A coding to make: (document, from, to (None: just `from`), code, coder
/// 0 = owner / 1 = the other coder, starred, memo).
type Plan = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static str,
    usize,
    bool,
    &'static str,
);

const SANCTUARY_QUOTE: &str = "It felt like a sanctuary for my son, calm and quiet.";
const STAFF_QUOTE: &str = "We never have enough staff at night, it is a worry.";
const CARER_QUOTE: &str = "As a carer I was never listened to by anyone.";
const MEMO: &str = "Compare with the staff view of privacy";

const PLAN: &[Plan] = &[
    (
        "Interview C07",
        SANCTUARY_QUOTE,
        None,
        "Sanctuary",
        0,
        true,
        "",
    ),
    // The same passage by the other coder: counts twice.
    (
        "Interview C07",
        SANCTUARY_QUOTE,
        None,
        "Sanctuary",
        1,
        false,
        "",
    ),
    (
        "Mixed focus group",
        "a refuge from the chaos outside, a real sanctuary",
        None,
        "Sanctuary",
        0,
        false,
        "",
    ),
    (
        "Interview U02",
        "asylum in the old sense, a safe place",
        None,
        "Sanctuary",
        0,
        false,
        "",
    ),
    // Two participants of one group.
    (
        "Mixed focus group",
        "It is a refuge",
        Some("curtains do not stop sound"),
        "Inpatient frames",
        0,
        false,
        "",
    ),
    // Overlaps a child's coding: once in the roll-up's cases and documents.
    (
        "Interview U02",
        "It felt like asylum",
        None,
        "Inpatient frames",
        1,
        false,
        "",
    ),
    (
        "Interview C07",
        "no privacy at all",
        None,
        "Lack of privacy",
        0,
        false,
        "",
    ),
    (
        "Staff focus group",
        "no privacy whatsoever",
        None,
        "Lack of privacy",
        0,
        false,
        "",
    ),
    (
        "Mixed focus group",
        "No privacy at all, curtains do not stop sound.",
        None,
        "Lack of privacy",
        1,
        false,
        MEMO,
    ),
    // Two groups: once in each, once in the total.
    (
        "Mixed focus group",
        "curtains",
        Some("never listened to by anyone."),
        "Lack of privacy",
        0,
        false,
        "",
    ),
    (
        "Staff focus group",
        "Safety is about trust as much as locks.",
        None,
        "Safety",
        0,
        false,
        "",
    ),
    // A facilitator and a participant: the participant's.
    (
        "Staff focus group",
        "Let us talk about safety",
        Some("Safety is about trust"),
        "Safety",
        1,
        false,
        "",
    ),
    // Only the interviewer: in no column.
    (
        "Interview U02",
        "Did you feel safe at night?",
        None,
        "Safety",
        0,
        false,
        "",
    ),
    // An unmapped speaker: Unassigned.
    (
        "Mixed focus group",
        "Visitor: I am just sitting in, but the locks scared me.",
        None,
        "Safety",
        0,
        false,
        "",
    ),
    (
        "Staff focus group",
        STAFF_QUOTE,
        None,
        "Fears over safety",
        0,
        true,
        "",
    ),
    (
        "Interview C07",
        "Nights were frightening",
        None,
        "Fears over safety",
        1,
        false,
        "",
    ),
    (
        "Mixed focus group",
        "the locks scared me",
        None,
        "Fears over safety",
        0,
        false,
        "",
    ),
    (
        "Mixed focus group",
        "At night I felt unsafe with the shouting.",
        None,
        "Fears over safety",
        0,
        false,
        "",
    ),
    (
        "Interview U02",
        "night staff changed all the time and I was scared",
        None,
        "Fears over safety",
        1,
        false,
        "",
    ),
    (
        "Staff focus group",
        "Carers should be told about discharge before it happens.",
        None,
        "Carer focus",
        1,
        false,
        "",
    ),
    (
        "Mixed focus group",
        CARER_QUOTE,
        None,
        "Carer focus",
        0,
        true,
        "",
    ),
    (
        "Interview C07",
        "for my son",
        None,
        "Carer focus",
        1,
        false,
        "",
    ),
];

struct Study {
    owner: Api,
    coder: Api,
    p: ProjectId,
    /// Title → (id, normalised text).
    docs: BTreeMap<&'static str, (i64, String)>,
    codes: BTreeMap<&'static str, i64>,
    /// Coding ids in the order of `PLAN`.
    codings: Vec<i64>,
}

async fn study(app: &TestApp) -> Study {
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Integrated services").await;
    owner.add(p, &coder, "coder").await;
    for (label, group, locality) in PEOPLE {
        let attrs = match locality {
            Some(l) => json!({"locality": l}),
            None => json!({}),
        };
        owner.participant(p, label, Some(group), attrs).await;
    }
    let mut docs = BTreeMap::new();
    for (title, text) in DOCS {
        docs.insert(title, owner.document(p, title, text).await);
    }
    // Labels equal to participants' labels map by themselves; check it.
    let d = expect(
        owner
            .get(&format!(
                "/projects/{p}/documents/{}",
                docs["Mixed focus group"].0
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let speakers = d["speakers"].to_string();
    assert!(
        speakers.contains("U01") && speakers.contains("Visitor"),
        "{d}"
    );

    let mut codes: BTreeMap<&'static str, i64> = BTreeMap::new();
    for (name, parent, definition) in CODES {
        let parent = parent.map(|n| codes[n]);
        codes.insert(name, owner.code_defined(p, name, parent, definition).await);
    }
    let mut codings = Vec::new();
    for (doc, from, to, code_name, who, starred, memo) in PLAN {
        let (d, text) = &docs[doc];
        let range = match to {
            None => span(text, from),
            Some(to) => (span(text, from).0, span(text, to).1),
        };
        let api = if *who == 0 { &owner } else { &coder };
        let c = coding(api, p, *d, codes[code_name], range, *starred, memo).await;
        codings.push(id(&c));
    }
    Study {
        owner,
        coder,
        p,
        docs,
        codes,
        codings,
    }
}

// ---- the matrix as the API gives it --------------------------------------------

struct Column {
    key: String,
    label: String,
    n: Option<i64>,
}

struct Row {
    code_id: i64,
    path: String,
    /// measure → values per column, then the total.
    values: BTreeMap<&'static str, Vec<Option<f64>>>,
}

struct Reference {
    columns: Vec<Column>,
    total_n: i64,
    rows: Vec<Row>,
}

impl Reference {
    /// `label (N = n)`, or the label alone for Unassigned.
    fn head(c: &Column) -> String {
        match c.n {
            Some(n) => format!("{} (N = {n})", c.label),
            None => c.label.clone(),
        }
    }

    /// Column `j` (or the total at `columns.len()`)'s N.
    fn n(&self, j: usize) -> Option<i64> {
        self.columns.get(j).map_or(Some(self.total_n), |c| c.n)
    }

    /// `7/12 (58%)` as the paper shows it, from the API's numbers.
    fn cases_text(&self, row: &Row, j: usize) -> String {
        let cases = row.values["cases"][j].unwrap();
        match (self.n(j), row.values["cases_pct"][j]) {
            (Some(n), Some(p)) => format!("{cases}/{n} ({p:.0}%)"),
            (Some(n), None) => format!("{cases}/{n}"),
            (None, _) => "—".into(),
        }
    }

    fn refs_text(row: &Row, j: usize) -> String {
        let n = row.values["references"][j].unwrap();
        if n == 1.0 {
            "1 ref.".into()
        } else {
            format!("{n} refs.")
        }
    }
}

/// `GET /matrix` for every measure with the same parameters.
async fn reference(api: &Api, p: ProjectId, base: &Query) -> Reference {
    let mut by_measure = BTreeMap::new();
    for m in MEASURES {
        let mut q = base.clone();
        q.push(("measure".into(), m.into()));
        let body = expect(
            get_with(api, &format!("/projects/{p}/matrix"), &q).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(body["measure"], m);
        by_measure.insert(m, body);
    }
    let first = &by_measure["references"];
    let columns: Vec<Column> = first["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Column {
            key: c["key"].as_str().unwrap().to_owned(),
            label: c["label"].as_str().unwrap().to_owned(),
            n: c["participants"].as_i64(),
        })
        .collect();
    let total_n = first["participants"].as_i64().unwrap();
    let mut rows: Vec<Row> = first["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Row {
            code_id: r["code_id"].as_i64().unwrap(),
            path: r["path"].as_str().unwrap().to_owned(),
            values: BTreeMap::new(),
        })
        .collect();
    for (m, body) in &by_measure {
        assert_eq!(body["columns"], first["columns"], "{m}");
        assert_eq!(body["participants"], first["participants"], "{m}");
        let got = body["rows"].as_array().unwrap();
        assert_eq!(got.len(), rows.len());
        for (row, r) in rows.iter_mut().zip(got) {
            assert_eq!(r["code_id"].as_i64().unwrap(), row.code_id);
            let mut v: Vec<Option<f64>> = columns
                .iter()
                .map(|c| r["values"][c.key.as_str()].as_f64())
                .collect();
            v.push(r["total"].as_f64());
            row.values.insert(*m, v);
        }
    }
    Reference {
        columns,
        total_n,
        rows,
    }
}

/// Code id → (name, definition).
async fn code_fields(api: &Api, p: ProjectId) -> BTreeMap<i64, (String, String)> {
    let tree = expect(
        api.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    items(&tree)
        .iter()
        .map(|c| {
            (
                id(c),
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["definition"].as_str().unwrap_or("").to_owned(),
                ),
            )
        })
        .collect()
}

// ---- the exports against the reference --------------------------------------------

fn check_tidy_csv(r: &Reference, bytes: &[u8], what: &str) {
    let got = read_csv(bytes);
    assert_eq!(
        got[0],
        ["code_path", "column", "measure", "value", "n"],
        "{what}"
    );
    let mut want = Vec::new();
    let mut ns = Vec::new();
    for row in &r.rows {
        let labels = r.columns.iter().map(|c| c.label.as_str()).chain(["Total"]);
        for (j, label) in labels.enumerate() {
            for m in MEASURES {
                want.push((neutral(&row.path), neutral(label), m, row.values[m][j]));
                ns.push(r.n(j).map(|n| n.to_string()).unwrap_or_default());
            }
        }
    }
    // Every row carries its column's N.
    for (g, n) in got[1..].iter().zip(&ns) {
        assert_eq!(&g[4], n, "{what}: N of {g:?}");
    }
    assert_eq!(got.len() - 1, want.len(), "{what}: tidy CSV rows");
    for (line, (g, (path, column, m, v))) in got[1..].iter().zip(&want).enumerate() {
        assert_eq!(
            (&g[0], &g[1], g[2].as_str()),
            (path, column, *m),
            "{what}: CSV line {}",
            line + 2
        );
        let value = (!g[3].is_empty()).then(|| {
            g[3].parse::<f64>()
                .unwrap_or_else(|_| panic!("{what}: not a number: {g:?}"))
        });
        assert!(
            close(value, *v),
            "{what}: {path} / {column} / {m}: CSV has {:?}, the matrix {v:?}",
            g[3]
        );
    }
}

fn check_matrix_sheets(r: &Reference, wb: &mut Xlsx<Cursor<Vec<u8>>>, what: &str) {
    for m in MEASURES {
        let name = format!("Matrix – {}", m.replace('_', " ").replace("pct", "%"));
        let grid = sheet(wb, &name);
        let mut head = vec!["Code".to_owned()];
        head.extend(r.columns.iter().map(|c| neutral(&Reference::head(c))));
        head.push(format!("Total (N = {})", r.total_n));
        let got_head: Vec<String> = grid[0].iter().map(text_of).collect();
        assert_eq!(got_head, head, "{what}: {name} header");
        assert_eq!(grid.len(), r.rows.len() + 1, "{what}: {name} rows");
        for (row, cells) in r.rows.iter().zip(&grid[1..]) {
            assert_eq!(text_of(&cells[0]), neutral(&row.path), "{what}: {name}");
            for (j, want) in row.values[m].iter().enumerate() {
                let got = number_of(&cells[j + 1], &name);
                assert!(
                    close(got, *want),
                    "{what}: {name}: {} / {}: sheet has {got:?}, the matrix {want:?}",
                    row.path,
                    head[j + 1]
                );
            }
        }
    }
}

fn check_theme_sheet(
    r: &Reference,
    codes: &BTreeMap<i64, (String, String)>,
    wb: &mut Xlsx<Cursor<Vec<u8>>>,
    what: &str,
) {
    let grid = sheet(wb, "Theme table");
    let mut head = vec!["Theme".to_owned(), "Definition".to_owned()];
    for c in &r.columns {
        let h = Reference::head(c);
        head.push(neutral(&format!("{h}: cases")));
        head.push(neutral(&format!("{h}: cases %")));
        head.push(neutral(&format!("{h}: references")));
    }
    head.push(format!("Total (N = {}): cases", r.total_n));
    head.push("Total: cases %".into());
    head.push("Total: references".into());
    head.push("Illustrative quotes".into());
    let got_head: Vec<String> = grid[0].iter().map(text_of).collect();
    assert_eq!(got_head, head, "{what}: theme sheet header");
    assert_eq!(grid.len(), r.rows.len() + 1, "{what}: theme sheet rows");
    for (row, cells) in r.rows.iter().zip(&grid[1..]) {
        let (name, definition) = &codes[&row.code_id];
        assert_eq!(text_of(&cells[0]), neutral(name), "{what}");
        assert_eq!(text_of(&cells[1]), neutral(definition), "{what}");
        for j in 0..=r.columns.len() {
            let col = 2 + 3 * j;
            let label = &head[col];
            let cases = number_of(&cells[col], label);
            let want_cases = r.n(j).and(row.values["cases"][j]);
            assert!(
                close(cases, want_cases),
                "{what}: {} / {label}: {cases:?} vs {want_cases:?}",
                row.path
            );
            let pct = number_of(&cells[col + 1], label);
            // Percentage points, as on the matrix sheet and in the API.
            let want_pct = row.values["cases_pct"][j];
            assert!(
                close(pct, want_pct),
                "{what}: {} / {label} %: {pct:?} vs {want_pct:?}",
                row.path
            );
            let refs = number_of(&cells[col + 2], label);
            assert!(
                close(refs, row.values["references"][j]),
                "{what}: {} / {label} references: {refs:?}",
                row.path
            );
        }
    }
}

fn check_docx(r: &Reference, codes: &BTreeMap<i64, (String, String)>, bytes: &[u8], what: &str) {
    let parts = zip_parts(bytes);
    let rows = docx_rows(&parts["word/document.xml"]);
    assert_eq!(rows.len(), r.rows.len() + 1, "{what}: Word table rows");
    let mut head: Vec<Vec<String>> = vec![vec!["Theme".into()], vec!["Definition".into()]];
    head.extend(r.columns.iter().map(|c| vec![Reference::head(c)]));
    head.push(vec![format!("Total (N = {})", r.total_n)]);
    head.push(vec!["Illustrative quotes".into()]);
    let got_head: Vec<Vec<String>> = rows[0].iter().map(|c| cell_lines(c)).collect();
    assert_eq!(got_head, head, "{what}: Word header");
    for (row, cells) in r.rows.iter().zip(&rows[1..]) {
        let (name, definition) = &codes[&row.code_id];
        assert_eq!(cells.len(), r.columns.len() + 4, "{what}: {}", row.path);
        assert_eq!(cell_lines(&cells[0]).concat(), *name, "{what}");
        assert_eq!(cell_lines(&cells[1]).concat(), *definition, "{what}");
        for j in 0..=r.columns.len() {
            assert_eq!(
                cell_lines(&cells[2 + j]),
                [r.cases_text(row, j), Reference::refs_text(row, j)],
                "{what}: Word cell {} / {}",
                row.path,
                head[2 + j][0]
            );
        }
    }
}

/// The print view's number cells, in order: cases text then references.
fn check_html(r: &Reference, html: &str, what: &str) {
    // A number that counts something is a link to its excerpts.
    let got: Vec<String> = html
        .split("<td class=\"num\">")
        .skip(1)
        .map(|s| {
            let cell = s.split("</td>").next().unwrap();
            match cell.strip_prefix("<a class=\"cell-link\" href=\"") {
                Some(linked) => {
                    let inner = &linked[linked.find("\">").unwrap() + 2..];
                    let inner = inner.strip_suffix("</a>").expect("a whole link");
                    assert!(!inner.contains(">0 refs."), "{what}: a link to nothing");
                    inner.to_owned()
                }
                None => {
                    assert!(cell.contains(">0 refs."), "{what}: no link: {cell}");
                    cell.to_owned()
                }
            }
        })
        .collect();
    let mut want = Vec::new();
    for row in &r.rows {
        for j in 0..=r.columns.len() {
            want.push(format!(
                "{}<span class=\"col-n\">{}</span>",
                r.cases_text(row, j),
                Reference::refs_text(row, j)
            ));
        }
    }
    assert_eq!(got, want, "{what}: print view cells");
}

/// Every theme-table export against `GET /matrix` with the same query.
async fn check_against_matrix(api: &Api, p: ProjectId, base: &Query) {
    let what = format!("{base:?}");
    let r = reference(api, p, base).await;
    assert!(!r.rows.is_empty());
    let codes = code_fields(api, p).await;

    let csv = download(
        api,
        &format!("/projects/{p}/exports/theme-table.csv"),
        base,
        "text/csv",
    )
    .await;
    check_tidy_csv(&r, &csv, &what);

    let xlsx = download(
        api,
        &format!("/projects/{p}/exports/theme-table.xlsx"),
        base,
        XLSX,
    )
    .await;
    let mut wb = workbook(xlsx);
    assert_eq!(wb.sheet_names(), THEME_SHEETS, "{what}");
    check_matrix_sheets(&r, &mut wb, &what);
    check_theme_sheet(&r, &codes, &mut wb, &what);

    let docx = download(
        api,
        &format!("/projects/{p}/exports/theme-table.docx"),
        base,
        DOCX,
    )
    .await;
    check_docx(&r, &codes, &docx, &what);

    let html = download(
        api,
        &format!("/projects/{p}/exports/theme-table.html"),
        base,
        "text/html",
    )
    .await;
    check_html(&r, &String::from_utf8(html).unwrap(), &what);
}

// ---- 1. the same numbers everywhere ----------------------------------------------

#[sqlx::test]
async fn every_theme_table_export_carries_the_matrix_numbers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;

    // The study is what it should be: columns with N, Unassigned, a
    // participant who never speaks left out.
    let r = reference(&s.owner, p, &query(&[("columns", "attr:locality")])).await;
    let heads: Vec<String> = r.columns.iter().map(Reference::head).collect();
    assert_eq!(
        heads,
        [
            "North (N = 3)",
            "South (N = 2)",
            "(no value) (N = 1)",
            "Unassigned"
        ]
    );
    assert_eq!(r.total_n, 6);
    let r = reference(&s.owner, p, &query(&[("rollup", "true")])).await;
    let heads: Vec<String> = r.columns.iter().map(Reference::head).collect();
    assert_eq!(
        heads,
        [
            "Staff (N = 2)",
            "Service user (N = 2)",
            "Carer (N = 2)",
            "Unassigned"
        ]
    );
    let frames = r
        .rows
        .iter()
        .find(|r| r.path == "Inpatient frames")
        .unwrap();
    // Rolled up: the first ten codings of the plan, in the total.
    assert_eq!(frames.values["references"][4], Some(10.0));

    for columns in ["group", "attr:locality", "group,attr:locality"] {
        for rollup in ["false", "true"] {
            let q = query(&[("columns", columns), ("rollup", rollup)]);
            check_against_matrix(&s.owner, p, &q).await;
        }
    }
    // And under each filter.
    let coder = s.coder.user.as_ref().unwrap().id.0.to_string();
    let docs = format!(
        "{},{}",
        s.docs["Interview C07"].0, s.docs["Mixed focus group"].0
    );
    for filter in [
        ("coder", coder.as_str()),
        ("documents", docs.as_str()),
        ("attribute", "locality=North"),
    ] {
        for columns in ["group", "attr:locality"] {
            let q = query(&[("columns", columns), ("rollup", "true"), filter]);
            check_against_matrix(&s.owner, p, &q).await;
        }
    }
}

// ---- 2. formulas ----------------------------------------------------------------

const HYPERLINK: &str = "=HYPERLINK(\"http://evil.example\",\"x\")";

/// A transcript whose coded passages begin with formula characters; the tab
/// survives normalisation, a carriage return becomes a line feed.
const FORMULA_TEXT: &str = "Interviewer: Go on.\r\nP1: =HYPERLINK(\"http://evil.example\",\"x\") is what I typed.\r\nP2: +SUM(1,2) then -2+3 then @cmd here.\r\nP1: before\t=1+1 after\rP2: done.\n";

/// Assert no cell of a CSV begins with a formula character.
fn csv_is_inert(rows: &[Vec<String>], what: &str) {
    for (i, row) in rows.iter().enumerate() {
        for cell in row {
            assert!(
                !cell.starts_with(FORMULA_STARTS),
                "{what}, line {}: cell {cell:?} would be a formula",
                i + 1
            );
        }
    }
}

/// Assert no cell of any sheet is a formula or text beginning with a
/// formula character; answer every text cell, by sheet.
fn workbook_is_inert(bytes: Vec<u8>, what: &str) -> BTreeMap<String, Vec<String>> {
    // No formula element anywhere in the package.
    for (name, xml) in zip_parts(&bytes) {
        if name.starts_with("xl/worksheets/") {
            assert!(
                !xml.contains("<f>") && !xml.contains("<f "),
                "{what}: {name}"
            );
        }
    }
    let mut wb = workbook(bytes);
    let mut texts = BTreeMap::new();
    for name in wb.sheet_names() {
        let formulas = wb.worksheet_formula(&name).unwrap();
        let found: Vec<&String> = formulas.used_cells().map(|(_, _, f)| f).collect();
        assert!(found.is_empty(), "{what}: {name} has formulas {found:?}");
        let mut all = Vec::new();
        for row in sheet(&mut wb, &name) {
            for cell in row {
                if let Data::String(s) = cell {
                    assert!(
                        !s.starts_with(FORMULA_STARTS),
                        "{what}: {name}: cell {s:?} would be a formula"
                    );
                    all.push(s);
                }
            }
        }
        texts.insert(name, all);
    }
    texts
}

#[sqlx::test]
async fn no_export_lets_a_cell_become_a_formula(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Formulas").await;
    expect(
        owner
            .post(
                &format!("/projects/{p}/groups"),
                json!({"name": "+Volunteers"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    owner
        .participant(
            p,
            HYPERLINK,
            Some("Staff"),
            json!({"locality": "-2+3", "=rank": "@top"}),
        )
        .await;
    owner
        .participant(
            p,
            "@cmd",
            Some("+Volunteers"),
            json!({"locality": "+North"}),
        )
        .await;
    let (doc, text) = owner.document(p, "-Interview", FORMULA_TEXT).await;
    assert!(!text.contains('\r'), "{text:?}");
    assert!(text.contains("before\t=1+1 after\nP2: done."), "{text:?}");
    owner
        .map_speakers(
            p,
            doc,
            json!([
                {"label": "P1", "participant": HYPERLINK},
                {"label": "P2", "participant": "@cmd"}
            ]),
        )
        .await;
    let parent = owner.code_defined(p, HYPERLINK, None, "=1+1").await;
    let child = owner
        .code_defined(p, "+SUM(1,2)", Some(parent), "@definition")
        .await;
    let minus = owner.code_defined(p, "-2+3", None, "-minus").await;
    let at = owner
        .code_defined(p, "@cmd", None, "\tTabbed definition")
        .await;
    // Inclusion, exclusion and example are text cells of the codebook too.
    expect(
        owner
            .patch(
                &format!("/projects/{p}/codes/{minus}"),
                json!({"inclusion": "+inc", "exclusion": "-exc", "example": "@ex"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    let line2_end = span(&text, " is what I typed.").0;
    let hyper = (span(&text, HYPERLINK).0, line2_end);
    let plan = [
        (parent, hyper, true, "=1+2"),
        (child, span(&text, "+SUM(1,2)"), true, "\r@cmd memo"),
        (minus, span(&text, "-2+3"), false, "-note"),
        (at, span(&text, "@cmd here."), true, "+memo"),
        (at, span(&text, "\t=1+1 after"), false, "\t=tab memo"),
        (minus, span(&text, "\t=1+1"), true, ""),
    ];
    let mut made = Vec::new();
    for (code_id, range, starred, memo) in plan {
        let c = coding(&owner, p, doc, code_id, range, starred, memo).await;
        assert!(
            c["text"].as_str().unwrap().starts_with(FORMULA_STARTS),
            "{c}"
        );
        made.push(c);
    }
    // Memos are trimmed; a leading CR goes, what follows stays.
    assert_eq!(made[1]["memo"], "@cmd memo");

    // Excerpts CSV: every coding, neutralised.
    let csv = read_csv(
        &download(
            &owner,
            &format!("/projects/{p}/exports/excerpts.csv"),
            &Query::new(),
            "text/csv",
        )
        .await,
    );
    csv_is_inert(&csv, "excerpts.csv");
    let head = &csv[0];
    let col = |name: &str| {
        head.iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {head:?}"))
    };
    assert!(head.contains(&"'=rank".to_owned()), "{head:?}");
    assert_eq!(csv.len(), made.len() + 1);
    for c in &made {
        let row = csv[1..]
            .iter()
            .find(|r| r[col("coding_id")] == id(c).to_string())
            .unwrap_or_else(|| panic!("coding {} not exported", id(c)));
        assert_eq!(row[col("text")], neutral(c["text"].as_str().unwrap()));
        assert_eq!(row[col("memo")], neutral(c["memo"].as_str().unwrap()));
        assert_eq!(row[col("document")], "'-Interview");
        assert_eq!(
            row[col("code_path")],
            neutral(&format!(
                "{}{}",
                if c["code_id"] == child {
                    format!("{HYPERLINK} / ")
                } else {
                    String::new()
                },
                c["code_name"].as_str().unwrap()
            ))
        );
    }
    let by_text = |t: &str| {
        csv[1..]
            .iter()
            .find(|r| r[col("text")].starts_with(t))
            .unwrap_or_else(|| panic!("no excerpt {t:?}"))
    };
    let row = by_text(&format!("'{HYPERLINK}"));
    assert_eq!(row[col("participant")], format!("'{HYPERLINK}"));
    assert_eq!(row[col("group")], "Staff");
    assert_eq!(row[col("locality")], "'-2+3");
    assert_eq!(row[col("'=rank")], "'@top");
    let row = by_text("'+SUM(1,2)");
    assert_eq!(row[col("participant")], "'@cmd");
    assert_eq!(row[col("group")], "'+Volunteers");
    assert_eq!(row[col("locality")], "'+North");
    assert_eq!(row[col("memo")], "'@cmd memo");
    // A memo's leading tab is trimmed; the `=` after it is neutralised.
    assert_eq!(by_text("'\t=1+1 after")[col("memo")], "'=tab memo");

    // The codebook CSV.
    let codebook = read_csv(
        &download(
            &owner,
            &format!("/projects/{p}/exports/codebook.csv"),
            &Query::new(),
            "text/csv",
        )
        .await,
    );
    csv_is_inert(&codebook, "codebook.csv");
    let flat: Vec<&String> = codebook.iter().flatten().collect();
    for want in [
        format!("'{HYPERLINK}"),
        format!("'{HYPERLINK} / +SUM(1,2)"),
        "'-2+3".into(),
        "'@cmd".into(),
        "'=1+1".into(),
        "'@definition".into(),
        "'-minus".into(),
        "'+inc".into(),
        "'-exc".into(),
        "'@ex".into(),
    ] {
        assert!(
            flat.contains(&&want),
            "codebook.csv lacks {want:?}: {codebook:?}"
        );
    }
    // A definition's leading tab is trimmed away: nothing to neutralise.
    assert!(
        flat.contains(&&"Tabbed definition".to_owned()),
        "{codebook:?}"
    );

    // Theme-table CSV and workbook, by each kind of column.
    for columns in [
        "group",
        "attr:locality",
        "group,attr:locality",
        "attr:=rank",
    ] {
        for rollup in ["false", "true"] {
            let q = query(&[
                ("columns", columns),
                ("rollup", rollup),
                ("tags", "locality"),
            ]);
            let what = format!("{q:?}");
            let tidy = read_csv(
                &download(
                    &owner,
                    &format!("/projects/{p}/exports/theme-table.csv"),
                    &q,
                    "text/csv",
                )
                .await,
            );
            csv_is_inert(&tidy, &what);
            let paths: BTreeSet<&str> = tidy[1..].iter().map(|r| r[0].as_str()).collect();
            assert!(paths.contains(format!("'{HYPERLINK}").as_str()), "{what}");
            assert!(paths.contains("'-2+3") && paths.contains("'@cmd"), "{what}");
            let labels: BTreeSet<&str> = tidy[1..].iter().map(|r| r[1].as_str()).collect();
            match columns {
                "group" => assert!(labels.contains("'+Volunteers"), "{what}: {labels:?}"),
                "attr:locality" => assert!(
                    labels.contains("'-2+3") && labels.contains("'+North"),
                    "{what}: {labels:?}"
                ),
                "attr:=rank" => assert!(labels.contains("'@top"), "{what}: {labels:?}"),
                _ => {}
            }
            check_against_matrix(&owner, p, &q).await;

            let texts = workbook_is_inert(
                download(
                    &owner,
                    &format!("/projects/{p}/exports/theme-table.xlsx"),
                    &q,
                    XLSX,
                )
                .await,
                &what,
            );
            let has = |sheet: &str, cell: &str| {
                assert!(
                    texts[sheet].iter().any(|t| t == cell),
                    "{what}: {sheet} lacks {cell:?}: {:?}",
                    texts[sheet]
                );
            };
            has("Theme table", &format!("'{HYPERLINK}"));
            has("Theme table", "'+SUM(1,2)");
            has("Theme table", "'=1+1");
            has("Matrix – words", &format!("'{HYPERLINK} / +SUM(1,2)"));
            has("Excerpts", &format!("'{HYPERLINK}"));
            has("Excerpts", "'@cmd memo");
            has("Excerpts", "'\t=1+1 after");
            has("Excerpts", "'-Interview");
            has("Excerpts", "'=rank");
            has("Codebook", "'-exc");
            has("Participants", &format!("'{HYPERLINK}"));
            has("Participants", "'@cmd");
            has("Participants", "'+Volunteers");
            has("Participants", "'-2+3");
            has("Participants", "'=rank");
            has("Participants", "'@top");
        }
    }

    // The excerpts workbook alone, whole and for one branch.
    for q in [
        Query::new(),
        query(&[
            ("code_id", &parent.to_string()),
            ("include_subcodes", "true"),
        ]),
    ] {
        let texts = workbook_is_inert(
            download(
                &owner,
                &format!("/projects/{p}/exports/excerpts.xlsx"),
                &q,
                XLSX,
            )
            .await,
            "excerpts.xlsx",
        );
        let excerpts = &texts["Excerpts"];
        assert!(excerpts.contains(&format!("'{HYPERLINK}")), "{excerpts:?}");
        assert!(excerpts.contains(&"'+SUM(1,2)".to_owned()), "{excerpts:?}");
        assert!(excerpts.contains(&"'=1+2".to_owned()), "{excerpts:?}");
    }
}

// ---- 3. markup -----------------------------------------------------------------

/// Character references for `<`, `>`, `"` and `&` written as named ones.
fn numeric_to_named(body: &str) -> String {
    body.replace("&#60;", "&lt;")
        .replace("&#x3c;", "&lt;")
        .replace("&#x3C;", "&lt;")
        .replace("&#62;", "&gt;")
        .replace("&#x3e;", "&gt;")
        .replace("&#x3E;", "&gt;")
        .replace("&#34;", "&quot;")
        .replace("&#38;", "&amp;")
}

/// The text around each occurrence of `needle`, for messages.
fn around(body: &str, needle: &str) -> Vec<String> {
    body.match_indices(needle)
        .map(|(i, _)| {
            let from = body.floor_char_boundary(i.saturating_sub(60));
            let to = body.ceil_char_boundary((i + needle.len() + 60).min(body.len()));
            body[from..to].to_owned()
        })
        .collect()
}

const SCRIPT: &str = "<script>alert(1)</script>";
const IMG: &str = "<img src=x onerror=alert(1)>";

#[sqlx::test]
async fn no_export_lets_text_become_markup(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Markup <b>study</b>").await;
    owner
        .participant(p, "P01", Some("Carer"), json!({"locality": "<i>North</i>"}))
        .await;
    let (doc, text) = owner.document(p,
        "Markup",
        "Interviewer: Go on.\nP01: I typed <script>alert(1)</script> into the form.\nP01: Then <img src=x onerror=alert(1)> showed up.\n",
    )
    .await;
    let parent = owner.code_defined(p, SCRIPT, None, "<b>defined</b>").await;
    let child = owner.code_defined(p, IMG, Some(parent), IMG).await;
    coding(
        &owner,
        p,
        doc,
        parent,
        span(&text, "I typed <script>alert(1)</script> into the form."),
        true,
        SCRIPT,
    )
    .await;
    coding(
        &owner,
        p,
        doc,
        child,
        span(&text, "Then <img src=x onerror=alert(1)> showed up."),
        true,
        "",
    )
    .await;

    for columns in ["group", "attr:locality"] {
        for rollup in ["false", "true"] {
            let q = query(&[
                ("columns", columns),
                ("rollup", rollup),
                ("tags", "locality"),
            ]);
            let what = format!("{q:?}");
            let html = String::from_utf8(
                download(
                    &owner,
                    &format!("/projects/{p}/exports/theme-table.html"),
                    &q,
                    "text/html",
                )
                .await,
            )
            .unwrap();
            let docx = download(
                &owner,
                &format!("/projects/{p}/exports/theme-table.docx"),
                &q,
                DOCX,
            )
            .await;
            let parts = zip_parts(&docx);
            let xml = &parts["word/document.xml"];
            // `&#60;` is as good an escape as `&lt;`.
            let html = numeric_to_named(&html);
            let xml = &numeric_to_named(xml);
            for (name, body) in [("print view", &html), ("document.xml", xml)] {
                for raw in [SCRIPT, IMG, "<script>alert", "<img src", "<b>", "<i>North"] {
                    assert!(!body.contains(raw), "{what}: {name} has raw {raw:?}");
                }
                for escaped in [
                    "&lt;script&gt;alert(1)&lt;/script&gt;",
                    "&lt;img src=x onerror=alert(1)&gt;",
                    "&lt;b&gt;defined&lt;/b&gt;",
                ] {
                    assert!(
                        body.contains(escaped),
                        "{what}: {name} lacks {escaped:?}: {:?}",
                        around(body, "alert(1)")
                    );
                }
            }
            // The escaped quotes are the transcript's words, tagged.
            assert!(
                html.contains(
                    "<em>“I typed &lt;script&gt;alert(1)&lt;/script&gt; into the form.”</em> (P01, Carer, &lt;i&gt;North&lt;/i&gt;)"
                ),
                "{what}: {html}"
            );
            for (part, body) in &parts {
                if part.ends_with(".xml") || part.ends_with(".rels") {
                    assert!(
                        !body.contains("<script") && !body.contains("<img"),
                        "{what}: {part}"
                    );
                }
            }
            // And Word reads back the text as typed.
            let rows = docx_rows(xml);
            let all: String = rows
                .iter()
                .flatten()
                .flatten()
                .map(Para::text)
                .collect::<Vec<_>>()
                .join("\n");
            assert!(all.contains(SCRIPT) && all.contains(IMG), "{what}: {all}");
        }
    }
}

/// Characters XML 1.0 does not allow anywhere in a document (C0 controls
/// other than tab, line feed and carriage return, and U+FFFE/U+FFFF).
fn not_xml(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| {
            (*c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        })
        .collect()
}

/// Control characters that transcripts and pasted definitions carry (a
/// vertical tab is Word's manual line break; U+0001 and ESC come from
/// transcription tools) must not make a Word or Excel file unreadable:
/// XML 1.0 forbids them, so the writers must drop or encode them.
#[sqlx::test]
async fn control_characters_leave_the_office_files_well_formed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Control").await;
    owner
        .participant(p, "P01", Some("Carer"), json!({"locality": "North"}))
        .await;
    let (doc, text) = owner.document(p,
        "Pasted",
        "Interviewer: Go on.\nP01: page one\u{000C}page two, a\u{000B}line, a \u{0001}bell and \u{001B}escape.\n",
    )
    .await;
    assert!(
        text.contains('\u{0001}') && text.contains('\u{001B}'),
        "{text:?}"
    );
    let theme = owner
        .code_defined(
            p,
            "Pasted theme",
            None,
            "First line\u{000B}second line\u{0002}",
        )
        .await;
    coding(
        &owner,
        p,
        doc,
        theme,
        span(&text, "a \u{0001}bell and \u{001B}escape."),
        true,
        "",
    )
    .await;
    let q = query(&[("tags", "locality")]);

    for path in ["theme-table.xlsx", "excerpts.xlsx"] {
        let xlsx = download(&owner, &format!("/projects/{p}/exports/{path}"), &q, XLSX).await;
        for (part, xml) in zip_parts(&xlsx) {
            assert_eq!(not_xml(&xml), Vec::<char>::new(), "{path}: {part}");
        }
        workbook_is_inert(xlsx, path);
    }

    let docx = download(
        &owner,
        &format!("/projects/{p}/exports/theme-table.docx"),
        &q,
        DOCX,
    )
    .await;
    for (part, xml) in zip_parts(&docx) {
        assert_eq!(
            not_xml(&xml),
            Vec::<char>::new(),
            "theme-table.docx: {part} is not well-formed XML 1.0: {:?}",
            around(&xml, "escape")
        );
    }
}

// ---- 4. quotes -------------------------------------------------------------------

/// The quotes of a theme's row in the print view.
fn html_quotes(html: &str, theme: &str) -> Vec<String> {
    let row = html
        .split("<tr class=\"depth-")
        .find(|r| r.contains(&format!(">{theme}</th>")))
        .unwrap_or_else(|| panic!("no row {theme} in {html}"));
    row.split("<p>")
        .skip(1)
        .map(|q| q.split("</p>").next().unwrap().to_owned())
        .collect()
}

/// The quotes of a theme's row in the Word table: (italic quote, tag).
fn docx_quotes(rows: &[Vec<Vec<Para>>], theme: &str) -> Vec<(String, String)> {
    let row = rows
        .iter()
        .find(|r| cell_lines(&r[0]).concat() == theme)
        .unwrap_or_else(|| panic!("no row {theme}"));
    row.last()
        .unwrap()
        .iter()
        .filter(|p| !p.runs.is_empty())
        .map(|p| {
            assert_eq!(p.runs.len(), 2, "{p:?}");
            assert!(p.runs[0].1, "the quote is in italics: {p:?}");
            assert!(!p.runs[1].1, "the tag is not: {p:?}");
            (p.runs[0].0.clone(), p.runs[1].0.clone())
        })
        .collect()
}

#[sqlx::test]
async fn starred_quotes_come_first_tagged_with_who_said_them(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;
    let exports = |q: Query| {
        let owner = &s.owner;
        async move {
            let html = String::from_utf8(
                download(
                    owner,
                    &format!("/projects/{p}/exports/theme-table.html"),
                    &q,
                    "text/html",
                )
                .await,
            )
            .unwrap();
            let docx = download(
                owner,
                &format!("/projects/{p}/exports/theme-table.docx"),
                &q,
                DOCX,
            )
            .await;
            let rows = docx_rows(&zip_parts(&docx)["word/document.xml"]);
            let xlsx = download(
                owner,
                &format!("/projects/{p}/exports/theme-table.xlsx"),
                &q,
                XLSX,
            )
            .await;
            let grid = sheet(&mut workbook(xlsx), "Theme table");
            (html, rows, grid)
        }
    };
    let first_quote = |grid: &[Vec<Data>], theme: &str| {
        let row = grid
            .iter()
            .find(|r| text_of(&r[0]) == theme)
            .unwrap_or_else(|| panic!("no row {theme}"));
        text_of(row.last().unwrap())
            .lines()
            .next()
            .unwrap_or("")
            .to_owned()
    };

    // By group, locality added to the tags.
    let (html, rows, grid) = exports(query(&[("columns", "group"), ("tags", "locality")])).await;
    let cases = [
        ("Sanctuary", SANCTUARY_QUOTE, "C07, Carer, North"),
        ("Fears over safety", STAFF_QUOTE, "S02, Staff, South"),
        // C02 has no locality: nothing added.
        ("Carer focus", CARER_QUOTE, "C02, Carer"),
    ];
    for (theme, quote, tag) in cases {
        let got = html_quotes(&html, theme);
        assert_eq!(
            got.first().map(String::as_str),
            Some(format!("<em>“{quote}”</em> ({tag})").as_str()),
            "print view, {theme}: {got:?}"
        );
        let got = docx_quotes(&rows, theme);
        assert_eq!(
            got.first(),
            Some(&(format!("“{quote}”"), format!(" ({tag})"))),
            "Word, {theme}: {got:?}"
        );
        assert_eq!(first_quote(&grid, theme), format!("“{quote}” ({tag})"));
    }
    // Every theme with codings has quotes; at most three.
    for (name, _, _) in CODES {
        let q = html_quotes(&html, name);
        assert!((1..=3).contains(&q.len()), "{name}: {q:?}");
    }

    // By group, no tags asked for: label and group only.
    let (html, rows, _) = exports(query(&[("columns", "group")])).await;
    assert_eq!(
        html_quotes(&html, "Sanctuary")[0],
        format!("<em>“{SANCTUARY_QUOTE}”</em> (C07, Carer)")
    );
    assert_eq!(docx_quotes(&rows, "Sanctuary")[0].1, " (C07, Carer)");

    // By locality: the column's attribute tags quotes by default.
    let (html, rows, _) = exports(query(&[("columns", "attr:locality")])).await;
    assert_eq!(
        html_quotes(&html, "Sanctuary")[0],
        format!("<em>“{SANCTUARY_QUOTE}”</em> (C07, Carer, North)")
    );
    assert_eq!(docx_quotes(&rows, "Sanctuary")[0].1, " (C07, Carer, North)");

    // Rolled up, the parent theme quotes its child's starred passage first.
    let (html, rows, grid) = exports(query(&[
        ("columns", "group"),
        ("rollup", "true"),
        ("tags", "locality"),
    ]))
    .await;
    let want = format!("<em>“{SANCTUARY_QUOTE}”</em> (C07, Carer, North)");
    assert_eq!(html_quotes(&html, "Inpatient frames")[0], want);
    assert_eq!(
        docx_quotes(&rows, "Inpatient frames")[0].0,
        format!("“{SANCTUARY_QUOTE}”")
    );
    assert_eq!(
        first_quote(&grid, "Inpatient frames"),
        format!("“{SANCTUARY_QUOTE}” (C07, Carer, North)")
    );
    assert_eq!(
        html_quotes(&html, "Safety")[0],
        format!("<em>“{STAFF_QUOTE}”</em> (S02, Staff, South)")
    );

    // Limited to the other coder, whose codings are not starred: quotes
    // are still chosen, all that coder's.
    let coder = s.coder.user.as_ref().unwrap().id.0.to_string();
    let (html, _, _) = exports(query(&[("columns", "group"), ("coder", &coder)])).await;
    let q = html_quotes(&html, "Carer focus");
    assert!(
        !q.is_empty() && q.iter().all(|q| !q.contains(CARER_QUOTE)),
        "{q:?}"
    );
}

/// A passage that two coders coded alike (the owner starred theirs) is one
/// illustrative quote, not the same words twice in the row.
#[sqlx::test]
async fn a_passage_coded_by_two_coders_is_quoted_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;
    let q = query(&[("columns", "group"), ("tags", "locality")]);
    let html = String::from_utf8(
        download(
            &s.owner,
            &format!("/projects/{p}/exports/theme-table.html"),
            &q,
            "text/html",
        )
        .await,
    )
    .unwrap();
    let docx = download(
        &s.owner,
        &format!("/projects/{p}/exports/theme-table.docx"),
        &q,
        DOCX,
    )
    .await;
    let rows = docx_rows(&zip_parts(&docx)["word/document.xml"]);
    let in_html = html_quotes(&html, "Sanctuary");
    let in_word = docx_quotes(&rows, "Sanctuary");
    assert_eq!(
        in_html
            .iter()
            .filter(|q| q.contains(SANCTUARY_QUOTE))
            .count(),
        1,
        "print view: {in_html:?}"
    );
    assert_eq!(
        in_word
            .iter()
            .filter(|(q, _)| q.contains(SANCTUARY_QUOTE))
            .count(),
        1,
        "Word: {in_word:?}"
    );
}

// ---- 5. who may download ------------------------------------------------------------

/// Every export: (path after the project, content type).
const EXPORTS: [(&str, &str); 7] = [
    ("exports/theme-table.xlsx", XLSX),
    ("exports/theme-table.docx", DOCX),
    ("exports/theme-table.csv", "text/csv"),
    ("exports/theme-table.html", "text/html"),
    ("exports/excerpts.csv", "text/csv"),
    ("exports/excerpts.xlsx", XLSX),
    ("exports/codebook.csv", "text/csv"),
];

/// The matrix and every export that takes its parameters.
fn paths_with_matrix_parameters() -> Vec<String> {
    let mut paths = vec!["matrix".to_owned()];
    paths.extend(
        EXPORTS
            .iter()
            .filter(|(path, _)| !path.contains("codebook"))
            .map(|(path, _)| (*path).to_owned()),
    );
    paths
}

#[sqlx::test]
async fn viewers_download_outsiders_see_nothing_bad_parameters_are_422(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;
    let viewer = app.person("viewer@example.org").await;
    let outsider = app.person("outsider@example.org").await;
    s.owner.add(p, &viewer, "viewer").await;
    let stranger_project = outsider.project("Elsewhere").await;

    let q = query(&[
        ("columns", "attr:locality"),
        ("rollup", "true"),
        ("tags", "locality"),
    ]);
    for (path, ct) in EXPORTS {
        let path = format!("/projects/{p}/{path}");
        let bytes = download(&viewer, &path, &q, ct).await;
        assert!(!bytes.is_empty(), "{path}");
        // The viewer gets what the owner gets (file names and all).
        let mine = get_with(&viewer, &path, &q).await;
        let theirs = get_with(&s.owner, &path, &q).await;
        assert_eq!(
            mine.headers().get("content-disposition"),
            theirs.headers().get("content-disposition"),
            "{path}"
        );
        // Its size is announced (a client's progress bar), and true.
        let declared = mine.content_length();
        let body = mine.bytes().await.unwrap();
        assert_eq!(declared, Some(body.len() as u64), "{path}");
        if ct.starts_with("text/") {
            assert_eq!(body, theirs.bytes().await.unwrap());
        }
        if !ct.starts_with("text/html") && !path.contains("codebook") {
            let disposition = get_with(&viewer, &path, &q).await.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .to_owned();
            assert!(
                disposition.starts_with("attachment; filename=\"Integrated-services-"),
                "{path}: {disposition}"
            );
        }

        // Outsiders: 404, for a real project and for one that does not exist.
        assert_error(get_with(&outsider, &path, &q).await, StatusCode::NOT_FOUND).await;
        let missing = path.replace(&format!("/projects/{p}/"), "/projects/999999/");
        assert_error(get_with(&viewer, &missing, &q).await, StatusCode::NOT_FOUND).await;
        assert_eq!(
            get_with(&app.anonymous(), &path, &q).await.status(),
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
        // The outsider's own (empty) project exports: the 404 is membership.
        let theirs = path.replace(
            &format!("/projects/{p}/"),
            &format!("/projects/{stranger_project}/"),
        );
        assert_eq!(
            get_with(&outsider, &theirs, &q).await.status(),
            StatusCode::OK,
            "{theirs}"
        );
    }
    assert_error(
        get_with(&outsider, &format!("/projects/{p}/matrix"), &q).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Another project's document or code in the filters reveals nothing.
    let (their_doc, _) = outsider
        .document(
            stranger_project,
            "Secret",
            "Interviewer: Hello.\nP09: The secret passage nobody else may read.\n",
        )
        .await;
    let their_code = outsider
        .code_defined(stranger_project, "Secret theme", None, "")
        .await;
    for path in &paths_with_matrix_parameters() {
        let path = format!("/projects/{p}/{path}");
        let message = assert_error(
            get_with(
                &viewer,
                &path,
                &query(&[("documents", &their_doc.to_string())]),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(message.contains("document"), "{path}: {message}");
    }
    for include in ["false", "true"] {
        let q = query(&[
            ("code_id", &their_code.to_string()),
            ("include_subcodes", include),
        ]);
        let res = get_with(&viewer, &format!("/projects/{p}/exports/excerpts.csv"), &q).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(
            status.is_client_error() || read_csv(body.as_bytes()).len() == 1,
            "{status}: {body}"
        );
        assert!(!body.contains("Secret"), "{body}");
    }

    // Bad parameters: 422 with a JSON error, for the matrix and every export
    // that takes the matrix's parameters.
    let bad: [(&str, &str); 5] = [
        ("measure", "bogus"),
        ("columns", "colour"),
        ("columns", "attr:"),
        ("rollup", "maybe"),
        ("attribute", "locality"),
    ];
    for (name, value) in bad {
        for path in &paths_with_matrix_parameters() {
            let path = format!("/projects/{p}/{path}");
            let message = assert_error(
                get_with(&viewer, &path, &query(&[(name, value)])).await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert!(message.contains(name), "{path}?{name}={value}: {message}");
        }
    }
}

// ---- 6. one row per coding -------------------------------------------------------------

#[sqlx::test]
async fn the_excerpts_export_has_one_row_per_coding(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;
    let owner = &s.owner;
    let listed = all_codings(owner, p, "").await;
    assert_eq!(listed["total"], PLAN.len());
    let by_id: BTreeMap<i64, &Value> = items(&listed).iter().map(|c| (id(c), c)).collect();
    let paths: BTreeMap<i64, String> = items(
        &expect(
            owner.get(&format!("/projects/{p}/codes")).await,
            StatusCode::OK,
        )
        .await,
    )
    .iter()
    .map(|c| (id(c), c["path"].as_str().unwrap().to_owned()))
    .collect();

    let csv = read_csv(
        &download(
            owner,
            &format!("/projects/{p}/exports/excerpts.csv"),
            &Query::new(),
            "text/csv",
        )
        .await,
    );
    let mut head: Vec<String> = EXCERPT_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
    head.push("locality".into());
    assert_eq!(csv[0], head);
    assert_eq!(csv.len() - 1, PLAN.len());
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let mut seen = BTreeSet::new();
    for row in &csv[1..] {
        let cid: i64 = row[col("coding_id")].parse().unwrap();
        assert!(seen.insert(cid), "coding {cid} twice");
        let c = by_id[&cid];
        assert_eq!(row[col("text")], c["text"].as_str().unwrap());
        assert_eq!(row[col("document_id")], c["document_id"].to_string());
        assert_eq!(row[col("document")], c["document_title"].as_str().unwrap());
        assert_eq!(row[col("start")], c["start"].to_string());
        assert_eq!(row[col("end")], c["end"].to_string());
        assert_eq!(row[col("memo")], c["memo"].as_str().unwrap());
        assert_eq!(row[col("starred")], c["starred"].to_string());
        assert_eq!(
            row[col("code_path")],
            paths[&c["code_id"].as_i64().unwrap()]
        );
        assert_eq!(row[col("coder")], c["coder_name"].as_str().unwrap());
    }
    assert_eq!(seen, s.codings.iter().copied().collect());

    // Who said it, for a few known codings.
    let row_of = |i: usize| {
        csv[1..]
            .iter()
            .find(|r| r[col("coding_id")] == s.codings[i].to_string())
            .unwrap()
    };
    let who = |i: usize| {
        let r = row_of(i);
        [
            r[col("text")].as_str(),
            r[col("speaker")].as_str(),
            r[col("participant")].as_str(),
            r[col("group")].as_str(),
            r[col("locality")].as_str(),
            r[col("memo")].as_str(),
            r[col("starred")].as_str(),
        ]
    };
    assert_eq!(
        who(0),
        [SANCTUARY_QUOTE, "C07", "C07", "Carer", "North", "", "true"]
    );
    assert_eq!(
        who(8),
        [
            "No privacy at all, curtains do not stop sound.",
            "U02",
            "U02",
            "Service user",
            "South",
            MEMO,
            "false"
        ]
    );
    // Two speakers of two groups, one without a locality.
    let r = row_of(9);
    assert_eq!(r[col("participant")], "U02; C02");
    assert_eq!(r[col("group")], "Service user; Carer");
    assert_eq!(r[col("locality")], "South");
    // The interviewer alone, and an unmapped speaker.
    let r = row_of(12);
    assert_eq!(r[col("text")], "Did you feel safe at night?");
    assert_eq!(r[col("participant")], "");
    let r = row_of(13);
    assert_eq!(r[col("speaker")], "Visitor");
    assert_eq!(r[col("participant")], "");

    // The workbook has the same rows.
    let mut wb = workbook(
        download(
            owner,
            &format!("/projects/{p}/exports/excerpts.xlsx"),
            &Query::new(),
            XLSX,
        )
        .await,
    );
    assert_eq!(wb.sheet_names(), ["Excerpts"]);
    let grid = sheet(&mut wb, "Excerpts");
    let got_head: Vec<String> = grid[0].iter().map(text_of).collect();
    assert_eq!(got_head, head);
    assert_eq!(grid.len(), csv.len());
    for row in &grid[1..] {
        let cid = number_of(&row[col("coding_id")], "coding_id").unwrap() as i64;
        let c = by_id[&cid];
        assert_eq!(text_of(&row[col("text")]), c["text"].as_str().unwrap());
        for (name, field) in [
            ("document_id", "document_id"),
            ("start", "start"),
            ("end", "end"),
        ] {
            assert_eq!(
                number_of(&row[col(name)], name),
                c[field].as_f64(),
                "{name}"
            );
        }
        assert_eq!(
            row[col("starred")],
            Data::Bool(c["starred"].as_bool().unwrap())
        );
    }

    // Narrowed to a code, its branch, a coder, documents, an attribute:
    // the same codings as the list.
    let frames = s.codes["Inpatient frames"];
    let safety = s.codes["Safety"];
    let coder = s.coder.user.as_ref().unwrap().id.0;
    let c07 = s.docs["Interview C07"].0;
    let cases: Vec<(Query, String)> = vec![
        (
            query(&[("code_id", &frames.to_string())]),
            format!("&code_id={frames}"),
        ),
        (
            query(&[
                ("code_id", &frames.to_string()),
                ("include_subcodes", "true"),
            ]),
            format!("&code_id={frames}&include_subcodes=true"),
        ),
        (
            query(&[
                ("code_id", &safety.to_string()),
                ("include_subcodes", "true"),
            ]),
            format!("&code_id={safety}&include_subcodes=true"),
        ),
        (
            query(&[("coder", &coder.to_string())]),
            format!("&coder={coder}"),
        ),
        (
            query(&[("attribute", "locality=North")]),
            "&attribute=locality%3DNorth".to_owned(),
        ),
        (
            query(&[("documents", &c07.to_string())]),
            format!("&document_id={c07}"),
        ),
    ];
    for (q, filter) in cases {
        let want: BTreeSet<i64> = items(&all_codings(owner, p, &filter).await)
            .iter()
            .map(id)
            .collect();
        assert!(!want.is_empty(), "{filter}");
        let csv = read_csv(
            &download(
                owner,
                &format!("/projects/{p}/exports/excerpts.csv"),
                &q,
                "text/csv",
            )
            .await,
        );
        let got: Vec<i64> = csv[1..]
            .iter()
            .map(|r| r[col("coding_id")].parse().unwrap())
            .collect();
        assert_eq!(got.len(), want.len(), "{q:?}: {got:?} vs {want:?}");
        assert_eq!(got.iter().copied().collect::<BTreeSet<_>>(), want, "{q:?}");
        let mut wb = workbook(
            download(
                owner,
                &format!("/projects/{p}/exports/excerpts.xlsx"),
                &q,
                XLSX,
            )
            .await,
        );
        assert_eq!(sheet(&mut wb, "Excerpts").len(), want.len() + 1, "{q:?}");
    }
    // The theme-table workbook's Excerpts sheet follows the same filters.
    let mut wb = workbook(
        download(
            owner,
            &format!("/projects/{p}/exports/theme-table.xlsx"),
            &query(&[("coder", &coder.to_string())]),
            XLSX,
        )
        .await,
    );
    let want = items(&all_codings(owner, p, &format!("&coder={coder}")).await).len();
    assert_eq!(sheet(&mut wb, "Excerpts").len(), want + 1);
}

#[sqlx::test]
async fn text_answers_are_compressed_and_zip_files_are_not_compressed_again(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;
    // Numbers that do not repeat: the gzipped answer spans several of the
    // compressor's 4 KiB frames.
    let text = "Interviewer: How was it?\nP01: ".to_owned()
        + &(0..6000u64)
            .map(|i| format!("{} ", i * 7919 % 100_003))
            .collect::<String>();
    let res = ann
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "One", "text": text}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // This test's client is on the server's machine: it says it comes
    // through a proxy, as a remote client's request does.
    let encoding = |path: String| {
        let req = ann
            .client
            .get(format!("{}{path}", ann.base))
            .bearer_auth(ann.token.as_deref().unwrap())
            .header("x-forwarded-for", "203.0.113.7")
            .header("accept-encoding", "gzip");
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            res.headers()
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned())
        }
    };
    // A transcript is compressed; an answer under a kilobyte is not worth it.
    assert_eq!(
        encoding(format!("/projects/{p}/documents/{doc}"))
            .await
            .as_deref(),
        Some("gzip")
    );
    assert_eq!(encoding(format!("/projects/{p}")).await, None);
    // A client on the server's own machine, not forwarded by a proxy, is
    // answered uncompressed: there the bytes cost less than compressing.
    let local = ann
        .client
        .get(format!("{}/projects/{p}/documents/{doc}", ann.base))
        .bearer_auth(ann.token.as_deref().unwrap())
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(local.status(), StatusCode::OK);
    assert_eq!(local.headers().get("content-encoding"), None);
    // Compressed, it is the same answer, byte for byte (its 4 KiB frames
    // are sent joined).
    let body = |encoding: &'static str| {
        let req = ann
            .client
            .get(format!("{}/projects/{p}/documents/{doc}", ann.base))
            .bearer_auth(ann.token.as_deref().unwrap())
            .header("x-forwarded-for", "203.0.113.7")
            .header("accept-encoding", encoding);
        async move { req.send().await.unwrap().bytes().await.unwrap() }
    };
    let plain = body("identity").await;
    let gzipped = body("gzip").await;
    assert!(
        gzipped.len() > 3 * 4096 && gzipped.len() < plain.len(),
        "{} of {}",
        gzipped.len(),
        plain.len()
    );
    let mut inflated = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gzipped[..]),
        &mut inflated,
    )
    .unwrap();
    assert_eq!(inflated, plain);
    for zipped in [
        "theme-table.xlsx",
        "excerpts.xlsx",
        "theme-table.docx",
        "project.qdpx",
    ] {
        assert_eq!(
            encoding(format!("/projects/{p}/exports/{zipped}")).await,
            None,
            "{zipped} is a zip archive already"
        );
    }
}

#[sqlx::test]
async fn workbooks_explain_themselves_and_files_say_what_is_inside(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Ward study").await;
    let (doc, text) = ann
        .document(p, "Interview", "P01: The café was a sanctuary for me.")
        .await;
    let code = ann.code(p, "Sanctuary", None).await;
    ann.coding(p, doc, code, 5, text.chars().count() as i64)
        .await;
    let me = id(&expect(ann.get("/me").await, StatusCode::OK).await);
    let res = ann
        .get(&format!(
            "/projects/{p}/exports/theme-table.xlsx?columns=group&coder={me}"
        ))
        .await;
    let name = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    assert!(
        name.contains(&format!(
            "Ward-study-theme-table-by-stakeholder-group-{today}.xlsx"
        )),
        "{name}"
    );
    let bytes = res.bytes().await.unwrap().to_vec();
    let mut wb = workbook(bytes.clone());
    let about = wb.worksheet_range("Filters").unwrap();
    let rows: Vec<(String, String)> = about
        .rows()
        .map(|r| (r[0].to_string(), r[1].to_string()))
        .collect();
    let get = |k: &str| {
        rows.iter()
            .find(|(a, _)| a == k)
            .map(|(_, b)| b.clone())
            .unwrap()
    };
    assert!(get("Filters").contains("codings by ann"), "{rows:?}");
    assert!(get("Roll-up").contains("each code by itself"));
    assert!(get("Measures").contains("percentage points"));
    // Every table has an autofilter.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut filtered = 0;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        if f.name().unwrap().starts_with("xl/worksheets/sheet") {
            let mut xml = String::new();
            std::io::Read::read_to_string(&mut f, &mut xml).unwrap();
            filtered += usize::from(xml.contains("<autoFilter"));
        }
    }
    assert!(
        filtered >= 7,
        "theme table, five matrices, excerpts: {filtered}"
    );
    // CSV with a byte-order mark, for Excel on Windows.
    for path in [
        format!("/projects/{p}/exports/excerpts.csv?bom=true"),
        format!("/projects/{p}/exports/theme-table.csv?bom=true"),
        format!("/projects/{p}/exports/codebook.csv?bom=true"),
    ] {
        let body = ann.get(&path).await.bytes().await.unwrap();
        assert!(body.starts_with("\u{feff}".as_bytes()), "{path}");
    }
    let plain = ann
        .get(&format!("/projects/{p}/exports/excerpts.csv"))
        .await
        .bytes()
        .await
        .unwrap();
    assert!(plain.starts_with(b"code_path"));
}

#[sqlx::test]
async fn a_code_report_groups_every_excerpt_of_a_branch_by_group(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Ward study").await;
    ann.participant(p, "C01", Some("Carer"), json!({"locality": "North"}))
        .await;
    ann.participant(p, "U01", Some("Service user"), json!({"locality": "South"}))
        .await;
    let access = ann
        .code_defined(p, "Access", None, "Getting help when it is needed.")
        .await;
    let waiting = ann.code(p, "Waiting", Some(access)).await;
    let (doc, text) = ann
        .document(
            p,
            "Focus group",
            "C01: We waited fourteen weeks.\nU01: The duty line never answered.",
        )
        .await;
    let span = |needle: &str| {
        let b = text.find(needle).unwrap();
        let s = text[..b].chars().count() as i64;
        (s, s + needle.chars().count() as i64)
    };
    let (s1, e1) = span("We waited fourteen weeks.");
    let (s2, e2) = span("The duty line never answered.");
    ann.coding(p, doc, waiting, s1, e1).await;
    ann.coding(p, doc, access, s2, e2).await;
    let res = ann
        .get(&format!(
            "/projects/{p}/exports/code-report.docx?code_id={access}&include_subcodes=true"
        ))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    assert!(
        xml.contains("Getting help when it is needed."),
        "the definition"
    );
    assert!(xml.contains("Carer (1)") && xml.contains("Service user (1)"));
    assert!(xml.contains("We waited fourteen weeks.") && xml.contains("turn 1"));
    // Without sub-codes, only the theme's own excerpt; by locality.
    let web = app.signed_in(ann.email()).await;
    let html = app
        .page_text(
            &web,
            &format!("/projects/{p}/codes/{access}/report?by=attr:locality"),
        )
        .await;
    assert!(html.contains("The duty line never answered."));
    assert!(!html.contains("We waited fourteen weeks."));
    assert!(html.contains("South"));
    assert_error(
        ann.get(&format!(
            "/projects/{p}/exports/code-report.docx?code_id={access}&by=locality"
        ))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_error(
        ann.get(&format!(
            "/projects/{p}/exports/code-report.docx?code_id=999999"
        ))
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[sqlx::test]
async fn memos_export_as_word_and_render_as_safe_markdown(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Ward study").await;
    let (doc, _) = ann
        .document(p, "Interview", "P01: The café was calm.")
        .await;
    let res = ann
        .put(
            &format!("/projects/{p}/documents/{doc}/memo"),
            json!({"memo": "**Check** <b>this</b>\nsecond line"}),
        )
        .await;
    assert!(res.status().is_success());
    let code = ann.code(p, "Calm", None).await;
    let coding = ann.coding(p, doc, code, 5, 22).await;
    ann.patch(
        &format!("/projects/{p}/codings/{}", id(&coding)),
        json!({"memo": "A telling phrase"}),
    )
    .await;
    let res = ann.get(&format!("/projects/{p}/exports/memos.docx")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(res.bytes().await.unwrap().to_vec())).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    // Markdown becomes Word styles; HTML in a memo stays text.
    assert!(!xml.contains("**Check**"), "the marks are read");
    let check = xml.find(">Check<").expect("the bold word");
    let run_start = xml[..check].rfind("<w:r>").unwrap();
    assert!(
        xml[run_start..check].contains("<w:b />") || xml[run_start..check].contains("<w:b/>"),
        "Check is bold"
    );
    assert!(
        xml.contains("&lt;b&gt;") && xml.contains("&lt;/b&gt;") && !xml.contains("<b>"),
        "never markup"
    );
    assert!(xml.contains("second line"));
    assert!(xml.contains("A telling phrase") && xml.contains("“The café was calm”"));
    // The memos page renders the same memo safely.
    let browser = app.signed_in("ann@example.org").await;
    let page = app
        .page_text(&browser, &format!("/projects/{p}/memos"))
        .await;
    assert!(page.contains("<strong>Check</strong>"), "{page}");
    assert!(page.contains("&lt;b&gt;this&lt;/b&gt;<br />"), "{page}");
    assert!(!page.contains("<b>this</b>"));
}

#[sqlx::test]
async fn exports_and_a_documents_list_resolve_speakers_as_the_excerpt_list_does(pool: PgPool) {
    use parley::store::codings::{Filter, for_each, speaker_map};
    use std::ops::ControlFlow;
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Speakers").await;
    ann.participant(p, "P1", Some("Staff"), json!({"locality": "North"}))
        .await;
    ann.participant(p, "P2", Some("Carer"), json!({})).await;
    let theme = ann.code(p, "Waiting", None).await;
    // A heading outside any turn, an interviewer, two participants and a
    // speaker mapped to no one.
    let text = "Focus group 3\nInterviewer: how long?\nP1: we waited\nX1: so did we\nP2: months\n";
    let (d, text) = ann.document(p, "Group", text).await;
    let chars = |s: &str| text[..text.find(s).unwrap()].chars().count() as i64;
    let end = text.chars().count() as i64;
    for (start, stop) in [
        (0, end),                               // everyone, and the heading
        (0, 5),                                 // the heading alone
        (chars("how"), chars("how") + 4),       // the interviewer alone
        (chars("we waited"), chars("P2:") + 9), // P1, X1 and P2
        (chars("so did"), chars("so did") + 6), // X1 alone
        (chars("how"), chars("we waited") + 2), // the interviewer and P1
    ] {
        ann.coding(p, d, theme, start, stop).await;
    }
    // A transcript with times, for each coding's turn and time.
    let (timed, _) = ann
        .document(
            p,
            "Timed",
            "[00:00:05] P1: it was slow\n[00:01:10] P2: and cold\n",
        )
        .await;
    for (start, stop) in [(15, 23), (30, 45), (0, 3)] {
        ann.coding(p, timed, theme, start, stop).await;
    }
    type Kept = parley::store::codings::Texts;
    let collect =
        |map: Option<parley::store::codings::SpeakerMap>, texts: Option<Kept>, filter: Filter| {
            let db = app.db.clone();
            async move {
                let mut out = Vec::new();
                for_each(
                    &db,
                    p,
                    &filter,
                    parley::store::codings::AtHand {
                        speakers: map.as_ref(),
                        texts: texts.as_ref(),
                    },
                    i64::MAX,
                    0,
                    |c, _| {
                        out.push(serde_json::to_value(&c).unwrap());
                        ControlFlow::Continue(())
                    },
                )
                .await
                .unwrap();
                out
            }
        };
    let in_sql = collect(None, None, Filter::default()).await;
    let resolved = collect(
        Some(speaker_map(&app.db, p, None).await.unwrap()),
        None,
        Filter::default(),
    )
    .await;
    assert_eq!(in_sql.len(), 9);
    assert_eq!(in_sql, resolved);
    // Texts and turns at hand (as exports have them) give the same
    // excerpts, turns and times.
    let texts = parley::service::texts::Texts::default();
    let at_hand = texts.all(&app.db, p, None).await.unwrap().unwrap();
    assert_eq!(at_hand.len(), 2);
    let from_kept = collect(
        Some(speaker_map(&app.db, p, None).await.unwrap()),
        Some(at_hand),
        Filter::default(),
    )
    .await;
    assert_eq!(from_kept, in_sql);
    assert!(
        in_sql.iter().any(|c| c["time_ms"].as_i64() == Some(70_000)),
        "{in_sql:?}"
    );
    // A document's own list (a query of its own, with the document's
    // speaker map) resolves them the same way too.
    let document = Filter {
        documents: Some(vec![parley::domain::ids::DocumentId(d)]),
        ..Filter::default()
    };
    let of_document: Vec<Value> = in_sql
        .iter()
        .filter(|c| c["document_id"] == json!(d))
        .cloned()
        .collect();
    assert_eq!(collect(None, None, document).await, of_document);
    // The cases are really there: an unlabelled part, an interviewer left
    // out, an unmapped speaker, a participant with attributes.
    let speakers: Vec<&Value> = in_sql
        .iter()
        .flat_map(|c| c["speakers"].as_array().unwrap())
        .collect();
    assert!(speakers.iter().any(|s| s["label"].is_null()));
    assert!(speakers.iter().all(|s| s["label"] != "Interviewer"));
    assert!(
        speakers
            .iter()
            .any(|s| s["label"] == "X1" && s["participant"].is_null())
    );
    assert!(
        speakers
            .iter()
            .any(|s| s["attributes"]["locality"] == "North")
    );
}
