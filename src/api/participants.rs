//! `/api/v1/projects/{id}/groups` and `/participants` (with CSV import).

use super::model::{
    Group, Participant, ParticipantImport, ParticipantImportRefused, ParticipantRow,
};
use super::{List, Page};
use crate::app::AppState;
use crate::domain::ids::{GroupId, ParticipantId, ProjectId};
use crate::domain::participant::Attributes;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Json, Path, ProjectAccess, Query, need};
use crate::service::participants as rules;
use crate::store;
use crate::store::participants::NewParticipant;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/groups",
            get(list_groups).post(create_group),
        )
        .route(
            "/projects/{project_id}/groups/{group_id}",
            axum::routing::patch(update_group).delete(delete_group),
        )
        .route(
            "/projects/{project_id}/participants",
            get(list_participants).post(create_participant),
        )
        .route(
            "/projects/{project_id}/participants/import",
            post(import_participants),
        )
        .route(
            "/projects/{project_id}/participants/{participant_id}",
            get(show_participant)
                .patch(update_participant)
                .delete(delete_participant),
        )
}

async fn list_groups(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<List<Group>>> {
    let items = store::groups::list(&state.db, access.id()).await?;
    Ok(Json(List::all(items)))
}

#[derive(Deserialize)]
struct NewGroup {
    name: String,
}

async fn group_by_id(state: &AppState, project: ProjectId, id: GroupId) -> Result<Group> {
    store::groups::list(&state.db, project)
        .await?
        .into_iter()
        .find(|g| g.id == id)
        .map(Group::from)
        .ok_or(AppError::NotFound)
}

async fn create_group(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(body): Json<NewGroup>,
) -> Result<(StatusCode, Json<Group>)> {
    let id = rules::create_group(&state.db, access.id(), &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(group_by_id(&state, access.id(), id).await?),
    ))
}

#[derive(Deserialize)]
struct GroupChanges {
    name: Option<String>,
    /// 1-based place in the project's order.
    position: Option<i32>,
}

async fn update_group(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, group)): Path<(ProjectId, GroupId)>,
    Json(body): Json<GroupChanges>,
) -> Result<Json<Group>> {
    group_by_id(&state, access.id(), group).await?;
    if let Some(name) = &body.name {
        rules::rename_group(&state.db, access.id(), group, name).await?;
    }
    if let Some(position) = body.position {
        store::groups::move_to(&state.db, access.id(), group, position).await?;
    }
    Ok(Json(group_by_id(&state, access.id(), group).await?))
}

async fn delete_group(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, group)): Path<(ProjectId, GroupId)>,
) -> Result<StatusCode> {
    rules::delete_group(&state.db, access.id(), group).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_participants(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(page): Query<Page>,
) -> Result<Json<List<Participant>>> {
    let (limit, offset) = page.bounds()?;
    let all = store::participants::list(&state.db, access.id()).await?;
    Ok(Json(List::page(all, limit, offset)))
}

async fn show_participant(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, id)): Path<(ProjectId, ParticipantId)>,
) -> Result<Json<Participant>> {
    let p = store::participants::get(&state.db, access.id(), id).await?;
    p.map(|p| Json(p.into())).ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
struct ParticipantBody {
    label: String,
    group: Option<String>,
    #[serde(default)]
    attributes: Attributes,
}

async fn create_participant(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(body): Json<ParticipantBody>,
) -> Result<(StatusCode, Json<Participant>)> {
    let new = rules::parse_participant(
        &state.db,
        access.id(),
        &body.label,
        body.group.as_deref(),
        body.attributes,
    )
    .await?;
    let created = rules::create_participant(&state.db, access.id(), &new).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

#[derive(Deserialize)]
struct ParticipantChanges {
    label: Option<String>,
    /// A group name; `null` for no group.
    #[serde(default, deserialize_with = "crate::service::explicit")]
    group: Option<Option<String>>,
    /// Replaces all attributes.
    attributes: Option<Attributes>,
}

async fn update_participant(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, ParticipantId)>,
    Json(body): Json<ParticipantChanges>,
) -> Result<Json<Participant>> {
    let current = store::participants::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let label = body.label.unwrap_or(current.label);
    let group = match body.group {
        Some(g) => g,
        None => current.group,
    };
    let attributes = body.attributes.unwrap_or(current.attributes);
    let new: NewParticipant =
        rules::parse_participant(&state.db, access.id(), &label, group.as_deref(), attributes)
            .await?;
    Ok(Json(
        rules::update_participant(&state.db, access.id(), id, &new)
            .await?
            .into(),
    ))
}

async fn delete_participant(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, ParticipantId)>,
) -> Result<StatusCode> {
    if store::participants::delete(&state.db, access.id(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound)
    }
}

#[derive(Deserialize)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
}

/// CSV in the body (`label,group,<attribute>...`). Every row is checked
/// first; with any error, nothing is written and the answer is a 422 that
/// lists each row's problem. `?dry_run=true` only checks.
async fn import_participants(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Query(q): Query<ImportQuery>,
    body: String,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let rows = rules::check_csv(&state.db, access.id(), &body).await?;
    let errors: Vec<String> = rows
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| format!("line {}: {e}", r.line)))
        .collect();
    if !errors.is_empty() {
        let body = ParticipantImportRefused {
            error: format!(
                "{} row(s) have errors; nothing was imported: {}",
                errors.len(),
                errors.join("; ")
            ),
            rows: rows.into_iter().map(ParticipantRow::from).collect(),
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response());
    }
    let imported = if q.dry_run {
        0
    } else {
        rules::import_checked(&state.db, access.id(), &rows).await?
    };
    let status = if q.dry_run {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(ParticipantImport {
            imported,
            dry_run: q.dry_run,
            rows: rows.into_iter().map(ParticipantRow::from).collect(),
        }),
    )
        .into_response())
}
