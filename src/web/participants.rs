//! Participants and stakeholder groups: the list, editing, and the
//! participants CSV import (checked, then confirmed).

use super::chrome::Chrome;
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::ValidationError;
use crate::domain::ids::{GroupId, ParticipantId, ProjectId};
use crate::domain::participant::{self};
use crate::domain::project::Role;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Form, Path, ProjectAccess, need};
use crate::http::upload::file_part;
use crate::service::participants::{
    CsvCheck, GroupChange, change_group, check_csv, create_group, create_participant,
    import_checked, parse_participant, update_participant,
};
use crate::store;
use crate::store::groups::Group;
use crate::store::participants::{NewParticipant, Participant};
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::PgPool;
use tower_sessions::Session;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/participants",
            get(list_participants).post(create_participant_form),
        )
        .route(
            "/projects/{project_id}/participants/import",
            post(check_import),
        )
        .route(
            "/projects/{project_id}/participants/import/confirm",
            post(confirm_import),
        )
        .route(
            "/projects/{project_id}/participants/{participant_id}/edit",
            get(edit_participant).post(update_participant_form),
        )
        .route(
            "/projects/{project_id}/participants/{participant_id}/delete",
            post(delete_participant_form),
        )
        .route("/projects/{project_id}/groups", post(create_group_form))
        .route(
            "/projects/{project_id}/groups/{group_id}",
            post(change_group_form),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "participants/list.html")]
struct ParticipantsPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    participants: Vec<Participant>,
    groups: Vec<Group>,
    can_edit: bool,
}

async fn list_participants(
    State(state): State<AppState>,
    access: ProjectAccess,
    chrome: Chrome,
) -> Result<ParticipantsPage> {
    Ok(ParticipantsPage {
        chrome,
        participants: store::participants::list(&state.db, access.id()).await?,
        groups: store::groups::list(&state.db, access.id()).await?,
        can_edit: access.role() != Role::Viewer,
        project: access.project.clone(),
        tab: "participants",
    })
}

#[derive(Deserialize)]
struct ParticipantForm {
    label: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    attributes: String,
}

async fn parse_form(
    db: &PgPool,
    project: ProjectId,
    form: &ParticipantForm,
) -> crate::service::Result<NewParticipant> {
    let attributes = participant::attribute_lines(&form.attributes)?;
    parse_participant(db, project, &form.label, Some(&form.group), attributes).await
}

async fn create_participant_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(form): Form<ParticipantForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/participants", access.id());
    let created = match parse_form(&state.db, access.id(), &form).await {
        Ok(new) => create_participant(&state.db, access.id(), &new).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(p) => done(&session, &back, format!("{} added.", p.label)).await,
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "participants/edit.html")]
struct EditParticipantPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    participant: Participant,
    groups: Vec<Group>,
    attributes: String,
}

async fn edit_participant(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    Path((_, id)): Path<(ProjectId, ParticipantId)>,
) -> Result<EditParticipantPage> {
    let participant = store::participants::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(EditParticipantPage {
        chrome,
        attributes: participant::to_lines(&participant.attributes),
        participant,
        groups: store::groups::list(&state.db, access.id()).await?,
        project: access.project.clone(),
        tab: "participants",
    })
}

async fn update_participant_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, ParticipantId)>,
    Form(form): Form<ParticipantForm>,
) -> Result<Redirect> {
    let edit = format!("/projects/{}/participants/{id}/edit", access.id());
    let updated = match parse_form(&state.db, access.id(), &form).await {
        Ok(new) => update_participant(&state.db, access.id(), id, &new).await,
        Err(e) => Err(e),
    };
    match updated {
        Ok(p) => {
            done(
                &session,
                &format!("/projects/{}/participants", access.id()),
                format!("{} saved.", p.label),
            )
            .await
        }
        Err(e) => back_with(&session, &edit, e).await,
    }
}

async fn delete_participant_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, id)): Path<(ProjectId, ParticipantId)>,
) -> Result<Redirect> {
    let p = store::participants::get(&state.db, access.id(), id)
        .await?
        .ok_or(AppError::NotFound)?;
    store::participants::delete(&state.db, access.id(), id).await?;
    done(
        &session,
        &format!("/projects/{}/participants", access.id()),
        format!("{} deleted.", p.label),
    )
    .await
}

#[derive(Template, WebTemplate)]
#[template(path = "participants/import.html")]
struct ImportPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    rows: Vec<CsvCheck>,
    errors: usize,
    csv: String,
}

async fn check_import(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    chrome: Chrome,
    session: Session,
    multipart: Multipart,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let back = format!("/projects/{}/participants", access.id());
    let checked = match file_part(multipart, "a participants CSV file").await {
        Ok(bytes) => read_and_check(&state.db, access.id(), &bytes).await,
        Err(e) => Err(e),
    };
    match checked {
        Ok((rows, csv)) => Ok(ImportPage {
            chrome,
            errors: rows.iter().filter(|r| r.error.is_some()).count(),
            rows,
            csv,
            project: access.project.clone(),
            tab: "participants",
        }
        .into_response()),
        Err(e) => back_with(&session, &back, e)
            .await
            .map(IntoResponse::into_response),
    }
}

/// Decode an uploaded participants CSV and check its rows.
async fn read_and_check(
    db: &PgPool,
    project: ProjectId,
    bytes: &[u8],
) -> Result<(Vec<CsvCheck>, String)> {
    let csv = crate::domain::text::decode_normalised(bytes)
        .map_err(|e| ValidationError::new("file", e.to_string()))?;
    Ok((check_csv(db, project, &csv).await?, csv))
}

#[derive(Deserialize)]
struct ConfirmForm {
    csv: String,
}

async fn confirm_import(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(form): Form<ConfirmForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/participants", access.id());
    let imported = match check_csv(&state.db, access.id(), &form.csv).await {
        Ok(rows) => import_checked(&state.db, access.id(), &rows).await,
        Err(e) => Err(e),
    };
    match imported {
        Ok(n) => done(&session, &back, format!("{n} participants imported.")).await,
        Err(e) => back_with(&session, &back, e).await,
    }
}

#[derive(Deserialize)]
struct GroupForm {
    name: String,
    #[serde(default)]
    action: String,
}

async fn create_group_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Form(form): Form<GroupForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/participants", access.id());
    match create_group(&state.db, access.id(), &form.name).await {
        Ok(_) => done(&session, &back, "Group added.").await,
        Err(e) => back_with(&session, &back, e).await,
    }
}

async fn change_group_form(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    session: Session,
    Path((_, group)): Path<(ProjectId, GroupId)>,
    Form(form): Form<GroupForm>,
) -> Result<Redirect> {
    let back = format!("/projects/{}/participants", access.id());
    let change = match form.action.as_str() {
        "up" => GroupChange::Up,
        "down" => GroupChange::Down,
        "delete" => GroupChange::Delete,
        _ => GroupChange::Rename(&form.name),
    };
    let outcome = change_group(&state.db, access.id(), group, change).await;
    match outcome {
        Ok(()) => done(&session, &back, "Groups saved.").await,
        Err(e) => back_with(&session, &back, e).await,
    }
}
