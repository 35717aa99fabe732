//! Exports: the theme table (XLSX, DOCX, tidy CSV, HTML print view) and the
//! excerpts behind it (CSV, XLSX). Large exports stream: excerpts go from a
//! database cursor row by row into a temporary file (the workbook's
//! excerpt sheet uses rust_xlsxwriter's constant-memory mode), and the file
//! is streamed to the client, so memory does not grow with the project.

use super::error::{AppError, Result};
use super::extract::{ProjectAccess, Query};
use super::matrix::MatrixQuery;
use super::theme_table::{self, ThemeQuery, ThemeTable};
use crate::app::AppState;
use crate::domain::ids::{CodeId, ProjectId};
use crate::formats::theme_export::{
    self, Cell, CodebookRow, ColumnHead, ExcerptRow, QuoteOut, ThemeRow, ThemeSheet,
};
use crate::store;
use crate::store::codings::{Coding, Filter};
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_xlsxwriter::{Format, FormatAlign, Workbook};
use serde::Deserialize;
use sqlx::PgPool;
use std::io::{Seek, SeekFrom, Write};
use std::ops::ControlFlow;

/// Routes under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/exports/theme-table.xlsx",
            get(theme_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/theme-table.docx",
            get(theme_docx),
        )
        .route(
            "/projects/{project_id}/exports/theme-table.csv",
            get(theme_csv),
        )
        .route(
            "/projects/{project_id}/exports/theme-table.html",
            get(theme_html),
        )
        .route(
            "/projects/{project_id}/exports/excerpts.csv",
            get(excerpts_csv),
        )
        .route(
            "/projects/{project_id}/exports/excerpts.xlsx",
            get(excerpts_xlsx),
        )
}

/// The print view among the pages.
pub fn page_routes() -> Router<AppState> {
    Router::new().route("/projects/{project_id}/theme-table", get(theme_html))
}

