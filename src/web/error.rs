//! The one error type of the HTTP layer, and the one place it becomes a
//! response. A handler or extractor returns an [`AppError`]; its response
//! carries an [`ErrorBody`] extension, and [`render_errors`] (a middleware
//! around the whole app) turns it into `{"error": "..."}` under `/api/` and
//! into an error page (or a redirect to sign in) everywhere else. Errors
//! raised by layers (body limit, CSRF, unknown method) are rendered the same.

use crate::domain::ValidationError;
use crate::store;
use axum::extract::Request;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::json;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 401: nobody is signed in, or the API token is unknown or revoked.
    #[error("sign in first, or send a valid API token (Authorization: Bearer <token>)")]
    Unauthorized,
    /// 403: signed in, a member, but the role does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// 404: no such thing, or not visible to this user (never 403 for a
    /// project the user is not in: that would reveal that it exists).
    #[error("not found")]
    NotFound,
    /// 400: the request makes no sense as sent.
    #[error("{0}")]
    BadRequest(String),
    /// 422: a field's value was refused.
    #[error("{0}")]
    Invalid(#[from] ValidationError),
    /// 409: the request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
    /// 429: slow down.
    #[error("{0}")]
    TooManyRequests(String),
    /// A rejection from an extractor (malformed JSON, wrong content type, ...),
    /// with the status and text it chose.
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    /// 503: PostgreSQL is not answering.
    #[error("the database is not answering; try again in a moment")]
    Unavailable,
    /// 500: a bug or an unexpected failure. Logged in full, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Rejected { status, .. } => *status,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if store::is_unavailable(&err) {
            tracing::warn!(error = %err, "database unavailable");
            AppError::Unavailable
        } else {
            AppError::Internal(err.into())
        }
    }
}

impl From<tower_sessions::session::Error> for AppError {
    // The session store is PostgreSQL; when it fails, the database is down
    // or broken, and either way the user can only wait.
    fn from(err: tower_sessions::session::Error) -> Self {
        tracing::warn!(error = %err, "session store failed");
        AppError::Unavailable
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(err: tokio::task::JoinError) -> Self {
        AppError::Internal(err.into())
    }
}

macro_rules! from_rejection {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(rejection: $t) -> Self {
                AppError::Rejected { status: rejection.status(), message: rejection.body_text() }
            }
        }
    )*};
}
from_rejection!(
    JsonRejection,
    FormRejection,
    QueryRejection,
    MultipartRejection,
    MultipartError
);

impl From<PathRejection> for AppError {
    // A path segment that does not parse (`/projects/abc`) names nothing.
    fn from(_: PathRejection) -> Self {
        AppError::NotFound
    }
}

/// What the user is told; put on the response by [`AppError`] and read by
/// [`render_errors`].
#[derive(Debug, Clone)]
pub struct ErrorBody {
    pub message: String,
    pub field: Option<&'static str>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            AppError::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "request failed");
                ErrorBody {
                    message: "something went wrong on our side; the error has been logged".into(),
                    field: None,
                }
            }
            AppError::Invalid(v) => ErrorBody {
                message: v.message.clone(),
                field: Some(v.field),
            },
            other => ErrorBody {
                message: other.to_string(),
                field: None,
            },
        };
        let mut res = (status, body.message.clone()).into_response();
        res.extensions_mut().insert(body);
        res
    }
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
        let mut json = json!({ "error": message });
        if let Some(field) = body.field {
            json["field"] = field.into();
        }
        let mut out = (status, axum::Json(json)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            out.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        out
    } else if status == StatusCode::UNAUTHORIZED {
        let to = if is_get {
            format!("/login?next={}", super::pages::encode_query(&target))
        } else {
            "/login".into()
        };
        Redirect::to(&to).into_response()
    } else {
        super::pages::error_page(status, &message)
    };
    // Keep headers that matter to the client (Retry-After, Allow).
    for name in [header::RETRY_AFTER, header::ALLOW] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}

impl From<store::codes::CodeError> for AppError {
    fn from(err: store::codes::CodeError) -> Self {
        use store::codes::{CodeError, NAME_TAKEN, SHORTCUT_ONE_CHAR, SHORTCUT_TAKEN};
        match err {
            CodeError::NotFound => AppError::NotFound,
            CodeError::NoSuchParent => AppError::Invalid(ValidationError::new(
                "parent_id",
                "the parent code is not in this project's codebook",
            )),
            e @ (CodeError::Cycle | CodeError::MergeIntoOwnBranch) => {
                AppError::Invalid(ValidationError::new("parent_id", e.to_string()))
            }
            e @ CodeError::Stale { .. } => AppError::Conflict(e.to_string()),
            CodeError::Db(e) => match store::violated_constraint(&e) {
                Some(NAME_TAKEN) => AppError::Conflict(
                    "a code with this name already exists at this place in the codebook".into(),
                ),
                Some(SHORTCUT_TAKEN) => {
                    AppError::Conflict("another code already uses this shortcut key".into())
                }
                Some(SHORTCUT_ONE_CHAR) => AppError::Invalid(ValidationError::new(
                    "shortcut",
                    "a shortcut is a single letter or digit",
                )),
                _ => e.into(),
            },
        }
    }
}

impl From<store::codings::CodingError> for AppError {
    fn from(err: store::codings::CodingError) -> Self {
        use store::codings::CodingError;
        match err {
            CodingError::NotFound => AppError::NotFound,
            e @ CodingError::NoSuchDocument(_) => {
                AppError::Invalid(ValidationError::new("document_id", e.to_string()))
            }
            e @ CodingError::NoSuchCode(_) => {
                AppError::Invalid(ValidationError::new("code_id", e.to_string()))
            }
            e @ CodingError::OutOfRange { .. } => {
                AppError::Invalid(ValidationError::new("end", e.to_string()))
            }
            e @ CodingError::NotYours => AppError::Forbidden(e.to_string()),
            e @ CodingError::Duplicate => AppError::Conflict(e.to_string()),
            CodingError::Db(e) => e.into(),
        }
    }
}
