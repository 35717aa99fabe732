//! What an attacker or bad luck could break: deep codebooks, floods of
//! elements, races on limits, sessions in flight, hostile text.

use crate::helpers::{Api, TestApp, assert_error, location, zip_of};
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

/// Is this browser still signed in?
async fn signed_in(app: &TestApp, browser: &reqwest::Client) -> bool {
    let res = browser.get(app.url("/account")).send().await.unwrap();
    res.status() == StatusCode::OK
}

#[sqlx::test]
async fn a_deleted_session_stays_deleted_when_a_request_saves_it_later(pool: PgPool) {
    use parley::store::sessions::PgSessionStore;
    use tower_sessions::SessionStore;
    use tower_sessions::session::{Id, Record};
    let store = PgSessionStore::new(pool.clone());
    let mut record = Record {
        id: Id::default(),
        data: Default::default(),
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::days(1),
    };
    store.create(&mut record).await.unwrap();
    // A request loaded the session; meanwhile it is signed out.
    store.delete(&record.id).await.unwrap();
    // The request ends and saves what it loaded.
    store.save(&record).await.unwrap();
    assert!(store.load(&record.id).await.unwrap().is_none());
}

#[sqlx::test]
async fn signing_out_or_a_new_password_ends_sessions_in_use(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Busy").await;
    for round in 0..4 {
        // Sign-out while the same session is busy with pages and form posts.
        let browser = app.signed_in("ann@example.org").await;
        let mut work = Vec::new();
        for i in 0..12 {
            let (b, url) = (browser.clone(), app.url(&format!("/projects/{p}")));
            work.push(tokio::spawn(async move {
                if i % 3 == 0 {
                    b.post(url.replace(&format!("/projects/{p}"), "/projects"))
                        .form(&[("name", format!("R{round}-{i}"))])
                        .send()
                        .await
                        .map(|_| ())
                } else {
                    b.get(url).send().await.map(|_| ())
                }
            }));
        }
        let out = browser.clone();
        let logout = app.url("/logout");
        work.push(tokio::spawn(async move {
            out.post(logout).send().await.map(|_| ())
        }));
        for w in work {
            w.await.unwrap().unwrap();
        }
        assert!(
            !signed_in(&app, &browser).await,
            "round {round}: signed out"
        );

        // A password change elsewhere signs this one out, though busy.
        let other = app.signed_in("ann@example.org").await;
        let here = app.signed_in("ann@example.org").await;
        let mut work = Vec::new();
        for i in 0..8 {
            let (b, url) = (other.clone(), app.url("/projects"));
            work.push(tokio::spawn(async move {
                b.post(url)
                    .form(&[("name", format!("P{round}-{i}"))])
                    .send()
                    .await
                    .map(|_| ())
            }));
        }
        let new = format!("{}-{round}", crate::helpers::PASSWORD);
        let (h, url) = (here.clone(), app.url("/account/password"));
        let old = crate::helpers::PASSWORD.to_owned();
        work.push(tokio::spawn(async move {
            h.post(url)
                .form(&[
                    ("current", old.as_str()),
                    ("password", new.as_str()),
                    ("password_again", new.as_str()),
                ])
                .send()
                .await
                .map(|_| ())
        }));
        for w in work {
            w.await.unwrap().unwrap();
        }
        assert!(
            !signed_in(&app, &other).await,
            "round {round}: other signed out"
        );
        assert!(
            signed_in(&app, &here).await,
            "round {round}: this one stays"
        );
        // Put the password back for the next round's sign-ins.
        let res = here
            .post(app.url("/account/password"))
            .form(&[
                (
                    "current",
                    format!("{}-{round}", crate::helpers::PASSWORD).as_str(),
                ),
                ("password", crate::helpers::PASSWORD),
                ("password_again", crate::helpers::PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
}

#[sqlx::test]
async fn a_page_that_changes_nothing_does_not_write_the_session(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.person("ann@example.org").await;
    let browser = app.signed_in("ann@example.org").await;
    // The first page notes the day the session was seen; later ones write
    // nothing.
    browser.get(app.url("/projects")).send().await.unwrap();
    let version = || async {
        sqlx::query_scalar::<_, String>("select xmin::text from session")
            .fetch_all(&pool)
            .await
            .unwrap()
    };
    let before = version().await;
    for path in ["/projects", "/account", "/projects"] {
        let res = browser.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(version().await, before);
}

#[sqlx::test]
async fn simultaneous_guesses_are_counted_together(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.person("ann@example.org").await;
    let guesses = (0..60).map(|i| {
        let (client, url) = (app.browser(), app.url("/login"));
        async move {
            client
                .post(url)
                .form(&[
                    ("email", "ann@example.org"),
                    ("password", &format!("wrong-{i}")),
                ])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let tried = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(tried, parley::store::throttle::MAX_FAILURES as usize);
    assert_eq!(tried + refused, 60);
    // The right password is refused too while the address is throttled.
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[
            ("email", "ann@example.org"),
            ("password", crate::helpers::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test]
async fn simultaneous_token_requests_stay_within_the_limit(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.person("ann@example.org").await;
    let browser = app.signed_in("ann@example.org").await;
    let before: i64 = sqlx::query_scalar("select count(*) from api_token")
        .fetch_one(&pool)
        .await
        .unwrap();
    let made = (0..40).map(|i| {
        let (b, url) = (browser.clone(), app.url("/account/tokens"));
        async move {
            b.post(url)
                .form(&[("name", format!("t{i}"))])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(made).await;
    let after: i64 = sqlx::query_scalar("select count(*) from api_token")
        .fetch_one(&pool)
        .await
        .unwrap();
    // `person` made one token for the API already this hour.
    let limit = parley::service::accounts::MAX_TOKENS_AN_HOUR;
    assert_eq!(after, limit, "before {before}");
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count() as i64;
    assert_eq!(ok, limit - before);
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS)
    );
}

#[sqlx::test]
async fn a_new_token_is_shown_once_and_stored_nowhere_in_plain_text(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.person("ann@example.org").await;
    let browser = app.signed_in("ann@example.org").await;
    let res = browser
        .post(app.url("/account/tokens"))
        .form(&[("name", "R scripts")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let token = crate::helpers::token_on(&page);
    assert!(token.len() > 20, "{token}");
    let sessions: Vec<String> = sqlx::query_scalar("select data::text from session")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(sessions.iter().all(|s| !s.contains(&token)), "{sessions:?}");
    // It works, and the account page does not show it again.
    let me = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let again = app.page_text(&browser, "/account").await;
    assert!(!again.contains(&token));
}

#[sqlx::test]
async fn sign_in_goes_only_to_paths_on_this_site(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    app.person("ann@example.org").await;
    for next in [
        "/%09/evil.example",
        "/%0A/evil.example",
        "/%0D%0A//evil.example",
        "/%0A",
        "//evil.example",
        "/%5Cevil.example",
        "https://evil.example/",
        "/%E2%80%8B/evil.example",
    ] {
        let browser = app.browser();
        let res = browser
            .post(app.url(&format!("/login?next={next}")))
            .form(&[
                ("email", "ann@example.org"),
                ("password", crate::helpers::PASSWORD),
                ("next", &urlencoding_decode(next)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&res), "/projects", "{next}");
        // Already signed in, the sign-in page sends on the same way.
        let res = browser
            .get(app.url(&format!("/login?next={next}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&res), "/projects", "{next}");
    }
}

/// `%09` → a tab: the value as a form field carries it.
fn urlencoding_decode(s: &str) -> String {
    let mut out = Vec::new();
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' && tail.len() >= 2 {
            let hex = std::str::from_utf8(&tail[..2]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            rest = &tail[2..];
        } else {
            out.push(b);
            rest = tail;
        }
    }
    String::from_utf8(out).unwrap()
}

#[sqlx::test]
async fn text_postgresql_cannot_store_is_refused_everywhere(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Hostile text").await;
    let nul = "a\u{0}b";
    let refused = [
        api.post("/projects", json!({"name": nul})).await,
        api.post(&format!("/projects/{p}/codes"), json!({"name": nul}))
            .await,
        api.post(
            &format!("/projects/{p}/codes"),
            json!({"name": "Fine", "definition": nul}),
        )
        .await,
        api.post(
            &format!("/projects/{p}/participants"),
            json!({"label": nul}),
        )
        .await,
        api.post(
            &format!("/projects/{p}/participants"),
            json!({"label": "P1", "attributes": {"locality": nul}}),
        )
        .await,
        api.post(&format!("/projects/{p}/groups"), json!({"name": nul}))
            .await,
        api.get(&format!("/projects/{p}/codings?attribute=locality%3D%00"))
            .await,
        api.get(&format!("/projects/{p}/codings?group=%00")).await,
        api.get(&format!("/projects/{p}/matrix?attribute=x%3D%00"))
            .await,
        // Names of nothing but invisible characters.
        api.post(
            &format!("/projects/{p}/codes"),
            json!({"name": "\u{200B}\u{200D}\u{202E}"}),
        )
        .await,
        api.post("/projects", json!({"name": "\u{FEFF} \u{2060}"}))
            .await,
    ];
    for res in refused {
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains("error"), "{body}");
    }
    // The participants CSV check names the row instead of calling it fine.
    let csv = "label,group,locality\nP1,Staff,North\nP\u{0}2,Staff,South\n";
    let res = api
        .client
        .post(format!(
            "{}/projects/{p}/participants/import?dry_run=true",
            api.base
        ))
        .bearer_auth(api.token.as_ref().unwrap())
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.text().await.unwrap();
    assert!(status.is_client_error(), "{status} {body}");
    assert!(
        body.contains("control character") || body.contains("U+0000"),
        "{body}"
    );
    // Names are stored composed: "é" typed as e + combining accent is "é".
    let res = api
        .post(
            &format!("/projects/{p}/codes"),
            json!({"name": "Re\u{301}sume\u{301}"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let code: Value = res.json().await.unwrap();
    assert_eq!(code["name"], "R\u{e9}sum\u{e9}");
    // A transcript's NUL is dropped, not refused.
    let res = api
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "With NUL", "text": "P1: one\u{0} two"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["text"], "P1: one two");
}

#[sqlx::test]
async fn one_person_flooding_exports_leaves_the_server_to_others(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let flooder = app.person("flood@example.org").await;
    let other = app.person("other@example.org").await;
    let p = flooder.project("Flooded").await;
    let q = other.project("Quiet").await;
    for api in [&flooder, &other] {
        let project = if std::ptr::eq(api, &flooder) { p } else { q };
        let res = api
            .post(
                &format!("/projects/{project}/documents"),
                json!({"title": "T", "text": "P1: some words here\nP2: more words"}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let flood = (0..20).map(|_| {
        let (client, url, token) = (
            flooder.client.clone(),
            format!("{}/projects/{p}/exports/theme-table.xlsx", flooder.base),
            flooder.token.clone().unwrap(),
        );
        tokio::spawn(async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        })
    });
    let flood: Vec<_> = flood.collect();
    // Meanwhile the other person reads, exports and counts as usual.
    for _ in 0..5 {
        let res = other.get(&format!("/projects/{q}")).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = other
            .get(&format!("/projects/{q}/exports/theme-table.xlsx"))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let mut statuses = Vec::new();
    for f in flood {
        statuses.push(f.await.unwrap());
    }
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
}

#[sqlx::test]
async fn a_database_refusing_connections_answers_503_then_recovers(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Outage").await;
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(&pool)
        .await
        .unwrap();
    // From the maintenance database: a database cannot close itself.
    let options = (*pool.connect_options()).clone().database("postgres");
    let mut admin = {
        use sqlx::Connection;
        sqlx::PgConnection::connect_with(&options).await.unwrap()
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter database \"{name}\" allow_connections false"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1")
        .bind(&name)
        .execute(&mut admin)
        .await
        .unwrap();
    let res = api.get(&format!("/projects/{p}")).await;
    let status = res.status();
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        res.text().await.unwrap()
    );
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "alter database \"{name}\" allow_connections true"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let mut recovered = false;
    for _ in 0..50 {
        if api.get(&format!("/projects/{p}")).await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(recovered);
}

/// A `.qdpx` with one coder (`user_guid`) who coded one text; with
/// `too_deep`, its codebook is past the cap, so the import fails after the
/// coder's account was made.
fn coded_qdpx(user_guid: &str, too_deep: bool) -> Vec<u8> {
    let mut codes = String::from(
        r#"<Code guid="10000000-0000-4000-8000-000000000001" name="Theme" isCodable="true"/>"#,
    );
    if too_deep {
        for i in 0..MAX_LEVELS + 2 {
            codes.push_str(&format!(
                r#"<Code guid="20000000-0000-4000-8000-{i:012}" name="L{i}" isCodable="true">"#
            ));
        }
        codes.push_str(&"</Code>".repeat(MAX_LEVELS + 2));
    }
    let qde = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Shared coder" origin="test">
<Users><User guid="{user_guid}" name="Dr Someone"/></Users>
<CodeBook><Codes>{codes}</Codes></CodeBook>
<Sources><TextSource guid="30000000-0000-4000-8000-000000000001" name="Interview" plainTextPath="internal://t.txt">
<PlainTextSelection guid="40000000-0000-4000-8000-000000000001" startPosition="0" endPosition="5" creatingUser="{user_guid}">
<Coding guid="50000000-0000-4000-8000-000000000001" creatingUser="{user_guid}"><CodeRef targetGUID="10000000-0000-4000-8000-000000000001"/></Coding>
</PlainTextSelection></TextSource></Sources></Project>"#
    );
    zip_of(&[
        ("project.qde", qde.as_bytes()),
        ("sources/t.txt", b"Hello there, this is a transcript."),
    ])
}

#[sqlx::test]
async fn imported_coders_belong_to_their_own_import(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.person("ann@example.org").await;
    let bob = app.person("bob@example.org").await;
    let guid = "6a1e0c3e-1111-4222-8333-944455556666";
    let import = |api: &Api, bytes: Vec<u8>| {
        let (client, url, token) = (
            api.client.clone(),
            format!("{}/projects/import", api.base),
            api.token.clone().unwrap(),
        );
        async move {
            client
                .post(url)
                .bearer_auth(token)
                .multipart(Form::new().part("file", Part::bytes(bytes).file_name("x.qdpx")))
                .send()
                .await
                .unwrap()
        }
    };
    let users = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from app_user")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    let res = import(&ann, coded_qdpx(guid, false)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let a: Value = res.json().await.unwrap();
    let res = import(&bob, coded_qdpx(guid, false)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let b: Value = res.json().await.unwrap();
    let coder = |project: &Value| {
        let id = project["project"]["id"].as_i64().unwrap();
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select distinct coder_id from coding where project_id = $1",
            )
            .bind(id)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let (ca, cb) = (coder(&a).await, coder(&b).await);
    assert_eq!(ca.len(), 1);
    assert_eq!(cb.len(), 1);
    assert_ne!(ca, cb, "the two imports do not share the coder's account");
    let memberships: i64 =
        sqlx::query_scalar("select count(*) from project_member where user_id = $1")
            .bind(ca[0])
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(memberships, 1);

    // A failed import leaves no account behind.
    let before = users().await;
    let res = import(&ann, coded_qdpx(guid, true)).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(users().await, before);
}

#[sqlx::test]
async fn an_upload_that_would_become_too_large_a_document_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let api = app.person("ann@example.org").await;
    let p = api.project("Bombs").await;
    // A small .docx whose text would be millions of characters: breaks and
    // tabs compress to almost nothing.
    let body = "<w:r><w:br/><w:tab/></w:r>".repeat(1_100_000);
    let xml = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>{body}</w:p></w:body></w:document>"#
    );
    let docx = zip_of(&[("word/document.xml", xml.as_bytes())]);
    assert!(docx.len() < 200_000, "{}", docx.len());
    let res = api
        .upload(
            &format!("/projects/{p}/documents"),
            Form::new().part("file", Part::bytes(docx).file_name("bomb.docx")),
        )
        .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("2,000,000 characters"), "{body}");
    // Millions of empty paragraphs are no text, but each is a line.
    let xml = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{}<w:p><w:r><w:t>P1: the end</w:t></w:r></w:p></w:body></w:document>"#,
        "<w:p/>".repeat(2_100_000)
    );
    let docx = zip_of(&[("word/document.xml", xml.as_bytes())]);
    let res = api
        .upload(
            &format!("/projects/{p}/documents"),
            Form::new().part("file", Part::bytes(docx).file_name("empty.docx")),
        )
        .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("2,000,000 characters"), "{body}");
    // Too many turns: each line its own speaker.
    let turns: String = (0..parley::domain::document::MAX_TURNS + 1)
        .map(|i| format!("P{}: x\n", i % 7))
        .collect();
    let res = api
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "Chatty", "text": turns}),
        )
        .await;
    let message = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(message.contains("turns"), "{message}");
    assert_eq!(api.document_count(p).await, 0);
}
