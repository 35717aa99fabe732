//! REFI-QDA over the API: the project as `.qdpx`, the codebook as `.qdc`,
//! and a `.qdpx` imported as a new project with its report.

use super::model::ProjectImport;
use crate::app::AppState;
use crate::http::download::attachment;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Checking, CurrentUser, Json, ProjectAccess};
use crate::http::heavy::Heavy;
use crate::http::upload::file_part;
use crate::service::exchange;
use crate::service::exports::{Download, file_stem};
use crate::store;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/exports/project.qdpx",
            get(export_qdpx),
        )
        .route(
            "/projects/{project_id}/exports/codebook.qdc",
            get(export_qdc),
        )
        .route("/projects/import", post(import))
}

async fn export_qdpx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
) -> Result<Response> {
    let bytes = exchange::qdpx_for(&state.db, &access).await?;
    let name = format!("{}.qdpx", file_stem(&access.project.project.name));
    attachment(Download::bytes("application/zip", name, bytes))
}

async fn export_qdc(State(state): State<AppState>, check: Checking) -> Result<Response> {
    let project = check.project();
    let (access, xml) = check
        .alongside(exchange::qdc_text(&state.db, project))
        .await?;
    let name = format!("{}-codebook.qdc", file_stem(&access.project.project.name));
    attachment(Download::text("application/xml; charset=utf-8", name, xml))
}

/// `POST /api/v1/projects/import`: multipart `file` (a `.qdpx`) → 201
/// `{"project": {…}, "report": {…}}`.
async fn import(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    _heavy: Heavy,
    multipart: Multipart,
) -> Result<(StatusCode, Json<ProjectImport>)> {
    let bytes = file_part(multipart, "the .qdpx file").await?;
    let (id, report) = exchange::import_bytes(&state.db, user.id, bytes.to_vec()).await?;
    let project = store::projects::get_for_member(&state.db, id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::CREATED,
        Json(ProjectImport {
            project: project.into(),
            report: report.into(),
        }),
    ))
}
