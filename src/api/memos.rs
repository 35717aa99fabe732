//! Memos: list every memo of a project; write the project's and a
//! document's (codes and codings take theirs through their own PATCH).

use super::List;
use super::model::{Memo, MemoText};
use crate::app::AppState;
use crate::domain::code;
use crate::domain::ids::{DocumentId, ProjectId};
use crate::http::error::{AppError, Result};
use crate::http::extract::{Json, Path, ProjectAccess, need};
use crate::store;
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/memos", get(list_memos))
        .route(
            "/projects/{project_id}/memo",
            get(project_memo).put(set_project_memo),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/memo",
            get(document_memo).put(set_document_memo),
        )
}

#[derive(Deserialize)]
struct MemoBody {
    memo: String,
}

async fn list_memos(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<List<Memo>>> {
    let items = store::memos::list(&state.db, access.id(), access.sees_only()).await?;
    Ok(Json(List::all(items)))
}

async fn project_memo(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<MemoText>> {
    let memo = store::memos::get_project(&state.db, access.id()).await?;
    Ok(Json(MemoText { memo }))
}

async fn set_project_memo(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(body): Json<MemoBody>,
) -> Result<Json<MemoText>> {
    let memo = code::long_text("memo", &body.memo)?;
    store::memos::set_project(&state.db, access.id(), access.user.id, &memo).await?;
    Ok(Json(MemoText { memo }))
}

async fn document_memo(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
) -> Result<Json<MemoText>> {
    let memo = store::memos::get_document(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(MemoText { memo }))
}

async fn set_document_memo(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, DocumentId)>,
    Json(body): Json<MemoBody>,
) -> Result<Json<MemoText>> {
    let memo = code::long_text("memo", &body.memo)?;
    if !store::memos::set_document(&state.db, access.id(), id, access.user.id, &memo).await? {
        return Err(AppError::NotFound);
    }
    Ok(Json(MemoText { memo }))
}
