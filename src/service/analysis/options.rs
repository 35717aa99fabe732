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
    let (groups, values, documents, members) = tokio::try_join!(
        store::groups::list(db, project),
        store::participants::attribute_values(db, project),
        store::documents::titles(db, project),
        store::members::list(db, project),
    )?;
    let (attribute_names, attribute_values) = attributes_of(values);
    Ok(FilterOptions {
        groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
        attribute_names,
        attribute_values,
        documents,
        coders: members
            .into_iter()
            .filter(|m| m.role != Role::Viewer)
            .map(|m| (m.user_id, m.name))
            .collect(),
    })
}

/// The participant attribute names in the project (for column menus and
/// excerpt columns).
pub async fn attribute_names(db: &PgPool, project: ProjectId) -> Result<Vec<String>> {
    let values = store::participants::attribute_values(db, project).await?;
    Ok(attributes_of(values).0)
}

/// Attribute names (sorted without regard to case) and every
/// `(name, value)` (sorted), from the pairs participants have.
fn attributes_of(mut values: Vec<(String, String)>) -> (Vec<String>, Vec<(String, String)>) {
    values.sort();
    values.dedup();
    let mut names: Vec<String> = values.iter().map(|(k, _)| k.clone()).collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup();
    (names, values)
}
