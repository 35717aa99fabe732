//! The whole application's route table, assembled above the two HTTP doors
//! (pages in [`web`], JSON in [`api`]), with the layers every request passes
//! and the one place an error response is rendered.

use crate::app::AppState;
use crate::http::error::{AppError, ErrorBody};
use crate::{api, web};
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;
use tower_http::CompressionLevel;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{
    DefaultPredicate, NotForContentType, Predicate, SizeAbove,
};
use tower_http::csrf::CsrfLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::map_response_body::MapResponseBodyLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: pages, `/api/v1`, static files, and the layers
/// (outermost first): request id, tracing, compression (not for a client on
/// this machine), error rendering,
/// body limit, CSRF, sessions.
pub fn router(state: AppState) -> Router {
    let config = state.config.clone();
    let max_body = config.max_body_bytes();
    let static_dir = config.static_dir();
    web::assets::init(&static_dir);
    let routes = Router::new()
        .merge(web::routes())
        .nest("/api/v1", api::routes())
        // Versioned asset URLs are kept for a year, others revalidated.
        .nest_service("/static", web::assets::service(&static_dir))
        .fallback(web::pages::not_found)
        .layer(middleware::from_fn_with_state(
            (state.askers.clone(), state.db.clone()),
            crate::http::askers::forget_after_changes,
        ))
        .layer(sessions(&state))
        .layer(csrf(config.public_url.as_deref()))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn(render_errors));
    security_headers(routes)
        // The fastest gzip level: a quarter of level 6's CPU for responses a
        // third bigger — the JSON of a long transcript costs ~1 ms, not ~4.
        // Office files and .qdpx are zip archives already.
        .layer(
            CompressionLayer::new()
                .quality(CompressionLevel::Fastest)
                .compress_when(
                    // Small answers (a codebook, a coding) cost more to
                    // compress and inflate than to send.
                    SizeAbove::new(1024)
                        .and(DefaultPredicate::new())
                        .and(NotForContentType::const_new("application/zip"))
                        .and(NotForContentType::const_new(
                            "application/vnd.openxmlformats",
                        )),
                ),
        )
        // A client on this machine is answered uncompressed.
        .layer(middleware::from_fn(
            crate::http::nearby::uncompressed_on_loopback,
        ))
        // Compressed answers come in 4 KiB frames: sent joined instead.
        .layer(MapResponseBodyLayer::new(crate::http::coalesce::coalesce))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), id = %id)
                })
                // Most answers take a few milliseconds: log them in µs.
                .on_response(DefaultOnResponse::new().latency_unit(LatencyUnit::Micros)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// A handler that panicked answers 500 like any failure (logged with what
/// it said); the server and every other request go on.
fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("no message");
    AppError::internal(anyhow::anyhow!("a request panicked: {what}")).into_response()
}

/// Sessions in PostgreSQL (so several servers share them), in an HttpOnly,
/// SameSite=Lax cookie, Secure behind https.
fn sessions(state: &AppState) -> SessionManagerLayer<crate::store::sessions::PgSessionStore> {
    SessionManagerLayer::new(crate::store::sessions::PgSessionStore::new(
        state.db.clone(),
    ))
    .with_name("parley_session")
    .with_http_only(true)
    .with_same_site(SameSite::Lax)
    .with_secure(state.config.secure_cookies())
    .with_expiry(Expiry::OnInactivity(time::Duration::days(14)))
}

/// Cross-site form posts are refused by Fetch Metadata (Sec-Fetch-Site /
/// Origin), which every current browser sends; the cookie's SameSite=Lax
/// is a second line. Scripts with a Bearer token send neither header and
/// are not affected.
fn csrf(public_url: Option<&str>) -> CsrfLayer {
    let csrf = CsrfLayer::new();
    let Some(origin) = public_url.and_then(origin_of) else {
        return csrf;
    };
    match csrf.clone().add_trusted_origin(&origin) {
        Ok(with) => with,
        Err(e) => {
            tracing::warn!(%origin, error = %e, "PARLEY_PUBLIC_URL is not a usable origin");
            csrf
        }
    }
}

/// Headers on every answer: no sniffing, no framing, no referrer off-site,
/// and scripts only from our own files (no inline script anywhere; style
/// attributes are allowed for code colours and heatmap cells).
fn security_headers(routes: Router<AppState>) -> Router<AppState> {
    let header = |name: &'static str, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        )
    };
    routes
        .layer(header("x-content-type-options", "nosniff"))
        .layer(header("referrer-policy", "same-origin"))
        .layer(header("x-frame-options", "DENY"))
        .layer(header(
            "content-security-policy",
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; object-src 'none'; base-uri 'self'; \
             form-action 'self'; frame-ancestors 'none'",
        ))
}

/// `https://host:port/path` → `https://host:port`.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split('/').next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// A short message for errors raised outside our handlers.
fn default_message(status: StatusCode) -> String {
    match status {
        StatusCode::NOT_FOUND => "not found".into(),
        StatusCode::METHOD_NOT_ALLOWED => "this address does not accept that method".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "the request is too large".into(),
        StatusCode::FORBIDDEN => {
            "this request was refused: cross-site form posts are not allowed".into()
        }
        s => s.canonical_reason().unwrap_or("error").to_lowercase(),
    }
}

fn is_rendered(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json") || ct.starts_with("text/html"))
}

/// `{"error": "...", "field": "..."}`, asking for a token on a 401.
fn json_error(status: StatusCode, message: &str, field: Option<&'static str>) -> Response {
    let mut json = json!({ "error": message });
    if let Some(field) = field {
        json["field"] = field.into();
    }
    let mut out = (status, axum::Json(json)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        out.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    out
}

/// Render every error response of the app: JSON under `/api/`, a page
/// elsewhere; an anonymous page visit is sent to sign in.
pub async fn render_errors(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| path.clone());
    let is_get = req.method() == axum::http::Method::GET;
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);

    let mut res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let body = match res.extensions_mut().remove::<ErrorBody>() {
        Some(body) => body,
        None if is_rendered(&res) => return res,
        None => ErrorBody {
            message: default_message(status),
            field: None,
        },
    };
    let mut message = body.message;
    if let Some(id) = request_id.as_deref().filter(|_| status.is_server_error()) {
        message = format!("{message} (request id {id})");
    }

    let mut out = if path.starts_with("/api/") || path == "/api" {
        json_error(status, &message, body.field)
    } else if status == StatusCode::UNAUTHORIZED {
        let to = if is_get {
            format!("/login?next={}", crate::http::encode_query(&target))
        } else {
            "/login".into()
        };
        Redirect::to(&to).into_response()
    } else {
        crate::web::pages::error_page(status, &message)
    };
    // Keep headers that matter to the client (Retry-After, Allow).
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_service_goes_on() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let app = axum::Router::new()
            .route("/boom", axum::routing::get(boom))
            .route("/fine", axum::routing::get(|| async { "fine" }))
            .layer(super::CatchPanicLayer::custom(super::panicked))
            .layer(axum::middleware::from_fn(super::render_errors));
        let res = app
            .clone()
            .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let res = app
            .oneshot(Request::get("/fine").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    #[test]
    fn origins_drop_the_path() {
        assert_eq!(
            super::origin_of("https://q.example.org/parley/").as_deref(),
            Some("https://q.example.org")
        );
        assert_eq!(super::origin_of("nonsense"), None);
    }
}
