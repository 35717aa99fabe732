//! Documents: reading uploads into transcripts (many files at once, each
//! reported on its own), the options they are imported with, a document's
//! text and turns, editing its details, and mapping its speakers.

use super::texts::Texts;
use super::transcripts::{self, ImportError, ImportOptions};
use super::{Access, Error, Result};
use crate::domain::ValidationError;
use crate::domain::document::{self, DocumentKind};
use crate::domain::ids::{DocumentId, ParticipantId, ProjectId, UserId};
use crate::domain::participant::{self, Attributes};
use crate::domain::speakers::{Mapping, SpeakerRole};
use crate::domain::text::Text;
use crate::domain::turns::Turn;
use crate::store;
use crate::store::documents::{DocumentChanges, DocumentSummary, Speaker};
use serde::Serialize;
use sqlx::PgPool;

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
    /// Add a file even when a document with the same text is already in
    /// the project (without it, such a file is skipped and reported).
    pub copies: bool,
}

/// A file that was not imported, and why.
#[derive(Debug, Clone, Serialize)]
pub struct FileError {
    pub file: String,
    #[serde(rename = "status")]
    pub status_code: u16,
    pub error: String,
}

pub struct ImportOutcome {
    pub created: Vec<DocumentId>,
    pub errors: Vec<FileError>,
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
pub async fn import_files(
    db: &PgPool,
    access: &Access,
    files: Vec<Upload>,
    options: &UploadOptions,
) -> Result<ImportOutcome> {
    let upload_options_copies = options.copies;
    let mut options = resolve_options(db, access.id(), options).await?;
    if files.len() > 1 {
        // A title names one document; with several, each takes its file name.
        options.title = None;
    }
    let mut outcome = ImportOutcome {
        created: Vec::new(),
        errors: Vec::new(),
    };
    let mut chars = 0;
    for file in files {
        if chars > document::MAX_UPLOAD_CHARS {
            outcome.errors.push(FileError {
                status_code: 413,
                error: format!(
                    "not imported: the files before it already hold more than {} characters, \
                     the most one upload takes; upload it on its own",
                    document::thousands(document::MAX_UPLOAD_CHARS)
                ),
                file: file.filename,
            });
            continue;
        }
        let copies = if upload_options_copies {
            Copies::Allow
        } else {
            Copies::Ask
        };
        match import_file(
            db,
            access.id(),
            Some(access.user_id()),
            file,
            &options,
            copies,
        )
        .await?
        {
            Ok(done) => {
                chars += done.chars;
                outcome.created.push(done.id);
            }
            Err(e) => outcome.errors.push(e),
        }
    }
    Ok(outcome)
}

/// A document made from a file, and what was found in it.
pub struct Imported {
    pub id: DocumentId,
    pub chars: usize,
    pub turns: usize,
    pub speakers: usize,
}

/// What to do with a file whose text is already a document of the project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copies {
    /// Add it anyway.
    Allow,
    /// Skip it and say so, so the person can choose to add a copy.
    Ask,
}

/// Read one file and store it as a document; a file that cannot be read
/// as a transcript (or, with [`Copies::Ask`], one identical to a document
/// already there) is `Ok(Err(why))` and leaves nothing behind.
pub async fn import_file(
    db: &PgPool,
    project: ProjectId,
    user: Option<UserId>,
    Upload { filename, bytes }: Upload,
    options: &ImportOptions,
    copies: Copies,
) -> Result<Result<Imported, FileError>> {
    let name = filename.clone();
    let read = tokio::task::spawn_blocking(move || transcripts::read_file(&name, &bytes)).await?;
    let transcript = match read {
        Ok(t) => t,
        Err(e) => {
            return Ok(Err(FileError {
                status_code: match e {
                    ImportError::Unsupported(_) => 415,
                    ImportError::Invalid(_) => 422,
                },
                error: e.to_string(),
                file: filename,
            }));
        }
    };
    let chars = transcript.text.chars().count();
    if copies == Copies::Ask
        && let Some(title) =
            store::documents::identical(db, project, &transcript.text, chars).await?
    {
        return Ok(Err(FileError {
            status_code: 409,
            error: format!(
                "not added: its text is identical to “{title}”, already in this project \
                 (add a copy with “Add copies”, or copies=true)"
            ),
            file: filename,
        }));
    }
    let turns = transcript.turns.len();
    let speakers = transcript
        .turns
        .iter()
        .filter_map(|t| t.speaker.as_ref())
        .collect::<std::collections::HashSet<_>>()
        .len();
    let id = transcripts::store(db, project, user, Some(&filename), transcript, options).await?;
    Ok(Ok(Imported {
        id,
        chars,
        turns,
        speakers,
    }))
}

