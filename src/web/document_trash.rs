//! The documents' trash: what was deleted, with what went with it;
//! restore (coders and owners) and empty (owners).

use super::chrome::Chrome;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::ids::{DocumentId, ProjectId};
use crate::domain::project::Role;
use crate::http::error::Result;
use crate::http::extract::{Path, ProjectAccess, need};
use crate::service::{self, documents};
use crate::store;
use crate::store::documents::Trashed;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::{get, post};
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/documents/trash", get(trash_page))
        .route(
            "/projects/{project_id}/documents/trash/empty",
            post(empty_form),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/restore",
            post(restore_form),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "documents/trash.html")]
struct TrashPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    items: Vec<Trashed>,
    can_restore: bool,
    can_empty: bool,
}

impl TrashPage {
    fn goes_with(t: &Trashed) -> String {
        documents::footprint_text(&store::documents::Footprint {
            codings: t.codings.into(),
            coders: t.coders.into(),
            memos: t.memos.into(),
        })
    }
}

async fn trash_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<TrashPage> {
    Ok(TrashPage {
        chrome,
        items: store::documents::trash_list(&state.db, access.id()).await?,
        can_restore: access.role() != Role::Viewer,
        can_empty: access.is_owner(),
        project: access.project.clone(),
        tab: "documents",
    })
}

async fn restore_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/documents/trash", access.id());
    match documents::restore(&state.db, &access, id).await {
        Ok(r) => {
            let lost = if r.lost > 0 {
                format!(
                    " {} of codes no longer in the codebook could not come back.",
                    service::plural(r.lost, "coding", "codings")
                )
            } else {
                String::new()
            };
            done(
                &session,
                &format!("/projects/{}/documents/{id}", access.id()),
                format!(
                    "Restored with {}.{lost}",
                    service::plural(r.codings, "coding", "codings")
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

async fn empty_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    session: Session,
) -> Result<Redirect> {
    let back = format!("/projects/{}/documents/trash", access.id());
    let n = documents::empty_trash(&state.db, &access).await?;
    done(
        &session,
        &back,
        format!(
            "The trash is empty: {} deleted for good.",
            service::plural(n, "document", "documents")
        ),
    )
    .await
}
