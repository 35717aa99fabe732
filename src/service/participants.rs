//! Participants and stakeholder groups: parsing a participant against the
//! project's groups, creating and changing them, and the participants CSV
//! import with per-row checks (checked first, then all rows or none).

use super::{Error, Result};
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

fn label_taken(label: &str) -> Error {
    Error::Conflict(format!(
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
    store::participants::map_waiting_speakers(&mut conn, project).await?;
    drop(conn);
    store::participants::get(db, project, id)
        .await?
        .ok_or(Error::NotFound)
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
        Ok(false) => Err(Error::NotFound),
        Ok(true) => {
            // A new label may be one a transcript's speaker was waiting for.
            store::participants::map_waiting_speakers(&mut *db.acquire().await?, project).await?;
            store::participants::get(db, project, id)
                .await?
                .ok_or(Error::NotFound)
        }
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
    // The reader stops at `participants_csv::MAX_ROWS`.
    let rows =
        participants_csv::read(text).map_err(|e| ValidationError::new("file", e.to_string()))?;
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
        return Err(Error::Invalid(ValidationError::new(
            "file",
            format!("{bad} row(s) have errors; nothing was imported"),
        )));
    }
    let new: Vec<NewParticipant> = rows.iter().filter_map(|r| r.parsed.clone()).collect();
    match store::participants::insert_all(db, project, &new).await {
        Ok(()) => Ok(new.len()),
        Err(e) if store::violated_constraint(&e) == Some(store::participants::LABEL_TAKEN) => Err(Error::Conflict(
            "another participant with one of these labels was added meanwhile; check and try again".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn create_group(db: &PgPool, project: ProjectId, name: &str) -> Result<GroupId> {
    let name = participant::group_name(name)?;
    match store::groups::insert(db, project, &name).await {
        Err(e) if store::violated_constraint(&e) == Some(store::groups::NAME_TAKEN) => Err(
            Error::Conflict(format!("there is already a group called “{name}”")),
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
            Error::Conflict(format!("there is already a group called “{name}”")),
        ),
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_group(db: &PgPool, project: ProjectId, group: GroupId) -> Result<()> {
    match store::groups::delete(db, project, group).await {
        Err(e) if store::violated_constraint(&e) == Some(store::groups::IN_USE) => {
            Err(Error::Conflict(
                "participants are still in this group: move them to another group first".into(),
            ))
        }
        Ok(true) => Ok(()),
        Ok(false) => Err(Error::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// A change to a stakeholder group from the participants page.
pub enum GroupChange<'a> {
    Up,
    Down,
    Delete,
    Rename(&'a str),
}

/// Move a group up or down the list, delete it, or rename it.
pub async fn change_group(
    db: &PgPool,
    project: ProjectId,
    group: GroupId,
    change: GroupChange<'_>,
) -> Result<()> {
    let groups = store::groups::list(db, project).await?;
    let at = groups
        .iter()
        .position(|g| g.id == group)
        .ok_or(Error::NotFound)? as i32;
    match change {
        GroupChange::Up => store::groups::move_to(db, project, group, at).await?,
        GroupChange::Down => store::groups::move_to(db, project, group, at + 2).await?,
        GroupChange::Delete => return delete_group(db, project, group).await,
        GroupChange::Rename(name) => return rename_group(db, project, group, name).await,
    };
    Ok(())
}

/// A participant labelled like the speaker (the existing one if the label is
/// taken).
pub async fn participant_for_speaker(
    db: &PgPool,
    project: ProjectId,
    label: &str,
    group: Option<GroupId>,
) -> Result<ParticipantId> {
    if let Ok(existing) = super::documents::find_participant(db, project, label).await {
        return Ok(existing);
    }
    let new = NewParticipant {
        label: participant::label(label)?,
        group,
        attributes: Attributes::new(),
    };
    Ok(create_participant(db, project, &new).await?.id)
}
