//! Document pages: upload (many files at once), the transcript page with
//! its speaker mapping, editing and deleting.

use super::chrome::Chrome;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::document::DocumentKind;
use crate::domain::ids::{DocumentId, GroupId, ProjectId};
use crate::domain::participant::{self};
use crate::domain::speakers::SpeakerRole;
use crate::domain::turns::Turn;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, Path, ProjectAccess, need};
use crate::http::heavy::Heavy;
use crate::http::upload;
use crate::service::documents::{WantedMapping, clock, import_files, map_speakers, parse_changes};
use crate::service::participants::participant_for_speaker;
use crate::service::{self, plural};
use crate::store;
use crate::store::documents::{DocumentSummary, Speaker};
use crate::store::groups::Group;
use crate::store::participants::Participant;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
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
        project: access.project.clone(),
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
    _heavy: Heavy,
    session: Session,
    multipart: Multipart,
) -> Result<Redirect> {
    let back = format!("/projects/{}/documents", access.id());
    let (files, options) = match upload::transcripts(multipart).await {
        Ok(read) => read,
        Err(e) => return back_with(&session, &back, e).await,
    };
    let outcome = match import_files(&state.db, &access, files, &options).await {
        Ok(o) => o,
        Err(e) => return back_with(&session, &back, e).await,
    };
    let n = outcome.created.len();
    if n > 0 {
        super::chrome::flash(
            &session,
            true,
            format!("{} imported.", plural(n, "document", "documents")),
        )
        .await?;
    }
    for e in &outcome.errors {
        super::chrome::flash(&session, false, format!("{}: {}", e.file, e.error)).await?;
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
            out.extend(between_turns(pos, take(pos, t.start)));
        }
        out.push(turn_segment(t, take(t.start, t.end), speakers));
        pos = t.end;
    }
    if pos < chars.len() {
        out.extend(between_turns(pos, take(pos, chars.len())));
    }
    out
}

/// Text outside any turn (a heading, notes), unless it is only blank.
fn between_turns(start: usize, text: String) -> Option<Segment> {
    (!text.trim().is_empty()).then(|| Segment {
        turn: None,
        start: start + leading_newlines(&text),
        text: text.trim_matches('\n').to_owned(),
    })
}

/// A turn, its speaker label split from what was said.
fn turn_segment(t: &Turn, mut text: String, speakers: &[Speaker]) -> Segment {
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
    let at = speakers
        .iter()
        .position(|s| Some(&s.label) == t.speaker.as_ref());
    let speaker = at.map(|i| &speakers[i]);
    Segment {
        start: t.start + label_prefix.chars().count(),
        turn: Some(TurnSegment {
            label_start: t.start,
            colour: at.map_or(0, |i| i % 8 + 1),
            label_prefix,
            time: t.time_ms.map(clock),
            participant: speaker.and_then(|s| s.participant.clone()),
            group: speaker.and_then(|s| s.group.clone()),
            role: speaker.map_or(SpeakerRole::Unassigned, |s| s.role),
        }),
        text,
    }
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
    participants: Vec<store::participants::Choice>,
    groups: Vec<Group>,
    can_edit: bool,
    codes: Vec<store::codes::Code>,
    memo: String,
    /// What the coding script starts from (codes, codings, coders), as JSON
    /// safe to place inside a `<script type="application/json">`.
    state_json: String,
    /// The project's documents in list order, to move between them.
    nav: DocumentNav,
}

/// A document's neighbours in the project's list (by title), and the list.
struct DocumentNav {
    documents: Vec<(DocumentId, String)>,
    /// This document's place in `documents` (0-based).
    at: usize,
}

impl DocumentNav {
    fn new(documents: Vec<(DocumentId, String)>, id: DocumentId) -> DocumentNav {
        let at = documents.iter().position(|(d, _)| *d == id).unwrap_or(0);
        DocumentNav { documents, at }
    }

    fn previous(&self) -> Option<&(DocumentId, String)> {
        self.at.checked_sub(1).and_then(|i| self.documents.get(i))
    }

    fn next(&self) -> Option<&(DocumentId, String)> {
        self.documents.get(self.at + 1)
    }
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
    let w = service::coding::workbench(&state.db, &state.texts, &access, id).await?;
    let d = w.detail;
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
    let project = access.id();
    let role = access.role();
    let state_json = script_json(&CodingState {
        project,
        document: id,
        me: access.user.id,
        can_code: role != crate::domain::project::Role::Viewer,
        is_owner: role == crate::domain::project::Role::Owner,
        fingerprint: w.fingerprint,
        codes: &w.codes,
        codings: w.marks,
        coders: w
            .members
            .into_iter()
            .map(|m| Coder {
                id: m.user_id,
                name: m.name,
            })
            .collect(),
    })?;
    Ok(DocumentPage {
        chrome,
        memo: w.memo,
        codes: w.codes,
        state_json,
        nav: DocumentNav::new(w.documents, id),
        segments: segments(&d.text, &turns, &d.speakers),
        speakers: d.speakers,
        doc: d.summary,
        participants: w.participants,
        groups: w.groups,
        can_edit: role != crate::domain::project::Role::Viewer,
        project: access.project.clone(),
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
        project: access.project.clone(),
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
        .map_err(service::Error::from)
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
    /// "12 codings by 3 coders, 2 memos".
    goes_with: String,
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
    let goes_with = store::documents::footprint(&state.db, access.id(), id)
        .await?
        .map(|f| service::documents::footprint_text(&f))
        .unwrap_or_default();
    Ok(DeletePage {
        chrome,
        goes_with,
        doc,
        project: access.project.clone(),
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
    let went = service::documents::trash(&state.db, &access, id).await?;
    done(
        &session,
        &format!("/projects/{}/documents", access.id()),
        format!(
            "“{}” moved to the trash with {}. You can restore it from the trash.",
            doc.title,
            service::documents::footprint_text(&went)
        ),
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
                match participant_for_speaker(&state.db, access.id(), label, group).await {
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
