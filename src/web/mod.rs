//! The HTML pages: one module per part of the app, each a thin door over
//! the use cases in `crate::service` (parse the form or query, call one use
//! case, render a template or redirect with a message).

pub mod account;
pub mod admin;
pub mod agreement;
pub mod assets;
pub mod auth;
pub mod chrome;
pub mod codes;
pub mod document_trash;
pub mod documents;
pub mod exchange;
pub mod exports;
pub mod filters;
pub mod health;
pub mod matrix;
pub mod memos;
pub mod pages;
pub mod participants;
pub mod projects;
pub mod search;
pub mod surveys;

use crate::app::AppState;
use axum::Router;

/// Every page route.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(auth::routes())
        .merge(account::routes())
        .merge(admin::routes())
        .merge(projects::routes())
        .merge(agreement::routes())
        .merge(surveys::routes())
        .merge(document_trash::routes())
        .merge(documents::routes())
        .merge(participants::routes())
        .merge(codes::routes())
        .merge(memos::routes())
        .merge(search::routes())
        .merge(matrix::routes())
        .merge(exports::routes())
        .merge(exchange::routes())
        .merge(health::routes())
}
