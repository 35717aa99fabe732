//! `/api/v1/projects/{id}/codings`: apply codes to ranges of documents,
//! list them with filters (each with its covered `text`), change and remove
//! them; and the per-document feed the coding page polls.

use super::model::{Coding, DocumentCodings, Mark};
use super::{List, Page};
use crate::app::AppState;
use crate::domain::ids::{CodeId, CodingId, DocumentId, ProjectId};
use crate::http::error::Result;
use crate::http::extract::{Checking, Json, Path, ProjectAccess, Query, need};
use crate::service::coding::{self as rules, CodingInput, ListQuery};
use crate::store;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/projects/{project_id}/codings",
            get(list_codings).post(create_coding),
        )
        .route(
            "/projects/{project_id}/codings/{coding_id}",
            get(show_coding).patch(update_coding).delete(delete_coding),
        )
        .route(
            "/projects/{project_id}/documents/{document_id}/codings",
            get(document_codings),
        )
}

#[derive(Deserialize)]
struct NewCodingBody {
    document_id: DocumentId,
    code_id: CodeId,
    start: i64,
    end: i64,
    memo: Option<String>,
}

/// 201 with the new coding; 200 with the existing one when the same coder
/// already applied this code to exactly this range.
async fn create_coding(
    State(state): State<AppState>,
    check: Checking<need::Coder>,
    Json(body): Json<NewCodingBody>,
) -> Result<(StatusCode, Json<Coding>)> {
    let project = check.project();
    let (access, prepared) = check
        .alongside(rules::prepare(
            &state.db,
            &state.texts,
            project,
            body.document_id,
            body.code_id,
            (body.start, body.end),
            body.memo.as_deref(),
        ))
        .await?;
    let (coding, created) = rules::create(&state.db, &access, prepared).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(coding.into())))
}

async fn list_codings(
    State(state): State<AppState>,
    check: Checking,
    Query(page): Query<Page>,
    Query(query): Query<ListQuery>,
) -> Result<Json<List<Coding>>> {
    // A bad page is reported after the access check, not before.
    let bounds = page.bounds();
    let project = check.project();
    let read = async {
        let Ok((limit, offset)) = bounds else {
            return Ok(None);
        };
        rules::list_early(&state.db, project, &query, limit, offset).await
    };
    let (access, early) = check.alongside(read).await?;
    let (limit, offset) = bounds?;
    let (items, total) = rules::list(&state.db, &access, &query, limit, offset, early).await?;
    Ok(Json(List::of(items, total)))
}

async fn show_coding(
    State(state): State<AppState>,
    access: ProjectAccess,
    Path((_, id)): Path<(ProjectId, CodingId)>,
) -> Result<Json<Coding>> {
    Ok(Json(rules::get(&state.db, &access, id).await?.into()))
}

async fn update_coding(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, CodingId)>,
    Json(input): Json<CodingInput>,
) -> Result<Json<Coding>> {
    Ok(Json(
        rules::update(&state.db, &access, id, input).await?.into(),
    ))
}

async fn delete_coding(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, id)): Path<(ProjectId, CodingId)>,
) -> Result<StatusCode> {
    store::codings::delete(&state.db, access.id(), id, rules::actor(&access)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every coding of one document, without text (positions only), for the
/// coding page. Answers 304 to `If-None-Match` with the current ETag, so
/// polling for other coders' work costs one small query.
async fn document_codings(
    State(state): State<AppState>,
    check: Checking,
    Path((_, document)): Path<(ProjectId, DocumentId)>,
    headers: HeaderMap,
) -> Result<Response> {
    // The page's poll sends the fingerprint it has: most polls end here.
    let polled = headers.get(header::IF_NONE_MATCH);
    let project = check.project();
    let (access, feed) = check
        .alongside(rules::feed(&state.db, project, document, polled.is_none()))
        .await?;
    let fingerprint = feed.fingerprint(&access);
    let etag = format!("\"{fingerprint}\"");
    if polled.is_some_and(|v| v.as_bytes() == etag.as_bytes()) {
        return Ok(StatusCode::NOT_MODIFIED.into_response());
    }
    let codings = feed.marks(&state.db, &access).await?;
    let mut response = Json(DocumentCodings {
        fingerprint,
        me: access.user.id,
        codings: codings.into_iter().map(Mark::from).collect(),
    })
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}
