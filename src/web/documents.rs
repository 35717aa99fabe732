//! Documents: upload (many files at once), the transcript page with its
//! speaker mapping, editing and deleting. The rules here (reading uploads,
//! resolving options, mapping speakers) are shared with the JSON API.

use super::error::{AppError, Result};
use super::extract::{Chrome, Form, MinRole, Path, ProjectAccess, need};
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::ValidationError;
use crate::domain::document::{self, DocumentKind};
use crate::domain::ids::{DocumentId, GroupId, ParticipantId, ProjectId};
use crate::domain::participant::{self, Attributes};
use crate::domain::speakers::{Mapping, SpeakerRole};
use crate::domain::turns::Turn;
use crate::store;
use crate::store::documents::{DocumentChanges, DocumentSummary, Speaker};
use crate::store::groups::Group;
use crate::store::participants::{NewParticipant, Participant};
use crate::transcripts::{self, ImportError, ImportOptions};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/documents",
            get(list_documents).post(upload_documents),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}",
            get(show_document),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/edit",
            get(edit_document).post(update_document),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/delete",
            get(confirm_delete).post(delete_document),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/speakers",
            post(map_speakers_form),
        )
}

/// Most files in one upload request.
pub const MAX_FILES: usize = 500;

/// One uploaded file.
pub struct Upload {
    pub filename: String,
    pub bytes: Vec<u8>,
}

/// Options as sent (form fields or JSON), parsed by [`resolve_options`].
#[derive(Debug, Default, Clone)]
pub struct UploadOptions {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub held_on: Option<String>,
    /// A participant's label or id.
    pub participant: Option<String>,
    pub attributes: Attributes,
}

/// A file that was not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub file: String,
    #[serde(rename = "status")]
    pub status_code: u16,
    pub error: String,
}

impl FileError {
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status_code).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
    }
}

pub struct ImportOutcome {
    pub created: Vec<DocumentId>,
    pub errors: Vec<FileError>,
}

/// Collect the files and option fields of an upload form.
pub async fn read_multipart(mut multipart: Multipart) -> Result<(Vec<Upload>, UploadOptions)> {
    let mut files = Vec::new();
    let mut options = UploadOptions::default();
    while let Some(field) = multipart.next_field().await? {
        let name = field.name().unwrap_or("").to_owned();
        match name.as_str() {
            "file" | "files" | "file[]" | "files[]" => {
                let filename = field.file_name().unwrap_or("upload.txt").to_owned();
                let bytes = field.bytes().await?.to_vec();
                // A form's empty file input sends one nameless, empty part.
                if filename.is_empty() && bytes.is_empty() {
                    continue;
                }
                if files.len() == MAX_FILES {
                    return Err(AppError::BadRequest(format!(
                        "at most {MAX_FILES} files can be uploaded at once"
                    )));
                }
                files.push(Upload { filename, bytes });
            }
            "kind" | "title" | "held_on" | "participant" => {
                let value = field.text().await?;
                let value = Some(value.trim().to_owned()).filter(|v| !v.is_empty());
                match name.as_str() {
                    "kind" => options.kind = value,
                    "title" => options.title = value,
                    "held_on" => options.held_on = value,
                    _ => options.participant = value,
                }
            }
            _ => {}
        }
    }
    if files.is_empty() {
        return Err(AppError::BadRequest(
            "choose at least one file to upload (form field `file`)".into(),
        ));
    }
    Ok((files, options))
}

