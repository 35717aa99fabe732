//! REFI-QDA exchange over HTTP: `.qdpx` and `.qdc` downloads, importing a
//! `.qdpx` as a new project (API and page, with the import report), and the
//! rule shared with the codebook import for reading `.qdc` files.

use super::error::{AppError, Result};
use super::exports::file_stem;
use super::extract::{Chrome, CurrentUser, ProjectAccess};
use super::pages::back_with;
use crate::app::AppState;
use crate::domain::ValidationError;
use crate::domain::ids::{ProjectId, UserId};
use crate::exchange::{self, ImportError, Report};
use crate::formats::ZipLimits;
use crate::formats::refi::{read, write};
use crate::store;
use crate::store::codes::ImportOutcome;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::{Multipart, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use sqlx::PgPool;
use tower_sessions::Session;

pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/exports/project.qdpx",
            get(export_qdpx),
        )
        .route(
            "/projects/{project_id}/exports/codebook.qdc",
            get(export_qdc),
        )
        .route("/projects/import", post(import_api))
}

pub fn page_routes() -> Router<AppState> {
    Router::new().route("/projects/import", post(import_page))
}

impl From<ImportError> for AppError {
    fn from(e: ImportError) -> Self {
        match e {
            ImportError::Invalid(m) => AppError::Invalid(ValidationError::new("file", m)),
            ImportError::Db(e) => e.into(),
        }
    }
}

fn attachment(content_type: &'static str, name: String, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The project as a `.qdpx` archive.
pub async fn qdpx_bytes(db: &PgPool, project: ProjectId) -> Result<Vec<u8>> {
    let ex = exchange::export(db, project)
        .await
        .map_err(AppError::internal)?;
    tokio::task::spawn_blocking(move || write::qdpx(&ex))
        .await?
        .map_err(AppError::internal)
}

/// The codebook as a `.qdc` document.
pub async fn qdc_text(db: &PgPool, project: ProjectId) -> Result<String> {
    let ex = exchange::export_codebook(db, project)
        .await
        .map_err(AppError::internal)?;
    if ex.codes.is_empty() {
        // The codebook schema requires at least one code.
        return Err(AppError::Conflict(
            "the codebook is empty: add codes before exporting it as .qdc".into(),
        ));
    }
    Ok(write::qdc(&ex))
}

async fn export_qdpx(State(state): State<AppState>, access: ProjectAccess) -> Result<Response> {
    let bytes = qdpx_bytes(&state.db, access.id()).await?;
    Ok(attachment(
        "application/zip",
        format!("{}.qdpx", file_stem(&access.project.project.name)),
        Body::from(bytes),
    ))
}

async fn export_qdc(State(state): State<AppState>, access: ProjectAccess) -> Result<Response> {
    let xml = qdc_text(&state.db, access.id()).await?;
    Ok(attachment(
        "application/xml; charset=utf-8",
        format!("{}-codebook.qdc", file_stem(&access.project.project.name)),
        Body::from(xml),
    ))
}

/// Read a `.qdpx` and import it as a new project owned by `user`.
pub async fn import_bytes(
    db: &PgPool,
    user: UserId,
    bytes: Vec<u8>,
) -> Result<(ProjectId, Report)> {
    let ex = tokio::task::spawn_blocking(move || read::read_qdpx(&bytes, &ZipLimits::default()))
        .await?
        .map_err(|e| AppError::Invalid(ValidationError::new("file", e.to_string())))?;
    Ok(exchange::import(db, user, ex).await?)
}

/// The first `file` part of a multipart upload.
async fn file_part(mut multipart: Multipart) -> Result<Vec<u8>> {
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            let bytes = field.bytes().await?;
            if bytes.is_empty() {
                break;
            }
            return Ok(bytes.to_vec());
        }
    }
    Err(AppError::BadRequest(
        "send the .qdpx file as a multipart part named file".into(),
    ))
}

#[derive(Serialize)]
struct Imported {
    project: MemberProject,
    report: Report,
}

/// `POST /api/v1/projects/import`: multipart `file` (a `.qdpx`) → 201
/// `{"project": {…}, "report": {…}}`.
async fn import_api(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    multipart: Multipart,
) -> Result<(StatusCode, super::extract::Json<Imported>)> {
    let bytes = file_part(multipart).await?;
    let (id, report) = import_bytes(&state.db, user.id, bytes).await?;
    let project = store::projects::get_for_member(&state.db, id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        StatusCode::CREATED,
        super::extract::Json(Imported { project, report }),
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "projects/imported.html")]
struct ImportedPage {
    chrome: Chrome,
    project: MemberProject,
    report: Report,
}

async fn import_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    chrome: Chrome,
    session: Session,
    multipart: Multipart,
) -> Result<Response> {
    let imported = match file_part(multipart).await {
        Ok(bytes) => import_bytes(&state.db, user.id, bytes).await,
        Err(e) => Err(e),
    };
    match imported {
        Ok((id, report)) => {
            let project = store::projects::get_for_member(&state.db, id, user.id)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok(ImportedPage {
                chrome,
                project,
                report,
            }
            .into_response())
        }
        Err(e) => Ok(back_with(&session, "/projects", e).await?.into_response()),
    }
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
    let mut ex = read::read_qdc(bytes)
        .map_err(|e| AppError::Invalid(ValidationError::new("file", e.to_string())))?;
    let codes = exchange::codes_as_imported(&mut ex);
    if codes.is_empty() {
        return Err(AppError::Invalid(ValidationError::new(
            "file",
            "the codebook has no codes",
        )));
    }
    Ok(store::codes::import(db, project, user, &codes).await?)
}
