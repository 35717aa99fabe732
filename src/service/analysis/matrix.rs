//! The theme matrix: reading a request (one parser for pages, API and
//! exports), checking its scope, and assembling the counted table.

use super::super::{Access, Error, Result, plural};
use super::attributions::Attributions;
use crate::domain::ValidationError;
use crate::domain::ids::{DocumentId, ProjectId, UserId};
use crate::domain::matrix::{self, Column, Columns, Counts, GroupInfo, Measure};
use crate::store;
use crate::store::codes::Code;
use crate::store::matrix::Scope;
use serde::Deserialize;
use sqlx::PgPool;

/// A matrix request as a query string (pages, API and exports alike).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct MatrixQuery {
    /// `group` (default), `attr:NAME`, `group,attr:NAME`.
    pub columns: Option<String>,
    /// `references` (default), `cases`, `cases_pct`, `documents`, `words`.
    pub measure: Option<String>,
    /// `true`: a code's row counts its whole branch.
    pub rollup: Option<String>,
    /// A coder's user id.
    pub coder: Option<String>,
    /// Document ids, comma separated.
    pub documents: Option<String>,
    /// Only participants with this attribute value: `name=value`.
    pub attribute: Option<String>,
}

/// A parsed matrix request.
#[derive(Debug, Clone)]
pub struct MatrixRequest {
    pub columns: Columns,
    pub measure: Measure,
    pub rollup: bool,
    pub scope: Scope,
}

pub fn flag(field: &'static str, raw: Option<&str>) -> Result<bool, ValidationError> {
    match raw.map(str::trim) {
        None | Some("") | Some("false") | Some("0") | Some("off") => Ok(false),
        Some("true") | Some("1") | Some("on") => Ok(true),
        Some(other) => Err(ValidationError::new(
            field,
            format!("{field} must be true or false (not “{other}”)"),
        )),
    }
}

fn nonempty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl MatrixQuery {
    pub fn parse(&self) -> Result<MatrixRequest, ValidationError> {
        let coder = nonempty(&self.coder)
            .map(|c| {
                c.parse::<UserId>().map_err(|_| {
                    ValidationError::new("coder", format!("coder must be a user id (not “{c}”)"))
                })
            })
            .transpose()?;
        let documents = document_ids(self.documents.as_deref())?;
        let attribute = crate::domain::participant::attribute_filter(self.attribute.as_deref())?;
        Ok(MatrixRequest {
            columns: Columns::parse(self.columns.as_deref().unwrap_or("group"))?,
            measure: Measure::parse(nonempty(&self.measure).unwrap_or("references"))?,
            rollup: flag("rollup", self.rollup.as_deref())?,
            scope: Scope {
                coder,
                documents,
                attribute,
            },
        })
    }
}

/// Document ids separated by commas (`12,14`), as every filter writes
/// them; blank means all documents.
pub fn document_ids(raw: Option<&str>) -> Result<Option<Vec<DocumentId>>, ValidationError> {
    ids("documents", raw)
}

