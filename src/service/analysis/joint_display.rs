//! The joint display of a mixed-methods study: for each value of an
//! attribute (each locality), a questionnaire scale's change between waves
//! beside the themes' cases % among the participants of that value, with an
//! illustrative quote per theme — the table a mixed-methods paper prints.

use super::super::surveys::{self, Change, CompareQuery};
use super::super::{Access, Error, Result};
use super::Attributions;
use super::matrix::{self, MatrixRequest};
use super::theme_table::{quote_text, tag};
use crate::domain::ids::CodeId;
use crate::domain::matrix::{Columns, Measure, cases_pct};
use crate::store;
use crate::store::codes::Code;
use crate::store::codings::Filter;
use crate::store::matrix::Scope;
use serde::Deserialize;
use sqlx::PgPool;
use std::collections::HashSet;

/// A joint display request as a query string.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct JointQuery {
    pub scale: Option<String>,
    /// `attr:NAME` (default: locality).
    pub within: Option<String>,
    /// The themes: code ids, comma separated (default: the top-level codes).
    pub codes: Option<String>,
    pub waves: Option<String>,
}

/// A theme in one row: cases among that value's participants.
#[derive(Debug, Clone)]
pub struct ThemeCell {
    pub cases: i64,
    /// Participants of the value who speak in the counted documents.
    pub participants: Option<i64>,
    pub cases_pct: Option<f64>,
    pub quote: Option<(String, String)>,
}

/// One attribute value's row.
#[derive(Debug, Clone)]
pub struct JointRow {
    pub value: String,
    /// The scale's change among the value's respondents (none when no one
    /// with the value answered the survey).
    pub change: Option<Change>,
    pub themes: Vec<ThemeCell>,
}

#[derive(Debug, Clone)]
pub struct JointDisplay {
    pub project: String,
    pub comparison: surveys::Comparison,
    pub attribute: String,
    pub codes: Vec<Code>,
    pub rows: Vec<JointRow>,
    /// Everyone: the overall change and the themes over all participants.
    pub overall: JointRow,
}

fn same(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

pub async fn build(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    q: &JointQuery,
) -> Result<JointDisplay> {
    let scale: i64 = q
        .scale
        .as_deref()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| Error::invalid("scale", "scale is the id of a survey scale"))?;
    let survey = store::surveys::survey_of_scale(db, access.id(), scale)
        .await?
        .ok_or_else(|| Error::invalid("scale", format!("scale {scale} is not in this project")))?;
    let comparison = surveys::compare(
        db,
        access,
        survey,
        &CompareQuery {
            scale: Some(scale.to_string()),
            within: q.within.clone(),
            waves: q.waves.clone(),
        },
    )
    .await?;
    let attribute = comparison.within.clone().ok_or_else(|| {
        Error::invalid(
            "within",
            "a joint display is by an attribute: within=attr:NAME",
        )
    })?;
    let outline = store::codes::outline(db, access.id()).await?;
    let codes = themes(&outline, q.codes.as_deref())?;
    let mut req = MatrixRequest {
        columns: Columns::Attribute(attribute.clone()),
        measure: Measure::CasesPct,
        rollup: true,
        scope: Scope::default(),
    };
    matrix::check_scope(db, access, &mut req.scope).await?;
    let m = matrix::build(db, attributions, access.id(), &req).await?;
    let row_of = |code: &Code| m.rows.iter().find(|r| r.code.id == code.id);
    // Values in both halves: the survey's groups, then any the
    // participants have that no respondent had.
    let mut values: Vec<String> = comparison
        .groups
        .iter()
        .filter_map(|g| g.value.clone())
        .collect();
    for c in &m.columns {
        if let Some(v) = &c.value
            && !values.iter().any(|x| same(x, v))
        {
            values.push(v.clone());
        }
    }
    let children = store::codes::children(&outline);
    let mut rows = Vec::new();
    for value in values {
        let column = m
            .columns
            .iter()
            .position(|c| c.value.as_deref().is_some_and(|v| same(v, &value)));
        let quotes = quotes(db, access, &codes, &children, &attribute, &value).await?;
        let themes = codes
            .iter()
            .zip(quotes)
            .map(|(code, quote)| {
                let (cases, participants) = match (column, row_of(code)) {
                    (Some(i), Some(r)) => (r.cells[i].cases, m.columns[i].participants),
                    (Some(i), None) => (0, m.columns[i].participants),
                    _ => (0, None),
                };
                ThemeCell {
                    cases,
                    participants,
                    cases_pct: cases_pct(cases, participants),
                    quote,
                }
            })
            .collect();
        rows.push(JointRow {
            change: comparison
                .groups
                .iter()
                .find(|g| g.value.as_deref().is_some_and(|v| same(v, &value)))
                .cloned(),
            value,
            themes,
        });
    }
    let overall = JointRow {
        value: "Everyone".into(),
        change: Some(comparison.overall.clone()),
        themes: codes
            .iter()
            .map(|code| {
                let cases = row_of(code).map_or(0, |r| r.total.cases);
                ThemeCell {
                    cases,
                    participants: Some(m.participants),
                    cases_pct: cases_pct(cases, Some(m.participants)),
                    quote: None,
                }
            })
            .collect(),
    };
    Ok(JointDisplay {
        project: access.project.project.name.clone(),
        comparison,
        attribute,
        codes,
        rows,
        overall,
    })
}

/// The chosen themes, or the top-level codes.
fn themes(outline: &[Code], raw: Option<&str>) -> Result<Vec<Code>> {
    match super::super::agreement::ids::<CodeId>("codes", raw)? {
        None => Ok(outline
            .iter()
            .filter(|c| c.parent_id.is_none())
            .cloned()
            .collect()),
        Some(ids) => ids
            .iter()
            .map(|id| {
                outline
                    .iter()
                    .find(|c| c.id == *id)
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid(
                            "codes",
                            format!("code {id} is not a live code of this project"),
                        )
                    })
            })
            .collect(),
    }
}

/// One quote per theme from participants of the value: a starred one
/// first, else the first in document order.
async fn quotes(
    db: &PgPool,
    access: &Access,
    codes: &[Code],
    children: &std::collections::HashMap<CodeId, Vec<CodeId>>,
    attribute: &str,
    value: &str,
) -> Result<Vec<Option<(String, String)>>> {
    let branches: Vec<HashSet<CodeId>> = codes
        .iter()
        .map(|c| {
            store::codes::branch_in(children, c.id)
                .into_iter()
                .collect()
        })
        .collect();
    let all: Vec<CodeId> = branches.iter().flatten().copied().collect();
    let filter = Filter {
        coder: access.coder_scope(None)?,
        attributes: vec![(attribute.to_owned(), value.to_owned())],
        ..Filter::default()
    };
    let candidates = store::codings::quote_candidates(db, access.id(), &all, &filter, 3).await?;
    Ok(branches
        .iter()
        .map(|branch| {
            let mine = || candidates.iter().filter(|c| branch.contains(&c.code_id));
            mine()
                .find(|c| c.starred)
                .or_else(|| mine().next())
                .map(|c| (quote_text(c), tag(c, &[attribute.to_owned()])))
        })
        .collect())
}
