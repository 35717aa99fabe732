//! The theme table: what researchers paste into a paper. One row per theme
//! (indented by level) with its definition, per-column cases as `7/12
//! (58%)` and references, and illustrative quotes — starred excerpts first,
//! else chosen to cover the columns — each tagged with the speaker's label,
//! group and chosen attributes. Built from the matrix, so it counts by the
//! same rules; the writers in `formats::export` turn it into files.

use super::super::{Access, Result};
use super::attributions::Attributions;
use super::matrix::{self, Matrix, MatrixQuery, MatrixRequest};
use crate::domain::ids::CodeId;
use crate::domain::matrix::Column;
use crate::store;
use crate::store::codings::{Coding, Filter};
use serde::Deserialize;
use sqlx::PgPool;
use std::collections::HashSet;

/// Quotes per theme.
pub const QUOTES: usize = 3;

/// A quote with its tag: *"It felt like a sanctuary"* (C07, Carer, North).
#[derive(Debug, Clone)]
pub struct Quote {
    pub text: String,
    pub tag: String,
    pub starred: bool,
}

/// The table's request: a matrix request plus which attributes tag quotes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ThemeQuery {
    #[serde(flatten)]
    pub matrix: MatrixQuery,
    /// Attribute names to add to each quote's tag, comma separated
    /// (default: the attribute the columns are by, if any).
    pub tags: Option<String>,
    /// `true`: CSV with a byte-order mark, for Excel on Windows.
    pub bom: Option<String>,
}

pub struct ThemeTable {
    pub project: String,
    pub request: MatrixRequest,
    pub matrix: Matrix,
    /// Quotes per row of `matrix.rows`.
    pub quotes: Vec<Vec<Quote>>,
    /// A line saying what was counted ("Codings by Ann; 12 documents").
    pub scope: String,
}

/// Collapse white space, drop a speaker label the excerpt starts with, and
/// keep quotes to a readable length.
pub fn quote_text(c: &Coding) -> String {
    let mut text = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
    for s in &c.speakers {
        if let Some(label) = &s.label
            && let Some(rest) = text.strip_prefix(label.as_str())
            && let Some(rest) = rest.trim_start().strip_prefix(':')
        {
            text = rest.trim().to_owned();
            break;
        }
    }
    const MAX: usize = 400;
    let text = if text.chars().count() > MAX {
        let cut: String = text.chars().take(MAX).collect();
        cut.rsplit_once(' ')
            .map_or(cut.clone(), |(a, _)| a.to_owned())
    } else {
        text
    };
    cut_marks(&text)
}

/// A quote cut from inside a sentence says so: "… waited for months …".
/// It starts inside one when its first letter is lower case, and ends
/// inside one when it does not end with a sentence's closing mark.
fn cut_marks(text: &str) -> String {
    let starts_inside = text.chars().next().is_some_and(char::is_lowercase);
    let ends_inside = !text
        .trim_end_matches(['"', '\'', '”', '’', ')'])
        .ends_with(['.', '!', '?', '…']);
    let mut out = String::with_capacity(text.len() + 8);
    if starts_inside {
        out.push_str("… ");
    }
    out.push_str(text);
    if ends_inside && !text.is_empty() {
        out.push_str(" …");
    }
    out
}

/// `C07, Carer, North`: who said it.
pub fn tag(c: &Coding, tags: &[String]) -> String {
    let mut parts = Vec::new();
    for s in &c.speakers {
        match &s.participant {
            Some(p) => {
                let mut bits = vec![p.clone()];
                if let Some(g) = &s.group {
                    bits.push(g.clone());
                }
                for t in tags {
                    if let Some(v) = s.attributes.get(t) {
                        bits.push(v.clone());
                    }
                }
                parts.push(bits.join(", "));
            }
            None => parts.push(format!(
                "{}, unassigned",
                s.label.as_deref().unwrap_or("no speaker")
            )),
        }
    }
    if parts.is_empty() {
        "no speaker".into()
    } else {
        parts.join("; ")
    }
}

/// Whether a coding is attributed to a column.
fn in_column(c: &Coding, column: &Column, attribute: Option<&str>) -> bool {
    if column.slot.unassigned {
        return !c.speakers.is_empty() && c.speakers.iter().all(|s| s.participant_id.is_none());
    }
    c.speakers.iter().any(|s| {
        s.participant_id.is_some()
            && match column.slot.group {
                Some(g) => s.group_id.map(|x| x.0) == g,
                None => true,
            }
            && match (&column.slot.value, attribute) {
                (Some(v), Some(name)) => s.attributes.get(name) == v.as_ref(),
                _ => true,
            }
    })
}

