//! REFI-QDA exchange with the database: a project out as an
//! [`Exchange`] (then `.qdpx` / `.qdc` by `formats::refi::write`), and an
//! [`Exchange`] read from another tool's file in as a new project, with a
//! report of everything that was mapped, adjusted or left out. Shared by
//! pages, API and CLI.

use super::transcripts::{self, ImportOptions, Transcript};
use super::{Error, Result};
use crate::domain::ValidationError;
use crate::domain::account::{DisplayName, Email};
use crate::domain::code::{self, Colour};
use crate::domain::document::DocumentKind;
use crate::domain::ids::{CodeId, DocumentId, GroupId, ParticipantId, ProjectId, UserId};
use crate::domain::participant::{self, Attributes};
use crate::domain::project::{ProjectName, Role};
use crate::domain::speakers::SpeakerRole;
use crate::formats::ZipLimits;
use crate::formats::refi::positions::{self, Crlf, Unit};
use crate::formats::refi::{
    Case, Code, Coding, Exchange, Note, Selection, TextSource, User, Value, Variable,
};
use crate::formats::refi::{read, write};
use crate::store;
use crate::store::codes::ImportOutcome;
use crate::store::codings::NewCoding;
use serde::Serialize;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap, HashSet};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

/// Parley's namespace for stable GUIDs: the same object gets the same GUID
/// in every export, so re-exports line up in other tools.
const NAMESPACE: Uuid = Uuid::from_u128(0x6d2f_1c7a_9b4e_4f0a_8a61_2c3d_5e7f_9a0b);

fn guid(project: ProjectId, kind: &str, id: i64) -> String {
    Uuid::new_v5(&NAMESPACE, format!("{project}/{kind}/{id}").as_bytes())
        .hyphenated()
        .to_string()
}

const GROUP_VARIABLE: &str = "Stakeholder group";
const KIND_VARIABLE: &str = "Document kind";
const DATE_VARIABLE: &str = "Held on";
const SPEAKERS_NOTE: &str = "Parley speaker mapping";
/// Where captioned turns start in the recording: `start ms` lines (turn
/// start in code points, time in milliseconds), which a plain-text source
/// has no place for.
const TIMES_NOTE: &str = "Parley time marks";
/// A code's definition, inclusion, exclusion and example exactly, as JSON,
/// beside the human-readable description (which other tools show).
const FIELDS_NOTE: &str = "Parley code fields";

#[derive(Serialize, serde::Deserialize)]
struct CodeFields {
    definition: String,
    inclusion: String,
    exclusion: String,
    example: String,
    /// The code's shortcut key, which the standard has no place for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shortcut: Option<String>,
}

/// A note on a coding that marks it as a starred quote (Parley's own; other
/// tools show it as a note titled so).
const STAR_NOTE: &str = "Parley starred quote";

/// Definition, inclusion, exclusion and example in one description.
fn describe(c: &store::codes::Code) -> String {
    let mut out = c.definition.clone();
    for (label, text) in [
        ("Include", &c.inclusion),
        ("Exclude", &c.exclusion),
        ("Example", &c.example),
    ] {
        if !text.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&format!("{label}: {text}"));
        }
    }
    out
}

/// The reverse of [`describe`] for files without Parley's exact fields:
/// (definition, inclusion, exclusion, example). Only a trailing run of
/// "Include:", "Exclude:", "Example:" paragraphs, in that order, is taken
/// apart; anything else stays in the definition.
fn undescribe(description: &str) -> (String, String, String, String) {
    let mut rest = description.trim_end();
    let mut fields = [String::new(), String::new(), String::new()];
    for (i, label) in ["Example: ", "Exclude: ", "Include: "].iter().enumerate() {
        let marker = format!("\n\n{label}");
        let found = if rest.starts_with(label) {
            Some(0)
        } else {
            rest.rfind(&marker).map(|at| at + 2)
        };
        if let Some(at) = found {
            fields[2 - i] = rest[at + label.len()..].trim().to_owned();
            rest = rest[..at].trim_end();
        }
    }
    let [inc, exc, ex] = fields;
    (rest.trim().to_owned(), inc, exc, ex)
}

fn rfc3339(t: OffsetDateTime) -> Option<String> {
    t.to_offset(time::UtcOffset::UTC).format(&Rfc3339).ok()
}

/// The whole project as an exchange model (users, codebook, participants
/// as cases, documents with their codings, memos as notes).
pub async fn export(db: &PgPool, project: ProjectId) -> anyhow::Result<Exchange> {
    export_parts(db, project, true).await
}

/// The project (`whole`), or only its codebook and coders.
async fn export_parts(db: &PgPool, project: ProjectId, whole: bool) -> anyhow::Result<Exchange> {
    // The codebook alone (`.qdc`) names no project: one query less.
    let (name, description) = match whole {
        true => store::projects::name_and_description(db, project).await?,
        false => Default::default(),
    };
    let mut x = Exporting {
        db,
        project,
        ex: Exchange {
            name,
            origin: Some(format!("Parley {}", env!("CARGO_PKG_VERSION"))),
            description,
            ..Exchange::default()
        },
        coders: HashMap::new(),
        variables: BTreeMap::new(),
        memo_times: HashMap::new(),
    };
    // The codebook alone (`.qdc`) carries no users and no memos.
    if whole {
        x.memo_times = store::memos::list(db, project, None)
            .await?
            .into_iter()
            .filter_map(|m| Some(((m.on, m.id), m.written_at?)))
            .collect();
        x.members().await?;
        x.project_memo().await?;
    }
    x.codebook(&store::codes::outline(db, project).await?);
    if !whole {
        return Ok(x.ex);
    }
    let participants = store::participants::list(db, project).await?;
    let mut cases = x.cases(&participants);
    let (documents, _) = store::documents::list(db, project, i64::MAX, 0).await?;
    for d in &documents {
        x.source(d, &participants, &mut cases).await?;
    }
    Ok(x.finish(cases))
}

/// A project on its way out as an [`Exchange`]: the coders and variables
/// given GUIDs so far.
struct Exporting<'a> {
    db: &'a PgPool,
    project: ProjectId,
    ex: Exchange,
    coders: HashMap<UserId, String>,
    /// When each memo was written, to travel as its note's
    /// `creationDateTime`.
    memo_times: HashMap<(store::memos::MemoOn, i64), OffsetDateTime>,
    /// Variable name → GUID.
    variables: BTreeMap<String, String>,
}

