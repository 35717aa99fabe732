//! `/api/v1/projects/{id}/matrix`: the theme matrix as JSON, one measure
//! at a time.

use super::model::Matrix;
use crate::app::AppState;
use crate::http::error::Result;
use crate::http::extract::{Json, ProjectAccess, Query};
use crate::http::heavy::Heavy;
use crate::service::analysis::matrix::{self as rules, MatrixQuery};
use axum::Router;
use axum::extract::State;
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new().route("/projects/{project_id}/matrix", get(matrix))
}

async fn matrix(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<MatrixQuery>,
) -> Result<Json<Matrix>> {
    let mut req = query.parse()?;
    rules::check_scope(&state.db, &access, &mut req.scope).await?;
    let m = rules::build(&state.db, &state.attributions, access.id(), &req).await?;
    Ok(Json(Matrix::new(&req, m)))
}
