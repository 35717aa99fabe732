//! Static asset URLs carry their content's version, so browsers never keep
//! stale CSS or scripts after an upgrade; unversioned URLs (ES module
//! imports) are revalidated on every use.

use crate::helpers::TestApp;
use reqwest::{Client, StatusCode, header};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::collections::BTreeSet;

/// Every `/static/…` URL the page links, as written.
fn static_urls(html: &str) -> Vec<String> {
    html.match_indices("\"/static/")
        .map(|(i, _)| {
            let rest = &html[i + 1..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[sqlx::test]
async fn pages_link_assets_by_content_version(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Versions").await;
    let doc: Value = owner
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "Interview 1", "text": "Interviewer: Hello.\nP01: Hi 🙂\n"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let doc = doc["id"].as_i64().unwrap();
    let browser = app.signed_in("ann@example.org").await;
    let plain = Client::new();

    let pages = [
        // (Signed in, /login sends you on.)
        ("/login".to_owned(), None),
        (
            format!("/projects/{p}/documents/{doc}"),
            Some("js/coding/main.js"),
        ),
        (format!("/projects/{p}/documents"), Some("js/upload.js")),
        (format!("/projects/{p}/codes"), Some("js/codebook.js")),
        (format!("/projects/{p}/matrix"), Some("js/matrix.js")),
        (format!("/projects/{p}/theme-table"), Some("js/codebook.js")),
        ("/no/such/page".to_owned(), None),
    ];
    let mut linked = BTreeSet::new();
    for (path, script) in &pages {
        let client = if path == "/login" { &plain } else { &browser };
        let html = app.page_text(client, path).await;
        let urls = static_urls(&html);
        for file in ["app.css", "favicon.svg"].into_iter().chain(*script) {
            assert!(
                urls.iter()
                    .any(|u| u.starts_with(&format!("/static/{file}?v="))),
                "{path} links {file} with its version: {urls:?}"
            );
        }
        for url in urls {
            assert!(url.contains("?v="), "{path}: {url} carries no version");
            linked.insert(url);
        }
    }

    // Each version is the start of its file's SHA-256, and the versioned
    // URL serves the file, to be kept for a year.
    for url in &linked {
        let (path, version) = url.split_once("?v=").unwrap();
        let file = path.strip_prefix("/static/").unwrap();
        let bytes = std::fs::read(format!("{}/static/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert!(
            version.len() >= 8 && sha256_hex(&bytes).starts_with(version),
            "{url} names the content of {file}"
        );
        let res = plain.get(app.url(url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        let cache = res.headers()[header::CACHE_CONTROL].to_str().unwrap();
        assert!(cache.contains("immutable"), "{url}: {cache}");
        assert_eq!(res.bytes().await.unwrap(), bytes, "{url}");
    }
}

#[sqlx::test]
async fn unversioned_assets_are_revalidated(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let client = Client::new();
    // What modules import (`./positions.js`), an old version, and a plain
    // URL: all asked again on each use.
    for url in [
        "/static/js/coding/positions.js",
        "/static/app.css?v=000000000000",
        "/static/app.css",
    ] {
        let res = client.get(app.url(url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-cache", "{url}");
        let etag = res.headers()[header::ETAG].clone();
        let again = client
            .get(app.url(url))
            .header(header::IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{url}");
        assert_eq!(again.headers()[header::CACHE_CONTROL], "no-cache", "{url}");
    }
    let res = client
        .get(app.url("/static/js/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().get(header::CACHE_CONTROL).is_none());
}
