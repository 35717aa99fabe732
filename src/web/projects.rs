//! Project pages: the list, one project's overview with its members, and its
//! settings.

use super::chrome::Chrome;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::{self, ProjectName, Role};
use crate::http::error::{AppError, Result};
use crate::http::extract::{CurrentUser, Form, Path, ProjectAccess, need};
use crate::service;
use crate::service::projects::{add_member, change_role, remove_member};
use crate::store;
use crate::store::members::Member;
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
        .route("/projects", get(list_projects).post(create_project))
        .route("/projects/{project_id}", get(show_project))
        .route(
            "/projects/{project_id}/settings",
            get(edit_project).post(update_project),
        )
        .route("/projects/{project_id}/delete", post(delete_project))
        .route("/projects/{project_id}/members", post(add_member_form))
        .route(
            "/projects/{project_id}/members/{user_id}/role",
            post(change_role_form),
        )
        .route(
            "/projects/{project_id}/members/{user_id}/remove",
            post(remove_member_form),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "projects/list.html")]
struct ProjectsPage {
    chrome: Chrome,
    projects: Vec<MemberProject>,
}

async fn list_projects(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    chrome: Chrome,
) -> Result<ProjectsPage> {
    let (projects, _) = store::projects::list_for_member(&state.db, user.id, 1000, 0).await?;
    Ok(ProjectsPage { chrome, projects })
}

#[derive(Deserialize)]
struct ProjectForm {
    name: String,
    #[serde(default)]
    description: String,
}

async fn create_project(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    session: Session,
    Form(form): Form<ProjectForm>,
) -> Result<Redirect> {
    let parsed = ProjectName::parse(&form.name)
        .and_then(|n| Ok((n, project::description(&form.description)?)));
    let (name, description) = match parsed {
        Ok(p) => p,
        Err(e) => return back_with(&session, "/projects", e).await,
    };
    let created = store::projects::insert(&state.db, user.id, &name, &description).await?;
    done(
        &session,
        &format!("/projects/{}", created.id),
        "Project created.",
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "projects/show.html")]
struct ProjectPage {
    chrome: Chrome,
    project: MemberProject,
    members: Vec<Member>,
    me: UserId,
    is_owner: bool,
    /// Owners in the project: the last one cannot be removed.
    owners: usize,
    roles: [Role; 3],
    tab: &'static str,
    stats: store::projects::Stats,
    /// The demo project shows where to start.
    is_demo: bool,
}

async fn show_project(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<ProjectPage> {
    let members = store::members::list(&state.db, access.id()).await?;
    let stats = store::projects::stats(&state.db, access.id()).await?;
    Ok(ProjectPage {
        is_demo: access.project.project.name.starts_with(crate::demo::NAME),
        stats,
        chrome,
        owners: members.iter().filter(|m| m.role == Role::Owner).count(),
        is_owner: access.role() == Role::Owner,
        me: access.user.id,
        project: access.project.clone(),
        members,
        roles: Role::ALL,
        tab: "overview",
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "projects/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
}

async fn edit_project(access: ProjectAccess<need::Coder>, chrome: Chrome) -> SettingsPage {
    SettingsPage {
        chrome,
        project: access.project.clone(),
        tab: "settings",
    }
}

async fn update_project(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(form): Form<ProjectForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/settings", access.id());
    let parsed = ProjectName::parse(&form.name)
        .and_then(|n| Ok((n, project::description(&form.description)?)));
    let (name, description) = match parsed {
        Ok(p) => p,
        Err(e) => return back_with(&session, &back, e).await,
    };
    store::projects::update(&state.db, access.id(), Some(&name), Some(&description)).await?;
    done(&session, &back, "Saved.").await
}

#[derive(Deserialize)]
struct DeleteForm {
    confirm_name: String,
}

async fn delete_project(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    session: Session,
    Form(form): Form<DeleteForm>,
) -> Result<Redirect> {
    if form.confirm_name.trim() != access.project.project.name {
        let back = format!("/projects/{}/settings", access.id());
        let err = AppError::BadRequest(
            "the name you typed does not match; the project was not deleted".into(),
        );
        return back_with(&session, &back, err).await;
    }
    store::projects::delete(&state.db, access.id()).await?;
    done(
        &session,
        "/projects",
        format!("Project “{}” deleted.", access.project.project.name),
    )
    .await
}

#[derive(Deserialize)]
pub struct MemberForm {
    pub email: String,
    pub role: String,
}

async fn add_member_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    session: Session,
    Form(form): Form<MemberForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}", access.id());
    match add_member(&state.db, access.id(), &form.email, &form.role).await {
        Ok(m) => done(&session, &back, format!("{} added as {}.", m.name, m.role)).await,
        // An administrator is offered to create the account right away.
        Err(service::Error::Invalid(e))
            if e.field == "email"
                && access.user.is_admin
                && crate::domain::account::Email::parse(&form.email).is_ok() =>
        {
            let email = form.email.trim();
            done(
                &session,
                &format!("/admin/users?email={}", super::pages::encode_query(email)),
                format!(
                    "No account uses {email} yet — create one here, then add them to the project."
                ),
            )
            .await
        }
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    pub role: String,
}

async fn change_role_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    session: Session,
    Path((_, user)): Path<(ProjectId, UserId)>,
    Form(form): Form<RoleForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}", access.id());
    match change_role(&state.db, access.id(), user, &form.role).await {
        Ok(m) => done(&session, &back, format!("{} is now {}.", m.name, m.role)).await,
        Err(e) => back_with(&session, &back, e).await,
    }
}

async fn remove_member_form(
    State(state): State<AppState>,
    access: ProjectAccess,
    session: Session,
    Path((_, user)): Path<(ProjectId, UserId)>,
) -> Result<Redirect> {
    let leaving = user == access.user.id;
    let back = format!("/projects/{}", access.id());
    match remove_member(&state.db, &access, user).await {
        Ok(()) if leaving => done(&session, "/projects", "You left the project.").await,
        Ok(()) => done(&session, &back, "Member removed.").await,
        Err(e) => back_with(&session, &back, e).await,
    }
}