/// Past `PARLEY_MAX_EXPORT_EXCERPTS` an export is refused before anything
/// is written (an Excel sheet holds 1,048,576 rows), with a way to narrow it.
fn too_many(total: i64, max: i64) -> AppError {
    AppError::Rejected {
        status: axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        message: format!(
            "this export would hold {total} excerpts; at most {max} fit in one file \
             (an Excel sheet holds 1,048,576 rows). Narrow it by code, coder, documents \
             or a participant attribute, and export in parts"
        ),
    }
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

/// `Partnership evaluation` → `Partnership-evaluation`: a file name safe in
/// a header on every system.
pub fn file_stem(project: &str) -> String {
    let stem: String = project
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let stem = stem
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if stem.is_empty() {
        "parley".into()
    } else {
        stem
    }
}

fn download(content_type: &'static str, name: String, body: Body) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// Stream a finished temporary file.
fn file_body(mut file: std::fs::File) -> Result<Body> {
    file.seek(SeekFrom::Start(0)).map_err(AppError::internal)?;
    let file = tokio::fs::File::from_std(file);
    Ok(Body::from_stream(tokio_util::io::ReaderStream::new(file)))
}

fn sheet_of(t: &ThemeTable) -> ThemeSheet {
    let m = &t.matrix;
    let columns: Vec<ColumnHead> = m
        .columns
        .iter()
        .map(|c| ColumnHead {
            label: c.label.clone(),
            n: c.participants,
        })
        .collect();
    let rows = m
        .rows
        .iter()
        .zip(&t.quotes)
        .map(|(r, quotes)| ThemeRow {
            depth: r.code.depth.max(0) as usize,
            name: r.code.name.clone(),
            path: r.code.path.clone(),
            definition: r.code.definition.clone(),
            cells: r
                .cells
                .iter()
                .zip(&m.columns)
                .map(|(c, col)| Cell {
                    references: c.references,
                    cases: c.cases,
                    documents: c.documents,
                    words: c.words,
                    n: col.participants,
                })
                .collect(),
            total: Cell {
                references: r.total.references,
                cases: r.total.cases,
                documents: r.total.documents,
                words: r.total.words,
                n: Some(m.participants),
            },
            quotes: quotes
                .iter()
                .map(|q| QuoteOut {
                    text: q.text.clone(),
                    tag: q.tag.clone(),
                })
                .collect(),
        })
        .collect();
    ThemeSheet {
        title: format!("{} — themes by {}", t.project, columns_phrase(t)),
        scope: t.scope.clone(),
        columns,
        total_n: m.participants,
        rows,
    }
}

fn columns_phrase(t: &ThemeTable) -> String {
    use crate::domain::matrix::Columns;
    match &t.request.columns {
        Columns::Group => "stakeholder group".into(),
        Columns::Attribute(a) => a.clone(),
        Columns::GroupAndAttribute(a) => format!("group and {a}"),
    }
}

async fn table(state: &AppState, access: &ProjectAccess, query: &ThemeQuery) -> Result<ThemeTable> {
    theme_table::build(state, access.id(), query, &access.project.project.name).await
}

async fn theme_docx(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<ThemeQuery>,
) -> Result<Response> {
    let t = table(&state, &access, &query).await?;
    let sheet = sheet_of(&t);
    let bytes = tokio::task::spawn_blocking(move || theme_export::docx(&sheet))
        .await?
        .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
    Ok(download(
        DOCX,
        format!("{}-theme-table.docx", file_stem(&t.project)),
        Body::from(bytes),
    ))
}

async fn theme_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<ThemeQuery>,
) -> Result<Response> {
    let t = table(&state, &access, &query).await?;
    let csv = theme_export::tidy_csv(&sheet_of(&t));
    Ok(download(
        "text/csv; charset=utf-8",
        format!("{}-theme-table.csv", file_stem(&t.project)),
        Body::from(csv),
    ))
}

#[derive(Template, WebTemplate)]
#[template(path = "matrix/theme_table.html")]
struct ThemeTablePage {
    sheet: ThemeSheet,
    back: String,
}

/// The HTML print view: the theme table alone on a page, for printing or
/// pasting.
async fn theme_html(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<ThemeQuery>,
) -> Result<ThemeTablePage> {
    let t = table(&state, &access, &query).await?;
    Ok(ThemeTablePage {
        sheet: sheet_of(&t),
        back: format!(
            "/projects/{}/matrix?{}",
            access.id(),
            super::matrix::query_string(&t.request)
        ),
    })
}

/// Optional narrowing of an excerpts export to one code (and its branch).
#[derive(Debug, Default, Deserialize)]
struct ExcerptsQuery {
    #[serde(flatten)]
    matrix: MatrixQuery,
    code_id: Option<CodeId>,
    #[serde(default)]
    include_subcodes: bool,
}

/// The attribute names of the project's participants, for excerpt columns.
async fn attribute_names(db: &PgPool, project: ProjectId) -> Result<Vec<String>> {
    super::matrix::attribute_names(db, project).await
}

/// What every excerpt row needs besides the coding: the attribute columns
/// and each code's path.
async fn excerpt_columns(
    db: &PgPool,
    project: ProjectId,
) -> Result<(Vec<String>, Vec<(CodeId, String)>)> {
    let attributes = attribute_names(db, project).await?;
    let paths = store::codes::outline(db, project)
        .await?
        .into_iter()
        .map(|c| (c.id, c.path))
        .collect();
    Ok((attributes, paths))
}

fn excerpt_row(c: &Coding, paths: &[(CodeId, String)], attributes: &[String]) -> ExcerptRow {
    let join = |f: &dyn Fn(&store::codings::Attribution) -> Option<String>| {
        let mut v: Vec<String> = c.speakers.iter().filter_map(f).collect();
        v.dedup();
        v.join("; ")
    };
    ExcerptRow {
        code_path: paths
            .iter()
            .find(|(id, _)| *id == c.code_id)
            .map_or_else(|| c.code_name.clone(), |(_, p)| p.clone()),
        text: c.text.clone(),
        speaker: join(&|s| s.label.clone()),
        participant: join(&|s| s.participant.clone()),
        group: join(&|s| s.group.clone()),
        document: c.document_title.clone(),
        document_id: c.document_id.0,
        start: c.start.into(),
        end: c.end.into(),
        coder: c.coder_name.clone(),
        memo: c.memo.clone(),
        starred: c.starred,
        coding_id: c.id.0,
        attributes: attributes
            .iter()
            .map(|a| join(&|s| s.attributes.get(a).cloned()))
            .collect(),
    }
}

/// The filter an excerpts export (or the workbook's Excerpts sheet) uses.
async fn excerpt_filter(
    db: &PgPool,
    project: ProjectId,
    query: &MatrixQuery,
    code: Option<CodeId>,
    subcodes: bool,
) -> Result<Filter> {
    let req = query.parse()?;
    super::matrix::check_scope(db, project, &req.scope).await?;
    let codes = match code {
        None => None,
        Some(id) if subcodes => {
            let tree = store::codes::outline(db, project).await?;
            Some(store::codes::branch(&tree, id))
        }
        Some(id) => Some(vec![id]),
    };
    Ok(Filter {
        codes,
        documents: req.scope.documents,
        coder: req.scope.coder,
        attribute: req.scope.attribute,
        ..Filter::default()
    })
}

async fn excerpts_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<ExcerptsQuery>,
) -> Result<Response> {
    let db = &state.db;
    let filter = excerpt_filter(
        db,
        access.id(),
        &query.matrix,
        query.code_id,
        query.include_subcodes,
    )
    .await?;
    let (attributes, paths) = excerpt_columns(db, access.id()).await?;
    let file = tempfile::tempfile().map_err(AppError::internal)?;
    let mut csv = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let mut head: Vec<String> = theme_export::EXCERPT_COLUMNS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    head.extend(
        attributes
            .iter()
            .map(|a| crate::formats::codebook_csv::neutralise(a).into_owned()),
    );
    csv.write_record(&head).map_err(AppError::internal)?;
    let mut failed = None;
    let max = state.config.max_export_excerpts;
    store::codings::for_each(db, access.id(), &filter, i64::MAX, 0, |c, total| {
        if total > max {
            failed = Some(too_many(total, max));
            return ControlFlow::Break(());
        }
        match csv.write_record(excerpt_row(&c, &paths, &attributes).record()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(AppError::internal(e));
                ControlFlow::Break(())
            }
        }
    })
    .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    let file = csv
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?
        .into_inner()
        .map_err(|e| AppError::internal(anyhow::anyhow!("{e}")))?;
    Ok(download(
        "text/csv; charset=utf-8",
        format!("{}-excerpts.csv", file_stem(&access.project.project.name)),
        file_body(file)?,
    ))
}

