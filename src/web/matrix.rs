//! The theme matrix: the rules shared by its page, the API and the exports
//! (reading the request, assembling the table), and the page itself.

use super::error::{AppError, Result};
use crate::app::AppState;
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

fn flag(field: &'static str, raw: Option<&str>) -> Result<bool, ValidationError> {
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
        let documents = nonempty(&self.documents)
            .map(|d| {
                d.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(|x| {
                        x.parse::<DocumentId>().map_err(|_| {
                            ValidationError::new(
                                "documents",
                                format!(
                                    "documents must be document ids separated by commas (not “{x}”)"
                                ),
                            )
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        let attribute = nonempty(&self.attribute)
            .map(|a| {
                a.split_once('=')
                    .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| {
                        ValidationError::new(
                            "attribute",
                            "write an attribute filter as name=value, e.g. locality=North",
                        )
                    })
            })
            .transpose()?;
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
pub async fn build(state: &AppState, project: ProjectId, req: &MatrixRequest) -> Result<Matrix> {
    let db = &state.db;
    let codes = store::codes::outline(db, project).await?;
    let groups: Vec<GroupInfo> = store::groups::list(db, project)
        .await?
        .into_iter()
        .map(|g| GroupInfo {
            id: g.id.0,
            name: g.name,
        })
        .collect();
    let tally = store::matrix::tally(
        db,
        &state.attributions,
        project,
        &codes,
        &req.columns,
        req.rollup,
        &req.scope,
    )
    .await?;
    let (n, participants) =
        store::matrix::population(db, project, &req.columns, &req.scope).await?;
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

/// The names of participant attributes in the project (for column menus).
pub async fn attribute_names(db: &PgPool, project: ProjectId) -> Result<Vec<String>> {
    let mut names: Vec<String> = store::participants::list(db, project)
        .await?
        .into_iter()
        .flat_map(|p| p.attributes.into_keys())
        .collect();
    names.sort_by_key(|n| n.to_lowercase());
    names.dedup();
    Ok(names)
}

/// Refuse a request naming a coder or documents outside the project.
pub async fn check_scope(db: &PgPool, project: ProjectId, scope: &Scope) -> Result<()> {
    if let Some(docs) = &scope.documents {
        let (all, _) = store::documents::list(db, project, i64::MAX, 0).await?;
        if let Some(missing) = docs.iter().find(|d| !all.iter().any(|x| x.id == **d)) {
            return Err(AppError::Invalid(ValidationError::new(
                "documents",
                format!("document {missing} is not in this project"),
            )));
        }
    }
    Ok(())
}

// ---- the page ---------------------------------------------------------------

use super::codes::Choice;
use super::extract::{Chrome, ProjectAccess as Access};
use crate::domain::project::Role;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query as RawPairs, State};
use axum::routing::get;

pub fn routes() -> Router<crate::app::AppState> {
    Router::new()
        .route("/projects/{project_id}/matrix", get(matrix_page))
        .route(
            "/projects/{project_id}/matrix/cooccurrence",
            get(cooccurrence_page),
        )
}

/// A cell as the page draws it.
pub struct CellView {
    pub text: String,
    /// 0–1: the heatmap's intensity.
    pub heat: f64,
    pub href: Option<String>,
}

pub struct RowView {
    pub code: Code,
    pub has_children: bool,
    pub cells: Vec<CellView>,
    pub total: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "matrix/show.html")]
struct MatrixPage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    columns: Vec<Column>,
    rows: Vec<RowView>,
    participants: i64,
    measure: Measure,
    rollup: bool,
    column_choices: Vec<Choice>,
    measure_choices: Vec<Choice>,
    coder_choices: Vec<Choice>,
    attribute_choices: Vec<Choice>,
    document_choices: Vec<Choice>,
    documents_chosen: usize,
    max: f64,
    /// The query string of this view, for export links.
    query: String,
    error: Option<String>,
}

fn format_value(v: Option<f64>, measure: Measure) -> String {
    match v {
        None => "—".into(),
        Some(x) if measure == Measure::CasesPct => format!("{x:.0}%"),
        Some(x) => format!("{x:.0}"),
    }
}

async fn matrix_page(
    State(state): State<crate::app::AppState>,
    access: Access,
    chrome: Chrome,
    RawPairs(pairs): RawPairs<Vec<(String, String)>>,
) -> Result<MatrixPage> {
    let db = &state.db;
    let project = access.id();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let chosen_docs: Vec<String> = pairs
        .iter()
        .filter(|(n, _)| n == "document")
        .map(|(_, v)| v.clone())
        .collect();
    let query = MatrixQuery {
        columns: get("columns"),
        measure: get("measure"),
        rollup: get("rollup"),
        coder: get("coder"),
        documents: get("documents")
            .or_else(|| (!chosen_docs.is_empty()).then(|| chosen_docs.join(","))),
        attribute: get("attribute"),
    };
    let (req, error) = match query.parse() {
        Ok(r) => (r, None),
        Err(e) => (MatrixQuery::default().parse()?, Some(e.message)),
    };
    let m = build(&state, project, &req).await?;

    let max = m
        .rows
        .iter()
        .flat_map(|r| (0..m.columns.len()).filter_map(|i| m.value(r, i, req.measure)))
        .fold(0.0_f64, f64::max);
    let base = format!("/projects/{project}/codes");
    let rows: Vec<RowView> = m
        .rows
        .iter()
        .map(|r| {
            let cells = m
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let v = m.value(r, i, req.measure);
                    let mut q: Vec<String> = Vec::new();
                    if c.slot.unassigned {
                        q.push("group=unassigned".into());
                    } else if let Some(g) = c.group_id {
                        q.push(format!("group={g}"));
                    }
                    if let (Some(name), Some(value)) = (req.columns.attribute(), &c.value) {
                        q.push(format!(
                            "attribute={}",
                            super::pages::encode_query(&format!("{name}={value}"))
                        ));
                    }
                    if req.rollup {
                        q.push("subcodes=1".into());
                    }
                    if let Some(coder) = req.scope.coder {
                        q.push(format!("coder={coder}"));
                    }
                    if let Some([doc]) = req.scope.documents.as_deref() {
                        q.push(format!("document_id={doc}"));
                    }
                    let refs = r.cells[i].references;
                    CellView {
                        text: format_value(v, req.measure),
                        heat: match v {
                            Some(x) if max > 0.0 => x / max,
                            _ => 0.0,
                        },
                        href: (refs > 0).then(|| format!("{base}/{}?{}", r.code.id, q.join("&"))),
                    }
                })
                .collect();
            RowView {
                has_children: m.rows.iter().any(|x| x.code.parent_id == Some(r.code.id)),
                total: format_value(m.total(r, req.measure), req.measure),
                code: r.code.clone(),
                cells,
            }
        })
        .collect();

    let names = attribute_names(db, project).await?;
    let current = req.columns.as_param();
    let mut column_choices = vec![Choice {
        value: "group".into(),
        label: "Stakeholder groups".into(),
        selected: current == "group",
    }];
    for n in &names {
        let v = format!("attr:{n}");
        column_choices.push(Choice {
            selected: current == v,
            label: n.clone(),
            value: v,
        });
    }
    for n in &names {
        let v = format!("group,attr:{n}");
        column_choices.push(Choice {
            selected: current == v,
            label: format!("Group × {n}"),
            value: v,
        });
    }
    let measure_choices = Measure::ALL
        .iter()
        .map(|m| Choice {
            value: m.as_str().into(),
            label: m.label().into(),
            selected: *m == req.measure,
        })
        .collect();
    let coder_choices = store::members::list(db, project)
        .await?
        .into_iter()
        .filter(|m| m.role != Role::Viewer)
        .map(|m| Choice {
            selected: req.scope.coder == Some(m.user_id),
            value: m.user_id.to_string(),
            label: m.name,
        })
        .collect();
    let participants = store::participants::list(db, project).await?;
    let mut pairs_av: Vec<(String, String)> = participants
        .iter()
        .flat_map(|p| p.attributes.iter().map(|(k, v)| (k.clone(), v.clone())))
        .collect();
    pairs_av.sort();
    pairs_av.dedup();
    let attribute_choices = pairs_av
        .into_iter()
        .map(|(k, v)| {
            let value = format!("{k}={v}");
            Choice {
                selected: req.scope.attribute.as_ref() == Some(&(k.clone(), v.clone())),
                label: format!("{k}: {v}"),
                value,
            }
        })
        .collect();
    let (docs, _) = store::documents::list(db, project, i64::MAX, 0).await?;
    let document_choices: Vec<Choice> = docs
        .into_iter()
        .map(|d| Choice {
            selected: req
                .scope
                .documents
                .as_ref()
                .is_some_and(|ds| ds.contains(&d.id)),
            value: d.id.to_string(),
            label: d.title,
        })
        .collect();
    let query = query_string(&req);
    Ok(MatrixPage {
        chrome,
        columns: m.columns,
        participants: m.participants,
        rows,
        measure: req.measure,
        rollup: req.rollup,
        column_choices,
        measure_choices,
        coder_choices,
        attribute_choices,
        documents_chosen: document_choices.iter().filter(|c| c.selected).count(),
        document_choices,
        max,
        query,
        error,
        project: access.project,
        tab: "matrix",
    })
}

pub struct CoRow {
    pub code: Code,
    pub cells: Vec<CoCell>,
}

pub struct CoCell {
    pub other: crate::domain::ids::CodeId,
    pub overlaps: i64,
    pub cases: i64,
    pub diagonal: bool,
    pub heat: f64,
}

#[derive(Template, WebTemplate)]
#[template(path = "matrix/cooccurrence.html")]
struct CooccurrencePage {
    chrome: Chrome,
    project: MemberProject,
    tab: &'static str,
    codes: Vec<Code>,
    rows: Vec<CoRow>,
    query: String,
    scope_note: String,
}

async fn cooccurrence_page(
    State(state): State<crate::app::AppState>,
    access: Access,
    chrome: Chrome,
    super::extract::Query(query): super::extract::Query<MatrixQuery>,
) -> Result<CooccurrencePage> {
    let db = &state.db;
    let project = access.id();
    let req = query.parse()?;
    check_scope(db, project, &req.scope).await?;
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
    let rows = codes
        .iter()
        .zip(cells)
        .enumerate()
        .map(|(i, (code, row))| CoRow {
            code: code.clone(),
            cells: row
                .into_iter()
                .enumerate()
                .map(|(j, (overlaps, cases))| CoCell {
                    other: codes[j].id,
                    overlaps,
                    cases,
                    diagonal: i == j,
                    heat: if max > 0 {
                        overlaps as f64 / max as f64
                    } else {
                        0.0
                    },
                })
                .collect(),
        })
        .collect();
    let mut notes = Vec::new();
    if let Some(c) = req.scope.coder {
        let name = store::members::list(db, project)
            .await?
            .into_iter()
            .find(|m| m.user_id == c)
            .map_or_else(|| c.to_string(), |m| m.name);
        notes.push(format!("codings by {name}"));
    }
    if let Some(d) = &req.scope.documents {
        notes.push(format!(
            "{} document{}",
            d.len(),
            if d.len() == 1 { "" } else { "s" }
        ));
    }
    if let Some((n, v)) = &req.scope.attribute {
        notes.push(format!("participants with {n} = {v}"));
    }
    let q = query_string(&req);
    Ok(CooccurrencePage {
        chrome,
        codes,
        rows,
        query: q,
        scope_note: notes.join("; "),
        project: access.project,
        tab: "matrix",
    })
}

/// The query string that asks for `req` again.
pub fn query_string(req: &MatrixRequest) -> String {
    let mut q = vec![
        format!(
            "columns={}",
            super::pages::encode_query(&req.columns.as_param())
        ),
        format!("measure={}", req.measure.as_str()),
    ];
    if req.rollup {
        q.push("rollup=true".into());
    }
    if let Some(c) = req.scope.coder {
        q.push(format!("coder={c}"));
    }
    if let Some(d) = &req.scope.documents {
        let ids: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        q.push(format!("documents={}", ids.join(",")));
    }
    if let Some((n, v)) = &req.scope.attribute {
        q.push(format!(
            "attribute={}",
            super::pages::encode_query(&format!("{n}={v}"))
        ));
    }
    q.join("&")
}
