//! Page helpers shared by every HTML handler: the error page, redirects
//! that carry a message, and small formatting functions for templates.

use super::chrome::{Chrome, flash};
use crate::http::error::{AppError, Result};
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use tower_sessions::Session;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// A friendly page for an error status.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::SERVICE_UNAVAILABLE => "Temporarily unavailable",
        StatusCode::PAYLOAD_TOO_LARGE => "Upload too large",
        s if s.is_server_error() => "Something went wrong",
        _ => "That did not work",
    };
    let message = if status == StatusCode::NOT_FOUND {
        "There is nothing here, or you do not have access to it."
    } else {
        message
    };
    let page = ErrorPage {
        chrome: Chrome::default(),
        status: status.as_u16(),
        title,
        message,
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "cannot render the error page");
            (status, message.to_owned()).into_response()
        }
    }
}

/// The app's fallback: nothing is routed here.
pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// After a form post: go to `to` with a success message.
pub async fn done(session: &Session, to: &str, message: impl Into<String>) -> Result<Redirect> {
    flash(session, true, message).await?;
    Ok(Redirect::to(to))
}

/// After a form post that was refused for something the user can fix (bad
/// input, a conflict): go back to `to` and say why. Other errors (401, 403,
/// 404, 503, …) propagate to the error page with their status.
pub async fn back_with(session: &Session, to: &str, err: impl Into<AppError>) -> Result<Redirect> {
    let err = err.into();
    // Only what the person can fix on the form goes back to it; "not
    // signed in", "not allowed" and "no such thing" keep their status.
    if matches!(err.status().as_u16(), 400 | 409 | 413 | 415 | 422) {
        flash(session, false, err.to_string()).await?;
        Ok(Redirect::to(to))
    } else {
        Err(err)
    }
}

pub use crate::http::encode_query;

/// Where to go after signing in: only paths on this site, never `//host`
/// or a full URL (an open redirect would help phishing).
///
/// A same-site path starts with one `/` and holds no white space, control
/// character or backslash anywhere: browsers drop tabs and line breaks from
/// a URL (so `/<TAB>/host` would become `//host`) and read `\` as `/`.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if is_local_path(n) => n,
        _ => "/projects",
    }
}

fn is_local_path(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/'))
        && !n
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\' || is_invisible(c))
}

/// Characters a browser may drop or that hide what a link says.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// A memo's Markdown as HTML that is safe to insert with `|safe`.
pub fn markdown(memo: &str) -> String {
    crate::formats::markdown::to_html(memo)
}

/// `2026-11-25 14:03 UTC`: timestamps as people read them.
pub fn when(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02} UTC",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/projects/3")), "/projects/3");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "projects",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r//evil.example",
            "/ /evil.example",
            "/\u{200B}/evil.example",
            "/projects\\..\\evil",
            "/\n",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/projects", "{bad}");
        }
        assert_eq!(safe_next(None), "/projects");
    }

    #[test]
    fn times_are_shown_in_utc_to_the_minute() {
        let t = time::macros::datetime!(2026-11-25 14:03:59 +01:00);
        assert_eq!(when(t), "2026-11-25 13:03 UTC");
    }
}
