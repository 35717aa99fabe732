//! HTTP: the route table, the layers around it, and the HTML pages. The JSON
//! API lives in `crate::api` and shares the extractors and errors here.

pub mod account;
pub mod auth;
pub mod codes;
pub mod coding;
pub mod documents;
pub mod error;
pub mod exchange;
pub mod exports;
pub mod extract;
pub mod health;
pub mod matrix;
pub mod memos;
pub mod pages;
pub mod participants;
pub mod projects;
pub mod theme_table;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::middleware;
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: pages, `/api/v1`, static files, and the layers
/// (outermost first): request id, tracing, compression, error rendering,
/// body limit, CSRF, sessions.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let sessions = SessionManagerLayer::new(crate::store::sessions::PgSessionStore::new(
        state.db.clone(),
    ))
    .with_name("parley_session")
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(config.secure_cookies())
    .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));

    // Cross-site form posts are refused by Fetch Metadata (Sec-Fetch-Site /
    // Origin), which every current browser sends; the cookie's SameSite=Lax
    // is a second line. Scripts with a Bearer token send neither header and
    // are not affected.
    let mut csrf = CsrfLayer::new();
    if let Some(origin) = config.public_url.as_deref().and_then(origin_of) {
        csrf = match csrf.clone().add_trusted_origin(&origin) {
            Ok(with) => with,
            Err(e) => {
                tracing::warn!(%origin, error = %e, "PARLEY_PUBLIC_URL is not a usable origin");
                csrf
            }
        };
    }

    let max_body = config.max_body_bytes();
    Router::new()
        .merge(auth::routes())
        .merge(account::routes())
        .merge(projects::routes())
        .merge(documents::routes())
        .merge(participants::routes())
        .merge(codes::routes())
        .merge(memos::routes())
        .merge(matrix::routes())
        .merge(exports::page_routes())
        .merge(exchange::page_routes())
        .merge(health::routes())
        .nest("/api/v1", crate::api::routes())
        .nest_service("/static", ServeDir::new(config.static_dir()))
        .fallback(pages::not_found)
        .layer(sessions)
        .layer(csrf)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn(error::render_errors))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-content-type-options"),
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        // Scripts only from our own files (no inline script anywhere);
        // style attributes are allowed for code colours and heatmap cells.
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("content-security-policy"),
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                 img-src 'self' data:; object-src 'none'; base-uri 'self'; \
                 form-action 'self'; frame-ancestors 'none'",
            ),
        ))
        // The fastest gzip level: a quarter of level 6's CPU for responses a
        // third bigger — the JSON of a long transcript costs ~1 ms, not ~4.
        // Office files and .qdpx are zip archives already.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(
                    DefaultPredicate::new()
                        .and(NotForContentType::const_new("application/zip"))
                        .and(NotForContentType::const_new(
                            "application/vnd.openxmlformats",
                        )),
                ),
        )
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// `https://host:port/path` → `https://host:port`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn origins_drop_the_path() {
        assert_eq!(
            super::origin_of("https://q.example.org/parley/").as_deref(),
            Some("https://q.example.org")
        );
        assert_eq!(super::origin_of("nonsense"), None);
    }
}
