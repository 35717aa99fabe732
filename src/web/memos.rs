//! The memos page: every memo of the project in one place, and the forms
//! that write the project's and a document's memo.

use super::chrome::Chrome;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::code;
use crate::domain::ids::{DocumentId, ProjectId};
use crate::domain::project::Role;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, Path, ProjectAccess, need};
use crate::store;
use crate::store::memos::{Memo, MemoOn};
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/memos", get(memos_page))
        .route("/projects/{project_id}/memo", post(project_memo_form))
        .route(
            "/projects/{project_id}/documents/{document_id}/memo",
            post(document_memo_form),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "memos/list.html")]
struct MemosPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    project_memo: String,
    memos: Vec<Memo>,
    can_edit: bool,
}

async fn memos_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<MemosPage> {
    let memos: Vec<Memo> = store::memos::list(&state.db, access.id(), access.sees_only())
        .await?
        .into_iter()
        .filter(|m| m.on != MemoOn::Project)
        .collect();
    Ok(MemosPage {
        chrome,
        project_memo: store::memos::get_project(&state.db, access.id()).await?,
        memos,
        can_edit: access.role() != Role::Viewer,
        project: access.project.clone(),
        tab: "memos",
    })
}

#[derive(Deserialize)]
struct MemoForm {
    memo: String,
}

async fn project_memo_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(form): Form<MemoForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/memos", access.id());
    match code::long_text("memo", &form.memo) {
        Ok(memo) => {
            store::memos::set_project(&state.db, access.id(), access.user.id, &memo).await?;
            done(&session, &back, "Project memo saved.").await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

async fn document_memo_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Form(form): Form<MemoForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/documents/{id}", access.id());
    let memo = match code::long_text("memo", &form.memo) {
        Ok(memo) => memo,
        Err(e) => return back_with(&session, &back, e).await,
    };
    if !store::memos::set_document(&state.db, access.id(), id, access.user.id, &memo).await? {
        return Err(AppError::NotFound);
    }
    done(&session, &back, "Document memo saved.").await
}
