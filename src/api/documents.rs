//! `/api/v1/projects/{id}/documents`: upload (multipart, several files) or
//! JSON text; list; read with text, turns and speakers; edit; delete; and
//! the speaker mapping.

use super::model::{Document, DocumentDetail, FileError, Mark, Speaker, UploadReport};
use super::{List, Page};
use crate::app::AppState;
use crate::domain::ids::{DocumentId, ParticipantId, ProjectId};
use crate::domain::participant::Attributes;
use crate::domain::speakers::SpeakerRole;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Checking, Json, Path, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::http::upload;
use crate::service::documents::{self as rules, UploadOptions};
use crate::service::explicit;
use crate::store;
use crate::store::documents::DocumentChanges;
use axum::Router;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/documents",
            get(list_documents).post(create_documents),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}",
            get(show_document)
                .patch(update_document)
                .delete(delete_document),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/speakers",
            put(map_speakers),
        )
        .route(
            "/projects/{project_id}/documents/trash",
            get(trash_list).delete(empty_trash),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/restore",
            axum::routing::post(restore_document),
        )
}

/// The trashed documents, each with what went with it.
async fn trash_list(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<List<store::documents::Trashed>>> {
    let items = store::documents::trash_list(&state.db, access.id()).await?;
    let total = items.len() as i64;
    Ok(Json(List::of(items, total)))
}

/// Bring a document back with its codings, memos and speakers.
async fn restore_document(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<Json<store::documents::Restored>> {
    Ok(Json(rules::restore(&state.db, &access, id).await?))
}

#[derive(serde::Serialize)]
struct Emptied {
    deleted: u64,
}

async fn empty_trash(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
) -> Result<Json<Emptied>> {
    Ok(Json(Emptied {
        deleted: rules::empty_trash(&state.db, &access).await?,
    }))
}

async fn list_documents(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(page): Query<Page>,
) -> Result<Json<List<Document>>> {
    let (limit, offset) = page.bounds()?;
    let (items, total) = store::documents::list(&state.db, access.id(), limit, offset).await?;
    Ok(Json(List::of(items, total)))
}

#[derive(Deserialize)]
struct Show {
    /// `codings`: the document's codings too, in one answer.
    include: Option<String>,
}

async fn show_document(
    State(state): State<AppState>,
    check: Checking,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Query(show): Query<Show>,
) -> Result<Json<DocumentDetail>> {
    let project = check.project();
    if !rules::includes_codings(show.include.as_deref())? {
        let (_, detail) = check
            .alongside(rules::detail(&state.db, &state.texts, project, id))
            .await?;
        return Ok(Json(detail.into()));
    }
    let (access, (detail, all)) = check
        .alongside(rules::detail_with_codings(
            &state.db,
            &state.texts,
            project,
            id,
        ))
        .await?;
    let codings = crate::service::coding::visible(&access, all);
    let mut detail = DocumentDetail::from(detail);
    detail.codings = Some(codings.into_iter().map(Mark::from).collect());
    Ok(Json(detail))
}

#[derive(Deserialize)]
struct TextDocument {
    title: Option<String>,
    kind: Option<String>,
    text: String,
    #[serde(default)]
    attributes: Attributes,
    held_on: Option<String>,
    /// A participant's label or id: the participant of a one-to-one interview.
    participant: Option<serde_json::Value>,
}

/// `multipart/form-data` with one or more `file` parts (and optional
/// `kind`, `participant`, `held_on` fields), or JSON `{title, kind, text,
/// attributes, held_on, participant}`.
async fn create_documents(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    _heavy: Heavy,
    request: Request,
) -> Result<Response> {
    if !upload::is_multipart(&request) {
        let Json(body) = Json::<TextDocument>::from_request(request, &state).await?;
        let participant = body.participant.as_ref().map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        });
        let options = UploadOptions {
            title: body.title,
            kind: body.kind,
            held_on: body.held_on,
            participant,
            attributes: body.attributes,
            // Text sent by a script is what it means to add.
            copies: true,
        };
        let id = rules::import_text(&state.db, &access, &body.text, &options).await?;
        let detail: DocumentDetail = rules::detail(&state.db, &state.texts, access.id(), id)
            .await?
            .into();
        return Ok((StatusCode::CREATED, Json(detail)).into_response());
    }

    let multipart = Multipart::from_request(request, &state).await?;
    let (files, options) = upload::transcripts(multipart).await?;
    let outcome = rules::import_files(&state.db, &access, files, &options).await?;
    let mut documents = Vec::with_capacity(outcome.created.len());
    for id in outcome.created {
        documents.push(DocumentDetail::from(
            rules::detail(&state.db, &state.texts, access.id(), id).await?,
        ));
    }
    let status = match (documents.is_empty(), outcome.errors.first()) {
        (_, None) => StatusCode::CREATED,
        (true, Some(first)) => {
            StatusCode::from_u16(first.status_code).unwrap_or(StatusCode::UNPROCESSABLE_ENTITY)
        }
        (false, Some(_)) => StatusCode::MULTI_STATUS,
    };
    let report = UploadReport {
        error: documents
            .is_empty()
            .then(|| {
                outcome
                    .errors
                    .first()
                    .map(|e| format!("{}: {}", e.file, e.error))
            })
            .flatten(),
        documents,
        errors: outcome.errors.into_iter().map(FileError::from).collect(),
    };
    Ok((status, Json(report)).into_response())
}

