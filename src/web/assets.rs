//! The static files (CSS, scripts, icon) under `/static`, and URLs for them
//! that change with their content, so a browser never keeps an old copy
//! after an upgrade.
//!
//! At start every file in the static folder is hashed; templates link
//! `{{ crate::web::assets::url("app.css") }}`, which is
//! `/static/app.css?v=<hash of app.css>`. Such a URL names one content, so
//! it may be kept for a year. ES modules import each other by plain
//! relative URLs (`./positions.js`), which carry no version: every URL
//! without the current version is served `no-cache`, so the browser asks
//! again each time (a cheap 304 through the ETag) and never runs a stale
//! module next to a fresh one. Versioning the imports too would need a
//! build step or rewriting scripts as they are served; this needs neither.
//!
//! The hashes are read once, when the server starts: after changing the
//! static files, restart it (as an upgrade does).

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use tower_http::services::ServeDir;

/// Hex digits of a file's SHA-256 kept in its version.
const VERSION_LEN: usize = 12;

/// Path under the static folder (`js/coding/main.js`) → version. One per
/// process: templates render without the app's state, and a process
/// serves one static folder.
static VERSIONS: OnceLock<HashMap<String, String>> = OnceLock::new();

/// Hash the files under `dir` (once per process; later calls keep the
/// first folder's versions).
pub fn init(dir: &Path) {
    VERSIONS.get_or_init(|| {
        let mut versions = HashMap::new();
        hash_dir(dir, "", &mut versions);
        versions
    });
}

fn hash_dir(dir: &Path, prefix: &str, out: &mut HashMap<String, String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot read the static folder: asset URLs will carry no version");
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if path.is_dir() {
            hash_dir(&path, &format!("{name}/"), out);
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.insert(name, version_of(&bytes));
        }
    }
}

/// The version of a file's content: the start of its SHA-256, in hex.
pub fn version_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    hex.truncate(VERSION_LEN);
    hex
}

/// The URL of static file `path` (relative to the static folder, e.g.
/// `"js/matrix.js"`), with its version. Without one (a file not found at
/// start) the plain URL, which is served `no-cache`.
pub fn url(path: &str) -> String {
    match VERSIONS.get().and_then(|v| v.get(path)) {
        Some(version) => format!("/static/{path}?v={version}"),
        None => format!("/static/{path}"),
    }
}

/// Whether a request for `path` (under `/static`) with `query` names the
/// file's current version.
fn is_current(path: &str, query: Option<&str>) -> bool {
    let Some(version) = VERSIONS
        .get()
        .and_then(|v| v.get(path.trim_start_matches('/')))
    else {
        return false;
    };
    query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .any(|pair| pair.strip_prefix("v=") == Some(version.as_str()))
}

/// The files of `dir`, with the caching rules above.
pub fn service(dir: &Path) -> Router {
    Router::new()
        .fallback_service(ServeDir::new(dir))
        .layer(middleware::from_fn(cache_control))
}

const FOR_A_YEAR: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const ASK_AGAIN: HeaderValue = HeaderValue::from_static("no-cache");

async fn cache_control(req: Request, next: Next) -> Response {
    let readable = matches!(*req.method(), Method::GET | Method::HEAD);
    let current = is_current(req.uri().path(), req.uri().query());
    let mut res = next.run(req).await;
    if readable && (res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED) {
        let policy = if current { FOR_A_YEAR } else { ASK_AGAIN };
        res.headers_mut().insert(header::CACHE_CONTROL, policy);
    }
    res
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_are_the_start_of_the_content_hash() {
        // SHA-256 of "abc".
        assert_eq!(super::version_of(b"abc"), "ba7816bf8f01");
    }
}
