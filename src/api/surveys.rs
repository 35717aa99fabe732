//! `/api/v1/projects/{id}/surveys`: questionnaires — import (checked whole
//! before anything is written), scales with Cronbach's α, and the
//! comparison of a scale between waves within an attribute.

use super::model::{
    ComparisonOutSurvey, JointDisplayOut, ScaleReportOut, SurveyDetail, SurveyImport, SurveyOut,
};
use crate::app::AppState;
use crate::domain::ids::ProjectId;
use crate::http::download::attachment;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Json, Path, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::http::upload;
use crate::service::analysis::joint_display::{self as joint, JointQuery};
use crate::service::exports;
use crate::service::surveys::{self as rules, CompareQuery, NewScale};
use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/surveys", get(list).post(import))
        .route(
            "/projects/{project_id}/surveys/{survey_id}",
            get(show).delete(delete),
        )
        .route(
            "/projects/{project_id}/surveys/{survey_id}/scales",
            axum::routing::post(create_scale),
        )
        .route(
            "/projects/{project_id}/surveys/{survey_id}/scales/{scale_id}",
            get(show_scale).delete(delete_scale),
        )
        .route(
            "/projects/{project_id}/surveys/{survey_id}/compare",
            get(compare),
        )
        .route("/projects/{project_id}/joint-display", get(joint_display))
        .route(
            "/projects/{project_id}/exports/joint-display.csv",
            get(joint_csv),
        )
        .route(
            "/projects/{project_id}/exports/joint-display.xlsx",
            get(joint_xlsx),
        )
        .route(
            "/projects/{project_id}/exports/joint-display.docx",
            get(joint_docx),
        )
}

async fn joint_display(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(q): Query<JointQuery>,
) -> Result<Json<JointDisplayOut>> {
    let j = joint::build(&state.db, &state.attributions, &access, &q).await?;
    Ok(Json(j.into()))
}

async fn joint_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(q): Query<JointQuery>,
) -> Result<Response> {
    attachment(exports::joint_csv(&state.db, &state.attributions, &access, &q).await?)
}

async fn joint_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(q): Query<JointQuery>,
) -> Result<Response> {
    attachment(exports::joint_xlsx(&state.db, &state.attributions, &access, &q).await?)
}

async fn joint_docx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(q): Query<JointQuery>,
) -> Result<Response> {
    attachment(exports::joint_docx(&state.db, &state.attributions, &access, &q).await?)
}

async fn list(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<super::List<SurveyOut>>> {
    Ok(Json(super::List::all(
        rules::list(&state.db, &access).await?,
    )))
}

/// 201 with the survey; 200 for a dry run; 422 with every problem listed
/// (and nothing written) when the file is not clean.
async fn import(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    multipart: Multipart,
) -> Result<Response> {
    let up = upload::survey(multipart).await?;
    let outcome = rules::import(&state.db, &access, &up).await?;
    let status = if !outcome.errors.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if outcome.survey.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut body = serde_json::to_value(SurveyImport::from(outcome))
        .map_err(|e| AppError::Internal(e.into()))?;
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        body["error"] = "the file has problems; nothing was written (see errors)".into();
    }
    Ok((status, Json(body)).into_response())
}

async fn show(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, survey)): Path<(ProjectId, i64)>,
) -> Result<Json<SurveyDetail>> {
    Ok(Json(rules::get(&state.db, &access, survey).await?.into()))
}

async fn delete(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, survey)): Path<(ProjectId, i64)>,
) -> Result<StatusCode> {
    rules::delete(&state.db, &access, survey).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn create_scale(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, survey)): Path<(ProjectId, i64)>,
    Json(new): Json<NewScale>,
) -> Result<(StatusCode, Json<ScaleReportOut>)> {
    let report = rules::create_scale(&state.db, &access, survey, &new).await?;
    Ok((StatusCode::CREATED, Json(report.into())))
}

async fn show_scale(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, survey, scale)): Path<(ProjectId, i64, i64)>,
) -> Result<Json<ScaleReportOut>> {
    Ok(Json(
        rules::scale(&state.db, &access, survey, scale)
            .await?
            .into(),
    ))
}

async fn delete_scale(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, survey, scale)): Path<(ProjectId, i64, i64)>,
) -> Result<StatusCode> {
    rules::delete_scale(&state.db, &access, survey, scale).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn compare(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, survey)): Path<(ProjectId, i64)>,
    Query(query): Query<CompareQuery>,
) -> Result<Json<ComparisonOutSurvey>> {
    Ok(Json(
        rules::compare(&state.db, &access, survey, &query)
            .await?
            .into(),
    ))
}
