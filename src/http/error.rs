//! The one error type of both HTTP doors. A handler or extractor returns an
//! [`AppError`] (a use case's [`service::Error`] converts into one); its
//! response carries an [`ErrorBody`] extension, and
//! `crate::router::render_errors` (a middleware around the whole app) turns
//! it into `{"error": "..."}` under `/api/` and into an error page (or a
//! redirect to sign in) everywhere else.

use crate::domain::ValidationError;
use crate::service;
use crate::store;
use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::rejection::{FormRejection, JsonRejection, PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

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
    /// 503: the server's share for heavy work is taken; try again soon.
    #[error("{0}")]
    Busy(String),
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
            AppError::Unavailable | AppError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(err.into())
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        service::Error::from(err).into()
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
        if matches!(self, AppError::Busy(_)) {
            res.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                HeaderValue::from_static("30"),
            );
        }
        res.extensions_mut().insert(body);
        res
    }
}

impl From<service::Error> for AppError {
    fn from(err: service::Error) -> Self {
        use service::Error as E;
        match err {
            E::NotFound => AppError::NotFound,
            E::Forbidden(m) => AppError::Forbidden(m),
            E::Invalid(v) => AppError::Invalid(v),
            E::BadRequest(m) => AppError::BadRequest(m),
            E::Conflict(m) => AppError::Conflict(m),
            e @ E::TooSlow => AppError::Rejected {
                status: StatusCode::SERVICE_UNAVAILABLE,
                message: e.to_string(),
            },
            E::Unavailable(_) => AppError::Unavailable,
            E::Internal(e) => AppError::Internal(e),
        }
    }
}

impl From<store::codes::CodeError> for AppError {
    fn from(err: store::codes::CodeError) -> Self {
        service::Error::from(err).into()
    }
}

impl From<store::codings::CodingError> for AppError {
    fn from(err: store::codings::CodingError) -> Self {
        service::Error::from(err).into()
    }
}