impl Exporting<'_> {
    /// A note, answering its GUID.
    fn note(&mut self, kind: &str, id: i64, title: &str, text: &str) -> String {
        let g = guid(self.project, kind, id);
        self.ex.notes.push(Note {
            guid: g.clone(),
            name: Some(title.to_owned()),
            text: text.to_owned(),
            ..Note::default()
        });
        g
    }

    /// Give the note just made the time its memo was written.
    fn stamp(&mut self, on: store::memos::MemoOn, id: i64) {
        let at = self.memo_times.get(&(on, id)).copied().and_then(rfc3339);
        if let Some(note) = self.ex.notes.last_mut() {
            note.created = at;
        }
    }

    /// The GUID of the variable `name`, made on first use.
    fn variable(&mut self, name: &str) -> String {
        let n = self.variables.len() as i64;
        let project = self.project;
        self.variables
            .entry(name.to_owned())
            .or_insert_with(|| guid(project, &format!("variable-{name}"), n))
            .clone()
    }

    /// A coder as a User, once.
    fn user(&mut self, id: UserId, name: &str) {
        if self.coders.contains_key(&id) {
            return;
        }
        let g = guid(self.project, "user", id.0);
        self.coders.insert(id, g.clone());
        self.ex.users.push(User {
            guid: g,
            name: Some(name.to_owned()),
        });
    }

    async fn members(&mut self) -> anyhow::Result<()> {
        for m in store::members::list(self.db, self.project).await? {
            self.user(m.user_id, &m.name);
        }
        Ok(())
    }

    async fn project_memo(&mut self) -> anyhow::Result<()> {
        let memo = store::memos::get_project(self.db, self.project).await?;
        if !memo.is_empty() {
            let g = self.note("project-memo", self.project.0, "Project memo", &memo);
            self.stamp(store::memos::MemoOn::Project, self.project.0);
            self.ex.project_notes.push(g);
        }
        Ok(())
    }

    /// The codebook, nested (tree order puts each parent before its codes).
    fn codebook(&mut self, tree: &[store::codes::Code]) {
        let flat: Vec<(Option<CodeId>, CodeId, Code)> = tree
            .iter()
            .map(|c| (c.parent_id, c.id, self.code(c)))
            .collect();
        self.ex.codes = nest(flat);
    }

    /// One code, without its sub-codes. Its exact fields travel in a note
    /// whenever the description alone would not give them back; its memo
    /// in another.
    fn code(&mut self, c: &store::codes::Code) -> Code {
        let mut refs = Vec::new();
        let description = describe(c);
        let fields = CodeFields {
            definition: c.definition.clone(),
            inclusion: c.inclusion.clone(),
            exclusion: c.exclusion.clone(),
            example: c.example.clone(),
            shortcut: c.shortcut.clone(),
        };
        let exact = (
            fields.definition.clone(),
            fields.inclusion.clone(),
            fields.exclusion.clone(),
            fields.example.clone(),
        );
        if undescribe(&description) != exact || fields.shortcut.is_some() {
            let text = serde_json::to_string(&fields).unwrap_or_default();
            refs.push(self.note("code-fields", c.id.0, FIELDS_NOTE, &text));
        }
        if !c.memo.is_empty() {
            refs.push(self.note("code-memo", c.id.0, &format!("Memo: {}", c.name), &c.memo));
            self.stamp(store::memos::MemoOn::Code, c.id.0);
        }
        Code {
            guid: guid(self.project, "code", c.id.0),
            name: c.name.clone(),
            color: Some(c.colour.to_string()),
            description,
            codable: true,
            notes: refs,
            children: Vec::new(),
        }
    }

    /// Participants as cases: their group and attributes as variables.
    fn cases(&mut self, participants: &[store::participants::Participant]) -> Vec<Case> {
        let mut cases = Vec::with_capacity(participants.len());
        for p in participants {
            let mut values = Vec::new();
            if let Some(g) = &p.group {
                values.push(Value {
                    variable: self.variable(GROUP_VARIABLE),
                    value: g.clone(),
                });
            }
            for (k, v) in &p.attributes {
                values.push(Value {
                    variable: self.variable(k),
                    value: v.clone(),
                });
            }
            cases.push(Case {
                guid: guid(self.project, "participant", p.id.0),
                name: Some(p.label.clone()),
                values,
                ..Case::default()
            });
        }
        cases
    }

    /// A document as a text source: its variables, memo, speaker mapping
    /// (a note Parley reads back; the cases of its participants hold it)
    /// and its codings as selections.
    async fn source(
        &mut self,
        d: &store::documents::DocumentSummary,
        participants: &[store::participants::Participant],
        cases: &mut [Case],
    ) -> anyhow::Result<()> {
        let (db, project) = (self.db, self.project);
        let text = store::documents::text(db, project, d.id)
            .await?
            .unwrap_or_default();
        let source_guid = guid(project, "document", d.id.0);
        let speakers = store::documents::speakers(db, project, d.id).await?;
        let mapping = speaker_mapping(&speakers, participants, cases, &source_guid);
        let values = self.document_values(d);
        let mut notes = Vec::new();
        if let Some(memo) = store::memos::get_document(db, project, d.id)
            .await?
            .filter(|m| !m.is_empty())
        {
            notes.push(self.note(
                "document-memo",
                d.id.0,
                &format!("Memo: {}", d.title),
                &memo,
            ));
            self.stamp(store::memos::MemoOn::Document, d.id.0);
        }
        if !mapping.is_empty() {
            let joined = mapping.join("\n");
            notes.push(self.note("document-speakers", d.id.0, SPEAKERS_NOTE, &joined));
        }
        let times: Vec<String> = store::documents::turns(db, project, d.id)
            .await?
            .iter()
            .filter_map(|t| t.time_ms.map(|ms| format!("{} {ms}", t.start)))
            .collect();
        if !times.is_empty() {
            notes.push(self.note("document-times", d.id.0, TIMES_NOTE, &times.join("\n")));
        }
        let selections = self.selections(d.id, &text).await?;
        self.ex.sources.push(TextSource {
            guid: source_guid,
            name: d.title.clone(),
            text: Some(text),
            selections,
            values,
            notes,
            ..TextSource::default()
        });
        Ok(())
    }

    /// A document's kind, date and attributes as variable values.
    fn document_values(&mut self, d: &store::documents::DocumentSummary) -> Vec<Value> {
        let mut values = vec![Value {
            variable: self.variable(KIND_VARIABLE),
            value: d.kind.as_str().to_owned(),
        }];
        if let Some(date) = d.held_on {
            values.push(Value {
                variable: self.variable(DATE_VARIABLE),
                value: date.to_string(),
            });
        }
        for (k, v) in &d.attributes {
            values.push(Value {
                variable: self.variable(k),
                value: v.clone(),
            });
        }
        values
    }

    /// A document's codings, each a selection with one coding (former
    /// members among the coders too), memos as notes.
    async fn selections(&mut self, doc: DocumentId, text: &str) -> anyhow::Result<Vec<Selection>> {
        let marks = store::codings::marks(self.db, self.project, doc).await?;
        for m in &marks {
            if !self.coders.contains_key(&m.coder)
                && let Some(u) = store::users::get_any(self.db, m.coder).await?
            {
                self.user(u.id, &u.name);
            }
        }
        let project = self.project;
        let mut selections = Vec::with_capacity(marks.len());
        for m in marks {
            let mut notes = Vec::new();
            if !m.memo.is_empty() {
                notes.push(self.note("coding-memo", m.id.0, "Coding memo", &m.memo));
            }
            if m.starred {
                notes.push(self.note("coding-star", m.id.0, STAR_NOTE, "starred"));
            }
            let preview: String = text
                .chars()
                .skip(m.start as usize)
                .take((m.end - m.start).min(200) as usize)
                .collect();
            let user = self.coders.get(&m.coder).cloned();
            selections.push(Selection {
                guid: guid(project, "selection", m.id.0),
                name: Some(preview),
                start: m.start.into(),
                end: m.end.into(),
                user: user.clone(),
                created: rfc3339(m.created_at),
                // Some readers (QualCoder) look for a coding's memo here.
                description: m.memo.clone(),
                codings: vec![Coding {
                    guid: guid(project, "coding", m.id.0),
                    code: guid(project, "code", m.code_id.0),
                    user,
                    created: rfc3339(m.created_at),
                    notes,
                }],
                ..Selection::default()
            });
        }
        Ok(selections)
    }

    fn finish(mut self, cases: Vec<Case>) -> Exchange {
        self.ex.cases = cases;
        self.ex.variables = self
            .variables
            .into_iter()
            .map(|(name, guid)| Variable {
                guid,
                name,
                kind: "Text".into(),
            })
            .collect();
        self.ex
    }
}

