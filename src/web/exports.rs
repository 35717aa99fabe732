//! The theme table's print view: the table alone on a page, for printing
//! or pasting. (The files — XLSX, DOCX, CSV — are downloads of the API.)

use super::matrix;
use crate::app::AppState;
use crate::formats::theme_export::ThemeSheet;
use crate::http::error::Result;
use crate::http::extract::{ProjectAccess, Query};
use crate::http::heavy::Heavy;
use crate::service::analysis::theme_table::{self, ThemeQuery};
use crate::service::exports::sheet_of;
use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::State;
use axum::routing::get;

/// The print view among the pages, and at its address among the exports
/// (`/api/v1/…/exports/theme-table.html`, where scripts have found it).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/theme-table", get(theme_html))
        .route(
            "/api/v1/projects/{project_id}/exports/theme-table.html",
            get(theme_html),
        )
}

#[derive(Template, WebTemplate)]
#[template(path = "matrix/theme_table.html")]
struct ThemeTablePage {
    sheet: ThemeSheet,
    /// Per row: each cell's link to its excerpts, then the total's (none
    /// where nothing is counted), carrying every filter of the table.
    links: Vec<RowLinks>,
    back: String,
}

struct RowLinks {
    cells: Vec<Option<String>>,
    total: Option<String>,
}

async fn theme_html(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<ThemeQuery>,
) -> Result<ThemeTablePage> {
    let t = theme_table::build(&state.db, &state.attributions, &access, &query).await?;
    let project = access.id();
    let links = t
        .matrix
        .rows
        .iter()
        .map(|r| RowLinks {
            cells: (0..t.matrix.columns.len())
                .map(|i| matrix::cell_href(project, r, i, &t.matrix, &t.request))
                .collect(),
            total: matrix::total_href(project, r, &t.request),
        })
        .collect();
    Ok(ThemeTablePage {
        sheet: sheet_of(&t),
        links,
        back: format!(
            "/projects/{}/matrix?{}",
            access.id(),
            matrix::query_string(&t.request)
        ),
    })
}