/// Ids of `field` separated by commas; blank is `None`.
pub fn ids<T: std::str::FromStr>(
    field: &'static str,
    raw: Option<&str>,
) -> Result<Option<Vec<T>>, ValidationError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    raw.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            x.parse::<T>().map_err(|_| {
                ValidationError::new(
                    field,
                    format!("{field} must be ids separated by commas (not “{x}”)"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// One row: a code with its counts per column and in total.
#[derive(Debug, Clone)]
pub struct MatrixRow {
    pub code: Code,
    pub cells: Vec<Counts>,
    pub total: Counts,
}

/// The assembled matrix, every measure at once.
#[derive(Debug, Clone)]
pub struct Matrix {
    pub columns: Vec<Column>,
    pub rows: Vec<MatrixRow>,
    /// Participants counted in all columns together.
    pub participants: i64,
}

impl Matrix {
    /// A cell's value for `measure`.
    pub fn value(&self, row: &MatrixRow, column: usize, measure: Measure) -> Option<f64> {
        matrix::value(
            row.cells[column],
            measure,
            self.columns[column].participants,
        )
    }

    pub fn total(&self, row: &MatrixRow, measure: Measure) -> Option<f64> {
        matrix::value(row.total, measure, Some(self.participants))
    }
}

/// Count the matrix for a request.
pub async fn build(
    db: &PgPool,
    attributions: &Attributions,
    project: ProjectId,
    req: &MatrixRequest,
) -> Result<Matrix> {
    let codes = store::codes::outline(db, project).await?;
    // The count, the groups and N do not depend on each other.
    let (tally, groups, (n, participants)) = tokio::try_join!(
        super::attributions::tally(
            db,
            attributions,
            project,
            &codes,
            &req.columns,
            req.rollup,
            &req.scope,
        ),
        async { Ok(store::groups::list(db, project).await?) },
        async { Ok(store::matrix::population(db, project, &req.columns, &req.scope).await?) },
    )?;
    let groups: Vec<GroupInfo> = groups
        .into_iter()
        .map(|g| GroupInfo {
            id: g.id.0,
            name: g.name,
        })
        .collect();
    let seen: Vec<matrix::Slot> = tally.cells.keys().map(|(_, s)| s.clone()).collect();
    let columns = matrix::columns(&req.columns, &groups, &n, &seen);
    let rows = codes
        .into_iter()
        .map(|code| {
            let cells = columns
                .iter()
                .map(|c| {
                    tally
                        .cells
                        .get(&(code.id.0, c.slot.clone()))
                        .copied()
                        .unwrap_or_default()
                })
                .collect();
            let total = tally.totals.get(&code.id.0).copied().unwrap_or_default();
            MatrixRow { code, cells, total }
        })
        .collect();
    Ok(Matrix {
        columns,
        rows,
        participants,
    })
}

/// Narrow a scope to the codings the member may see (blind coding), and
/// refuse one naming documents outside the project.
pub async fn check_scope(db: &PgPool, access: &Access, scope: &mut Scope) -> Result<()> {
    scope.coder = access.coder_scope(scope.coder)?;
    let project = access.id();
    if let Some(docs) = &scope.documents {
        let (all, _) = store::documents::list(db, project, i64::MAX, 0).await?;
        if let Some(missing) = docs.iter().find(|d| !all.iter().any(|x| x.id == **d)) {
            return Err(Error::Invalid(ValidationError::new(
                "documents",
                format!("document {missing} is not in this project"),
            )));
        }
    }
    Ok(())
}

/// What a scope narrows, in words: "codings by Ann", "3 documents",
/// "participants with locality = North".
pub async fn scope_notes(db: &PgPool, access: &Access, scope: &Scope) -> Result<Vec<String>> {
    let project = access.id();
    let mut notes = Vec::new();
    if scope.coder.is_some() && scope.coder == access.project.settings.consensus {
        notes.push(
            "codings of the consensus set (disagreements between coders settled by adjudication)"
                .into(),
        );
    } else if let Some(c) = scope.coder {
        let who = store::members::list(db, project)
            .await?
            .into_iter()
            .find(|m| m.user_id == c)
            .map_or_else(|| format!("user {c}"), |m| m.name);
        notes.push(format!("codings by {who}"));
    }
    if let Some(d) = &scope.documents {
        notes.push(format!(
            "{} selected",
            plural(d.len(), "document", "documents")
        ));
    }
    if let Some((n, v)) = &scope.attribute {
        notes.push(format!("participants with {n} = {v}"));
    }
    Ok(notes)
}

/// Code × code: overlapping codings and shared cases, for the live codes.
pub struct Cooccurrence {
    pub codes: Vec<Code>,
    /// `(overlaps, cases)` for each pair, row by row in `codes` order.
    pub cells: Vec<Vec<(i64, i64)>>,
    /// The most overlaps off the diagonal (for the heatmap).
    pub max: i64,
}

/// The co-occurrence table for a request's scope.
pub async fn cooccurrence(
    db: &PgPool,
    access: &Access,
    req: &mut MatrixRequest,
) -> Result<Cooccurrence> {
    check_scope(db, access, &mut req.scope).await?;
    let project = access.id();
    let codes = store::codes::outline(db, project).await?;
    let co = store::matrix::cooccurrence(db, project, &req.scope).await?;
    let key = |a: i64, b: i64| if a <= b { (a, b) } else { (b, a) };
    let cells: Vec<Vec<(i64, i64)>> = codes
        .iter()
        .map(|a| {
            codes
                .iter()
                .map(|b| {
                    let k = key(a.id.0, b.id.0);
                    (
                        co.overlaps.get(&k).copied().unwrap_or(0),
                        co.cases.get(&k).copied().unwrap_or(0),
                    )
                })
                .collect()
        })
        .collect();
    let max = cells
        .iter()
        .enumerate()
        .flat_map(|(i, row)| {
            row.iter()
                .enumerate()
                .filter(move |(j, _)| *j != i)
                .map(|(_, c)| c.0)
        })
        .max()
        .unwrap_or(0);
    Ok(Cooccurrence { codes, cells, max })
}