/// `label = P03` / `= interviewer` / `= unassigned` lines for a document's
/// speakers; a participant's case is given the document as a source.
fn speaker_mapping(
    speakers: &[store::documents::Speaker],
    participants: &[store::participants::Participant],
    cases: &mut [Case],
    source_guid: &str,
) -> Vec<String> {
    let mut mapping = Vec::with_capacity(speakers.len());
    for s in speakers {
        match (s.role, &s.participant_id) {
            (SpeakerRole::Participant, Some(pid)) => {
                if let Some(i) = participants.iter().position(|p| p.id == *pid)
                    && !cases[i].sources.iter().any(|g| g == source_guid)
                {
                    cases[i].sources.push(source_guid.to_owned());
                }
                mapping.push(format!(
                    "{} = {}",
                    s.label,
                    s.participant.clone().unwrap_or_default()
                ));
            }
            (SpeakerRole::Interviewer, _) => mapping.push(format!("{} = interviewer", s.label)),
            _ => mapping.push(format!("{} = unassigned", s.label)),
        }
    }
    mapping
}

/// An imported project's name, told apart from its original:
/// "Partnership study (imported 2026-12-06)".
fn imported_name(name: &str) -> Result<ProjectName, crate::domain::ValidationError> {
    let date = OffsetDateTime::now_utc().date();
    let suffix = format!(" (imported {date})");
    let base = crate::domain::text::name("name", name).unwrap_or_default();
    let base = if base.is_empty() {
        "Imported project".to_owned()
    } else {
        base
    };
    // Keep within the 200 characters a project name may have.
    let room = 200 - suffix.chars().count();
    let base: String = base.chars().take(room).collect();
    ProjectName::parse(&format!("{}{suffix}", base.trim_end()))
}

/// The project's description as Parley keeps one (at most 10,000
/// characters, without what PostgreSQL cannot store); a longer one is cut.
fn description_of(ex: &Exchange) -> String {
    let cut: String = ex
        .description
        .trim()
        .chars()
        .filter(|c| *c != '\0')
        .take(10_000)
        .collect();
    crate::domain::project::description(&cut).unwrap_or_default()
}

/// Nest codes listed in tree order (every parent before its sub-codes):
/// one pass from the end, so no walk goes deeper than a loop.
fn nest(flat: Vec<(Option<CodeId>, CodeId, Code)>) -> Vec<Code> {
    let at: HashMap<CodeId, usize> = flat
        .iter()
        .enumerate()
        .map(|(i, (_, id, _))| (*id, i))
        .collect();
    let parents: Vec<Option<usize>> = flat
        .iter()
        .map(|(p, _, _)| p.and_then(|p| at.get(&p).copied()))
        .collect();
    let mut slots: Vec<Option<Code>> = flat.into_iter().map(|(_, _, c)| Some(c)).collect();
    let mut roots = Vec::new();
    for i in (0..slots.len()).rev() {
        let Some(mut c) = slots[i].take() else {
            continue;
        };
        c.children.reverse();
        match parents[i].and_then(|p| slots[p].as_mut()) {
            Some(parent) => parent.children.push(c),
            None => roots.push(c),
        }
    }
    roots.reverse();
    roots
}

/// What an import did and did not do, for the person who ran it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub origin: Option<String>,
    pub documents: usize,
    pub codes: usize,
    pub codings: usize,
    pub participants: usize,
    pub memos: usize,
    pub coders: usize,
    /// How positions were read, one line per document.
    pub positions: Vec<String>,
    /// Things adjusted on the way in (renamed duplicates, rebuilt
    /// hierarchies, merged duplicate codings …).
    pub adjusted: Vec<String>,
    /// Things not imported, with why.
    pub not_imported: Vec<String>,
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

fn lenient_colour(raw: Option<&str>) -> Option<Colour> {
    let raw = raw?.trim();
    if let Ok(c) = Colour::parse(raw) {
        return Some(c);
    }
    let hex = raw.trim_start_matches('#');
    if hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Colour::parse(&hex[..6]).ok();
    }
    let nums: Vec<u8> = raw
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')')
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    if nums.len() >= 3 {
        return Colour::parse(&format!("{:02x}{:02x}{:02x}", nums[0], nums[1], nums[2])).ok();
    }
    None
}

/// A name free among `taken` (case-insensitive): "Name", "Name (2)", …
fn free_name(name: &str, taken: &mut HashSet<String>) -> String {
    let mut candidate = name.to_owned();
    let mut n = 2;
    while taken.contains(&candidate.to_lowercase()) {
        candidate = format!("{name} ({n})");
        n += 1;
    }
    taken.insert(candidate.to_lowercase());
    candidate
}

/// If a tool flattened its tree into names ("Coke::diet Coke"), rebuild the
/// tree; answers whether it did.
fn unflatten(codes: &mut Vec<Code>) -> bool {
    let flat = codes.iter().all(|c| c.children.is_empty());
    if !flat || !codes.iter().any(|c| c.name.contains("::")) {
        return false;
    }
    let mut roots: Vec<Code> = Vec::new();
    for c in std::mem::take(codes) {
        let parts: Vec<String> = c
            .name
            .split("::")
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let mut level = &mut roots;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            let pos = level.iter().position(|x| x.name == *part);
            let idx = match (pos, last) {
                (Some(p), true) if level[p].guid.starts_with("implied:") => {
                    // The code itself, after an implied parent of the same name.
                    let children = std::mem::take(&mut level[p].children);
                    level[p] = Code {
                        name: part.clone(),
                        children,
                        ..c.clone()
                    };
                    p
                }
                (Some(p), false) => p,
                _ => {
                    level.push(if last {
                        Code {
                            name: part.clone(),
                            ..c.clone()
                        }
                    } else {
                        Code {
                            guid: format!("implied:{}", parts[..=i].join("::")),
                            name: part.clone(),
                            codable: false,
                            ..Code::default()
                        }
                    });
                    level.len() - 1
                }
            };
            level = &mut level[idx].children;
        }
    }
    *codes = roots;
    true
}

