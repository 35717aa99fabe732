//! What a project's filters can choose from — groups, participant
//! attribute values, documents, coders — read once for every filter menu
//! (matrix, co-occurrence, a code's excerpts).

use super::super::Result;
use crate::domain::ids::ProjectId;
use crate::domain::ids::{DocumentId, GroupId, UserId};
use crate::domain::project::Role;
use crate::store;
use sqlx::PgPool;

pub struct FilterOptions {
    pub groups: Vec<(GroupId, String)>,
    /// Attribute names, sorted without regard to case.
    pub attribute_names: Vec<String>,
    /// Every `(name, value)` some participant has, sorted.
    pub attribute_values: Vec<(String, String)>,
    pub documents: Vec<(DocumentId, String)>,
    /// Members who can code (not viewers).
    pub coders: Vec<(UserId, String)>,
}

pub async fn filter_options(db: &PgPool, project: ProjectId) -> Result<FilterOptions> {
    let groups = store::groups::list(db, project)
        .await?
        .into_iter()
        .map(|g| (g.id, g.name))
        .collect();
    let participants = store::participants::list(db, project).await?;
    let (attribute_names, attribute_values) = attributes_of(&participants);
    let (docs, _) = store::documents::list(db, project, i64::MAX, 0).await?;
    let documents = docs.into_iter().map(|d| (d.id, d.title)).collect();
    let coders = store::members::list(db, project)
        .await?
        .into_iter()
        .filter(|m| m.role != Role::Viewer)
        .map(|m| (m.user_id, m.name))
        .collect();
    Ok(FilterOptions {
        groups,
        attribute_names,
        attribute_values,
        documents,
        coders,
    })
}

/// The participant attribute names in the project (for column menus and
/// excerpt columns): one query, the participants.
pub async fn attribute_names(db: &PgPool, project: ProjectId) -> Result<Vec<String>> {
    let participants = store::participants::list(db, project).await?;
    Ok(attributes_of(&participants).0)
}

/// Attribute names (sorted without regard to case) and every
/// `(name, value)` some participant has (sorted).
fn attributes_of(
    participants: &[store::participants::Participant],
) -> (Vec<String>, Vec<(String, String)>) {
    let mut values: Vec<(String, String)> = participants
        .iter()
        .flat_map(|p| p.attributes.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    values.sort();
    values.dedup();
    let mut names: Vec<String> = values.iter().map(|(k, _)| k.clone()).collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup();
    (names, values)
}
