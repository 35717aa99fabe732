//! What `/api/v1` answers: the API's own response types, one per resource.
//!
//! Scripts in R and Python read these keys by name, so they are a contract:
//! the store and the use cases may rename and reshape their structs, and
//! only the conversions here change. Each conversion takes its source apart
//! field by field (no `..`), so a field added to a store struct does not
//! compile until someone decides whether the API shows it. Domain values
//! (ids, [`Colour`], [`Role`], [`DocumentKind`], [`SpeakerRole`],
//! [`Measure`], [`Attributes`]) serialise as they are.
//!
//! `tests/api/contract.rs` pins the JSON shape of each type.

use crate::domain::code::Colour;
use crate::domain::document::DocumentKind;
use crate::domain::ids::{CodeId, CodingId, DocumentId, GroupId, ParticipantId, ProjectId, UserId};
use crate::domain::matrix::Measure;
use crate::domain::participant::Attributes;
use crate::domain::project::Role;
use crate::domain::speakers::SpeakerRole;
use crate::service;
use crate::service::analysis::matrix::MatrixRequest;
use crate::store;
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

// ---- people and projects ----------------------------------------------------

/// `GET /me`: who the token or session belongs to.
#[derive(Debug, Serialize)]
pub struct Me {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
}

impl From<store::users::User> for Me {
    fn from(u: store::users::User) -> Self {
        let store::users::User {
            id,
            email,
            name,
            is_admin,
        } = u;
        Me {
            id,
            email,
            name,
            is_admin,
        }
    }
}

