//! REFI-QDA exchange: projects (`.qdpx`: a zip with `project.qde` and
//! `sources/`) and codebooks (`.qdc`). `read` turns files written by
//! NVivo, ATLAS.ti, MAXQDA, QualCoder, qc, Taguette … into the plain
//! [`Exchange`] model below, leniently and safely; `positions` maps their
//! selections onto Parley's normalised text; `write` produces
//! schema-valid files from the same model. Pure: no database, no HTTP.
//! Each vendor has its habits (positions in UTF-16 units, CRLF counted as
//! one, flattened code names …); the readers and tests cover those seen.

pub mod positions;
pub mod read;
pub mod write;

/// A person who made or changed something.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    /// Normalised GUID (see [`guid`]).
    pub guid: String,
    pub name: Option<String>,
}

/// A code, with its sub-codes nested as in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Code {
    pub guid: String,
    pub name: String,
    /// As written (`#RRGGBB`, `#RGB`, `#RRGGBBAA`, `rgb(…)` …); parse
    /// leniently.
    pub color: Option<String>,
    pub description: String,
    /// `isCodable="false"`: a folder or category.
    pub codable: bool,
    /// GUIDs of Notes attached to the code.
    pub notes: Vec<String>,
    pub children: Vec<Code>,
}

/// A variable (attribute) definition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variable {
    pub guid: String,
    pub name: String,
    /// Text, Boolean, Integer, Float, Date or DateTime.
    pub kind: String,
}

/// A value of a variable, as text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Value {
    pub variable: String,
    pub value: String,
}

/// A case: in Parley, a participant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    pub guid: String,
    pub name: Option<String>,
    pub description: String,
    pub values: Vec<Value>,
    /// GUIDs of whole sources that belong to the case.
    pub sources: Vec<String>,
    /// GUIDs of selections that belong to the case.
    pub selections: Vec<String>,
}

/// One code applied to a selection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coding {
    pub guid: String,
    /// The code's GUID.
    pub code: String,
    /// The creating user's GUID.
    pub user: Option<String>,
    /// `xsd:dateTime` as written.
    pub created: Option<String>,
    pub notes: Vec<String>,
}

/// A range of a text source, in the file's own unit (see `positions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub guid: String,
    /// Often the selected text (QualCoder, ATLAS.ti "Quotation 6:1" …).
    pub name: Option<String>,
    pub start: i64,
    pub end: i64,
    pub user: Option<String>,
    pub created: Option<String>,
    pub description: String,
    pub codings: Vec<Coding>,
    pub notes: Vec<String>,
}

/// A text source with its plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextSource {
    pub guid: String,
    pub name: String,
    /// The plain text as stored in the file, UTF-8 decoded, BOM removed,
    /// line endings untouched (positions count them as written). `None`
    /// when the file named by `plainTextPath` is missing.
    pub text: Option<String>,
    /// Where the text was meant to come from (`internal://…`), for reports.
    pub path: Option<String>,
    pub description: String,
    pub selections: Vec<Selection>,
    pub values: Vec<Value>,
    pub notes: Vec<String>,
}

/// A source Parley cannot import (PDF regions, pictures, audio, video …),
/// listed in the import report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtherSource {
    /// PDFSource, PictureSource, AudioSource, VideoSource …
    pub kind: String,
    pub name: String,
    /// Selections (and codings) in it that are therefore not imported.
    pub selections: usize,
    pub codings: usize,
}

/// A memo.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Note {
    pub guid: String,
    pub name: Option<String>,
    pub text: String,
    pub user: Option<String>,
    pub created: Option<String>,
}

/// A set (document group, code group).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Set {
    pub guid: String,
    pub name: String,
    pub description: String,
    pub sources: Vec<String>,
    pub codes: Vec<String>,
    pub notes: Vec<String>,
}

/// Everything Parley reads from (or writes to) an exchange file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exchange {
    pub name: String,
    /// The producing tool, e.g. "NVivo 12.6", "MAXQDA 24", "ATLAS.ti".
    pub origin: Option<String>,
    pub users: Vec<User>,
    pub codes: Vec<Code>,
    pub variables: Vec<Variable>,
    pub cases: Vec<Case>,
    pub sources: Vec<TextSource>,
    pub other_sources: Vec<OtherSource>,
    pub notes: Vec<Note>,
    pub sets: Vec<Set>,
    /// GUIDs of notes attached to the project itself.
    pub project_notes: Vec<String>,
    pub description: String,
    /// What was read but is not kept (links, graphs, unknown elements …),
    /// one line each, for the import report.
    pub skipped: Vec<String>,
}

/// GUIDs compare case-insensitively and may be wrapped in `{}`: this is
/// the one form they are kept in (lower case, no braces, trimmed).
pub fn guid(raw: &str) -> String {
    raw.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .to_ascii_lowercase()
}

/// How many levels a code tree has (no codes: 0), walked without recursion.
pub fn code_levels(codes: &[Code]) -> usize {
    let mut deepest = 0;
    let mut stack: Vec<(&Code, usize)> = codes.iter().map(|c| (c, 1)).collect();
    while let Some((c, level)) = stack.pop() {
        deepest = deepest.max(level);
        stack.extend(c.children.iter().map(|k| (k, level + 1)));
    }
    deepest
}
