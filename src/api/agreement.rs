//! `/api/v1/projects/{id}/agreement`, `…/adjudications` and
//! `…/settings`: intercoder agreement, side-by-side comparison, the
//! adjudication that makes the consensus set, and blind coding.

use super::model::{AgreementReport, ComparisonOut, DecisionOut, SettingsOut, SettledOut};
use crate::app::AppState;
use crate::domain::agreement::Decision;
use crate::domain::ids::{CodeId, DocumentId, UserId};
use crate::http::download::attachment;
use crate::http::error::{AppError, Result};
use crate::http::extract::{Json, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::service;
use crate::service::agreement::{self as rules, AgreementQuery, Pairing, Ruling};
use crate::service::exports;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/agreement", get(report))
        .route("/projects/{project_id}/agreement/compare", get(compare))
        .route(
            "/projects/{project_id}/exports/agreement.csv",
            get(report_csv),
        )
        .route(
            "/projects/{project_id}/exports/agreement.xlsx",
            get(report_xlsx),
        )
        .route(
            "/projects/{project_id}/adjudications",
            get(decisions).post(adjudicate),
        )
        .route(
            "/projects/{project_id}/adjudications/agreed",
            post(accept_agreed),
        )
        .route(
            "/projects/{project_id}/settings",
            get(settings).put(set_settings),
        )
}

async fn report(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<AgreementQuery>,
) -> Result<Json<AgreementReport>> {
    let req = query.parse()?;
    Ok(Json(rules::report(&state.db, &access, &req).await?.into()))
}

async fn report_csv(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<AgreementQuery>,
) -> Result<Response> {
    let req = query.parse()?;
    attachment(exports::agreement_csv(&state.db, &access, &req).await?)
}

async fn report_xlsx(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(query): Query<AgreementQuery>,
) -> Result<Response> {
    let req = query.parse()?;
    attachment(exports::agreement_xlsx(&state.db, &access, &req).await?)
}

/// `?document=&code=&coders=A,B`.
#[derive(Debug, Deserialize)]
struct CompareQuery {
    document: Option<String>,
    code: Option<String>,
    coders: Option<String>,
}

fn one<T: std::str::FromStr>(field: &'static str, raw: Option<&str>) -> Result<T> {
    let raw = raw.map(str::trim).unwrap_or("");
    raw.parse().map_err(|_| {
        service::Error::invalid(field, format!("{field} must be an id (not “{raw}”)")).into()
    })
}

fn two_coders(raw: &[UserId]) -> Result<(UserId, UserId)> {
    match raw {
        [a, b] => Ok((*a, *b)),
        _ => Err(service::Error::invalid(
            "coders",
            "name exactly two coders to compare (coders=A,B)",
        )
        .into()),
    }
}

async fn compare(
    State(state): State<AppState>,
    access: ProjectAccess,
    Query(q): Query<CompareQuery>,
) -> Result<Json<ComparisonOut>> {
    let (a, b) =
        two_coders(&rules::ids::<UserId>("coders", q.coders.as_deref())?.unwrap_or_default())?;
    let pairing = Pairing {
        document: one("document", q.document.as_deref())?,
        code: one("code", q.code.as_deref())?,
        a,
        b,
    };
    Ok(Json(
        rules::compare(&state.db, &access, &pairing).await?.into(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulingIn {
    document_id: DocumentId,
    code_id: CodeId,
    coders: Vec<UserId>,
    start: usize,
    end: usize,
    decision: String,
}

async fn adjudicate(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(input): Json<RulingIn>,
) -> Result<(StatusCode, Json<SettledOut>)> {
    let (a, b) = two_coders(&input.coders)?;
    let decision = Decision::parse(&input.decision).ok_or_else(|| {
        AppError::from(service::Error::invalid(
            "decision",
            format!(
                "decision must be keep_a, keep_b, keep_both, drop or agreed (not “{}”)",
                input.decision
            ),
        ))
    })?;
    let ruling = Ruling {
        pairing: Pairing {
            document: input.document_id,
            code: input.code_id,
            a,
            b,
        },
        start: input.start,
        end: input.end,
        decision,
    };
    let settled = rules::adjudicate(&state.db, &access, &ruling).await?;
    Ok((StatusCode::CREATED, Json(settled.into())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgreedIn {
    coders: Vec<UserId>,
    documents: Option<Vec<DocumentId>>,
    codes: Option<Vec<CodeId>>,
}

async fn accept_agreed(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Json(input): Json<AgreedIn>,
) -> Result<Json<SettledOut>> {
    let pair = two_coders(&input.coders)?;
    let settled = rules::accept_agreed(
        &state.db,
        &access,
        pair,
        input.documents.as_deref(),
        input.codes.as_deref(),
    )
    .await?;
    Ok(Json(settled.into()))
}

async fn decisions(
    State(state): State<AppState>,
    access: ProjectAccess,
) -> Result<Json<super::List<DecisionOut>>> {
    let items = rules::decisions(&state.db, &access, 1000).await?;
    Ok(Json(super::List::all(items)))
}

async fn settings(access: ProjectAccess) -> Json<SettingsOut> {
    Json(access.project.settings.into())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SettingsIn {
    blind: Option<bool>,
    #[serde(default, deserialize_with = "service::explicit")]
    adjudicator: Option<Option<UserId>>,
}

async fn set_settings(
    State(state): State<AppState>,
    access: ProjectAccess<need::Owner>,
    Json(input): Json<SettingsIn>,
) -> Result<Json<SettingsOut>> {
    let settings = rules::set_settings(&state.db, &access, input.blind, input.adjudicator).await?;
    Ok(Json(settings.into()))
}
