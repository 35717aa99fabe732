use crate::helpers::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test]
async fn anonymous_callers_get_401_json_on_every_project_route(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Partnerships").await;
    let anon = app.anonymous();

    for res in [
        anon.get("/projects").await,
        anon.post("/projects", json!({"name": "x"})).await,
        anon.get(&format!("/projects/{p}")).await,
        anon.patch(&format!("/projects/{p}"), json!({"name": "x"}))
            .await,
        anon.delete(&format!("/projects/{p}")).await,
        anon.get(&format!("/projects/{p}/members")).await,
    ] {
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert_error(res, StatusCode::UNAUTHORIZED).await;
    }
}

#[sqlx::test]
async fn a_bad_token_is_401_not_anonymous_access(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut api = app.anonymous();
    api.token = Some("parley_0000".into());
    assert_error(api.get("/projects").await, StatusCode::UNAUTHORIZED).await;
}

#[sqlx::test]
async fn owners_create_read_rename_and_delete_their_projects(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;

    let res = owner
        .post(
            "/projects",
            json!({"name": "  Integrated services  ", "description": "2004 wave"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["name"], "Integrated services");
    assert_eq!(created["description"], "2004 wave");
    assert_eq!(created["role"], "owner");
    let id = created["id"].as_i64().unwrap();

    let res = owner
        .patch(
            &format!("/projects/{id}"),
            json!({"name": "Evaluating partnerships"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["name"], "Evaluating partnerships");
    assert_eq!(
        patched["description"], "2004 wave",
        "fields left out keep their value"
    );

    let shown: Value = owner
        .get(&format!("/projects/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["name"], "Evaluating partnerships");

    assert_eq!(
        owner.delete(&format!("/projects/{id}")).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        owner.get(&format!("/projects/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[sqlx::test]
async fn outsiders_get_404_as_if_the_project_did_not_exist(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let outsider = app.person("outsider@example.org").await;
    let p = owner.project("Private study").await;

    for res in [
        outsider.get(&format!("/projects/{p}")).await,
        outsider
            .patch(&format!("/projects/{p}"), json!({"name": "mine"}))
            .await,
        outsider.delete(&format!("/projects/{p}")).await,
        outsider.get(&format!("/projects/{p}/members")).await,
        outsider
            .post(
                &format!("/projects/{p}/members"),
                json!({"email": "outsider@example.org", "role": "owner"}),
            )
            .await,
        // The same answer as for an id that does not exist at all.
        outsider.get("/projects/987654").await,
        outsider.get("/projects/not-a-number").await,
    ] {
        assert_error(res, StatusCode::NOT_FOUND).await;
    }

    let mine: Value = outsider.get("/projects").await.json().await.unwrap();
    assert_eq!(mine["total"], 0, "the list shows only my projects");
    let still: Value = owner
        .get(&format!("/projects/{p}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["name"], "Private study", "nothing was changed");
}

#[sqlx::test]
async fn viewers_read_but_get_403_on_writes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &viewer, "viewer").await;

    let shown: Value = viewer
        .get(&format!("/projects/{p}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["role"], "viewer");
    assert_eq!(
        viewer.get(&format!("/projects/{p}/members")).await.status(),
        StatusCode::OK
    );

    for res in [
        viewer
            .patch(&format!("/projects/{p}"), json!({"name": "renamed"}))
            .await,
        viewer.delete(&format!("/projects/{p}")).await,
        viewer
            .post(
                &format!("/projects/{p}/members"),
                json!({"email": "owner@example.org", "role": "viewer"}),
            )
            .await,
    ] {
        assert_error(res, StatusCode::FORBIDDEN).await;
    }
    let still: Value = owner
        .get(&format!("/projects/{p}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["name"], "Study");
}

#[sqlx::test]
async fn coders_may_rename_but_only_owners_delete(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;

    assert_eq!(
        coder
            .patch(&format!("/projects/{p}"), json!({"description": "aims"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        coder.delete(&format!("/projects/{p}")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[sqlx::test]
async fn malformed_requests_get_json_errors_never_500(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;

    let syntax = owner
        .raw_post("/projects", "application/json", "{\"name\": ")
        .await;
    assert_error(syntax, StatusCode::BAD_REQUEST).await;

    let missing = owner.post("/projects", json!({"title": "x"})).await;
    let msg = assert_error(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(msg.contains("name"), "{msg}");

    let wrong_type = owner.post("/projects", json!({"name": 7})).await;
    assert_error(wrong_type, StatusCode::UNPROCESSABLE_ENTITY).await;

    let not_json = owner.raw_post("/projects", "text/plain", "name=x").await;
    assert_error(not_json, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let blank = owner.post("/projects", json!({"name": "   "})).await;
    let res_body = blank.text().await.unwrap();
    assert!(res_body.contains("\"field\":\"name\""), "{res_body}");

    let patch = owner
        .patch(&format!("/projects/{p}"), json!({"name": ""}))
        .await;
    assert_error(patch, StatusCode::UNPROCESSABLE_ENTITY).await;

    let method = owner
        .client
        .put(format!("{}/projects/{p}", owner.base))
        .send()
        .await
        .unwrap();
    assert_error(method, StatusCode::METHOD_NOT_ALLOWED).await;

    assert_error(owner.get("/no-such-thing").await, StatusCode::NOT_FOUND).await;
}

#[sqlx::test]
async fn oversized_bodies_are_refused_with_413(pool: PgPool) {
    let config = parley::config::ServerConfig {
        max_upload_mib: 1,
        ..Default::default()
    };
    let app = TestApp::spawn_with(pool, config).await;
    let owner = app.person("owner@example.org").await;
    let big = "x".repeat(2 * 1024 * 1024);
    let res = owner
        .post("/projects", json!({"name": "Study", "description": big}))
        .await;
    assert_error(res, StatusCode::PAYLOAD_TOO_LARGE).await;
}

#[sqlx::test]
async fn project_lists_page_with_limit_and_offset(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    for i in 0..5 {
        owner.project(&format!("Study {i}")).await;
    }

    let page: Value = owner
        .get("/projects?limit=2&offset=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 5);
    assert_eq!(page["items"].as_array().unwrap().len(), 2);

    let past: Value = owner.get("/projects?offset=10").await.json().await.unwrap();
    assert_eq!(past["total"], 5);
    assert!(past["items"].as_array().unwrap().is_empty());

    assert_error(
        owner.get("/projects?limit=0").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_error(
        owner.get("/projects?limit=abc").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_error(
        owner.get("/projects?offset=-1").await,
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[sqlx::test]
async fn me_says_who_the_token_belongs_to(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let me: Value = ann.get("/me").await.json().await.unwrap();
    assert_eq!(me["email"], "ann@example.org");
    assert!(me.get("password_hash").is_none());
}

/// The demo says where to start, and every place it points to opens.
#[sqlx::test]
async fn the_demo_overview_lists_things_to_try_that_all_open(pool: PgPool) {
    let app = crate::helpers::TestApp::spawn(pool).await;
    let ann = app.user("ann@example.org", "Ann").await;
    let made = parley::demo::create(&app.db, &ann).await.unwrap();
    let browser = app.signed_in("ann@example.org").await;
    let p = made.project;
    let page = app.page_text(&browser, &format!("/projects/{p}")).await;
    let start = page
        .find("Things to try")
        .expect("the demo says where to start");
    let card = &page[start..start + page[start..].find("</section>").unwrap()];
    let links: Vec<String> = card
        .split("href=\"")
        .skip(1)
        .map(|x| x[..x.find('"').unwrap()].replace("&amp;", "&"))
        .collect();
    assert!(links.len() >= 6, "{links:?}");
    for link in links {
        let res = browser.get(app.url(&link)).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "{link}");
        let body = res.text().await.unwrap();
        if link.contains("search?q=") {
            assert!(
                !body.contains("Nothing found"),
                "the demo has hits for {link}"
            );
        }
    }
    // Another project does not show it.
    let api = app.person("bo@example.org").await;
    let q = api.project("Mine").await;
    let bo = app.signed_in("bo@example.org").await;
    let page = app.page_text(&bo, &format!("/projects/{q}")).await;
    assert!(!page.contains("Things to try"));
}