/// Add the streamed "Excerpts" sheet to a workbook.
async fn excerpts_sheet(
    db: &PgPool,
    project: ProjectId,
    workbook: &mut Workbook,
    filter: &Filter,
    max: i64,
) -> Result<()> {
    let (attributes, paths) = excerpt_columns(db, project).await?;
    let ws = workbook
        .add_worksheet_with_constant_memory()
        .map_err(AppError::internal)?;
    ws.set_name("Excerpts").map_err(AppError::internal)?;
    theme_export::excerpts_header(ws, &attributes).map_err(AppError::internal)?;
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    let mut row = 0u32;
    let mut failed = None;
    store::codings::for_each(db, project, filter, i64::MAX, 0, |c, total| {
        if total > max {
            failed = Some(too_many(total, max));
            return ControlFlow::Break(());
        }
        row += 1;
        match excerpt_row(&c, &paths, &attributes).write(ws, row, &wrap) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                failed = Some(AppError::internal(e));
                ControlFlow::Break(())
            }
        }
    })
    .await?;
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Save a workbook to a temporary file off the async threads, and stream it.
async fn workbook_body(mut workbook: Workbook) -> Result<Body> {
    let file = tokio::task::spawn_blocking(move || -> Result<std::fs::File> {
        let mut file = tempfile::tempfile().map_err(AppError::internal)?;
        workbook
            .save_to_writer(&mut file)
            .map_err(AppError::internal)?;
        file.flush().map_err(AppError::internal)?;
        Ok(file)
    })
    .await??;
    file_body(file)
}

async fn excerpts_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<ExcerptsQuery>,
) -> Result<Response> {
    let db = &state.db;
    let filter = excerpt_filter(
        db,
        access.id(),
        &query.matrix,
        query.code_id,
        query.include_subcodes,
    )
    .await?;
    let mut workbook = Workbook::new();
    excerpts_sheet(
        db,
        access.id(),
        &mut workbook,
        &filter,
        state.config.max_export_excerpts,
    )
    .await?;
    Ok(download(
        XLSX,
        format!("{}-excerpts.xlsx", file_stem(&access.project.project.name)),
        workbook_body(workbook).await?,
    ))
}

async fn theme_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<ThemeQuery>,
) -> Result<Response> {
    let db = &state.db;
    let project = access.id();
    let t = table(&state, &access, &query).await?;
    let sheet = sheet_of(&t);
    let mut workbook = Workbook::new();
    theme_export::xlsx_theme_sheets(&mut workbook, &sheet).map_err(AppError::internal)?;
    let filter = excerpt_filter(db, project, &query.matrix, None, false).await?;
    excerpts_sheet(
        db,
        project,
        &mut workbook,
        &filter,
        state.config.max_export_excerpts,
    )
    .await?;
    let tree = store::codes::tree(db, project).await?;
    theme_export::xlsx_codebook(
        &mut workbook,
        tree.iter().map(|c| CodebookRow {
            path: &c.path,
            definition: &c.definition,
            inclusion: &c.inclusion,
            exclusion: &c.exclusion,
            example: &c.example,
            colour: c.colour.as_str(),
            codings: c.codings,
        }),
    )
    .map_err(AppError::internal)?;
    let attributes = attribute_names(db, project).await?;
    let people: Vec<(String, String, i64, Vec<String>)> = store::participants::list(db, project)
        .await?
        .into_iter()
        .map(|p| {
            let values = attributes
                .iter()
                .map(|a| p.attributes.get(a).cloned().unwrap_or_default())
                .collect();
            (p.label, p.group.unwrap_or_default(), p.documents, values)
        })
        .collect();
    theme_export::xlsx_participants(&mut workbook, &attributes, &people)
        .map_err(AppError::internal)?;
    Ok(download(
        XLSX,
        format!("{}-theme-table.xlsx", file_stem(&t.project)),
        workbook_body(workbook).await?,
    ))
}
