//! The theme matrix page (counts by group or attribute, a heatmap, each
//! cell a link to its excerpts) and the co-occurrence page.

use super::chrome::Chrome;
use super::filters::{self, Choice};
use crate::app::AppState;
use crate::domain::ids::{CodeId, ProjectId};
use crate::domain::matrix::{Column, Measure};
use crate::http::encode_query;
use crate::http::error::Result;
use crate::http::extract::{ProjectAccess, Query};
use crate::http::heavy::Heavy;
use crate::service;
use crate::service::analysis::matrix::{self, Matrix, MatrixQuery, MatrixRequest, MatrixRow};
use crate::service::analysis::options::filter_options;
use crate::store::codes::Code;
use crate::store::projects::MemberProject;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{Query as RawPairs, State};
use axum::routing::get;
use sqlx::PgPool;

pub fn routes() -> Router<AppState> {
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
    /// The excerpts the total counts.
    pub total_href: Option<String>,
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
    /// The request as hidden fields, for the export form.
    query_pairs: Vec<(String, String)>,
    /// Attributes a quote can be tagged with.
    tag_choices: Vec<String>,
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
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    chrome: Chrome,
    RawPairs(pairs): RawPairs<Vec<(String, String)>>,
) -> Result<MatrixPage> {
    let db = &state.db;
    let project = access.id();
    let (req, error) = match read_request(db, &access, &pairs).await? {
        Ok(req) => (req, None),
        Err(message) => {
            let mut req = MatrixQuery::default().parse()?;
            req.scope.coder = access.coder_scope(None)?;
            (req, Some(message))
        }
    };
    let (m, options) = tokio::try_join!(
        matrix::build(db, &state.attributions, project, &req),
        filter_options(db, project),
    )?;
    let max = m
        .rows
        .iter()
        .flat_map(|r| (0..m.columns.len()).filter_map(|i| m.value(r, i, req.measure)))
        .fold(0.0_f64, f64::max);
    let rows = m
        .rows
        .iter()
        .map(|r| row_view(&m, r, &req, project, max))
        .collect();
    let is = |field: Option<String>| move |v: &str| field.as_deref() == Some(v);
    let document_choices = filters::documents(&options, |v| ticked(&req, v));
    Ok(MatrixPage {
        chrome,
        column_choices: filters::columns(&options, &req.columns.as_param()),
        query_pairs: query_pairs(&req),
        tag_choices: filters::columns(&options, "")
            .into_iter()
            .filter_map(|c| c.value.strip_prefix("attr:").map(str::to_owned))
            .collect(),
        measure_choices: filters::measures(req.measure),
        coder_choices: filters::coders(&options, is(req.scope.coder.map(|c| c.to_string()))),
        attribute_choices: filters::attribute_values(
            &options,
            is(req
                .scope
                .attribute
                .as_ref()
                .map(|(k, v)| format!("{k}={v}"))),
        ),
        documents_chosen: document_choices.iter().filter(|c| c.selected).count(),
        document_choices,
        query: query_string(&req),
        columns: m.columns,
        participants: m.participants,
        rows,
        measure: req.measure,
        rollup: req.rollup,
        max,
        error,
        project: access.project.clone(),
        tab: "matrix",
    })
}

/// Is document `id` (as text) among the request's documents?
fn ticked(req: &MatrixRequest, id: &str) -> bool {
    req.scope
        .documents
        .as_ref()
        .is_some_and(|ds| ds.iter().any(|d| d.to_string() == id))
}

/// The page's request: the form sends each ticked document as its own
/// `document` pair, a link sends `documents=1,2`. A request the page can
/// explain (a bad value, a document of another project) is `Err(message)`.
async fn read_request(
    db: &PgPool,
    access: &service::Access,
    pairs: &[(String, String)],
) -> Result<Result<MatrixRequest, String>> {
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let ticked: Vec<&str> = pairs
        .iter()
        .filter(|(n, _)| n == "document")
        .map(|(_, v)| v.as_str())
        .collect();
    let query = MatrixQuery {
        columns: get("columns"),
        measure: get("measure"),
        rollup: get("rollup"),
        coder: get("coder"),
        documents: get("documents").or_else(|| (!ticked.is_empty()).then(|| ticked.join(","))),
        attribute: get("attribute"),
    };
    let mut req = match query.parse() {
        Ok(req) => req,
        Err(e) => return Ok(Err(e.message)),
    };
    match matrix::check_scope(db, access, &mut req.scope).await {
        Ok(()) => Ok(Ok(req)),
        Err(service::Error::Invalid(e)) => Ok(Err(e.message)),
        Err(e) => Err(e.into()),
    }
}

/// One row as the page draws it, each cell linking to its excerpts.
fn row_view(
    m: &Matrix,
    r: &MatrixRow,
    req: &MatrixRequest,
    project: ProjectId,
    max: f64,
) -> RowView {
    let cells = (0..m.columns.len())
        .map(|i| {
            let v = m.value(r, i, req.measure);
            CellView {
                text: format_value(v, req.measure),
                heat: match v {
                    Some(x) if max > 0.0 => x / max,
                    _ => 0.0,
                },
                href: cell_href(project, r, i, m, req),
            }
        })
        .collect();
    RowView {
        has_children: m.rows.iter().any(|x| x.code.parent_id == Some(r.code.id)),
        total: format_value(m.total(r, req.measure), req.measure),
        total_href: total_href(project, r, req),
        code: r.code.clone(),
        cells,
    }
}