/// Import an exchange as a new project owned by `owner`. All or nothing:
/// the project stays invisible until it is complete; on any failure the
/// half-made project is removed again, and if the server dies midway the
/// next sweep removes it ([`store::projects::remove_abandoned_imports`]).
pub async fn import(
    db: &PgPool,
    owner: UserId,
    mut ex: Exchange,
) -> Result<(ProjectId, Report), ImportError> {
    let name = imported_name(&ex.name).map_err(|e| ImportError::Invalid(e.message))?;
    let (project, guard) =
        store::projects::ImportGuard::create(db, owner, &name, &description_of(&ex)).await?;
    let filled = match fill(db, owner, project.id, &mut ex).await {
        Ok(report) => store::projects::finish_import(db, project.id)
            .await
            .map(|()| report)
            .map_err(ImportError::from),
        Err(e) => Err(e),
    };
    guard.release().await;
    match filled {
        Ok(report) => Ok((project.id, report)),
        Err(e) => {
            if let Err(cleanup) = store::projects::delete_failed_import(db, project.id).await {
                tracing::error!(error = %cleanup, "could not remove a failed import");
            }
            Err(e)
        }
    }
}

/// What an import keeps at hand while it fills the project: where it
/// writes, the file's notes by GUID (and which of them found a home), and
/// the report so far.
struct Filling<'x> {
    db: &'x PgPool,
    owner: UserId,
    project: ProjectId,
    notes: HashMap<String, &'x Note>,
    variables: HashMap<String, String>,
    used_notes: Vec<String>,
    report: Report,
}

/// Where the file's objects landed, by their GUIDs.
#[derive(Default)]
struct Landed {
    coders: HashMap<String, UserId>,
    codes: HashMap<String, CodeId>,
    cases: HashMap<String, ParticipantId>,
}

/// A source's text as Parley stores it, and how its positions map onto it.
struct SourceText {
    text: String,
    map: Vec<u32>,
}

async fn fill(
    db: &PgPool,
    owner: UserId,
    project: ProjectId,
    ex: &mut Exchange,
) -> Result<Report, ImportError> {
    let codes = std::mem::take(&mut ex.codes);
    let ex = &*ex;
    let mut f = Filling {
        db,
        owner,
        project,
        notes: ex.notes.iter().map(|n| (n.guid.clone(), n)).collect(),
        variables: ex
            .variables
            .iter()
            .map(|v| (v.guid.clone(), v.name.clone()))
            .collect(),
        used_notes: Vec::new(),
        report: Report {
            origin: ex.origin.clone(),
            ..Report::default()
        },
    };
    let mut landed = Landed {
        coders: f.coders(ex).await?,
        ..Landed::default()
    };
    landed.codes = f.codebook(codes).await?;
    landed.cases = f.participants(ex).await?;
    for s in &ex.sources {
        f.source(ex, s, &landed).await?;
    }
    f.project_memo(ex).await?;
    f.left_out(ex);
    Ok(f.report)
}

