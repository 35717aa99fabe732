//! Importing a REFI-QDA `.qdpx` as a new project from the projects page,
//! with the import report.

use super::chrome::Chrome;
use super::pages::back_with;
use crate::app::AppState;
use crate::http::error::{AppError, Result};
use crate::http::extract::CurrentUser;
use crate::http::heavy::Heavy;
use crate::http::upload::file_part;
use crate::service::exchange::{self, Report};
use crate::store;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/import", post(import_page))
}

#[derive(Template, WebTemplate)]
#[template(path = "projects/imported.html")]
struct ImportedPage {
    chrome: Chrome,
    project: MemberProject,
    /// The project's tabs are there, none of them current.
    tab: &'static str,
    report: Report,
}

async fn import_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    _heavy: Heavy,
    chrome: Chrome,
    session: Session,
    multipart: Multipart,
) -> Result<Response> {
    let imported = match file_part(multipart, "the .qdpx file").await {
        Ok(bytes) => exchange::import_bytes(&state.db, user.id, bytes.to_vec())
            .await
            .map_err(AppError::from),
        Err(e) => Err(e),
    };
    let (id, report) = match imported {
        Ok(done) => done,
        Err(e) => return Ok(back_with(&session, "/projects", e).await?.into_response()),
    };
    let project = store::projects::get_for_member(&state.db, id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(ImportedPage {
        tab: "",
        chrome,
        project,
        report,
    }
    .into_response())
}