#[derive(Deserialize)]
struct DocumentPatch {
    title: Option<String>,
    kind: Option<String>,
    #[serde(default, deserialize_with = "explicit")]
    held_on: Option<Option<String>>,
    attributes: Option<Attributes>,
}

async fn update_document(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Json(body): Json<DocumentPatch>,
) -> Result<Json<Document>> {
    let changes: DocumentChanges = rules::parse_changes(
        body.title.as_deref(),
        body.kind.as_deref(),
        body.held_on.as_ref().map(|d| d.as_deref().unwrap_or("")),
        body.attributes,
    )?;
    if !store::documents::update(&state.db, access.id(), id, &changes).await? {
        return Err(AppError::NotFound);
    }
    let doc = store::documents::get(&state.db, access.id(), id).await?;
    doc.map(|d| Json(d.into())).ok_or(AppError::NotFound)
}

async fn delete_document(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<StatusCode> {
    // To the trash, with everything that belongs to it.
    rules::trash(&state.db, &access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct SpeakerBody {
    label: String,
    participant_id: Option<ParticipantId>,
    /// A participant's label, instead of `participant_id`.
    participant: Option<String>,
    role: Option<SpeakerRole>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum SpeakersBody {
    List(Vec<SpeakerBody>),
    Wrapped {
        speakers: Vec<SpeakerBody>,
        /// Apply to the same labels in every document of the project.
        #[serde(default)]
        all_documents: bool,
    },
}

/// Map speaker labels: `[{label, participant_id | participant, role}]`, or
/// `{"speakers": [...], "all_documents": true}` to apply the mapping to the
/// same labels in every document. Labels left out keep their mapping.
async fn map_speakers(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Json(body): Json<SpeakersBody>,
) -> Result<Json<Vec<Speaker>>> {
    let (items, everywhere) = match body {
        SpeakersBody::List(items) => (items, false),
        SpeakersBody::Wrapped {
            speakers,
            all_documents,
        } => (speakers, all_documents),
    };
    let wanted: Vec<rules::WantedMapping> = items
        .into_iter()
        .map(|s| rules::WantedMapping {
            label: s.label,
            participant: s.participant_id.map(|p| p.0.to_string()).or(s.participant),
            role: s.role,
        })
        .collect();
    rules::map_speakers(&state.db, access.id(), id, &wanted, everywhere).await?;
    let speakers = store::documents::speakers(&state.db, access.id(), id).await?;
    Ok(Json(speakers.into_iter().map(Speaker::from).collect()))
}