/// Pick quotes: starred ones first; then one excerpt for each column not
/// yet represented, in column order; then the best of the rest. "Best"
/// prefers quotable lengths (8–80 words), then the longer.
fn choose(candidates: &[&Coding], columns: &[Column], attribute: Option<&str>) -> Vec<usize> {
    // A passage coded by two coders is one quote.
    let same = |a: &Coding, b: &Coding| {
        a.document_id == b.document_id && a.start == b.start && a.end == b.end
    };
    let fresh = |chosen: &[usize], i: usize| {
        !chosen
            .iter()
            .any(|&j| j == i || same(candidates[j], candidates[i]))
    };
    let mut chosen: Vec<usize> = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        if c.starred && chosen.len() < QUOTES && fresh(&chosen, i) {
            chosen.push(i);
        }
    }
    let rank = |c: &Coding| {
        let words = c.text.split_whitespace().count();
        ((8..=80).contains(&words), words.min(80))
    };
    let best = |chosen: &[usize], col: Option<&Column>| {
        candidates
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                fresh(chosen, *i) && col.is_none_or(|col| in_column(c, col, attribute))
            })
            .max_by_key(|(i, c)| (rank(c), std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
    };
    for col in columns {
        if chosen.len() >= QUOTES {
            break;
        }
        if chosen
            .iter()
            .any(|&i| in_column(candidates[i], col, attribute))
        {
            continue;
        }
        if let Some(i) = best(&chosen, Some(col)) {
            chosen.push(i);
        }
    }
    while chosen.len() < QUOTES {
        match best(&chosen, None) {
            Some(i) => chosen.push(i),
            None => break,
        }
    }
    chosen
}

/// Quote candidates fetched per code.
const QUOTE_CANDIDATES: i64 = 40;

/// Build the table for a request.
pub async fn build(
    db: &PgPool,
    attributions: &Attributions,
    access: &Access,
    query: &ThemeQuery,
) -> Result<ThemeTable> {
    let project = access.id();
    let mut request = query.matrix.parse()?;
    matrix::check_scope(db, access, &mut request.scope).await?;
    let m = matrix::build(db, attributions, project, &request).await?;
    let tags = tags(query, &request);
    let quotes = quotes(db, project, &m, &request, &tags).await?;
    let mut scope = matrix::scope_notes(db, access, &request.scope).await?;
    if request.rollup {
        scope.push("sub-codes rolled up into their themes".into());
    }
    Ok(ThemeTable {
        project: access.project.project.name.clone(),
        request,
        matrix: m,
        quotes,
        scope: scope.join("; "),
    })
}

/// The attributes that tag quotes: as asked, else the one the columns are by.
fn tags(query: &ThemeQuery, request: &MatrixRequest) -> Vec<String> {
    match query
        .tags
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(t) => t
            .split(',')
            .map(|x| x.trim().to_owned())
            .filter(|x| !x.is_empty())
            .collect(),
        None => request
            .columns
            .attribute()
            .map(|a| vec![a.to_owned()])
            .unwrap_or_default(),
    }
}

/// Quotes for each row of the matrix. Candidates for every code come in
/// one query — starred first, then in document order, a few dozen per code
/// (a theme with roll-up draws on its whole branch) — and each row picks
/// its own to cover the columns.
async fn quotes(
    db: &PgPool,
    project: crate::domain::ids::ProjectId,
    m: &Matrix,
    request: &MatrixRequest,
    tags: &[String],
) -> Result<Vec<Vec<Quote>>> {
    let children = store::codes::children(m.rows.iter().map(|r| &r.code));
    let counted: Vec<CodeId> = m
        .rows
        .iter()
        .filter(|r| r.total.references > 0 || request.rollup)
        .map(|r| r.code.id)
        .collect();
    let filter = Filter {
        documents: request.scope.documents.clone(),
        coder: request.scope.coder,
        attributes: request.scope.attribute.clone().into_iter().collect(),
        ..Filter::default()
    };
    let candidates =
        store::codings::quote_candidates(db, project, &counted, &filter, QUOTE_CANDIDATES).await?;
    let mut quotes = Vec::with_capacity(m.rows.len());
    for row in &m.rows {
        if row.total.references == 0 {
            quotes.push(Vec::new());
            continue;
        }
        let codes: HashSet<CodeId> = if request.rollup {
            store::codes::branch_in(&children, row.code.id)
                .into_iter()
                .collect()
        } else {
            HashSet::from([row.code.id])
        };
        let mine: Vec<&Coding> = candidates
            .iter()
            .filter(|c| codes.contains(&c.code_id))
            .collect();
        let picked = choose(&mine, &m.columns, request.columns.attribute());
        quotes.push(
            picked
                .into_iter()
                .map(|i| Quote {
                    text: quote_text(mine[i]),
                    tag: tag(mine[i], tags),
                    starred: mine[i].starred,
                })
                .collect(),
        );
    }
    Ok(quotes)
}

#[cfg(test)]
mod cut_tests {
    use super::cut_marks;

    #[test]
    fn quotes_cut_inside_a_sentence_say_so() {
        assert_eq!(cut_marks("We waited."), "We waited.");
        assert_eq!(cut_marks("waited for months"), "… waited for months …");
        assert_eq!(cut_marks("It was “fine.”"), "It was “fine.”");
        assert_eq!(cut_marks("and then?"), "… and then?");
    }
}