/// A project's own fields: what a change of name or description answers.
#[derive(Debug, Serialize)]
pub struct ProjectFields {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<store::projects::Project> for ProjectFields {
    fn from(p: store::projects::Project) -> Self {
        let store::projects::Project {
            id,
            name,
            description,
            created_at,
            updated_at,
        } = p;
        ProjectFields {
            id,
            name,
            description,
            created_at,
            updated_at,
        }
    }
}

/// A project as the caller sees it: its fields, the caller's role and how
/// many members it has.
#[derive(Debug, Serialize)]
pub struct Project {
    #[serde(flatten)]
    pub fields: ProjectFields,
    pub role: Role,
    pub members: i64,
    /// Blind coding: coders and viewers see only their own codings.
    pub blind: bool,
}

impl From<store::projects::MemberProject> for Project {
    fn from(p: store::projects::MemberProject) -> Self {
        let store::projects::MemberProject {
            project,
            role,
            members,
            settings,
        } = p;
        Project {
            fields: project.into(),
            role,
            members,
            blind: settings.blind,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

impl From<store::members::Member> for Member {
    fn from(m: store::members::Member) -> Self {
        let store::members::Member {
            user_id,
            email,
            name,
            role,
            added_at,
        } = m;
        Member {
            user_id,
            email,
            name,
            role,
            added_at,
        }
    }
}

// ---- groups and participants ------------------------------------------------

#[derive(Debug, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub position: i32,
    /// Participants in the group.
    pub participants: i64,
}

impl From<store::groups::Group> for Group {
    fn from(g: store::groups::Group) -> Self {
        let store::groups::Group {
            id,
            name,
            position,
            participants,
        } = g;
        Group {
            id,
            name,
            position,
            participants,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Participant {
    pub id: ParticipantId,
    pub label: String,
    /// The group's name.
    pub group: Option<String>,
    pub group_id: Option<GroupId>,
    pub attributes: Attributes,
    /// Documents in which one of this participant's speakers talks.
    pub documents: i64,
}

impl From<store::participants::Participant> for Participant {
    fn from(p: store::participants::Participant) -> Self {
        let store::participants::Participant {
            id,
            label,
            group,
            group_id,
            attributes,
            documents,
        } = p;
        Participant {
            id,
            label,
            group,
            group_id,
            attributes,
            documents,
        }
    }
}

/// One row of a participants CSV, checked.
#[derive(Debug, Serialize)]
pub struct ParticipantRow {
    pub line: usize,
    pub label: String,
    pub group: String,
    pub attributes: Attributes,
    /// Why this row cannot be imported, if it cannot.
    pub error: Option<String>,
}

impl From<service::participants::CsvCheck> for ParticipantRow {
    fn from(r: service::participants::CsvCheck) -> Self {
        let service::participants::CsvCheck {
            line,
            label,
            group,
            attributes,
            error,
            parsed: _,
        } = r;
        ParticipantRow {
            line,
            label,
            group,
            attributes,
            error,
        }
    }
}

/// What a participants import did (or, with `dry_run`, would do).
#[derive(Debug, Serialize)]
pub struct ParticipantImport {
    pub imported: usize,
    pub dry_run: bool,
    pub rows: Vec<ParticipantRow>,
}

/// A participants import refused because of the rows' errors.
#[derive(Debug, Serialize)]
pub struct ParticipantImportRefused {
    pub error: String,
    /// Each row's keys in alphabetical order, unlike [`ParticipantImport`]'s:
    /// this answer has always been written through a `serde_json::Value`.
    #[serde(serialize_with = "keys_sorted")]
    pub rows: Vec<ParticipantRow>,
}

/// `value` with every object's keys in alphabetical order.
fn keys_sorted<T: Serialize, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serde_json::to_value(value)
        .map_err(serde::ser::Error::custom)?
        .serialize(serializer)
}

// ---- documents --------------------------------------------------------------

/// A document without its text: what the list shows and a change answers.
#[derive(Debug, Serialize)]
pub struct Document {
    pub id: DocumentId,
    pub title: String,
    pub kind: DocumentKind,
    pub held_on: Option<Date>,
    pub attributes: Attributes,
    pub original_filename: Option<String>,
    pub source_format: String,
    /// Length of the text in code points.
    pub length: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub turn_count: i64,
    pub speaker_count: i64,
    /// Speakers mapped to neither a participant nor the interviewer.
    pub unassigned_speakers: i64,
}

impl From<store::documents::DocumentSummary> for Document {
    fn from(d: store::documents::DocumentSummary) -> Self {
        let store::documents::DocumentSummary {
            id,
            title,
            kind,
            held_on,
            attributes,
            original_filename,
            source_format,
            length,
            created_at,
            turn_count,
            speaker_count,
            unassigned_speakers,
        } = d;
        Document {
            id,
            title,
            kind,
            held_on,
            attributes,
            original_filename,
            source_format,
            length,
            created_at,
            turn_count,
            speaker_count,
            unassigned_speakers,
        }
    }
}

/// A document with its text, turns and speakers.
#[derive(Debug, Serialize)]
pub struct DocumentDetail {
    #[serde(flatten)]
    pub document: Document,
    pub text: String,
    pub turns: Vec<Turn>,
    pub speakers: Vec<Speaker>,
    /// With `?include=codings`: its codings, as the coding page draws them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codings: Option<Vec<Mark>>,
}

impl From<service::documents::DocumentDetail> for DocumentDetail {
    fn from(d: service::documents::DocumentDetail) -> Self {
        let service::documents::DocumentDetail {
            summary,
            text,
            turns,
            speakers,
        } = d;
        DocumentDetail {
            document: summary.into(),
            text,
            turns: turns.into_iter().map(Turn::from).collect(),
            speakers: speakers.into_iter().map(Speaker::from).collect(),
            codings: None,
        }
    }
}

/// A turn: positions in code points, `time` as `hh:mm:ss` (and `time_ms`)
/// when the transcript has times.
#[derive(Debug, Serialize)]
pub struct Turn {
    pub speaker: Option<String>,
    pub start: usize,
    pub end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
}

impl From<service::documents::TurnView> for Turn {
    fn from(t: service::documents::TurnView) -> Self {
        let service::documents::TurnView {
            speaker,
            start,
            end,
            time,
            time_ms,
        } = t;
        Turn {
            speaker,
            start,
            end,
            time,
            time_ms,
        }
    }
}

/// A speaker label of one document and whom it is mapped to.
#[derive(Debug, Serialize)]
pub struct Speaker {
    pub label: String,
    pub participant_id: Option<ParticipantId>,
    pub role: SpeakerRole,
    pub participant: Option<String>,
    pub group: Option<String>,
    pub group_id: Option<GroupId>,
    pub turns: i64,
}

impl From<store::documents::Speaker> for Speaker {
    fn from(s: store::documents::Speaker) -> Self {
        let store::documents::Speaker {
            label,
            participant_id,
            role,
            participant,
            group,
            group_id,
            turns,
        } = s;
        Speaker {
            label,
            participant_id,
            role,
            participant,
            group,
            group_id,
            turns,
        }
    }
}

/// What a multipart upload made, and the files it refused; `error` (the
/// first refusal) only when it made nothing.
#[derive(Debug, Serialize)]
pub struct UploadReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub documents: Vec<DocumentDetail>,
    pub errors: Vec<FileError>,
}

/// A file that was not imported, and why.
#[derive(Debug, Serialize)]
pub struct FileError {
    pub file: String,
    /// The HTTP status the file alone would have had.
    pub status: u16,
    pub error: String,
}

impl From<service::documents::FileError> for FileError {
    fn from(e: service::documents::FileError) -> Self {
        let service::documents::FileError {
            file,
            status_code,
            error,
        } = e;
        FileError {
            file,
            status: status_code,
            error,
        }
    }
}

// ---- codes ------------------------------------------------------------------

/// A live code of the codebook tree.
#[derive(Debug, Serialize)]
pub struct Code {
    pub id: CodeId,
    pub parent_id: Option<CodeId>,
    pub name: String,
    /// `Parent / Child`, from the top of the tree.
    pub path: String,
    /// 0 for a top-level code.
    pub depth: i32,
    pub colour: Colour,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub shortcut: Option<String>,
    pub position: i32,
    pub memo: String,
    pub version: i32,
    /// Codings of this code alone (not of its sub-codes).
    pub codings: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<store::codes::Code> for Code {
    fn from(c: store::codes::Code) -> Self {
        let store::codes::Code {
            id,
            parent_id,
            name,
            path,
            depth,
            colour,
            definition,
            inclusion,
            exclusion,
            example,
            shortcut,
            position,
            memo,
            version,
            codings,
            updated_at,
        } = c;
        Code {
            id,
            parent_id,
            name,
            path,
            depth,
            colour,
            definition,
            inclusion,
            exclusion,
            example,
            shortcut,
            position,
            memo,
            version,
            codings,
            updated_at,
        }
    }
}

/// How much a delete took (or emptying the trash destroyed).
#[derive(Debug, Serialize)]
pub struct Footprint {
    /// The code and its sub-codes.
    pub codes: i64,
    pub codings: i64,
}

impl From<store::codes::Footprint> for Footprint {
    fn from(f: store::codes::Footprint) -> Self {
        let store::codes::Footprint { codes, codings } = f;
        Footprint { codes, codings }
    }
}

/// A code in the trash, with what went with it.
#[derive(Debug, Serialize)]
pub struct Trashed {
    pub id: CodeId,
    pub name: String,
    pub colour: Colour,
    /// Where it was: the parent's path, if it had one.
    pub parent_path: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub deleted_at: OffsetDateTime,
    pub deleted_by: Option<String>,
    pub codes: i64,
    pub codings: i64,
}

impl From<store::codes::Trashed> for Trashed {
    fn from(t: store::codes::Trashed) -> Self {
        let store::codes::Trashed {
            id,
            name,
            colour,
            parent_path,
            deleted_at,
            deleted_by,
            codes,
            codings,
        } = t;
        Trashed {
            id,
            name,
            colour,
            parent_path,
            deleted_at,
            deleted_by,
            codes,
            codings,
        }
    }
}

/// What a restore brought back.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub id: CodeId,
    /// The name it came back under (changed when a live sibling took it).
    pub name: String,
    pub codes: i64,
    pub codings: i64,
    /// Its parent is gone or in the trash, so it is back at the top level.
    pub moved_to_top: bool,
    /// Shortcut keys dropped because live codes use them now.
    pub shortcuts_dropped: i64,
}

impl From<store::codes::Restored> for Restored {
    fn from(r: store::codes::Restored) -> Self {
        let store::codes::Restored {
            id,
            name,
            codes,
            codings,
            moved_to_top,
            shortcuts_dropped,
        } = r;
        Restored {
            id,
            name,
            codes,
            codings,
            moved_to_top,
            shortcuts_dropped,
        }
    }
}

/// What a codebook import did.
#[derive(Debug, Serialize)]
pub struct CodebookImport {
    pub created: usize,
    pub updated: usize,
}

impl From<store::codes::ImportOutcome> for CodebookImport {
    fn from(o: store::codes::ImportOutcome) -> Self {
        let store::codes::ImportOutcome { created, updated } = o;
        CodebookImport { created, updated }
    }
}

// ---- codings ----------------------------------------------------------------

/// A coding with what a script needs to use it alone: the covered text,
/// the code, the document, and who said it.
#[derive(Debug, Serialize)]
pub struct Coding {
    pub id: CodingId,
    pub code_id: CodeId,
    pub document_id: DocumentId,
    /// The coder's user id.
    pub coder: UserId,
    pub coder_name: String,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub starred: bool,
    /// The covered text: the document's text from `start` to `end`.
    pub text: String,
    pub code_name: String,
    pub code_colour: Colour,
    pub document_title: String,
    pub speakers: Vec<Attribution>,
    /// The turn the coding starts in, numbered from 1 in the document.
    pub turn: Option<i32>,
    /// That turn's time mark (`00:03:12`), for captioned transcripts.
    pub time: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<store::codings::Coding> for Coding {
    fn from(c: store::codings::Coding) -> Self {
        let store::codings::Coding {
            id,
            code_id,
            document_id,
            coder,
            coder_name,
            start,
            end,
            memo,
            starred,
            text,
            code_name,
            code_colour,
            document_title,
            speakers,
            turn,
            time_ms,
            created_at,
            updated_at,
        } = c;
        Coding {
            turn,
            time: time_ms.map(|ms| crate::domain::turns::clock(ms.max(0) as u64)),
            id,
            code_id,
            document_id,
            coder,
            coder_name,
            start,
            end,
            memo,
            starred,
            text,
            code_name,
            code_colour,
            document_title,
            speakers: speakers.into_iter().map(Attribution::from).collect(),
            created_at,
            updated_at,
        }
    }
}

/// A speaker whose turns a coding overlaps (interviewers left out).
#[derive(Debug, Serialize)]
pub struct Attribution {
    /// `null`: text outside any labelled turn.
    pub label: Option<String>,
    /// `null`: the speaker is not mapped to anyone ("Unassigned").
    pub participant_id: Option<ParticipantId>,
    pub participant: Option<String>,
    pub group_id: Option<GroupId>,
    pub group: Option<String>,
    pub attributes: Attributes,
}

impl From<store::codings::Attribution> for Attribution {
    fn from(a: store::codings::Attribution) -> Self {
        let store::codings::Attribution {
            label,
            participant_id,
            participant,
            group_id,
            group,
            attributes,
        } = a;
        Attribution {
            label,
            participant_id,
            participant,
            group_id,
            group,
            attributes,
        }
    }
}

/// Every coding of one document, positions only, for the coding page.
#[derive(Debug, Serialize)]
pub struct DocumentCodings {
    pub fingerprint: String,
    pub me: UserId,
    pub codings: Vec<Mark>,
}

/// A coding as the coding page draws it: no text (the page has it).
#[derive(Debug, Serialize)]
pub struct Mark {
    pub id: CodingId,
    pub code_id: CodeId,
    pub coder: UserId,
    pub start: i32,
    pub end: i32,
    pub memo: String,
    pub starred: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<store::codings::Mark> for Mark {
    fn from(m: store::codings::Mark) -> Self {
        let store::codings::Mark {
            id,
            code_id,
            coder,
            start,
            end,
            memo,
            starred,
            created_at,
        } = m;
        Mark {
            id,
            code_id,
            coder,
            start,
            end,
            memo,
            starred,
            created_at,
        }
    }
}

// ---- memos ------------------------------------------------------------------

/// One memo text: the project's or a document's.
#[derive(Debug, Serialize)]
pub struct MemoText {
    pub memo: String,
}

/// What a memo is attached to.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemoOn {
    Project,
    Document,
    Code,
    Coding,
}

impl From<store::memos::MemoOn> for MemoOn {
    fn from(on: store::memos::MemoOn) -> Self {
        match on {
            store::memos::MemoOn::Project => MemoOn::Project,
            store::memos::MemoOn::Document => MemoOn::Document,
            store::memos::MemoOn::Code => MemoOn::Code,
            store::memos::MemoOn::Coding => MemoOn::Coding,
        }
    }
}

/// One memo of a project, with what it is about.
#[derive(Debug, Serialize)]
pub struct Memo {
    pub on: MemoOn,
    /// The memo's object: a document, code or coding id (the project's id
    /// for the project memo).
    pub id: i64,
    /// A short name for the object: the document title, code path, or
    /// coding's code and document.
    pub about: String,
    pub memo: String,
    pub author: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub written_at: Option<OffsetDateTime>,
    /// For a coding: its document and the coded text.
    pub document_id: Option<DocumentId>,
    pub excerpt: Option<String>,
    pub start: Option<i32>,
}

impl From<store::memos::Memo> for Memo {
    fn from(m: store::memos::Memo) -> Self {
        let store::memos::Memo {
            on,
            id,
            about,
            memo,
            author,
            written_at,
            document_id,
            excerpt,
            start,
        } = m;
        Memo {
            on: on.into(),
            id,
            about,
            memo,
            author,
            written_at,
            document_id,
            excerpt,
            start,
        }
    }
}

// ---- the matrix -------------------------------------------------------------

/// The theme matrix for one measure.
#[derive(Debug, Serialize)]
pub struct Matrix {
    pub measure: Measure,
    pub columns_by: String,
    pub rollup: bool,
    /// Participants in all columns together (the total's N).
    pub participants: i64,
    pub columns: Vec<MatrixColumn>,
    pub rows: Vec<MatrixRow>,
}

#[derive(Debug, Serialize)]
pub struct MatrixColumn {
    pub key: String,
    pub label: String,
    /// N: participants in the column who speak in the documents counted.
    pub participants: Option<i64>,
}

/// A code's values, by column key, and its total.
#[derive(Debug, Serialize)]
pub struct MatrixRow {
    pub code_id: CodeId,
    pub parent_id: Option<CodeId>,
    pub path: String,
    pub depth: i32,
    pub values: BTreeMap<String, Option<f64>>,
    pub total: Option<f64>,
}

impl Matrix {
    /// The counted matrix `m` as `req` asked for it.
    pub fn new(req: &MatrixRequest, m: service::analysis::matrix::Matrix) -> Self {
        let rows = m
            .rows
            .iter()
            .map(|r| MatrixRow {
                code_id: r.code.id,
                parent_id: r.code.parent_id,
                path: r.code.path.clone(),
                depth: r.code.depth,
                values: m
                    .columns
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (c.key.clone(), m.value(r, i, req.measure)))
                    .collect(),
                total: m.total(r, req.measure),
            })
            .collect();
        Matrix {
            measure: req.measure,
            columns_by: req.columns.as_param(),
            rollup: req.rollup,
            participants: m.participants,
            columns: m
                .columns
                .into_iter()
                .map(|c| MatrixColumn {
                    key: c.key,
                    label: c.label,
                    participants: c.participants,
                })
                .collect(),
            rows,
        }
    }
}

// ---- REFI-QDA ---------------------------------------------------------------

/// A `.qdpx` imported as a new project, with what the import did.
#[derive(Debug, Serialize)]
pub struct ProjectImport {
    pub project: Project,
    pub report: ImportReport,
}

/// What a `.qdpx` import did and did not do.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub origin: Option<String>,
    pub documents: usize,
    pub codes: usize,
    pub codings: usize,
    pub participants: usize,
    pub memos: usize,
    pub coders: usize,
    /// How positions were read, one line per document.
    pub positions: Vec<String>,
    /// Things adjusted on the way in.
    pub adjusted: Vec<String>,
    /// Things not imported, with why.
    pub not_imported: Vec<String>,
}

impl From<service::exchange::Report> for ImportReport {
    fn from(r: service::exchange::Report) -> Self {
        let service::exchange::Report {
            origin,
            documents,
            codes,
            codings,
            participants,
            memos,
            coders,
            positions,
            adjusted,
            not_imported,
        } = r;
        ImportReport {
            origin,
            documents,
            codes,
            codings,
            participants,
            memos,
            coders,
            positions,
            adjusted,
            not_imported,
        }
    }
}

// ---- intercoder agreement ---------------------------------------------------

/// One set of agreement figures (a code's, or pooled over codes). The
/// table (`both`, `only_a`, `only_b`, `neither`) and `kappa` are those of
/// the first two coders when exactly two are compared, `null` otherwise
/// (see `pairs`); `percent` is in percent.
#[derive(Debug, Serialize)]
pub struct Agreement {
    pub units: u64,
    pub both: Option<u64>,
    pub only_a: Option<u64>,
    pub only_b: Option<u64>,
    pub neither: Option<u64>,
    pub percent: Option<f64>,
    pub kappa: Option<f64>,
    pub alpha: Option<f64>,
    pub kappa_ci: Option<[f64; 2]>,
    pub alpha_ci: Option<[f64; 2]>,
    /// Cohen's κ for each pair of coders.
    pub pairs: Vec<PairKappa>,
}

#[derive(Debug, Serialize)]
pub struct PairKappa {
    pub coders: [UserId; 2],
    pub kappa: Option<f64>,
    pub kappa_ci: Option<[f64; 2]>,
}

#[derive(Debug, Serialize)]
pub struct CodeAgreement {
    pub code_id: CodeId,
    pub path: String,
    #[serde(flatten)]
    pub figures: Agreement,
}

/// `GET /projects/{id}/agreement`.
#[derive(Debug, Serialize)]
pub struct AgreementReport {
    pub unit: crate::domain::agreement::Unit,
    pub coders: Vec<UserId>,
    pub coder_names: Vec<String>,
    pub documents: Vec<DocumentId>,
    pub rollup: bool,
    pub bootstrap: usize,
    pub seed: u64,
    pub codes: Vec<CodeAgreement>,
    pub pooled: Agreement,
    /// Pooled κ for each pair of coders.
    pub pairs: Vec<PairKappa>,
}

fn ci(e: &crate::domain::agreement::Estimate) -> Option<[f64; 2]> {
    e.ci.map(|(lo, hi)| [lo, hi])
}

impl Agreement {
    fn new(f: &crate::domain::agreement::Figures, coders: &[UserId]) -> Self {
        let two = (f.pairs.len() == 1).then(|| &f.pairs[0]);
        Agreement {
            units: f.units,
            both: two.map(|p| p.table.both),
            only_a: two.map(|p| p.table.only_a),
            only_b: two.map(|p| p.table.only_b),
            neither: two.map(|p| p.table.neither),
            percent: f.percent,
            kappa: two.and_then(|p| p.kappa.value),
            alpha: f.alpha.value,
            kappa_ci: two.and_then(|p| ci(&p.kappa)),
            alpha_ci: ci(&f.alpha),
            pairs: f
                .pairs
                .iter()
                .map(|p| PairKappa {
                    coders: [coders[p.a], coders[p.b]],
                    kappa: p.kappa.value,
                    kappa_ci: ci(&p.kappa),
                })
                .collect(),
        }
    }
}

impl From<service::agreement::Report> for AgreementReport {
    fn from(r: service::agreement::Report) -> Self {
        let coders: Vec<UserId> = r.coders.iter().map(|c| c.id).collect();
        let pooled = Agreement::new(&r.pooled, &coders);
        let pairs = Agreement::new(&r.pooled, &coders).pairs;
        AgreementReport {
            unit: r.unit,
            coder_names: r.coders.into_iter().map(|c| c.name).collect(),
            documents: r.documents.iter().map(|d| d.id).collect(),
            rollup: r.rollup,
            bootstrap: r.bootstrap,
            seed: r.seed,
            codes: r
                .codes
                .iter()
                .map(|c| CodeAgreement {
                    code_id: c.code.id,
                    path: c.code.path.clone(),
                    figures: Agreement::new(&c.figures, &coders),
                })
                .collect(),
            coders,
            pooled,
            pairs,
        }
    }
}

/// A stretch of two coders' codings of one code (`GET …/agreement/compare`).
#[derive(Debug, Serialize)]
pub struct StretchOut {
    pub start: usize,
    pub end: usize,
    pub agreed: bool,
    pub a: Vec<[usize; 2]>,
    pub b: Vec<[usize; 2]>,
}

#[derive(Debug, Serialize)]
pub struct Piece {
    pub start: usize,
    pub end: usize,
    pub side: crate::domain::agreement::Side,
}

/// `GET …/agreement/compare`: two coders' codings of a code in a document.
#[derive(Debug, Serialize)]
pub struct ComparisonOut {
    pub document_id: DocumentId,
    pub code_id: CodeId,
    pub coders: [UserId; 2],
    pub stretches: Vec<StretchOut>,
    pub pieces: Vec<Piece>,
    pub decisions: Vec<DecisionOut>,
}

impl From<service::agreement::Comparison> for ComparisonOut {
    fn from(c: service::agreement::Comparison) -> Self {
        let pairs = |v: &[(usize, usize)]| v.iter().map(|&(s, e)| [s, e]).collect();
        ComparisonOut {
            document_id: c.document.id,
            code_id: c.code.id,
            coders: [c.a.id, c.b.id],
            stretches: c
                .stretches
                .iter()
                .map(|s| StretchOut {
                    start: s.start,
                    end: s.end,
                    agreed: s.agreed(),
                    a: pairs(&s.a),
                    b: pairs(&s.b),
                })
                .collect(),
            pieces: c
                .sides
                .iter()
                .map(|&(start, end, side)| Piece { start, end, side })
                .collect(),
            decisions: c.decisions.into_iter().map(DecisionOut::from).collect(),
        }
    }
}

/// A recorded adjudication decision.
#[derive(Debug, Serialize)]
pub struct DecisionOut {
    pub id: i64,
    pub document_id: DocumentId,
    pub code_id: CodeId,
    pub coders: [UserId; 2],
    pub start: i32,
    pub end: i32,
    pub decision: String,
    pub decided_by: Option<UserId>,
    pub decided_by_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

impl From<store::agreement::Recorded> for DecisionOut {
    fn from(r: store::agreement::Recorded) -> Self {
        let store::agreement::Recorded {
            id,
            document_id,
            document_title: _,
            code_id,
            code_name: _,
            coder_a,
            coder_b,
            start,
            end,
            decision,
            decided_by,
            decided_by_name,
            decided_at,
        } = r;
        DecisionOut {
            id,
            document_id,
            code_id,
            coders: [coder_a, coder_b],
            start,
            end,
            decision,
            decided_by,
            decided_by_name,
            decided_at,
        }
    }
}

/// What one or more decisions did.
#[derive(Debug, Serialize)]
pub struct SettledOut {
    pub decided: usize,
    pub written: usize,
    /// The consensus set's coder id (use it as `coder=` in the matrix).
    pub consensus_coder: UserId,
}

impl From<service::agreement::Settled> for SettledOut {
    fn from(s: service::agreement::Settled) -> Self {
        SettledOut {
            decided: s.decided,
            written: s.written,
            consensus_coder: s.consensus,
        }
    }
}

/// `GET/PUT /projects/{id}/settings`.
#[derive(Debug, Serialize)]
pub struct SettingsOut {
    pub blind: bool,
    pub adjudicator: Option<UserId>,
    pub consensus_coder: Option<UserId>,
}

impl From<store::projects::Settings> for SettingsOut {
    fn from(s: store::projects::Settings) -> Self {
        SettingsOut {
            blind: s.blind,
            adjudicator: s.adjudicator,
            consensus_coder: s.consensus,
        }
    }
}

// ---- questionnaires ---------------------------------------------------------

/// A survey as listed.
#[derive(Debug, Serialize)]
pub struct SurveyOut {
    pub id: i64,
    pub name: String,
    pub file_name: String,
    pub columns: Vec<crate::domain::questionnaire::Column>,
    pub items: Vec<String>,
    pub responses: i64,
    pub waves: BTreeMap<String, i64>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<store::surveys::Survey> for SurveyOut {
    fn from(s: store::surveys::Survey) -> Self {
        let store::surveys::Survey {
            id,
            name,
            file_name,
            columns,
            items,
            responses,
            waves,
            created_at,
            updated_at,
        } = s;
        SurveyOut {
            id,
            name,
            file_name,
            columns,
            items,
            responses,
            waves,
            created_at,
            updated_at,
        }
    }
}

/// `POST /projects/{id}/surveys`: what the file holds and what was done.
#[derive(Debug, Serialize)]
pub struct SurveyImport {
    pub survey: Option<SurveyOut>,
    pub columns: Vec<crate::domain::questionnaire::Column>,
    pub errors: Vec<crate::domain::questionnaire::Problem>,
    pub responses: usize,
    pub waves: BTreeMap<String, usize>,
    pub difference: Option<service::surveys::Difference>,
    pub replaced: bool,
}

impl From<service::surveys::Outcome> for SurveyImport {
    fn from(o: service::surveys::Outcome) -> Self {
        SurveyImport {
            survey: o.survey.map(Into::into),
            columns: o.columns,
            errors: o.errors,
            responses: o.responses,
            waves: o.waves,
            difference: o.difference,
            replaced: o.replaced,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ScaleOut {
    pub id: i64,
    pub survey_id: i64,
    pub name: String,
    pub items: Vec<String>,
    pub reverse: Vec<String>,
    pub min: f64,
    pub max: f64,
    pub score: String,
    pub min_items: Option<i32>,
}

impl From<store::surveys::ScaleRow> for ScaleOut {
    fn from(s: store::surveys::ScaleRow) -> Self {
        let store::surveys::ScaleRow {
            id,
            survey_id,
            name,
            items,
            reverse,
            min,
            max,
            score,
            min_items,
        } = s;
        ScaleOut {
            id,
            survey_id,
            name,
            items,
            reverse,
            min,
            max,
            score,
            min_items,
        }
    }
}

/// `GET …/surveys/{s}`.
#[derive(Debug, Serialize)]
pub struct SurveyDetail {
    #[serde(flatten)]
    pub survey: SurveyOut,
    pub scales: Vec<ScaleOut>,
}

impl From<service::surveys::Detail> for SurveyDetail {
    fn from(d: service::surveys::Detail) -> Self {
        SurveyDetail {
            survey: d.survey.into(),
            scales: d.scales.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ItemReliabilityOut {
    pub item: String,
    pub item_total: Option<f64>,
    pub alpha_if_deleted: Option<f64>,
}

/// `GET …/scales/{scale}`: the scale with Cronbach's α.
#[derive(Debug, Serialize)]
pub struct ScaleReportOut {
    #[serde(flatten)]
    pub scale: ScaleOut,
    pub alpha: Option<f64>,
    /// Complete responses α was computed on.
    pub complete: usize,
    pub alpha_by_wave: BTreeMap<String, Option<f64>>,
    pub item_stats: Vec<ItemReliabilityOut>,
    pub scored: usize,
}

impl From<service::surveys::ScaleReport> for ScaleReportOut {
    fn from(r: service::surveys::ScaleReport) -> Self {
        let item_stats = match &r.alpha {
            Some(a) => r
                .scale
                .items
                .iter()
                .zip(&a.item_stats)
                .map(|(item, s)| ItemReliabilityOut {
                    item: item.clone(),
                    item_total: s.item_total,
                    alpha_if_deleted: s.alpha_if_deleted,
                })
                .collect(),
            None => Vec::new(),
        };
        ScaleReportOut {
            alpha: r.alpha.as_ref().map(|a| a.alpha),
            complete: r.alpha.as_ref().map_or(0, |a| a.complete),
            alpha_by_wave: r
                .alpha_by_wave
                .into_iter()
                .map(|(w, a)| (w, a.map(|a| a.alpha)))
                .collect(),
            item_stats,
            scored: r.scored,
            scale: r.scale.into(),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct WaveOut {
    pub wave: String,
    pub n: usize,
    pub mean: Option<f64>,
    pub sd: Option<f64>,
    pub ci: Option<[f64; 2]>,
}

#[derive(Debug, Serialize)]
pub struct WelchOut {
    pub t: f64,
    pub df: f64,
    pub p: f64,
}

#[derive(Debug, Serialize)]
pub struct ChangeOut {
    pub value: Option<String>,
    pub waves: Vec<WaveOut>,
    pub difference: Option<f64>,
    pub difference_ci: Option<[f64; 2]>,
    pub welch: Option<WelchOut>,
    pub hedges_g: Option<f64>,
}

impl From<&service::surveys::Change> for ChangeOut {
    fn from(c: &service::surveys::Change) -> Self {
        ChangeOut {
            value: c.value.clone(),
            waves: c
                .waves
                .iter()
                .map(|w| WaveOut {
                    wave: w.wave.clone(),
                    n: w.stats.n,
                    mean: w.stats.mean,
                    sd: w.stats.sd,
                    ci: w.stats.ci95.map(|i| [i.low, i.high]),
                })
                .collect(),
            difference: c
                .welch
                .map(|w| w.difference)
                .or_else(|| Some(c.waves[1].stats.mean? - c.waves[0].stats.mean?)),
            difference_ci: c.welch.map(|w| [w.ci95.low, w.ci95.high]),
            welch: c.welch.map(|w| WelchOut {
                t: w.t,
                df: w.df,
                p: w.p,
            }),
            hedges_g: c.hedges_g,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct InteractionOut {
    pub f: f64,
    pub df1: usize,
    pub df2: usize,
    pub p: f64,
}

/// `GET …/surveys/{s}/compare`.
#[derive(Debug, Serialize)]
pub struct ComparisonOutSurvey {
    pub survey_id: i64,
    pub scale_id: i64,
    pub waves: [String; 2],
    pub within: Option<String>,
    pub overall: ChangeOut,
    pub groups: Vec<ChangeOut>,
    pub interaction: Option<InteractionOut>,
}

impl From<service::surveys::Comparison> for ComparisonOutSurvey {
    fn from(c: service::surveys::Comparison) -> Self {
        ComparisonOutSurvey {
            survey_id: c.survey.id,
            scale_id: c.scale.id,
            overall: (&c.overall).into(),
            groups: c.groups.iter().map(Into::into).collect(),
            interaction: c.interaction.map(|e| InteractionOut {
                f: e.f,
                df1: e.df1,
                df2: e.df2,
                p: e.p,
            }),
            waves: c.waves,
            within: c.within,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct QuoteOut {
    pub text: String,
    pub who: String,
}

#[derive(Debug, Serialize)]
pub struct ThemeCellOut {
    pub code_id: CodeId,
    pub cases: i64,
    pub participants: Option<i64>,
    pub cases_pct: Option<f64>,
    pub quote: Option<QuoteOut>,
}

#[derive(Debug, Serialize)]
pub struct JointRowOut {
    pub value: String,
    pub change: Option<ChangeOut>,
    pub themes: Vec<ThemeCellOut>,
}

#[derive(Debug, Serialize)]
pub struct ThemeOut {
    pub code_id: CodeId,
    pub path: String,
}

/// `GET /projects/{id}/joint-display`.
#[derive(Debug, Serialize)]
pub struct JointDisplayOut {
    pub survey_id: i64,
    pub scale_id: i64,
    pub scale: String,
    pub waves: [String; 2],
    pub within: String,
    pub themes: Vec<ThemeOut>,
    pub rows: Vec<JointRowOut>,
    pub overall: JointRowOut,
    pub interaction: Option<InteractionOut>,
}

fn joint_row(
    r: &service::analysis::joint_display::JointRow,
    codes: &[store::codes::Code],
) -> JointRowOut {
    JointRowOut {
        value: r.value.clone(),
        change: r.change.as_ref().map(Into::into),
        themes: r
            .themes
            .iter()
            .zip(codes)
            .map(|(t, c)| ThemeCellOut {
                code_id: c.id,
                cases: t.cases,
                participants: t.participants,
                cases_pct: t.cases_pct,
                quote: t.quote.as_ref().map(|(text, who)| QuoteOut {
                    text: text.clone(),
                    who: who.clone(),
                }),
            })
            .collect(),
    }
}

impl From<service::analysis::joint_display::JointDisplay> for JointDisplayOut {
    fn from(j: service::analysis::joint_display::JointDisplay) -> Self {
        JointDisplayOut {
            survey_id: j.comparison.survey.id,
            scale_id: j.comparison.scale.id,
            scale: j.comparison.scale.name.clone(),
            waves: j.comparison.waves.clone(),
            within: j.attribute.clone(),
            themes: j
                .codes
                .iter()
                .map(|c| ThemeOut {
                    code_id: c.id,
                    path: c.path.clone(),
                })
                .collect(),
            rows: j.rows.iter().map(|r| joint_row(r, &j.codes)).collect(),
            overall: joint_row(&j.overall, &j.codes),
            interaction: j.comparison.interaction.map(|e| InteractionOut {
                f: e.f,
                df1: e.df1,
                df2: e.df2,
                p: e.p,
            }),
        }
    }
}
