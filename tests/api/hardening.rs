//! What an attacker or bad luck could break: deep codebooks, floods of
//! elements, races on limits, sessions in flight, hostile text.

use crate::helpers::{Api, TestApp, assert_error};
use parley::domain::code::MAX_LEVELS;
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::io::Write;

async fn create_code(
    api: &Api,
    p: ProjectId,
    name: &str,
    parent: Option<i64>,
) -> reqwest::Response {
    api.post(
        &format!("/projects/{p}/codes"),
        json!({"name": name, "parent_id": parent}),
    )
    .await
}

async fn id_of(res: reqwest::Response) -> i64 {
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// A chain of `levels` codes, each under the one before; answers their ids.
async fn chain(api: &Api, p: ProjectId, prefix: &str, levels: usize) -> Vec<i64> {
    let mut ids: Vec<i64> = Vec::new();
    for i in 0..levels {
        let res = create_code(api, p, &format!("{prefix}{i}"), ids.last().copied()).await;
        ids.push(id_of(res).await);
    }
    ids
}

/// A `.qdpx` whose codebook nests `levels` codes.
fn deep_qdpx(levels: usize) -> Vec<u8> {
    let mut codes = String::new();
    for i in 0..levels {
        codes.push_str(&format!(
            r#"<Code guid="00000000-0000-4000-8000-{i:012}" name="L{i}" isCodable="true">"#
        ));
    }
    codes.push_str(&"</Code>".repeat(levels));
    let qde = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="Deep" origin="test"><CodeBook><Codes>{codes}</Codes></CodeBook></Project>"#
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file("project.qde", zip::write::SimpleFileOptions::default())
        .unwrap();
    zip.write_all(qde.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

async fn code_count(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from code")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test]
async fn no_path_makes_a_codebook_deeper_than_its_cap(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let api = app.person("owner@example.org").await;
    let p = api.project("Deep").await;

    // Created one by one: the last level that fits, then a refusal.
    let ids = chain(&api, p, "A", MAX_LEVELS).await;
    let res = create_code(&api, p, "too deep", ids.last().copied()).await;
    let message = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(message.contains(&MAX_LEVELS.to_string()), "{message}");

    // Moving a branch of two under the 19th level would make 21.
    let branch = chain(&api, p, "B", 2).await;
    let res = api
        .patch(
            &format!("/projects/{p}/codes/{}", branch[0]),
            json!({"parent_id": ids[MAX_LEVELS - 2]}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Under the 18th it fits exactly.
    let res = api
        .patch(
            &format!("/projects/{p}/codes/{}", branch[0]),
            json!({"parent_id": ids[MAX_LEVELS - 3]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // Merging a branch of three into the 19th level: its sub-codes would
    // land on levels 20 and 21.
    let merged = chain(&api, p, "C", 3).await;
    let res = api
        .post(
            &format!("/projects/{p}/codes/{}/merge", merged[0]),
            json!({"into": ids[MAX_LEVELS - 2]}),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;

    // Imports: a CSV path and a .qdc nesting past the cap write nothing.
    let before = code_count(&pool).await;
    let path: Vec<String> = (0..MAX_LEVELS + 5).map(|i| format!("P{i}")).collect();
    let csv = format!("path\n{}\n", path.join(" / "));
    let res = api
        .upload(
            &format!("/projects/{p}/codes/import"),
            Form::new().part("file", Part::bytes(csv.into_bytes()).file_name("deep.csv")),
        )
        .await;
    let message = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(message.contains("line 2"), "{message}");
    let mut qdc = String::from(r#"<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>"#);
    for i in 0..MAX_LEVELS + 1 {
        qdc.push_str(&format!(
            r#"<Code guid="00000000-0000-4000-8000-{i:012}" name="Q{i}" isCodable="true">"#
        ));
    }
    qdc.push_str(&"</Code>".repeat(MAX_LEVELS + 1));
    qdc.push_str("</Codes></CodeBook>");
    let res = api
        .upload(
            &format!("/projects/{p}/codes/import"),
            Form::new().part("file", Part::bytes(qdc.into_bytes()).file_name("deep.qdc")),
        )
        .await;
    assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(code_count(&pool).await, before);

    // A .qdpx nesting 200 levels is refused whole: no project appears.
    let projects = |pool: PgPool| async move {
        sqlx::query_scalar::<_, i64>("select count(*) from project")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let before = projects(pool.clone()).await;
    let res = api
        .upload(
            "/projects/import",
            Form::new().part("file", Part::bytes(deep_qdpx(200)).file_name("deep.qdpx")),
        )
        .await;
    let message = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(message.contains("levels"), "{message}");
    assert_eq!(projects(pool.clone()).await, before);
    // One that fits imports.
    let res = api
        .upload(
            "/projects/import",
            Form::new().part(
                "file",
                Part::bytes(deep_qdpx(MAX_LEVELS)).file_name("ok.qdpx"),
            ),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[sqlx::test]
async fn a_deep_codebook_already_stored_exports_without_harm(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let api = app.person("owner@example.org").await;
    let p = api.project("Old and deep").await;
    // Written past the cap straight into the database, as an older version
    // could have: 3,000 levels.
    sqlx::query(
        "with recursive chain(n) as (select 1 union all select n + 1 from chain where n < 3000)
         insert into code (project_id, parent_id, name, colour, position)
         select $1, null, 'L' || n, '#4e79a7', 1 from chain",
    )
    .bind(p.0)
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "update code c set parent_id = (select code_id from code x
                                        where x.project_id = c.project_id
                                          and x.name = 'L' || (substr(c.name, 2)::int - 1))
         where project_id = $1 and name <> 'L1'",
    )
    .bind(p.0)
    .execute(&pool)
    .await
    .unwrap();
    for path in [
        format!("/projects/{p}/exports/project.qdpx"),
        format!("/projects/{p}/exports/codebook.qdc"),
        format!("/projects/{p}/codes"),
    ] {
        let res = api.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let body = res.bytes().await.unwrap();
        assert!(!body.is_empty());
    }
    // The server is alive for everyone.
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}