impl<'x> Filling<'x> {
    /// The texts of the notes `refs` names, non-empty.
    fn note_text(&self, refs: &[String]) -> Vec<String> {
        refs.iter()
            .filter_map(|r| self.notes.get(r))
            .map(|n| n.text.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// When the first of these notes (that says so) was written.
    fn first_time(&self, refs: &[String]) -> Option<OffsetDateTime> {
        refs.iter()
            .filter_map(|r| self.notes.get(r))
            .filter(|n| {
                n.name.as_deref() != Some(SPEAKERS_NOTE) && n.name.as_deref() != Some(TIMES_NOTE)
            })
            .find_map(|n| OffsetDateTime::parse(n.created.as_deref()?, &Rfc3339).ok())
    }

    /// A variable's name (its GUID's), or "attribute".
    fn var_name(&self, v: &Value) -> String {
        self.variables
            .get(&v.variable)
            .cloned()
            .unwrap_or_else(|| "attribute".into())
    }

    /// Coders: the importer if the file names them, else a placeholder
    /// account per coder (it cannot sign in, and belongs to this import)
    /// so codings keep who made them.
    async fn coders(&mut self, ex: &Exchange) -> Result<HashMap<String, UserId>, ImportError> {
        let me = store::users::get(self.db, self.owner)
            .await?
            .ok_or_else(|| ImportError::Invalid("no such user".into()))?;
        let mut coders = HashMap::new();
        for u in &ex.users {
            let name = u.name.clone().unwrap_or_default();
            let name = name.trim();
            let id = if name.eq_ignore_ascii_case(&me.name) || name.eq_ignore_ascii_case(&me.email)
            {
                self.owner
            } else {
                self.placeholder(&u.guid, name).await?
            };
            coders.insert(u.guid.clone(), id);
        }
        Ok(coders)
    }

    async fn placeholder(&mut self, guid: &str, name: &str) -> Result<UserId, ImportError> {
        let email = Email::parse(&store::users::placeholder_email(self.project, guid))
            .map_err(|e| ImportError::Invalid(e.message))?;
        let display = DisplayName::parse(if name.is_empty() {
            "Imported coder"
        } else {
            name
        })
        .or_else(|_| DisplayName::parse("Imported coder"))
        .map_err(|e| ImportError::Invalid(e.message))?;
        let user = match store::users::by_email(self.db, email.as_str()).await? {
            Some(u) => u,
            None => store::users::insert(self.db, &email, &display, "!", false).await?,
        };
        store::members::add(self.db, self.project, user.id, Role::Coder).await?;
        self.report.coders += 1;
        Ok(user.id)
    }

    /// The codebook, within the level cap, written in one statement.
    async fn codebook(
        &mut self,
        mut codes: Vec<Code>,
    ) -> Result<HashMap<String, CodeId>, ImportError> {
        if unflatten(&mut codes) {
            self.report
                .adjusted
                .push("code names such as “A::B” were read as a hierarchy (B under A)".into());
        }
        let levels = crate::formats::refi::code_levels(&codes);
        if levels > code::MAX_LEVELS {
            return Err(ImportError::Invalid(format!(
                "the codebook nests codes {levels} levels deep; Parley keeps at most {} levels",
                code::MAX_LEVELS
            )));
        }
        // Every code as a row (parents first), then all rows at once.
        let mut rows: Vec<store::codes::TreeRow> = Vec::new();
        let mut guids: Vec<String> = Vec::new();
        let mut stack: Vec<(Option<usize>, Vec<Code>)> = vec![(None, codes)];
        while let Some((parent, level)) = stack.pop() {
            let mut taken = HashSet::new();
            for c in level {
                rows.push(self.code_row(&c, parent, &mut taken));
                guids.push(c.guid);
                self.report.codes += 1;
                if !c.children.is_empty() {
                    stack.push((Some(rows.len() - 1), c.children));
                }
            }
        }
        let ids = store::codes::insert_tree(self.db, self.project, self.owner, &rows)
            .await
            .map_err(|e| match e {
                store::codes::CodeError::Db(e) => ImportError::Db(e),
                other => ImportError::Invalid(other.to_string()),
            })?;
        Ok(guids
            .into_iter()
            .zip(ids)
            .filter(|(guid, _)| !guid.starts_with("implied:"))
            .collect())
    }

    /// One code as a row: a free name among its siblings (`taken`), its
    /// fields — Parley's own exact ones if the file has them, else read
    /// back from the description — and its memo from its other notes.
    fn code_row(
        &mut self,
        c: &Code,
        parent: Option<usize>,
        taken: &mut HashSet<String>,
    ) -> store::codes::TreeRow {
        let clean =
            code::name(&crate::domain::text::normalise(&c.name).replace(code::PATH_SEPARATOR, "/"))
                .unwrap_or_else(|_| "Unnamed code".to_owned());
        let name = free_name(&clean, taken);
        if name != clean {
            self.report.adjusted.push(format!(
                "two codes named “{clean}” under the same parent: the second is now “{name}”"
            ));
        }
        let is_fields = |r: &String| {
            self.notes
                .get(r)
                .is_some_and(|n| n.name.as_deref() == Some(FIELDS_NOTE))
        };
        let exact = c
            .notes
            .iter()
            .find(|r| is_fields(r))
            .and_then(|r| serde_json::from_str::<CodeFields>(&self.notes[r].text).ok());
        let (definition, inclusion, exclusion, example, shortcut) = match exact {
            Some(f) => (
                f.definition,
                f.inclusion,
                f.exclusion,
                f.example,
                f.shortcut.filter(|s| code::shortcut(s).is_ok()),
            ),
            None => {
                let (d, i, e, x) = undescribe(&c.description);
                (d, i, e, x, None)
            }
        };
        let memo_notes: Vec<String> = c.notes.iter().filter(|r| !is_fields(r)).cloned().collect();
        let memo_at = self.first_time(&memo_notes);
        let memo = long("memo", &self.note_text(&memo_notes).join("\n\n"));
        self.used_notes.extend(c.notes.iter().cloned());
        if !memo.is_empty() {
            self.report.memos += 1;
        }
        store::codes::TreeRow {
            parent,
            name,
            colour: lenient_colour(c.color.as_deref()),
            definition: long("definition", &definition),
            inclusion: long("inclusion", &inclusion),
            exclusion: long("exclusion", &exclusion),
            example: long("example", &example),
            memo,
            memo_at,
            shortcut,
        }
    }

    /// Participants from cases: a free label each, the group from its
    /// group variable (made when new), the other variables as attributes.
    async fn participants(
        &mut self,
        ex: &Exchange,
    ) -> Result<HashMap<String, ParticipantId>, ImportError> {
        let mut groups = store::groups::list(self.db, self.project).await?;
        let mut ids = HashMap::new();
        let mut labels_taken = HashSet::new();
        for (i, c) in ex.cases.iter().enumerate() {
            let raw = c
                .name
                .as_deref()
                .map(crate::domain::text::normalise)
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| format!("Case {}", i + 1));
            let label = participant::label(&raw).unwrap_or_else(|_| format!("Case {}", i + 1));
            let label = free_name(&label, &mut labels_taken);
            let mut group: Option<GroupId> = None;
            let mut attributes = Attributes::new();
            for v in &c.values {
                let n = self.var_name(v);
                if n.eq_ignore_ascii_case(GROUP_VARIABLE) || n.eq_ignore_ascii_case("group") {
                    if let Ok(gname) = participant::group_name(&v.value) {
                        group = Some(self.group(&mut groups, &gname).await?);
                    }
                } else if !v.value.trim().is_empty() {
                    attributes.insert(n.trim().to_owned(), v.value.trim().to_owned());
                }
            }
            let new = store::participants::NewParticipant {
                label,
                group,
                attributes: checked_attributes(&attributes),
            };
            let p = {
                let mut conn = self.db.acquire().await?;
                store::participants::insert(&mut conn, self.project, &new).await?
            };
            ids.insert(c.guid.clone(), p);
            self.report.participants += 1;
        }
        Ok(ids)
    }

    /// The group named `name` (any case), made when there is none.
    async fn group(
        &self,
        groups: &mut Vec<store::groups::Group>,
        name: &str,
    ) -> Result<GroupId, ImportError> {
        if let Some(g) = groups.iter().find(|g| g.name.eq_ignore_ascii_case(name)) {
            return Ok(g.id);
        }
        let id = store::groups::insert(self.db, self.project, name).await?;
        *groups = store::groups::list(self.db, self.project).await?;
        Ok(id)
    }

    /// A text source: its document, speakers, codings and memo.
    async fn source(
        &mut self,
        ex: &Exchange,
        s: &TextSource,
        landed: &Landed,
    ) -> Result<(), ImportError> {
        let Some(read) = self.source_text(ex, s) else {
            return Ok(());
        };
        let options = self.source_options(ex, s, landed);
        let (times, times_note) = self.time_marks(s);
        let transcript = transcripts::bounded_turns(&read.text)
            .map(|mut turns| {
                for t in &mut turns {
                    if let Some(ms) = times.get(&t.start) {
                        t.time_ms = Some(*ms);
                    }
                }
                turns
            })
            .and_then(|turns| {
                transcripts::checked(Transcript {
                    turns,
                    text: read.text.clone(),
                    format: "qdpx",
                })
            })
            .map_err(|e| ImportError::Invalid(format!("source “{}”: {e}", s.name)))?;
        let doc: DocumentId = transcripts::store(
            self.db,
            self.project,
            Some(self.owner),
            None,
            transcript,
            &options,
        )
        .await?;
        self.report.documents += 1;
        let mapping_note = self.speakers(ex, s, doc, &read, landed).await?;
        let mut memo = self.note_text(
            &s.notes
                .iter()
                .filter(|r| mapping_note.as_ref() != Some(*r) && times_note.as_ref() != Some(*r))
                .cloned()
                .collect::<Vec<_>>(),
        );
        self.used_notes.extend(s.notes.iter().cloned());
        if !s.description.trim().is_empty() {
            memo.insert(0, s.description.trim().to_owned());
        }
        self.selections(s, doc, &read, landed, &mut memo).await?;
        self.document_memo(s, doc, memo).await
    }

    /// Parley's time-marks note of a source: turn start → milliseconds, and
    /// the note's reference (so it is not read as a memo).
    fn time_marks(&self, s: &TextSource) -> (HashMap<usize, u64>, Option<String>) {
        let Some(r) = s.notes.iter().find(|r| {
            self.notes
                .get(*r)
                .is_some_and(|n| n.name.as_deref() == Some(TIMES_NOTE))
        }) else {
            return (HashMap::new(), None);
        };
        let marks = self.notes[r]
            .text
            .lines()
            .filter_map(|l| {
                let (start, ms) = l.trim().split_once(' ')?;
                Some((start.parse().ok()?, ms.parse().ok()?))
            })
            .collect();
        (marks, Some(r.clone()))
    }

    /// The source's text normalised, with positions read in the unit and
    /// CRLF count its selections fit; `None` (reported) when it has none.
    fn source_text(&mut self, ex: &Exchange, s: &TextSource) -> Option<SourceText> {
        let Some(raw) = s.text.as_ref().map(|t| t.replace('\0', " ")) else {
            self.report.not_imported.push(format!(
                "document “{}”: its text file ({}) is missing from the archive; its {} selection(s) were not imported",
                s.name,
                s.path.clone().unwrap_or_else(|| "no path".into()),
                s.selections.len()
            ));
            return None;
        };
        let sels: Vec<(i64, i64, Option<&str>)> = s
            .selections
            .iter()
            .map(|x| (x.start, x.end, x.name.as_deref()))
            .collect();
        let (unit, crlf, _score) = positions::choose_unit(&raw, &sels, ex.origin.as_deref());
        let (text, map) = positions::normalise_with_map(&raw, unit, crlf);
        if text.trim().is_empty() {
            self.report
                .not_imported
                .push(format!("document “{}”: its text is empty", s.name));
            return None;
        }
        let has_crlf = raw.contains("\r\n");
        if has_crlf || raw.chars().any(|c| c as u32 > 0xFFFF) {
            let unit_name = match unit {
                Unit::CodePoints => "code points",
                Unit::Utf16 => "UTF-16 units",
            };
            let crlf_name = match crlf {
                Crlf::Two => ", counting a CRLF line break as two",
                Crlf::One => ", counting a CRLF line break as one",
            };
            self.report.positions.push(format!(
                "“{}”: positions read as {unit_name}{}",
                s.name,
                if has_crlf { crlf_name } else { "" }
            ));
        }
        Some(SourceText { text, map })
    }

    /// How the source is filed: its title, kind, date, attributes (its
    /// variables and the sets it is in) and, when one case holds it whole,
    /// its participant.
    fn source_options(&self, ex: &Exchange, s: &TextSource, landed: &Landed) -> ImportOptions {
        let mut attributes = Attributes::new();
        let mut kind = None;
        let mut held_on = None;
        for v in &s.values {
            let n = self.var_name(v);
            if n == KIND_VARIABLE {
                kind = DocumentKind::parse(&v.value).ok();
            } else if n == DATE_VARIABLE {
                held_on = crate::domain::document::date(&v.value).ok().flatten();
            } else if !v.value.trim().is_empty() {
                attributes.insert(n, v.value.trim().to_owned());
            }
        }
        let sets: Vec<&str> = ex
            .sets
            .iter()
            .filter(|set| set.sources.contains(&s.guid))
            .map(|set| set.name.as_str())
            .collect();
        if !sets.is_empty() {
            attributes.insert("set".into(), sets.join("; "));
        }
        let owners: Vec<ParticipantId> = ex
            .cases
            .iter()
            .filter(|c| c.sources.contains(&s.guid))
            .filter_map(|c| landed.cases.get(&c.guid).copied())
            .collect();
        ImportOptions {
            title: Some(
                crate::domain::document::title(&s.name).unwrap_or_else(|_| "Untitled".into()),
            ),
            kind,
            held_on,
            attributes: checked_attributes(&attributes),
            participant: (owners.len() == 1).then(|| owners[0]),
        }
    }

    /// Map the document's speakers: Parley's own mapping note, else cases
    /// whose selections fall in a speaker's turns. Answers the mapping
    /// note's GUID, if the source had one.
    async fn speakers(
        &mut self,
        ex: &Exchange,
        s: &TextSource,
        doc: DocumentId,
        read: &SourceText,
        landed: &Landed,
    ) -> Result<Option<String>, ImportError> {
        let mapping_note = s
            .notes
            .iter()
            .filter_map(|r| self.notes.get(r))
            .find(|n| n.name.as_deref() == Some(SPEAKERS_NOTE))
            .map(|n| (n.guid.clone(), n.text.clone()));
        let speakers = store::documents::speakers(self.db, self.project, doc).await?;
        let mut wanted = match &mapping_note {
            Some((guid, text)) => {
                self.used_notes.push(guid.clone());
                mapping_from_note(text)
            }
            None => {
                let turns = store::documents::turns(self.db, self.project, doc).await?;
                mapping_from_cases(ex, s, read, landed, &turns, &speakers)
            }
        };
        wanted.retain(|w| speakers.iter().any(|sp| sp.label == w.label));
        if !wanted.is_empty() {
            super::documents::map_speakers(self.db, self.project, doc, &wanted, false)
                .await
                .map_err(|e| ImportError::Invalid(format!("“{}”: {e}", s.name)))?;
        }
        Ok(mapping_note.map(|(guid, _)| guid))
    }

    /// The source's selections: each coding of a known code by its coder
    /// (duplicates kept once); a selection without codes but with a memo
    /// becomes an annotation line of the document memo.
    async fn selections(
        &mut self,
        s: &TextSource,
        doc: DocumentId,
        read: &SourceText,
        landed: &Landed,
        memo: &mut Vec<String>,
    ) -> Result<(), ImportError> {
        let (mut bad, mut duplicates, mut unknown_codes) = (0usize, 0usize, 0usize);
        for sel in &s.selections {
            let mapped = match positions::map(&read.map, sel.start, sel.end) {
                Ok(m) => m,
                Err(e) => {
                    bad += 1;
                    if bad <= 5 {
                        self.report.not_imported.push(format!(
                            "“{}”: a selection at {}–{} was not imported ({e})",
                            s.name, sel.start, sel.end
                        ));
                    }
                    continue;
                }
            };
            let mut sel_memo = self.note_text(&sel.notes);
            self.used_notes.extend(sel.notes.iter().cloned());
            if !sel.description.trim().is_empty() {
                sel_memo.insert(0, sel.description.trim().to_owned());
            }
            if sel.codings.is_empty() {
                // A selection that only marks whose turn it is (a case's
                // SelectionRef) carries nothing to keep.
                if !sel_memo.is_empty() {
                    memo.push(annotation(&read.text, mapped.start, mapped.end, &sel_memo));
                }
                continue;
            }
            for c in &sel.codings {
                let Some(code) = landed.codes.get(&c.code) else {
                    unknown_codes += 1;
                    continue;
                };
                let star = |r: &String| {
                    self.notes
                        .get(r)
                        .is_some_and(|n| n.name.as_deref() == Some(STAR_NOTE))
                };
                let starred = c.notes.iter().any(star);
                let memo_refs: Vec<String> = c.notes.iter().filter(|r| !star(r)).cloned().collect();
                let mut m = sel_memo.clone();
                // The same memo in the selection's description and in a
                // note (as Parley writes it) is kept once.
                for t in self.note_text(&memo_refs) {
                    if !m.contains(&t) {
                        m.push(t);
                    }
                }
                self.used_notes.extend(c.notes.iter().cloned());
                let created = c
                    .created
                    .as_deref()
                    .or(sel.created.as_deref())
                    .and_then(|t| {
                        time::OffsetDateTime::parse(
                            t,
                            &time::format_description::well_known::Rfc3339,
                        )
                        .ok()
                    });
                let coder = c
                    .user
                    .as_ref()
                    .or(sel.user.as_ref())
                    .and_then(|u| landed.coders.get(u))
                    .copied()
                    .unwrap_or(self.owner);
                let new = NewCoding {
                    document: doc,
                    code: *code,
                    start: mapped.start as i32,
                    end: mapped.end as i32,
                    memo: code::long_text("memo", &m.join("\n\n")).unwrap_or_default(),
                };
                let with_memo = !new.memo.is_empty();
                match store::codings::insert(self.db, self.project, coder, new).await {
                    Ok((coding, true)) => {
                        if starred || created.is_some() {
                            store::codings::restore(self.db, coding.id, starred, created).await?;
                        }
                        self.report.codings += 1;
                        if with_memo {
                            self.report.memos += 1;
                        }
                    }
                    Ok((_, false)) => duplicates += 1,
                    Err(store::codings::CodingError::Db(e)) => return Err(e.into()),
                    Err(e) => return Err(ImportError::Invalid(format!("“{}”: {e}", s.name))),
                }
            }
        }
        self.selection_notes(&s.name, bad, duplicates, unknown_codes);
        Ok(())
    }

    /// What the report says of a source's selections that were not kept.
    fn selection_notes(&mut self, name: &str, bad: usize, duplicates: usize, unknown: usize) {
        if bad > 5 {
            self.report.not_imported.push(format!(
                "“{name}”: {} more selections outside the text were not imported",
                bad - 5
            ));
        }
        if duplicates > 0 {
            self.report.adjusted.push(format!(
                "“{name}”: {duplicates} coding(s) repeated the same code on the same passage by the same coder and were kept once"
            ));
        }
        if unknown > 0 {
            self.report.not_imported.push(format!(
                "“{name}”: {unknown} coding(s) name a code that is not in the codebook"
            ));
        }
    }

    /// The document's memo: its notes, description and annotations.
    async fn document_memo(
        &mut self,
        s: &TextSource,
        doc: DocumentId,
        memo: Vec<String>,
    ) -> Result<(), ImportError> {
        if memo.is_empty() {
            return Ok(());
        }
        let all = memo.join("\n\n");
        let text = code::long_text("memo", &all).unwrap_or_else(|_| {
            self.report.adjusted.push(format!(
                "“{}”: its memo and annotations ({} characters) were cut to the first 20,000",
                s.name,
                all.chars().count()
            ));
            all.chars().take(20_000).collect()
        });
        store::memos::set_document(self.db, self.project, doc, self.owner, &text).await?;
        if let Some(at) = self.first_time(&s.notes) {
            store::memos::restore_time(self.db, store::memos::MemoOn::Document, doc.0, at).await?;
        }
        self.report.memos += 1;
        Ok(())
    }

    /// The project's memo: its own notes, and notes nothing else used.
    async fn project_memo(&mut self, ex: &Exchange) -> Result<(), ImportError> {
        self.used_notes.sort();
        let mut parts: Vec<String> = Vec::new();
        for n in &ex.notes {
            if !ex.project_notes.contains(&n.guid) && self.used_notes.binary_search(&n.guid).is_ok()
            {
                continue;
            }
            let t = n.text.trim();
            if t.is_empty() {
                continue;
            }
            parts.push(match &n.name {
                Some(name) if !name.trim().is_empty() && name != "Project memo" => {
                    format!("{}\n{t}", name.trim())
                }
                _ => t.to_owned(),
            });
        }
        if parts.is_empty() {
            return Ok(());
        }
        let all = parts.join("\n\n");
        let text =
            code::long_text("memo", &all).unwrap_or_else(|_| all.chars().take(20_000).collect());
        store::memos::set_project(self.db, self.project, self.owner, &text).await?;
        if let Some(at) = self.first_time(&ex.project_notes) {
            store::memos::restore_time(self.db, store::memos::MemoOn::Project, self.project.0, at)
                .await?;
        }
        self.report.memos += 1;
        Ok(())
    }

    /// Sources and parts of the file that are not text: listed, with why.
    fn left_out(&mut self, ex: &Exchange) {
        for o in &ex.other_sources {
            self.report.not_imported.push(format!(
                "{} “{}”: only text sources can be imported{}",
                o.kind,
                o.name,
                if o.codings > 0 {
                    format!(" ({} coding(s) on it were left out)", o.codings)
                } else {
                    String::new()
                }
            ));
        }
        self.report.not_imported.extend(ex.skipped.iter().cloned());
    }
}

/// A long field as Parley keeps it, cut to 20,000 characters if longer.
fn long(field: &'static str, s: &str) -> String {
    code::long_text(field, s).unwrap_or_else(|_| s.chars().take(20_000).collect())
}

/// Attributes as Parley keeps them; ones it cannot are dropped.
fn checked_attributes(attributes: &Attributes) -> Attributes {
    participant::attributes(attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_or_default()
}

/// `label = P03` / `label = interviewer` lines of Parley's mapping note.
fn mapping_from_note(text: &str) -> Vec<super::documents::WantedMapping> {
    text.lines()
        .filter_map(|line| line.split_once(" = "))
        .map(|(label, target)| {
            let role = match target.trim() {
                "interviewer" => Some(SpeakerRole::Interviewer),
                "unassigned" => Some(SpeakerRole::Unassigned),
                _ => None,
            };
            super::documents::WantedMapping {
                label: label.trim().to_owned(),
                participant: role.is_none().then(|| target.trim().to_owned()),
                role,
            }
        })
        .collect()
}

/// Unmapped speakers whose turns a case's selections fall in, mapped to
/// that case's participant (the first case for a speaker wins).
fn mapping_from_cases(
    ex: &Exchange,
    s: &TextSource,
    read: &SourceText,
    landed: &Landed,
    turns: &[crate::domain::turns::Turn],
    speakers: &[store::documents::Speaker],
) -> Vec<super::documents::WantedMapping> {
    let mut wanted: Vec<super::documents::WantedMapping> = Vec::new();
    for c in &ex.cases {
        let Some(pid) = landed.cases.get(&c.guid) else {
            continue;
        };
        for sel in s
            .selections
            .iter()
            .filter(|x| c.selections.contains(&x.guid))
        {
            let Ok(m) = positions::map(&read.map, sel.start, sel.end) else {
                continue;
            };
            for t in turns.iter().filter(|t| t.start < m.end && t.end > m.start) {
                if let Some(label) = &t.speaker
                    && speakers
                        .iter()
                        .any(|sp| &sp.label == label && sp.role == SpeakerRole::Unassigned)
                    && !wanted.iter().any(|w| &w.label == label)
                {
                    wanted.push(super::documents::WantedMapping {
                        label: label.clone(),
                        participant: Some(pid.0.to_string()),
                        role: None,
                    });
                }
            }
        }
    }
    wanted
}

/// A selection without codes, as a line of the document memo.
fn annotation(text: &str, start: usize, end: usize, memo: &[String]) -> String {
    let quoted: String = text
        .chars()
        .skip(start)
        .take((end - start).min(120))
        .collect();
    let note = if memo.is_empty() {
        String::new()
    } else {
        format!(" — {}", memo.join(" "))
    };
    format!("Annotation at {start}–{end} “{}”{note}", quoted.trim())
}

/// Codes of an exchange (a `.qdc`) added to an existing project's codebook
/// by path, like a codebook CSV.
pub fn codes_as_imported(ex: &mut Exchange) -> Vec<store::codes::ImportedCode> {
    unflatten(&mut ex.codes);
    let mut out = Vec::new();
    let mut stack: Vec<(Vec<String>, &Code)> = ex
        .codes
        .iter()
        .rev()
        .map(|c| (vec![c.name.clone()], c))
        .collect();
    while let Some((path, c)) = stack.pop() {
        let (definition, inclusion, exclusion, example) = undescribe(&c.description);
        let path: Vec<String> = path
            .iter()
            .map(|p| {
                code::name(&p.replace(code::PATH_SEPARATOR, "/"))
                    .unwrap_or_else(|_| "Unnamed code".into())
            })
            .collect();
        out.push(store::codes::ImportedCode {
            path: path.clone(),
            definition,
            inclusion,
            exclusion,
            example,
            colour: lenient_colour(c.color.as_deref()),
            shortcut: None,
        });
        for child in c.children.iter().rev() {
            let mut p = path.clone();
            p.push(child.name.clone());
            stack.push((p, child));
        }
    }
    out
}

/// The codebook alone as an exchange (for `.qdc`).
pub async fn export_codebook(db: &PgPool, project: ProjectId) -> anyhow::Result<Exchange> {
    let mut ex = export_parts(db, project, false).await?;
    ex.sources.clear();
    ex.cases.clear();
    ex.variables.clear();
    ex.notes.clear();
    fn strip(codes: &mut [Code]) {
        for c in codes {
            c.notes.clear();
            strip(&mut c.children);
        }
    }
    strip(&mut ex.codes);
    Ok(ex)
}

/// The project as a `.qdpx` archive, for a member: it holds every coder's
/// codings, so while coding is blind only owners export it.
pub async fn qdpx_for(db: &PgPool, access: &super::Access) -> Result<Vec<u8>> {
    if access.sees_only().is_some() {
        return Err(Error::Forbidden(format!(
            "{}; the project file holds everyone's, so only owners export it",
            super::BLIND
        )));
    }
    qdpx_bytes(db, access.id()).await
}

/// The project as a `.qdpx` archive.
pub async fn qdpx_bytes(db: &PgPool, project: ProjectId) -> Result<Vec<u8>> {
    let ex = export(db, project).await.map_err(Error::internal)?;
    tokio::task::spawn_blocking(move || write::qdpx(&ex))
        .await?
        .map_err(Error::internal)
}

/// The codebook as a `.qdc` document.
pub async fn qdc_text(db: &PgPool, project: ProjectId) -> Result<String> {
    let ex = export_codebook(db, project)
        .await
        .map_err(Error::internal)?;
    if ex.codes.is_empty() {
        // The codebook schema requires at least one code.
        return Err(Error::Conflict(
            "the codebook is empty: add codes before exporting it as .qdc".into(),
        ));
    }
    Ok(write::qdc(&ex))
}

impl From<ImportError> for Error {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Invalid(m) => Error::invalid("file", m),
            ImportError::Db(e) => e.into(),
        }
    }
}

