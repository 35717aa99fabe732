//! `/api/v1/projects/{id}/exports/…`: the theme table (XLSX, DOCX, tidy CSV)
//! and the excerpts behind it (CSV, XLSX) as files.

use crate::app::AppState;
use crate::http::download::attachment;
use crate::http::error::Result;
use crate::http::extract::{ProjectAccess, Query};
use crate::http::heavy::Heavy;
use crate::service::analysis::matrix::MatrixQuery;
use crate::service::analysis::theme_table::ThemeQuery;
use crate::service::exports::{self, CodeReportQuery, ExcerptsQuery};
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
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
            "/projects/{project_id}/exports/excerpts.csv",
            get(excerpts_csv),
        )
        .route(
            "/projects/{project_id}/exports/excerpts.xlsx",
            get(excerpts_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/code-report.docx",
            get(code_report_docx),
        )
        .route(
            "/projects/{project_id}/exports/cooccurrence.csv",
            get(cooccurrence_csv),
        )
        .route("/projects/{project_id}/exports/memos.docx", get(memos_docx))
        .route(
            "/projects/{project_id}/exports/cooccurrence.xlsx",
            get(cooccurrence_xlsx),
        )
}

async fn memos_docx(State(state): State<AppState>, access: ProjectAccess) -> Result<Response> {
    attachment(exports::memos_docx(&state.db, &access).await?)
}

async fn cooccurrence_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<MatrixQuery>,
) -> Result<Response> {
    attachment(exports::cooccurrence_csv(&state.db, &access, &query).await?)
}

async fn cooccurrence_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<MatrixQuery>,
) -> Result<Response> {
    attachment(exports::cooccurrence_xlsx(&state.db, &access, &query).await?)
}

async fn code_report_docx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<CodeReportQuery>,
) -> Result<Response> {
    attachment(exports::code_report_docx(&state.db, &state.texts, &access, &query).await?)
}

async fn theme_docx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<ThemeQuery>,
) -> Result<Response> {
    attachment(exports::theme_docx(&state.db, &state.attributions, &access, &query).await?)
}

async fn theme_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<ThemeQuery>,
) -> Result<Response> {
    attachment(exports::theme_csv(&state.db, &state.attributions, &access, &query).await?)
}

async fn theme_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<ThemeQuery>,
) -> Result<Response> {
    let max = state.config.max_export_excerpts;
    let file = exports::theme_xlsx(
        &state.db,
        &state.texts,
        &state.attributions,
        &access,
        &query,
        max,
    )
    .await?;
    attachment(file)
}

async fn excerpts_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<ExcerptsQuery>,
) -> Result<Response> {
    let max = state.config.max_export_excerpts;
    attachment(exports::excerpts_csv(&state.db, &state.texts, &access, &query, max).await?)
}

async fn excerpts_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<ExcerptsQuery>,
) -> Result<Response> {
    let max = state.config.max_export_excerpts;
    attachment(exports::excerpts_xlsx(&state.db, &state.texts, &access, &query, max).await?)
}
