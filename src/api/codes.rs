//! `/api/v1/projects/{id}/codes`: the codebook tree, its changes, merges,
//! trash, and CSV import/export.

use super::List;
use super::model::{Code, CodebookImport, Footprint, Restored, Trashed};
use crate::app::AppState;
use crate::domain::ids::{CodeId, ProjectId};
use crate::http::download::attachment;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Checking, Json, Path, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::http::upload::file_or_body;
use crate::service::codebook::{self as rules, CodeInput};
use crate::store;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/codes",
            get(list_codes).post(create_code),
        )
        .route("/projects/{project_id}/codes/import", post(import_codes))
        .route(
            "/projects/{project_id}/codes/trash",
            get(list_trash).delete(empty_trash),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}",
            get(show_code).patch(update_code).delete(delete_code),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}/merge",
            post(merge_code),
        )
        .route(
            "/projects/{project_id}/codes/{code_id}/restore",
            post(restore_code),
        )
        .route(
            "/projects/{project_id}/exports/codebook.csv",
            get(export_csv),
        )
}

/// The whole tree, parents before children (not paged: a codebook is read
/// whole).
async fn list_codes(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<List<Code>>> {
    let items = store::codes::tree(&state.db, access.id(), access.sees_only()).await?;
    Ok(Json(List::all(items)))
}

async fn create_code(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(input): Json<CodeInput>,
) -> Result<(StatusCode, Json<Code>)> {
    let code = rules::create(&state.db, access.id(), access.user.id, input).await?;
    Ok((StatusCode::CREATED, Json(code.into())))
}

async fn show_code(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, id)): Path<(ProjectId, CodeId)>,
) -> Result<Json<Code>> {
    store::codes::get(&state.db, access.id(), id)
        .await?
        .map(|c| Json(c.into()))
        .ok_or(AppError::NotFound)
}

async fn update_code(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, CodeId)>,
    Json(input): Json<CodeInput>,
) -> Result<Json<Code>> {
    Ok(Json(
        rules::update(&state.db, access.id(), id, access.user.id, input)
            .await?
            .into(),
    ))
}

/// Moves the code, its sub-codes and their codings to the trash; answers
/// how many of each went.
async fn delete_code(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, CodeId)>,
) -> Result<Json<Footprint>> {
    Ok(Json(
        store::codes::trash(&state.db, access.id(), id, access.user.id)
            .await?
            .into(),
    ))
}

#[derive(Deserialize)]
struct MergeBody {
    into: CodeId,
}

/// Merge the code into `into`; answers `into` as it is now.
async fn merge_code(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, CodeId)>,
    Json(body): Json<MergeBody>,
) -> Result<Json<Code>> {
    store::codes::merge(&state.db, access.id(), id, body.into, access.user.id).await?;
    store::codes::get(&state.db, access.id(), body.into)
        .await?
        .map(|c| Json(c.into()))
        .ok_or(AppError::NotFound)
}

async fn list_trash(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<List<Trashed>>> {
    let items = store::codes::trash_list(&state.db, access.id()).await?;
    Ok(Json(List::all(items)))
}

async fn restore_code(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, CodeId)>,
) -> Result<Json<Restored>> {
    Ok(Json(
        store::codes::restore(&state.db, access.id(), id, access.user.id)
            .await?
            .into(),
    ))
}

/// Deletes the trashed codes and their codings for good (owners only).
async fn empty_trash(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
) -> Result<Json<Footprint>> {
    Ok(Json(
        store::codes::empty_trash(&state.db, access.id())
            .await?
            .into(),
    ))
}

/// A codebook — CSV or REFI-QDA `.qdc` — as a multipart `file` part, or as
/// the request body.
async fn import_codes(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    _heavy: Heavy,
    request: Request,
) -> Result<(StatusCode, Json<CodebookImport>)> {
    let bytes = file_or_body(request, &state, "the codebook file").await?;
    let outcome = rules::import(&state.db, &access, &bytes).await?;
    Ok((StatusCode::CREATED, Json(outcome.into())))
}

/// `?bom=true`: with a byte-order mark (Excel on Windows, and Taguette's
/// encoding guess, then read it as UTF-8).
#[derive(Debug, serde::Deserialize)]
struct CsvQuery {
    bom: Option<String>,
}

async fn export_csv(
    State(state): State<AppState>,
    check: Checking,
    Query(q): Query<CsvQuery>,
) -> Result<Response> {
    let project = check.project();
    let (access, text) = check
        .alongside(rules::csv_text(&state.db, project, q.bom.as_deref()))
        .await?;
    attachment(rules::csv_download(&access, text))
}
