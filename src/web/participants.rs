//! Participants and stakeholder groups: pages, and the rules shared with the
//! JSON API (group lookup by name, CSV import with per-row checks).

use super::error::{AppError, Result};
use crate::domain::ValidationError;
use crate::domain::ids::{GroupId, ParticipantId, ProjectId};
use crate::domain::participant::{self, Attributes};
use crate::formats::participants_csv;
use crate::store;
use crate::store::groups::Group;
use crate::store::participants::{NewParticipant, Participant};
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashSet;

/// The project's group called `name` (ignoring case); blank means none.
pub fn find_group(
    groups: &[Group],
    name: Option<&str>,
) -> Result<Option<GroupId>, ValidationError> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    groups
        .iter()
        .find(|g| g.name.to_lowercase() == name.to_lowercase())
        .map(|g| Some(g.id))
        .ok_or_else(|| {
            let known: Vec<&str> = groups.iter().map(|g| g.name.as_str()).collect();
            ValidationError::new(
                "group",
                format!(
                    "there is no group “{name}” in this project; its groups are {}",
                    known.join(", ")
                ),
            )
        })
}

/// Parse a participant's fields against the project's groups.
pub async fn parse_participant(
    db: &PgPool,
    project: ProjectId,
    label: &str,
    group: Option<&str>,
    attributes: Attributes,
) -> Result<NewParticipant> {
    let label = participant::label(label)?;
    let groups = store::groups::list(db, project).await?;
    let group = find_group(&groups, group)?;
    let attributes =
        participant::attributes(attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    Ok(NewParticipant {
        label,
        group,
        attributes,
    })
}

fn label_taken(label: &str) -> AppError {
    AppError::Conflict(format!(
        "a participant labelled “{label}” already exists in this project"
    ))
}

pub async fn create_participant(
    db: &PgPool,
    project: ProjectId,
    p: &NewParticipant,
) -> Result<Participant> {
    let mut conn = db.acquire().await?;
    let id = match store::participants::insert(&mut conn, project, p).await {
        Err(e) if store::violated_constraint(&e) == Some(store::participants::LABEL_TAKEN) => {
            return Err(label_taken(&p.label));
        }
        other => other?,
    };
    drop(conn);
    store::participants::get(db, project, id)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn update_participant(
    db: &PgPool,
    project: ProjectId,
    id: ParticipantId,
    p: &NewParticipant,
) -> Result<Participant> {
    match store::participants::update(db, project, id, p).await {
        Err(e) if store::violated_constraint(&e) == Some(store::participants::LABEL_TAKEN) => {
            Err(label_taken(&p.label))
        }
        Ok(false) => Err(AppError::NotFound),
        Ok(true) => store::participants::get(db, project, id)
            .await?
            .ok_or(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// One CSV row, checked.
#[derive(Debug, Clone, Serialize)]
pub struct CsvCheck {
    pub line: usize,
    pub label: String,
    pub group: String,
    pub attributes: Attributes,
    /// Why this row cannot be imported, if it cannot.
    pub error: Option<String>,
    #[serde(skip)]
    pub parsed: Option<NewParticipant>,
}

/// Check every row of a participants CSV against the project without writing
/// anything: unknown groups, duplicate labels (in the file or the project),
/// bad labels or attributes are reported per row.
pub async fn check_csv(db: &PgPool, project: ProjectId, text: &str) -> Result<Vec<CsvCheck>> {
    let rows =
        participants_csv::read(text).map_err(|e| ValidationError::new("file", e.to_string()))?;
    if rows.len() > 10_000 {
        return Err(ValidationError::new(
            "file",
            "at most 10,000 participants can be imported at once",
        )
        .into());
    }
    let groups = store::groups::list(db, project).await?;
    let existing: HashSet<String> = store::participants::list(db, project)
        .await?
        .into_iter()
        .map(|p| p.label.to_lowercase())
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let parsed = participant::label(&row.label)
            .and_then(|label| {
                let key = label.to_lowercase();
                if existing.contains(&key) {
                    return Err(ValidationError::new(
                        "label",
                        format!("“{label}” is already a participant of this project"),
                    ));
                }
                if !seen.insert(key) {
                    return Err(ValidationError::new(
                        "label",
                        format!("“{label}” appears more than once in the file"),
                    ));
                }
                Ok(label)
            })
            .and_then(|label| {
                let group = find_group(&groups, Some(&row.group))?;
                let attributes = participant::attributes(
                    row.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                )?;
                Ok(NewParticipant {
                    label,
                    group,
                    attributes,
                })
            });
        let (error, parsed) = match parsed {
            Ok(p) => (None, Some(p)),
            Err(e) => (Some(e.message), None),
        };
        out.push(CsvCheck {
            line: row.line,
            attributes: row
                .attributes
                .into_iter()
                .filter(|(k, v)| !k.trim().is_empty() && !v.is_empty())
                .collect(),
            label: row.label,
            group: row.group,
            error,
            parsed,
        });
    }
    Ok(out)
}

/// Import checked rows: all, or none when any row has an error.
pub async fn import_checked(db: &PgPool, project: ProjectId, rows: &[CsvCheck]) -> Result<usize> {
    let bad = rows.iter().filter(|r| r.error.is_some()).count();
    if bad > 0 {
        return Err(AppError::Invalid(ValidationError::new(
            "file",
            format!("{bad} row(s) have errors; nothing was imported"),
        )));
    }
    let new: Vec<NewParticipant> = rows.iter().filter_map(|r| r.parsed.clone()).collect();
    match store::participants::insert_all(db, project, &new).await {
        Ok(()) => Ok(new.len()),
        Err(e) if store::violated_constraint(&e) == Some(store::participants::LABEL_TAKEN) => Err(AppError::Conflict(
            "another participant with one of these labels was added meanwhile; check and try again".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn create_group(db: &PgPool, project: ProjectId, name: &str) -> Result<GroupId> {
    let name = participant::group_name(name)?;
    match store::groups::insert(db, project, &name).await {
        Err(e) if store::violated_constraint(&e) == Some(store::groups::NAME_TAKEN) => Err(
            AppError::Conflict(format!("there is already a group called “{name}”")),
        ),
        other => Ok(other?),
    }
}

pub async fn rename_group(
    db: &PgPool,
    project: ProjectId,
    group: GroupId,
    name: &str,
) -> Result<()> {
    let name = participant::group_name(name)?;
    match store::groups::rename(db, project, group, &name).await {
        Err(e) if store::violated_constraint(&e) == Some(store::groups::NAME_TAKEN) => Err(
            AppError::Conflict(format!("there is already a group called “{name}”")),
        ),
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_group(db: &PgPool, project: ProjectId, group: GroupId) -> Result<()> {
    match store::groups::delete(db, project, group).await {
        Err(e) if store::violated_constraint(&e) == Some(store::groups::IN_USE) => {
            Err(AppError::Conflict(
                "participants are still in this group: move them to another group first".into(),
            ))
        }
        Ok(true) => Ok(()),
        Ok(false) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

// ---- pages ----

use super::extract::{Chrome, Form, Path, ProjectAccess, need};
use super::pages::{back_with, done};
use crate::app::AppState;
use crate::domain::project::Role;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Multipart, State};
use axum::response::Redirect;
use axum::routing::{get, post};
use serde::Deserialize;
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
        project: access.project,
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
) -> Result<NewParticipant> {
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
        project: access.project,
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
    mut multipart: Multipart,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let back = format!("/projects/{}/participants", access.id());
    let mut bytes = Vec::new();
    while let Some(field) = multipart.next_field().await? {
        if field.name() == Some("file") {
            bytes = field.bytes().await?.to_vec();
        }
    }
    let checked = match crate::domain::text::decode_normalised(&bytes) {
        Ok(csv) => check_csv(&state.db, access.id(), &csv)
            .await
            .map(|rows| (rows, csv)),
        Err(e) => Err(ValidationError::new("file", e.to_string()).into()),
    };
    match checked {
        Ok((rows, csv)) => Ok(ImportPage {
            chrome,
            errors: rows.iter().filter(|r| r.error.is_some()).count(),
            rows,
            csv,
            project: access.project,
            tab: "participants",
        }
        .into_response()),
        Err(e) => back_with(&session, &back, e)
            .await
            .map(IntoResponse::into_response),
    }
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
    let groups = store::groups::list(&state.db, access.id()).await?;
    let Some(at) = groups.iter().position(|g| g.id == group) else {
        return Err(AppError::NotFound);
    };
    let outcome = match form.action.as_str() {
        "up" => store::groups::move_to(&state.db, access.id(), group, at as i32)
            .await
            .map(|_| ())
            .map_err(AppError::from),
        "down" => store::groups::move_to(&state.db, access.id(), group, at as i32 + 2)
            .await
            .map(|_| ())
            .map_err(AppError::from),
        "delete" => delete_group(&state.db, access.id(), group).await,
        _ => rename_group(&state.db, access.id(), group, &form.name).await,
    };
    match outcome {
        Ok(()) => done(&session, &back, "Groups saved.").await,
        Err(e) => back_with(&session, &back, e).await,
    }
}
