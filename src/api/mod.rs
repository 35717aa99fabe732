//! The JSON API under `/api/v1`, for scripts in R and Python: a door over the
//! same use cases as the pages, with the same extractors and errors (errors
//! render as `{"error": "..."}`); lists take `limit` / `offset` and answer
//! `{"items": [...], "total": N}`. Answers are the API's own types
//! ([`model`]), never store rows, so the JSON stays as scripts know it.

mod agreement;
mod codes;
mod codings;
mod documents;
mod exchange;
mod exports;
mod matrix;
mod memos;
mod model;
mod participants;
mod projects;
mod search;
mod surveys;
mod users;

use crate::app::AppState;
use crate::http::error::{AppError, Result};
use crate::http::extract::{CurrentUser, Json};
use axum::Router;
use axum::routing::get;
use serde::{Deserialize, Serialize};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .merge(projects::routes())
        .merge(participants::routes())
        .merge(documents::routes())
        .merge(codes::routes())
        .merge(codings::routes())
        .merge(memos::routes())
        .merge(matrix::routes())
        .merge(exports::routes())
        .merge(exchange::routes())
        .merge(agreement::routes())
        .merge(surveys::routes())
        .merge(search::routes())
        .merge(users::routes())
}

/// Who the token or session belongs to.
async fn me(CurrentUser(user): CurrentUser) -> Json<model::Me> {
    Json(user.into())
}

/// `?limit=&offset=`: at most [`Page::MAX_LIMIT`] items a page.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 100;
    pub const MAX_LIMIT: i64 = 1000;

    /// `(limit, offset)`, or a 400 that says what is wrong.
    pub fn bounds(self) -> Result<(i64, i64)> {
        let limit = self.limit.unwrap_or(Self::DEFAULT_LIMIT);
        let offset = self.offset.unwrap_or(0);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(AppError::BadRequest(format!(
                "limit must be between 1 and {}",
                Self::MAX_LIMIT
            )));
        }
        if offset < 0 {
            return Err(AppError::BadRequest("offset cannot be negative".into()));
        }
        Ok((limit, offset))
    }
}

/// A page of a list.
#[derive(Debug, Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub total: i64,
}

impl<T> List<T> {
    /// A page of `total` items, each in its API shape.
    pub fn of<S: Into<T>>(items: Vec<S>, total: i64) -> Self {
        List {
            items: items.into_iter().map(Into::into).collect(),
            total,
        }
    }

    /// A whole list (not paged), each item in its API shape.
    pub fn all<S: Into<T>>(items: Vec<S>) -> Self {
        let total = items.len() as i64;
        Self::of(items, total)
    }

    /// One page cut from a whole list (for lists that are small per project).
    pub fn page<S: Into<T>>(all: Vec<S>, limit: i64, offset: i64) -> Self {
        let total = all.len() as i64;
        let items = all
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .map(Into::into)
            .collect();
        List { items, total }
    }
}
