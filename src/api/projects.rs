//! `/api/v1/projects` and their members.

use super::model::{Member, Project, ProjectFields};
use super::{List, Page};
use crate::app::AppState;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::{self, ProjectName};
use crate::http::error::{AppError, Result};
use crate::http::extract::{CurrentUser, Json, Path, ProjectAccess, Query, need};
use crate::service::projects::{add_member, change_role, remove_member};
use crate::store;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects", get(list_projects).post(create_project))
        .route(
            "/projects/{project_id}",
            get(show_project)
                .patch(update_project)
                .delete(delete_project),
        )
        .route(
            "/projects/{project_id}/members",
            get(list_members).post(create_member),
        )
        .route(
            "/projects/{project_id}/members/{user_id}",
            get(show_member).patch(update_member).delete(delete_member),
        )
}

async fn list_projects(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(page): Query<Page>,
) -> Result<Json<List<Project>>> {
    let (limit, offset) = page.bounds()?;
    let (items, total) =
        store::projects::list_for_member(&state.db, user.id, limit, offset).await?;
    Ok(Json(List::of(items, total)))
}

#[derive(Deserialize)]
struct NewProject {
    name: String,
    #[serde(default)]
    description: String,
}

async fn create_project(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(body): Json<NewProject>,
) -> Result<(StatusCode, Json<Project>)> {
    let name = ProjectName::parse(&body.name)?;
    let description = project::description(&body.description)?;
    let created = store::projects::insert(&state.db, user.id, &name, &description).await?;
    let project = store::projects::get_for_member(&state.db, created.id, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(project.into())))
}

async fn show_project(access: ProjectAccess) -> Json<Project> {
    Json(access.into_inner().project.into())
}

#[derive(Deserialize)]
struct ProjectChanges {
    name: Option<String>,
    description: Option<String>,
}

async fn update_project(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(body): Json<ProjectChanges>,
) -> Result<Json<ProjectFields>> {
    let name = body.name.as_deref().map(ProjectName::parse).transpose()?;
    let description = body
        .description
        .as_deref()
        .map(project::description)
        .transpose()?;
    let project = store::projects::update(
        &state.db,
        access.id(),
        name.as_ref(),
        description.as_deref(),
    )
    .await?;
    Ok(Json(project.into()))
}

async fn delete_project(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
) -> Result<StatusCode> {
    store::projects::delete(&state.db, access.id()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_members(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(page): Query<Page>,
) -> Result<Json<List<Member>>> {
    let (limit, offset) = page.bounds()?;
    let all = store::members::list(&state.db, access.id()).await?;
    Ok(Json(List::page(all, limit, offset)))
}

#[derive(Deserialize)]
struct NewMember {
    email: String,
    role: String,
}

async fn create_member(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    Json(body): Json<NewMember>,
) -> Result<(StatusCode, Json<Member>)> {
    let member = add_member(&state.db, access.id(), &body.email, &body.role).await?;
    Ok((StatusCode::CREATED, Json(member.into())))
}

async fn show_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, user)): Path<(ProjectId, UserId)>,
) -> Result<Json<Member>> {
    let member = store::members::get(&state.db, access.id(), user).await?;
    member.map(|m| Json(m.into())).ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
struct RoleChange {
    role: String,
}

async fn update_member(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    Path((_, user)): Path<(ProjectId, UserId)>,
    Json(body): Json<RoleChange>,
) -> Result<Json<Member>> {
    Ok(Json(
        change_role(&state.db, access.id(), user, &body.role)
            .await?
            .into(),
    ))
}

async fn delete_member(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, user)): Path<(ProjectId, UserId)>,
) -> Result<StatusCode> {
    remove_member(&state.db, &access, user).await?;
    Ok(StatusCode::NO_CONTENT)
}
