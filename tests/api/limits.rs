//! Limits that protect the server, each with a clear error and nothing
//! half-done behind it.

use crate::helpers::{TestApp, assert_error};
use parley::config::ServerConfig;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test]
async fn a_body_over_the_limit_is_refused_whole(pool: PgPool) {
    let config = ServerConfig {
        max_upload_mib: 1,
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(pool, config).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;

    let text = "P01: word ".repeat(120_000);
    let res = ann
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "Too long", "text": text}),
        )
        .await;
    let message = assert_error(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert!(
        message.contains("MiB") || message.contains("large"),
        "{message}"
    );

    let upload = Form::new().part("file", Part::bytes(text.into_bytes()).file_name("big.txt"));
    let res = ann
        .upload(&format!("/projects/{p}/documents"), upload)
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(ann.document_count(p).await, 0, "nothing was stored");
}

#[sqlx::test]
async fn more_files_than_one_upload_may_carry_are_refused_whole(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;
    let mut upload = Form::new();
    for i in 0..=parley::service::documents::MAX_FILES {
        upload = upload.part(
            "file",
            Part::bytes(format!("P{i:03}: hello").into_bytes()).file_name(format!("{i}.txt")),
        );
    }
    let res = ann
        .upload(&format!("/projects/{p}/documents"), upload)
        .await;
    let message = assert_error(res, StatusCode::BAD_REQUEST).await;
    assert!(message.contains("at most 500 files"), "{message}");
    assert_eq!(ann.document_count(p).await, 0, "nothing was stored");
}

#[sqlx::test]
async fn pages_of_a_list_are_capped(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;
    for path in [
        format!("/projects/{p}/documents?limit=5000"),
        format!("/projects/{p}/codings?limit=5000"),
        format!("/projects/{p}/participants?limit=0"),
    ] {
        let message = assert_error(ann.get(&path).await, StatusCode::BAD_REQUEST).await;
        assert!(message.contains("1000"), "{path}: {message}");
    }
    let res = ann.get(&format!("/projects/{p}/codings?limit=1000")).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[sqlx::test]
async fn api_tokens_are_made_at_a_limited_rate(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.signed_in("ann@example.org").await;
    let make = || {
        browser
            .post(app.url("/account/tokens"))
            .form(&[("name", "script")])
            .send()
    };
    for _ in 0..parley::service::accounts::MAX_TOKENS_AN_HOUR {
        let res = make().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = make().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let page = res.text().await.unwrap();
    assert!(page.contains("at most 10 API tokens"), "{page}");
    let n: i64 = sqlx::query_scalar("select count(*) from api_token")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, parley::service::accounts::MAX_TOKENS_AN_HOUR);
}

#[sqlx::test]
async fn exports_past_the_size_guard_are_refused_with_advice(pool: PgPool) {
    let config = ServerConfig {
        max_export_excerpts: 2,
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(pool, config).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;
    let doc: Value = ann
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "One", "text": "P01: one two three four five six"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let code: Value = ann
        .post(&format!("/projects/{p}/codes"), json!({"name": "Trust"}))
        .await
        .json()
        .await
        .unwrap();
    for (start, end) in [(5, 8), (9, 12), (13, 18)] {
        let res = ann
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc["id"], "code_id": code["id"], "start": start, "end": end}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    for export in ["excerpts.csv", "excerpts.xlsx", "theme-table.xlsx"] {
        let res = ann.get(&format!("/projects/{p}/exports/{export}")).await;
        let message = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            message.contains("3 excerpts") && message.contains("Narrow it"),
            "{export}: {message}"
        );
    }
    // Narrowed under the guard, the same export works.
    let other: Value = ann
        .post(&format!("/projects/{p}/codes"), json!({"name": "Waiting"}))
        .await
        .json()
        .await
        .unwrap();
    let res = ann
        .post(
            &format!("/projects/{p}/codings"),
            json!({"document_id": doc["id"], "code_id": other["id"], "start": 19, "end": 23}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let csv = ann
        .csv(&format!(
            "/projects/{p}/exports/excerpts.csv?code_id={}",
            other["id"]
        ))
        .await;
    assert_eq!(csv.rows.len(), 1, "one excerpt: {:?}", csv.rows);
}

#[sqlx::test]
async fn a_token_records_its_last_use_to_the_minute(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let used = || async {
        sqlx::query_scalar::<_, Option<time::OffsetDateTime>>("select last_used_at from api_token")
            .fetch_one(&app.db)
            .await
            .unwrap()
    };
    assert_eq!(used().await, None);
    assert_eq!(ann.get("/me").await.status(), StatusCode::OK);
    let first = used().await.expect("the first use is recorded");
    // Within the minute, using it again does not write (no row lock for
    // every request of a busy script).
    assert_eq!(ann.get("/me").await.status(), StatusCode::OK);
    assert_eq!(used().await, Some(first));
    // An hour later, it does.
    sqlx::query("update api_token set last_used_at = last_used_at - interval '1 hour'")
        .execute(&app.db)
        .await
        .unwrap();
    assert_eq!(ann.get("/me").await.status(), StatusCode::OK);
    assert!(used().await.expect("recorded") > first - time::Duration::minutes(1));
}
