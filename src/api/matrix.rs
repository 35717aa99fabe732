//! `/api/v1/projects/{id}/matrix`: the theme matrix as JSON, one measure
//! at a time.

use crate::app::AppState;
use crate::domain::ids::CodeId;
use crate::domain::matrix::Measure;
use crate::http::error::Result;
use crate::http::extract::{Json, ProjectAccess, Query};
use crate::service::analysis::matrix::{self as rules, MatrixQuery};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde::Serialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{project_id}/matrix", get(matrix))
}

#[derive(Serialize)]
struct ColumnOut {
    key: String,
    label: String,
    /// N: participants in the column who speak in the documents counted.
    participants: Option<i64>,
}

#[derive(Serialize)]
struct RowOut {
    code_id: CodeId,
    parent_id: Option<CodeId>,
    path: String,
    depth: i32,
    values: BTreeMap<String, Option<f64>>,
    total: Option<f64>,
}

#[derive(Serialize)]
struct MatrixOut {
    measure: Measure,
    columns_by: String,
    rollup: bool,
    /// Participants in all columns together (the total's N).
    participants: i64,
    columns: Vec<ColumnOut>,
    rows: Vec<RowOut>,
}

async fn matrix(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(query): Query<MatrixQuery>,
) -> Result<Json<MatrixOut>> {
    let req = query.parse()?;
    rules::check_scope(&state.db, access.id(), &req.scope).await?;
    let m = rules::build(&state.db, &state.attributions, access.id(), &req).await?;
    let rows = m
        .rows
        .iter()
        .map(|r| RowOut {
            code_id: r.code.id,
            parent_id: r.code.parent_id,
            path: r.code.path.clone(),
            depth: r.code.depth,
            values: m
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.key.clone(), m.value(r, i, req.measure)))
                .collect(),
            total: m.total(r, req.measure),
        })
        .collect();
    Ok(Json(MatrixOut {
        measure: req.measure,
        columns_by: req.columns.as_param(),
        rollup: req.rollup,
        participants: m.participants,
        columns: m
            .columns
            .into_iter()
            .map(|c| ColumnOut {
                key: c.key,
                label: c.label,
                participants: c.participants,
            })
            .collect(),
        rows,
    }))
}