/// Import text posted as JSON.
pub async fn import_text(
    db: &PgPool,
    access: &Access,
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

pub use crate::domain::turns::clock;

#[derive(Debug, Clone, Serialize)]
pub struct DocumentDetail {
    #[serde(flatten)]
    pub summary: DocumentSummary,
    pub text: String,
    pub turns: Vec<TurnView>,
    pub speakers: Vec<Speaker>,
}

/// A document with its text, turns and speakers: the text and turns as
/// kept in `texts` (read alongside when they are not), the rest read.
pub async fn detail(
    db: &PgPool,
    texts: &Texts,
    project: ProjectId,
    id: DocumentId,
) -> Result<DocumentDetail> {
    let (text, read) = tokio::try_join!(
        texts.get(db, project, id),
        store::documents::detail(db, project, id)
    )?;
    let (Some(text), Some(read)) = (text, read) else {
        return Err(Error::NotFound);
    };
    Ok(complete(&text, read))
}

/// The document's answer from its kept text and turns and what was read.
fn complete(text: &Text, read: store::documents::Detail) -> DocumentDetail {
    let (summary, speakers) = read.with_turns(text.turns());
    DocumentDetail {
        summary,
        text: text.body().to_owned(),
        turns: text
            .turns()
            .iter()
            .map(|t| {
                TurnView::from(Turn {
                    speaker: t.speaker.clone(),
                    start: t.start,
                    end: t.end,
                    time_ms: t.time_ms.map(|ms| ms as u64),
                })
            })
            .collect(),
        speakers,
    }
}

/// What `include` may ask a document's answer to hold besides its text:
/// `codings` (their positions, as the coding page draws them).
pub fn includes_codings(include: Option<&str>) -> Result<bool> {
    match include.map(str::trim) {
        None | Some("") => Ok(false),
        Some("codings") => Ok(true),
        Some(other) => Err(Error::invalid(
            "include",
            format!("only `codings` can be included, not `{other}`"),
        )),
    }
}

/// A document with its text, turns and speakers, and every coder's
/// codings of it (read in the same statement, before it is known who asks:
/// pass them through [`super::coding::visible`]).
pub async fn detail_with_codings(
    db: &PgPool,
    texts: &Texts,
    project: ProjectId,
    id: DocumentId,
) -> Result<(DocumentDetail, Vec<store::codings::Mark>)> {
    let (text, read) = tokio::try_join!(
        texts.get(db, project, id),
        store::documents::detail_with_codings(db, project, id)
    )?;
    let (Some(text), Some((read, marks))) = (text, read) else {
        return Err(Error::NotFound);
    };
    Ok((complete(&text, read), marks))
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
        return Err(Error::NotFound);
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
        other => other.map(|_| ()).map_err(Error::from),
    }
}

/// "12 codings by 3 coders, 2 memos": what goes to the trash with a
/// document, for the page that asks.
pub fn footprint_text(f: &store::documents::Footprint) -> String {
    let mut out = super::plural(f.codings, "coding", "codings");
    if f.codings > 0 {
        out.push_str(&format!(
            " by {}",
            super::plural(f.coders, "coder", "coders")
        ));
    }
    out.push_str(", ");
    out.push_str(&super::plural(f.memos, "memo", "memos"));
    out
}

/// Move a document to the trash with its codings, memos and speakers
/// (coders and owners). Answers what went with it.
pub async fn trash(
    db: &PgPool,
    access: &Access,
    id: DocumentId,
) -> Result<store::documents::Footprint> {
    access.require(
        crate::domain::project::Role::Coder,
        "viewers cannot delete documents",
    )?;
    store::documents::trash(db, access.id(), id, access.user_id())
        .await?
        .ok_or(Error::NotFound)
}

/// Bring a document back from the trash (coders and owners).
pub async fn restore(
    db: &PgPool,
    access: &Access,
    id: DocumentId,
) -> Result<store::documents::Restored> {
    access.require(
        crate::domain::project::Role::Coder,
        "viewers cannot restore documents",
    )?;
    store::documents::restore(db, access.id(), id)
        .await?
        .ok_or(Error::NotFound)
}

/// Delete the trashed documents for good (owners only).
pub async fn empty_trash(db: &PgPool, access: &Access) -> Result<u64> {
    access.require(
        crate::domain::project::Role::Owner,
        "only owners empty the trash",
    )?;
    Ok(store::documents::empty_trash(db, access.id()).await?)
}