/// The link from cell `i` of row `r` to exactly the excerpts it counts, or
/// none when it counts nothing.
pub(super) fn cell_href(
    project: ProjectId,
    r: &MatrixRow,
    i: usize,
    m: &Matrix,
    req: &MatrixRequest,
) -> Option<String> {
    (r.cells[i].references > 0).then(|| {
        format!(
            "/projects/{project}/codes/{}?{}",
            r.code.id,
            cell_query(&m.columns[i], req)
        )
    })
}

/// The link from row `r`'s total to exactly the excerpts it counts.
pub(super) fn total_href(project: ProjectId, r: &MatrixRow, req: &MatrixRequest) -> Option<String> {
    (r.total.references > 0).then(|| {
        format!(
            "/projects/{project}/codes/{}?{}",
            r.code.id,
            total_query(req)
        )
    })
}

/// The excerpt filters of one cell: its column and the request's scope.
fn cell_query(c: &Column, req: &MatrixRequest) -> String {
    let mut q: Vec<String> = Vec::new();
    if c.slot.unassigned {
        q.push("group=unassigned".into());
    } else if let Some(g) = c.group_id {
        q.push(format!("group={g}"));
    }
    // The column's attribute and the matrix's participant filter hold
    // together: `attribute=locality=North;profession=Nurse`.
    let mut attributes: Vec<String> = Vec::new();
    if let (Some(name), Some(value)) = (req.columns.attribute(), &c.value) {
        attributes.push(format!("{name}={value}"));
    }
    if let Some((n, v)) = &req.scope.attribute {
        attributes.push(format!("{n}={v}"));
    }
    if !attributes.is_empty() {
        q.push(format!("attribute={}", encode_query(&attributes.join(";"))));
    }
    if req.rollup {
        q.push("subcodes=1".into());
    }
    q.extend(scope_pairs(req));
    q.join("&")
}

/// The excerpt filters of a row's total: anyone but interviewers, and the
/// request's scope.
fn total_query(req: &MatrixRequest) -> String {
    let mut q: Vec<String> = vec!["group=any".into()];
    if let Some((n, v)) = &req.scope.attribute {
        q.push(format!("attribute={}", encode_query(&format!("{n}={v}"))));
    }
    if req.rollup {
        q.push("subcodes=1".into());
    }
    q.extend(scope_pairs(req));
    q.join("&")
}

/// The request's coder and documents as excerpt-page filters.
fn scope_pairs(req: &MatrixRequest) -> Vec<String> {
    let mut q = Vec::new();
    if let Some(coder) = req.scope.coder {
        q.push(format!("coder={coder}"));
    }
    match req.scope.documents.as_deref() {
        None => {}
        // One document: the excerpt page's document menu shows it chosen.
        Some([doc]) => q.push(format!("document_id={doc}")),
        Some(docs) => {
            let ids: Vec<String> = docs.iter().map(|d| d.to_string()).collect();
            q.push(format!("documents={}", ids.join(",")));
        }
    }
    q
}

pub struct CoRow {
    pub code: Code,
    pub cells: Vec<CoCell>,
}

pub struct CoCell {
    pub other: CodeId,
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
    /// The scope as excerpt filters, for each cell's link (`&coder=…`).
    cell_scope: String,
}

async fn cooccurrence_page(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    chrome: Chrome,
    Query(query): Query<MatrixQuery>,
) -> Result<CooccurrencePage> {
    let db = &state.db;
    let mut req = query.parse()?;
    let co = matrix::cooccurrence(db, &access, &mut req).await?;
    let rows = co
        .codes
        .iter()
        .zip(&co.cells)
        .enumerate()
        .map(|(i, (code, row))| CoRow {
            code: code.clone(),
            cells: row
                .iter()
                .enumerate()
                .map(|(j, &(overlaps, cases))| CoCell {
                    other: co.codes[j].id,
                    overlaps,
                    cases,
                    diagonal: i == j,
                    heat: if co.max > 0 {
                        overlaps as f64 / co.max as f64
                    } else {
                        0.0
                    },
                })
                .collect(),
        })
        .collect();
    let notes = matrix::scope_notes(db, &access, &req.scope).await?;
    Ok(CooccurrencePage {
        chrome,
        codes: co.codes,
        rows,
        query: query_string(&req),
        scope_note: notes.join("; "),
        cell_scope: scope_pairs(&req)
            .into_iter()
            .chain(
                req.scope
                    .attribute
                    .as_ref()
                    .map(|(n, v)| format!("attribute={}", encode_query(&format!("{n}={v}")))),
            )
            .map(|p| format!("&{p}"))
            .collect(),
        project: access.project.clone(),
        tab: "matrix",
    })
}

/// The query string that asks for `req` again.
/// The request as name and value pairs (for hidden form fields).
fn query_pairs(req: &MatrixRequest) -> Vec<(String, String)> {
    let mut q = vec![
        ("columns".to_owned(), req.columns.as_param()),
        ("measure".to_owned(), req.measure.as_str().to_owned()),
    ];
    if req.rollup {
        q.push(("rollup".into(), "true".into()));
    }
    if let Some(c) = req.scope.coder {
        q.push(("coder".into(), c.to_string()));
    }
    if let Some(d) = &req.scope.documents {
        let ids: Vec<String> = d.iter().map(|d| d.to_string()).collect();
        q.push(("documents".into(), ids.join(",")));
    }
    if let Some((n, v)) = &req.scope.attribute {
        q.push(("attribute".into(), format!("{n}={v}")));
    }
    q
}

/// The request as a query string.
pub fn query_string(req: &MatrixRequest) -> String {
    query_pairs(req)
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_query(v)))
        .collect::<Vec<_>>()
        .join("&")
}
