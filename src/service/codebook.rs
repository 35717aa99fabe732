//! The codebook: a code's fields as sent, creating and changing codes, and
//! the codebook in and out as CSV or REFI-QDA `.qdc`.

use super::exports::{Download, file_stem};
use super::{Access, Error, Result};
use crate::domain::ValidationError;
use crate::domain::code::{self, Colour};
use crate::domain::ids::{CodeId, ProjectId, UserId};
use crate::formats::codebook_csv;
use crate::store;
use crate::store::codes::{Code, CodeChanges, ImportOutcome, ImportedCode, NewCode};
use serde::Deserialize;
use sqlx::PgPool;

/// A code's fields as sent by a form or a script. Absent fields are left
/// alone on update; `parent_id: null` moves a code to the top level;
/// `shortcut: null` or `""` removes its shortcut.
#[derive(Debug, Default, Deserialize)]
pub struct CodeInput {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "super::explicit")]
    pub parent_id: Option<Option<CodeId>>,
    pub position: Option<i32>,
    #[serde(alias = "color")]
    pub colour: Option<String>,
    pub definition: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    #[serde(default, deserialize_with = "super::explicit")]
    pub shortcut: Option<Option<String>>,
    pub memo: Option<String>,
    /// The version the change was made from; a code changed since is not
    /// overwritten (409).
    pub version: Option<i32>,
}

fn long(field: &'static str, value: Option<&str>) -> Result<Option<String>, ValidationError> {
    value.map(|v| code::long_text(field, v)).transpose()
}

fn shortcut(value: Option<&str>) -> Result<Option<String>, ValidationError> {
    code::shortcut(value.unwrap_or(""))
}

impl CodeInput {
    pub fn into_new(self) -> Result<NewCode, ValidationError> {
        let name = code::name(self.name.as_deref().unwrap_or(""))?;
        Ok(NewCode {
            parent: self.parent_id.flatten(),
            name,
            colour: self
                .colour
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(Colour::parse)
                .transpose()?,
            definition: long("definition", self.definition.as_deref())?.unwrap_or_default(),
            inclusion: long("inclusion", self.inclusion.as_deref())?.unwrap_or_default(),
            exclusion: long("exclusion", self.exclusion.as_deref())?.unwrap_or_default(),
            example: long("example", self.example.as_deref())?.unwrap_or_default(),
            shortcut: shortcut(self.shortcut.flatten().as_deref())?,
        })
    }

    pub fn into_changes(self) -> Result<CodeChanges, ValidationError> {
        Ok(CodeChanges {
            name: self.name.as_deref().map(code::name).transpose()?,
            colour: self
                .colour
                .as_deref()
                .filter(|c| !c.trim().is_empty())
                .map(Colour::parse)
                .transpose()?,
            definition: long("definition", self.definition.as_deref())?,
            inclusion: long("inclusion", self.inclusion.as_deref())?,
            exclusion: long("exclusion", self.exclusion.as_deref())?,
            example: long("example", self.example.as_deref())?,
            shortcut: self.shortcut.map(|s| shortcut(s.as_deref())).transpose()?,
            memo: long("memo", self.memo.as_deref())?,
            parent: self.parent_id,
            position: self.position,
            version: self.version,
        })
    }
}

/// Create a code; answers it as the tree lists it.
pub async fn create(
    db: &PgPool,
    project: ProjectId,
    user: UserId,
    input: CodeInput,
) -> Result<Code> {
    let new = input.into_new()?;
    let id = store::codes::insert(db, project, user, &new).await?;
    store::codes::get(db, project, id)
        .await?
        .ok_or(Error::NotFound)
}

/// Change a code; answers it as it is now.
pub async fn update(
    db: &PgPool,
    project: ProjectId,
    id: CodeId,
    user: UserId,
    input: CodeInput,
) -> Result<Code> {
    let changes = input.into_changes()?;
    store::codes::update(db, project, id, user, &changes).await?;
    store::codes::get(db, project, id)
        .await?
        .ok_or(Error::NotFound)
}

/// The codebook as CSV (`path, definition, inclusion, exclusion, example,
/// colour, shortcut`), in tree order.
pub fn to_csv(tree: &[Code]) -> String {
    codebook_csv::write(tree.iter().map(|c| codebook_csv::CodeOut {
        path: &c.path,
        definition: &c.definition,
        inclusion: &c.inclusion,
        exclusion: &c.exclusion,
        example: &c.example,
        colour: c.colour.as_str(),
        shortcut: c.shortcut.as_deref(),
    }))
}

/// Import a codebook CSV: all rows or none.
pub async fn import_csv(
    db: &PgPool,
    project: ProjectId,
    user: UserId,
    text: &str,
) -> Result<ImportOutcome> {
    let rows = codebook_csv::read(text)
        .map_err(|e| Error::Invalid(ValidationError::new("file", e.to_string())))?;
    if rows.is_empty() {
        return Err(Error::Invalid(ValidationError::new(
            "file",
            "the file has a header but no codes",
        )));
    }
    if let Some(deep) = rows.iter().find(|r| r.path.len() > code::MAX_LEVELS) {
        return Err(Error::invalid(
            "file",
            format!(
                "line {}: the path has {} levels; a codebook has at most {}",
                deep.line,
                deep.path.len(),
                code::MAX_LEVELS
            ),
        ));
    }
    let codes: Vec<ImportedCode> = rows
        .into_iter()
        .map(|r| ImportedCode {
            path: r.path,
            definition: r.definition,
            inclusion: r.inclusion,
            exclusion: r.exclusion,
            example: r.example,
            colour: r.colour,
            shortcut: r.shortcut,
        })
        .collect();
    Ok(store::codes::import(db, project, user, &codes).await?)
}

/// Import a codebook file — REFI-QDA `.qdc` (XML) or CSV — into the
/// project's codebook, all or nothing.
pub async fn import(db: &PgPool, access: &Access, bytes: &[u8]) -> Result<ImportOutcome> {
    if super::exchange::is_qdc(bytes) {
        return super::exchange::import_qdc(db, access.id(), access.user_id(), bytes).await;
    }
    let text = crate::domain::text::decode_normalised(bytes)
        .map_err(|e| ValidationError::new("file", e.to_string()))?;
    import_csv(db, access.id(), access.user_id(), &text).await
}

/// The codebook as CSV text (with a byte-order mark when `bom` asks).
/// It needs only the project's id, so it can be read while access is
/// checked; [`csv_download`] names it.
pub async fn csv_text(db: &PgPool, project: ProjectId, bom: Option<&str>) -> Result<String> {
    let bom = super::analysis::matrix::flag("bom", bom)?;
    // No counts in the file: the outline, not the tree that counts codings.
    let tree = store::codes::outline(db, project).await?;
    let mut text = to_csv(&tree);
    if bom {
        text.insert(0, '\u{feff}');
    }
    Ok(text)
}

/// The codebook CSV as a file named after the project.
pub fn csv_download(access: &Access, text: String) -> Download {
    Download::text(
        "text/csv; charset=utf-8",
        format!("{}-codebook.csv", file_stem(&access.project.project.name)),
        text,
    )
}