/// Parse the options once for a whole upload.
pub async fn resolve_options(
    db: &PgPool,
    project: ProjectId,
    o: &UploadOptions,
) -> Result<ImportOptions> {
    let kind = o.kind.as_deref().map(DocumentKind::parse).transpose()?;
    let held_on = match o.held_on.as_deref() {
        Some(d) => document::date(d)?,
        None => None,
    };
    let title = o.title.as_deref().map(document::title).transpose()?;
    let participant = match o.participant.as_deref() {
        Some(p) => Some(find_participant(db, project, p).await?),
        None => None,
    };
    let attributes =
        participant::attributes(o.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(ImportOptions {
        title,
        kind,
        held_on,
        attributes,
        participant,
    })
}

/// A participant named by label (ignoring case) or by id.
pub async fn find_participant(
    db: &PgPool,
    project: ProjectId,
    name: &str,
) -> Result<ParticipantId> {
    let name = name.trim();
    let all = store::participants::list(db, project).await?;
    all.iter()
        .find(|p| p.label.to_lowercase() == name.to_lowercase())
        .or_else(|| all.iter().find(|p| p.id.0.to_string() == name))
        .map(|p| p.id)
        .ok_or_else(|| {
            ValidationError::new(
                "participant",
                format!("there is no participant “{name}” in this project"),
            )
            .into()
        })
}

/// Import each file as its own document. A bad file is reported and skipped;
/// it stops nothing and leaves nothing behind.
pub async fn import_files<R: MinRole>(
    db: &PgPool,
    access: &ProjectAccess<R>,
    files: Vec<Upload>,
    options: &UploadOptions,
) -> Result<ImportOutcome> {
    let mut options = resolve_options(db, access.id(), options).await?;
    if files.len() > 1 {
        // A title names one document; with several, each takes its file name.
        options.title = None;
    }
    let mut outcome = ImportOutcome {
        created: Vec::new(),
        errors: Vec::new(),
    };
    for Upload { filename, bytes } in files {
        let name = filename.clone();
        let read =
            tokio::task::spawn_blocking(move || transcripts::read_file(&name, &bytes)).await?;
        match read {
            Ok(transcript) => {
                let id = transcripts::store(
                    db,
                    access.id(),
                    Some(access.user.id),
                    Some(&filename),
                    transcript,
                    &options,
                )
                .await?;
                outcome.created.push(id);
            }
            Err(e) => outcome.errors.push(FileError {
                file: filename,
                status_code: match e {
                    ImportError::Unsupported(_) => 415,
                    ImportError::Invalid(_) => 422,
                },
                error: e.to_string(),
            }),
        }
    }
    Ok(outcome)
}

/// Import text posted as JSON.
pub async fn import_text<R: MinRole>(
    db: &PgPool,
    access: &ProjectAccess<R>,
    raw: &str,
    options: &UploadOptions,
) -> Result<DocumentId> {
    let options = resolve_options(db, access.id(), options).await?;
    if options.title.is_none() {
        return Err(ValidationError::new("title", "a document needs a title").into());
    }
    let transcript =
        transcripts::read_text(raw).map_err(|e| ValidationError::new("text", e.to_string()))?;
    Ok(transcripts::store(
        db,
        access.id(),
        Some(access.user.id),
        None,
        transcript,
        &options,
    )
    .await?)
}

/// A turn as the API shows it: positions in code points, `time` as
/// `hh:mm:ss` (and `time_ms`) when the transcript has times.
#[derive(Debug, Clone, Serialize)]
pub struct TurnView {
    pub speaker: Option<String>,
    pub start: usize,
    pub end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<u64>,
}

impl From<Turn> for TurnView {
    fn from(t: Turn) -> Self {
        TurnView {
            time: t.time_ms.map(clock),
            speaker: t.speaker,
            start: t.start,
            end: t.end,
            time_ms: t.time_ms,
        }
    }
}

/// `3723000` → `01:02:03`.
pub fn clock(ms: u64) -> String {
    let s = ms / 1000;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[derive(Debug, Clone, Serialize)]
pub struct DocumentDetail {
    #[serde(flatten)]
    pub summary: DocumentSummary,
    pub text: String,
    pub turns: Vec<TurnView>,
    pub speakers: Vec<Speaker>,
}

pub async fn detail(db: &PgPool, project: ProjectId, id: DocumentId) -> Result<DocumentDetail> {
    let summary = store::documents::get(db, project, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let text = store::documents::text(db, project, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let turns = store::documents::turns(db, project, id).await?;
    let speakers = store::documents::speakers(db, project, id).await?;
    Ok(DocumentDetail {
        summary,
        text,
        turns: turns.into_iter().map(TurnView::from).collect(),
        speakers,
    })
}

pub fn parse_changes(
    title: Option<&str>,
    kind: Option<&str>,
    held_on: Option<&str>,
    attributes: Option<Attributes>,
) -> Result<DocumentChanges> {
    Ok(DocumentChanges {
        title: title.map(document::title).transpose()?,
        kind: kind.map(DocumentKind::parse).transpose()?,
        held_on: held_on.map(document::date).transpose()?,
        attributes: attributes
            .map(|a| participant::attributes(a.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            .transpose()?,
    })
}

/// A mapping as asked for: a participant (label or id), or a role.
pub struct WantedMapping {
    pub label: String,
    pub participant: Option<String>,
    pub role: Option<SpeakerRole>,
}

/// Re-map speakers of a document (or, `everywhere`, of every document with
/// the same labels).
pub async fn map_speakers(
    db: &PgPool,
    project: ProjectId,
    doc: DocumentId,
    wanted: &[WantedMapping],
    everywhere: bool,
) -> Result<()> {
    if store::documents::get(db, project, doc).await?.is_none() {
        return Err(AppError::NotFound);
    }
    let current = store::documents::speakers(db, project, doc).await?;
    let mut mappings = Vec::with_capacity(wanted.len());
    for w in wanted {
        let Some(speaker) = current.iter().find(|s| s.label == w.label).or_else(|| {
            current
                .iter()
                .find(|s| s.label.to_lowercase() == w.label.to_lowercase())
        }) else {
            let known: Vec<&str> = current.iter().map(|s| s.label.as_str()).collect();
            return Err(ValidationError::new(
                "label",
                format!(
                    "“{}” is not a speaker of this document (its speakers: {})",
                    w.label,
                    known.join(", ")
                ),
            )
            .into());
        };
        let participant = match (&w.participant, w.role) {
            (Some(p), None | Some(SpeakerRole::Participant)) => {
                Some(find_participant(db, project, p).await?)
            }
            (None, Some(SpeakerRole::Participant)) => {
                return Err(ValidationError::new(
                    "participant",
                    "name the participant (participant_id or participant)",
                )
                .into());
            }
            (Some(_), Some(_)) => {
                return Err(ValidationError::new(
                    "role",
                    "a speaker is either a participant or the interviewer, not both",
                )
                .into());
            }
            (None, _) => None,
        };
        mappings.push(Mapping {
            label: speaker.label.clone(),
            participant,
            interviewer: w.role == Some(SpeakerRole::Interviewer),
        });
    }
    match store::documents::set_speakers(db, project, doc, &mappings, everywhere).await {
        Err(e) if store::violated_constraint(&e) == Some(store::documents::NO_SUCH_PARTICIPANT) => {
            Err(ValidationError::new("participant", "no such participant in this project").into())
        }
        other => other.map(|_| ()).map_err(AppError::from),
    }
}

// ---- pages ----

#[derive(Template, WebTemplate)]
#[template(path = "documents/list.html")]
struct DocumentsPage {
    chrome: Chrome,
    project: store::projects::MemberProject,
    tab: &'static str,
    documents: Vec<DocumentSummary>,
    participants: Vec<Participant>,
    kinds: [DocumentKind; 3],
    can_edit: bool,
    max_mib: usize,
}

async fn list_documents(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<DocumentsPage> {
    let (documents, _) = store::documents::list(&state.db, access.id(), 10_000, 0).await?;
    let participants = store::participants::list(&state.db, access.id()).await?;
    Ok(DocumentsPage {
        chrome,
        can_edit: access.role() != crate::domain::project::Role::Viewer,
        project: access.project,
        tab: "documents",
        documents,
        participants,
        kinds: DocumentKind::ALL,
        max_mib: state.config.max_upload_mib,
    })
}

async fn upload_documents(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    multipart: Multipart,
) -> Result<Redirect> {
    let back = format!("/projects/{}/documents", access.id());
    let (files, options) = match read_multipart(multipart).await {
        Ok(read) => read,
        Err(e) => return back_with(&session, &back, e).await,
    };
    let outcome = match import_files(&state.db, &access, files, &options).await {
        Ok(o) => o,
        Err(e) => return back_with(&session, &back, e).await,
    };
    let n = outcome.created.len();
    if n > 0 {
        super::extract::flash(
            &session,
            true,
            format!("{n} document{} imported.", if n == 1 { "" } else { "s" }),
        )
        .await?;
    }
    for e in &outcome.errors {
        super::extract::flash(&session, false, format!("{}: {}", e.file, e.error)).await?;
    }
    Ok(Redirect::to(&back))
}

/// A stretch of the transcript as shown: a turn, or text between turns.
/// `start` is the code-point position of `text` in the document, which the
/// coding page's script uses to turn a selection into a range.
struct Segment {
    turn: Option<TurnSegment>,
    text: String,
    start: usize,
}

struct TurnSegment {
    /// The label as written at the start of the text, shown in bold; it
    /// starts where the turn starts.
    label_prefix: String,
    label_start: usize,
    time: Option<String>,
    colour: usize,
    participant: Option<String>,
    group: Option<String>,
    role: SpeakerRole,
}

fn leading_newlines(s: &str) -> usize {
    s.chars().take_while(|c| *c == '\n').count()
}

/// Split the text into turns and the stretches between them.
fn segments(body: &str, turns: &[Turn], speakers: &[Speaker]) -> Vec<Segment> {
    let chars: Vec<char> = body.chars().collect();
    let take = |a: usize, b: usize| {
        chars[a.min(chars.len())..b.min(chars.len())]
            .iter()
            .collect::<String>()
    };
    let mut out = Vec::new();
    let mut pos = 0;
    for t in turns {
        if t.start > pos {
            let between = take(pos, t.start);
            if !between.trim().is_empty() {
                out.push(Segment {
                    turn: None,
                    start: pos + leading_newlines(&between),
                    text: between.trim_matches('\n').to_owned(),
                });
            }
        }
        let mut text = take(t.start, t.end);
        let label = t.speaker.clone().unwrap_or_default();
        let label_prefix = match text.find(&label) {
            Some(i) if !label.is_empty() && i < 40 => {
                let end = text[i + label.len()..]
                    .find(':')
                    .filter(|&j| j <= 2)
                    .map_or(i + label.len(), |j| i + label.len() + j + 1);
                let prefix = text[..end].to_owned();
                text = text[end..].to_owned();
                prefix
            }
            _ => String::new(),
        };
        let speaker = speakers
            .iter()
            .find(|s| Some(&s.label) == t.speaker.as_ref());
        let start = t.start + label_prefix.chars().count();
        out.push(Segment {
            start,
            turn: Some(TurnSegment {
                label_start: t.start,
                colour: speakers
                    .iter()
                    .position(|s| Some(&s.label) == t.speaker.as_ref())
                    .map_or(0, |i| i % 8 + 1),
                label_prefix,
                time: t.time_ms.map(clock),
                participant: speaker.and_then(|s| s.participant.clone()),
                group: speaker.and_then(|s| s.group.clone()),
                role: speaker.map_or(SpeakerRole::Unassigned, |s| s.role),
            }),
            text,
        });
        pos = t.end;
    }
    if pos < chars.len() {
        let rest = take(pos, chars.len());
        if !rest.trim().is_empty() {
            out.push(Segment {
                turn: None,
                start: pos + leading_newlines(&rest),
                text: rest.trim_matches('\n').to_owned(),
            });
        }
    }
    out
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/show.html")]
struct DocumentPage {
    chrome: Chrome,
    project: store::projects::MemberProject,
    tab: &'static str,
    doc: DocumentSummary,
    segments: Vec<Segment>,
    speakers: Vec<Speaker>,
    participants: Vec<Participant>,
    groups: Vec<Group>,
    can_edit: bool,
    codes: Vec<store::codes::Code>,
    memo: String,
    /// What the coding script starts from (codes, codings, coders), as JSON
    /// safe to place inside a `<script type="application/json">`.
    state_json: String,
}

/// The coding page's starting state.
#[derive(Serialize)]
struct CodingState<'a> {
    project: ProjectId,
    document: DocumentId,
    me: crate::domain::ids::UserId,
    can_code: bool,
    is_owner: bool,
    fingerprint: String,
    codes: &'a [store::codes::Code],
    codings: Vec<store::codings::Mark>,
    coders: Vec<Coder>,
}

#[derive(Serialize)]
struct Coder {
    id: crate::domain::ids::UserId,
    name: String,
}

/// JSON that cannot close the `<script>` element it sits in.
fn script_json<T: Serialize>(value: &T) -> Result<String> {
    let json = serde_json::to_string(value).map_err(AppError::internal)?;
    Ok(json
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026"))
}

async fn show_document(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<DocumentPage> {
    let d = detail(&state.db, access.id(), id).await?;
    let turns: Vec<Turn> = d
        .turns
        .iter()
        .map(|t| Turn {
            speaker: t.speaker.clone(),
            start: t.start,
            end: t.end,
            time_ms: t.time_ms,
        })
        .collect();
    let db = &state.db;
    let project = access.id();
    let codes = store::codes::outline(db, project).await?;
    let coders = store::members::list(db, project)
        .await?
        .into_iter()
        .map(|m| Coder {
            id: m.user_id,
            name: m.name,
        })
        .collect();
    let role = access.role();
    let state_json = script_json(&CodingState {
        project,
        document: id,
        me: access.user.id,
        can_code: role != crate::domain::project::Role::Viewer,
        is_owner: role == crate::domain::project::Role::Owner,
        fingerprint: store::codings::fingerprint(db, project, id).await?,
        codes: &codes,
        codings: store::codings::marks(db, project, id).await?,
        coders,
    })?;
    Ok(DocumentPage {
        chrome,
        memo: store::memos::get_document(db, project, id)
            .await?
            .unwrap_or_default(),
        codes,
        state_json,
        segments: segments(&d.text, &turns, &d.speakers),
        speakers: d.speakers,
        doc: d.summary,
        participants: store::participants::list(&state.db, access.id()).await?,
        groups: store::groups::list(&state.db, access.id()).await?,
        can_edit: access.role() != crate::domain::project::Role::Viewer,
        project: access.project,
        tab: "documents",
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/edit.html")]
struct EditPage {
    chrome: Chrome,
    project: store::projects::MemberProject,
    tab: &'static str,
    doc: DocumentSummary,
    kinds: [DocumentKind; 3],
    held_on: String,
    attributes: String,
}

async fn edit_document(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<EditPage> {
    let doc = store::documents::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(EditPage {
        chrome,
        held_on: doc.held_on.map(|d| d.to_string()).unwrap_or_default(),
        attributes: participant::to_lines(&doc.attributes),
        doc,
        project: access.project,
        tab: "documents",
        kinds: DocumentKind::ALL,
    })
}

#[derive(Deserialize)]
struct EditForm {
    title: String,
    kind: String,
    #[serde(default)]
    held_on: String,
    #[serde(default)]
    attributes: String,
}

async fn update_document(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Form(form): Form<EditForm>,
) -> Result<Redirect> {
    let edit = format!("/projects/{}/documents/{id}/edit", access.id());
    let changes = participant::attribute_lines(&form.attributes)
        .map_err(AppError::from)
        .and_then(|a| {
            parse_changes(
                Some(&form.title),
                Some(&form.kind),
                Some(&form.held_on),
                Some(a),
            )
        });
    let changes = match changes {
        Ok(c) => c,
        Err(e) => return back_with(&session, &edit, e).await,
    };
    if !store::documents::update(&state.db, access.id(), id, &changes).await? {
        return Err(AppError::NotFound);
    }
    done(
        &session,
        &format!("/projects/{}/documents/{id}", access.id()),
        "Document saved.",
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/delete.html")]
struct DeletePage {
    chrome: Chrome,
    project: store::projects::MemberProject,
    tab: &'static str,
    doc: DocumentSummary,
}

async fn confirm_delete(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<DeletePage> {
    let doc = store::documents::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(DeletePage {
        chrome,
        doc,
        project: access.project,
        tab: "documents",
    })
}

async fn delete_document(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<Redirect> {
    let doc = store::documents::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::documents::delete(&state.db, access.id(), id).await?;
    done(
        &session,
        &format!("/projects/{}/documents", access.id()),
        format!("“{}” deleted.", doc.title),
    )
    .await
}

/// The mapping form: `label_N` with `map_N` = `unassigned`, `interviewer`,
/// `p:<participant id>` or `new:<group id>` (a new participant named after
/// the label), and `everywhere` to apply to every document.
async fn map_speakers_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/documents/{id}", access.id());
    let value = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let everywhere = value("everywhere").is_some();
    let mut wanted = Vec::new();
    for (key, label) in fields.iter().filter(|(k, _)| k.starts_with("label_")) {
        let choice = value(&format!("map_{}", &key["label_".len()..])).unwrap_or("unassigned");
        let (participant, role) = match choice.split_once(':') {
            Some(("p", pid)) => (Some(pid.to_owned()), None),
            Some(("new", group)) => {
                let group = group.parse::<GroupId>().ok();
                match new_participant_for(&state.db, access.id(), label, group).await {
                    Ok(p) => (Some(p.0.to_string()), None),
                    Err(e) => return back_with(&session, &back, e).await,
                }
            }
            _ if choice == "interviewer" => (None, Some(SpeakerRole::Interviewer)),
            _ => (None, Some(SpeakerRole::Unassigned)),
        };
        wanted.push(WantedMapping {
            label: label.clone(),
            participant,
            role,
        });
    }
    match map_speakers(&state.db, access.id(), id, &wanted, everywhere).await {
        Ok(()) => {
            done(
                &session,
                &back,
                if everywhere {
                    "Speakers mapped in every document."
                } else {
                    "Speakers mapped."
                },
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

/// A participant labelled like the speaker (the existing one if the label is
/// taken).
async fn new_participant_for(
    db: &PgPool,
    project: ProjectId,
    label: &str,
    group: Option<GroupId>,
) -> Result<ParticipantId> {
    if let Ok(existing) = find_participant(db, project, label).await {
        return Ok(existing);
    }
    let new = NewParticipant {
        label: participant::label(label)?,
        group,
        attributes: Attributes::new(),
    };
    Ok(super::participants::create_participant(db, project, &new)
        .await?
        .id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_times_are_hh_mm_ss() {
        assert_eq!(clock(3_723_000), "01:02:03");
        assert_eq!(clock(5_500), "00:00:05");
    }

    #[test]
    fn segments_split_labels_from_turn_text() {
        let body = "Intro line\nInterviewer: Hello?\nP1: Hi 🙂";
        let turns = crate::domain::turns::parse(body);
        let segs = segments(body, &turns, &[]);
        assert_eq!(segs.len(), 3);
        assert!(segs[0].turn.is_none());
        assert_eq!(segs[1].turn.as_ref().unwrap().label_prefix, "Interviewer:");
        assert_eq!(segs[1].text, " Hello?");
        assert_eq!(segs[2].text, " Hi 🙂");
    }

    #[test]
    fn segment_offsets_point_at_their_text() {
        let body = "\n\nÉtude 🙂 intro\nInterviewer: Ça va?\nP1: Très 👩‍👩‍👧 bien\n\nnotes after";
        let turns = crate::domain::turns::parse(body);
        let chars: Vec<char> = body.chars().collect();
        let at = |start: usize, text: &str| -> String {
            chars[start..start + text.chars().count()].iter().collect()
        };
        for seg in segments(body, &turns, &[]) {
            assert_eq!(at(seg.start, &seg.text), seg.text);
            if let Some(t) = &seg.turn {
                assert_eq!(at(t.label_start, &t.label_prefix), t.label_prefix);
                assert_eq!(t.label_start + t.label_prefix.chars().count(), seg.start);
            }
        }
    }
}
