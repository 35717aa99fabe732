//! `/api/v1/projects/{id}/search`: keyword in context across a project's
//! transcripts, "code all hits" as one batch, and its undo.

use super::Page;
use crate::app::AppState;
use crate::domain::ids::{CodeId, DocumentId, ProjectId};
use crate::http::error::Result;
use crate::http::extract::{Json, Path, ProjectAccess, Query, need};
use crate::http::heavy::Heavy;
use crate::service::search::{self as rules, CodeHits, Extent, HitRef, SearchQuery};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/projects/{project_id}/search", get(search))
        .route("/projects/{project_id}/search/code", post(code_hits))
        .route(
            "/projects/{project_id}/search/batches/{batch_id}",
            delete(undo),
        )
}

#[derive(Debug, Serialize)]
struct Hit {
    document_id: DocumentId,
    document_title: String,
    /// Code points, as every range in Parley.
    start: usize,
    end: usize,
    text: String,
    before: String,
    after: String,
    speaker: Option<String>,
    turn: Option<i32>,
    participant: Option<String>,
    group: Option<String>,
}

impl From<rules::Hit> for Hit {
    fn from(h: rules::Hit) -> Self {
        Hit {
            document_id: h.document_id,
            document_title: h.document_title,
            start: h.start,
            end: h.end,
            text: h.text,
            before: h.before,
            after: h.after,
            speaker: h.speaker,
            turn: h.turn,
            participant: h.participant,
            group: h.group,
        }
    }
}

#[derive(Debug, Serialize)]
struct Hits {
    items: Vec<Hit>,
    total: usize,
    /// Documents with at least one hit.
    documents: usize,
}

async fn search(
    State(state): State<AppState>,
    access: ProjectAccess,
    _heavy: Heavy,
    Query(page): Query<Page>,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Hits>> {
    let (limit, offset) = page.bounds()?;
    let found = rules::run(&state.db, &access, &query, limit as usize, offset as usize).await?;
    Ok(Json(Hits {
        items: found.items.into_iter().map(Hit::from).collect(),
        total: found.total,
        documents: found.documents,
    }))
}

/// Document ids as a list, or comma separated as in a query string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Ids {
    List(Vec<DocumentId>),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeHitsBody {
    q: String,
    #[serde(default)]
    exact: bool,
    code_id: CodeId,
    extent: Option<String>,
    documents: Option<Ids>,
    group: Option<String>,
    speakers: Option<String>,
    #[serde(default)]
    dry_run: bool,
    /// Only these hits (the ticked ones).
    hits: Option<Vec<HitRef>>,
}

#[derive(Debug, Serialize)]
struct Planned {
    document_id: DocumentId,
    document_title: String,
    start: usize,
    end: usize,
    text: String,
    existing: bool,
}

#[derive(Debug, Serialize)]
struct Coded {
    /// Codings written (for a dry run: that would be).
    created: usize,
    /// Extents this coder had already coded with this code.
    existing: usize,
    /// The batch, to undo with `DELETE …/search/batches/{batch}`.
    batch: Option<i64>,
    codings: Vec<Planned>,
}

/// 201 when codings were written; 200 for a dry run or when every extent
/// was coded already.
async fn code_hits(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    _heavy: Heavy,
    Json(body): Json<CodeHitsBody>,
) -> Result<(StatusCode, Json<Coded>)> {
    let documents = body.documents.map(|d| match d {
        Ids::List(ids) => ids
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(","),
        Ids::Text(t) => t,
    });
    let req = CodeHits {
        query: SearchQuery {
            q: body.q,
            exact: body.exact,
            documents,
            group: body.group,
            speakers: body.speakers,
        },
        code: body.code_id,
        extent: Extent::parse(body.extent.as_deref())?,
        only: body.hits,
        dry_run: body.dry_run,
    };
    let done = rules::code_hits(&state.db, &access, &req).await?;
    let status = if done.batch.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(Coded {
            created: done.created,
            existing: done.existing,
            batch: done.batch,
            codings: done
                .codings
                .into_iter()
                .map(|p| Planned {
                    document_id: p.document_id,
                    document_title: p.document_title,
                    start: p.start,
                    end: p.end,
                    text: p.text,
                    existing: p.existing,
                })
                .collect(),
        }),
    ))
}

#[derive(Debug, Serialize)]
struct Undone {
    removed: i64,
}

async fn undo(
    State(state): State<AppState>,
    access: ProjectAccess<need::Coder>,
    Path((_, batch)): Path<(ProjectId, i64)>,
) -> Result<Json<Undone>> {
    let removed = rules::undo(&state.db, &access, batch).await?;
    Ok(Json(Undone { removed }))
}