/// Read a `.qdpx` and import it as a new project owned by `user`.
pub async fn import_bytes(
    db: &PgPool,
    user: UserId,
    bytes: Vec<u8>,
) -> Result<(ProjectId, Report)> {
    let ex = tokio::task::spawn_blocking(move || read::read_qdpx(&bytes, &ZipLimits::default()))
        .await?
        .map_err(|e| ValidationError::new("file", e.to_string()))?;
    Ok(import(db, user, ex).await?)
}

/// Does this upload look like a REFI-QDA codebook (XML) rather than CSV?
pub fn is_qdc(bytes: &[u8]) -> bool {
    let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    text.iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'<')
}

/// Add a `.qdc` codebook's codes to a project (all or nothing).
pub async fn import_qdc(
    db: &PgPool,
    project: ProjectId,
    user: UserId,
    bytes: &[u8],
) -> Result<ImportOutcome> {
    let mut ex = read::read_qdc(bytes).map_err(|e| ValidationError::new("file", e.to_string()))?;
    let codes = codes_as_imported(&mut ex);
    if codes.is_empty() {
        return Err(Error::invalid("file", "the codebook has no codes"));
    }
    if let Some(deep) = codes.iter().find(|c| c.path.len() > code::MAX_LEVELS) {
        return Err(Error::invalid(
            "file",
            format!(
                "“{}” sits {} levels deep; a codebook has at most {} levels",
                deep.path.last().map_or("", String::as_str),
                deep.path.len(),
                code::MAX_LEVELS
            ),
        ));
    }
    Ok(store::codes::import(db, project, user, &codes).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_fields_survive_the_description() {
        let c = store::codes::Code {
            id: CodeId(1),
            parent_id: None,
            name: "Sanctuary".into(),
            path: "Sanctuary".into(),
            depth: 0,
            colour: Colour::parse("#4e79a7").unwrap(),
            definition: "The ward as a refuge.\n\nTwo paragraphs.".into(),
            inclusion: "Calm, safety".into(),
            exclusion: "Asylum".into(),
            example: "“It felt like a sanctuary”".into(),
            shortcut: None,
            position: 1,
            memo: String::new(),
            version: 1,
            codings: 0,
            updated_at: OffsetDateTime::UNIX_EPOCH,
        };
        let (d, i, e, x) = undescribe(&describe(&c));
        assert_eq!(
            (d.as_str(), i.as_str(), e.as_str(), x.as_str()),
            (
                c.definition.as_str(),
                "Calm, safety",
                "Asylum",
                "“It felt like a sanctuary”"
            )
        );
        assert_eq!(undescribe("Just a description").0, "Just a description");
    }

    #[test]
    fn colours_are_read_leniently() {
        assert_eq!(lenient_colour(Some("#FF0000")).unwrap().as_str(), "#ff0000");
        assert_eq!(
            lenient_colour(Some("#ff000080")).unwrap().as_str(),
            "#ff0000"
        );
        assert_eq!(
            lenient_colour(Some("rgb(0, 128, 255)")).unwrap().as_str(),
            "#0080ff"
        );
        assert_eq!(lenient_colour(Some("255,0,0")).unwrap().as_str(), "#ff0000");
        assert!(lenient_colour(Some("blue-ish")).is_none());
    }

    #[test]
    fn flattened_names_become_a_tree() {
        let code = |g: &str, n: &str| Code {
            guid: g.into(),
            name: n.into(),
            codable: true,
            ..Code::default()
        };
        let mut codes = vec![
            code("1", "Coke"),
            code("2", "Coke::diet Coke"),
            code("3", "Pepsi::max"),
            code("4", "Fanta"),
        ];
        assert!(unflatten(&mut codes));
        let names: Vec<&str> = codes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["Coke", "Pepsi", "Fanta"]);
        assert_eq!(codes[0].guid, "1");
        assert_eq!(codes[0].children[0].name, "diet Coke");
        assert_eq!(codes[0].children[0].guid, "2");
        assert!(codes[1].guid.starts_with("implied:"));
        assert_eq!(codes[1].children[0].guid, "3");
    }
}
