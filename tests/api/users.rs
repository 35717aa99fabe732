//! Administrators run accounts: a new account's one-time link works once
//! (also when used twice at the same moment), a disabled account is
//! refused everywhere at its next request, and only administrators may.

use crate::helpers::{Api, PASSWORD, TestApp, assert_error, expect, items};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

async fn admin(app: &TestApp) -> Api {
    let api = app.person("root@example.org").await;
    sqlx::query("update app_user set is_admin = true where email = 'root@example.org'")
        .execute(&app.db)
        .await
        .unwrap();
    api
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, reqwest::Client) {
    let client = app.browser();
    let res = client
        .post(app.url("/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    (res.status(), client)
}

#[sqlx::test]
async fn a_new_account_sets_its_password_through_a_link_that_works_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let root = admin(&app).await;
    let made = expect(
        root.post("/users", json!({"email": "Nia@Example.org", "name": "Nia"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(made["user"]["has_password"], false);
    assert_eq!(made["user"]["disabled"], false);
    let link = made["set_password_path"].as_str().unwrap().to_owned();
    assert!(link.starts_with("/set-password/"), "{link}");
    assert_eq!(made["set_password_url"], app.url(&link), "the whole link");
    // No password yet: nothing signs in.
    assert_eq!(
        sign_in(&app, "nia@example.org", "!").await.0,
        StatusCode::UNAUTHORIZED
    );
    let browser = app.browser();
    let page = browser.get(app.url(&link)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Nia@Example.org"));
    // Too short, then different: said on the page, link still good.
    for (a, b, want) in [
        ("short", "short", "at least 10 characters"),
        ("a long password", "another long one", "differ"),
    ] {
        let res = browser
            .post(app.url(&link))
            .form(&[("password", a), ("password_again", b)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(want));
    }
    // Used twice at the same moment: exactly one wins.
    let password = "my own long password";
    let attempts = (0..6).map(|_| {
        let client = app.browser();
        let url = app.url(&link);
        async move {
            client
                .post(url)
                .form(&[("password", password), ("password_again", password)])
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let statuses = futures_util::future::join_all(attempts).await;
    let won = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    assert_eq!(won, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::SEE_OTHER || *s == StatusCode::GONE),
        "{statuses:?}"
    );
    assert_eq!(
        browser.get(app.url(&link)).send().await.unwrap().status(),
        StatusCode::GONE
    );
    let (status, client) = sign_in(&app, "nia@example.org", password).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let res = client.get(app.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The list shows who is an administrator.
    let list = expect(root.get("/users").await, StatusCode::OK).await;
    let by_email = |e: &str| {
        items(&list)
            .iter()
            .find(|u| u["email"] == e)
            .cloned()
            .unwrap_or(Value::Null)
    };
    assert_eq!(by_email("root@example.org")["is_admin"], true);
    assert_eq!(by_email("Nia@Example.org")["is_admin"], false);

    // Refusals: a taken address, a bad one, and someone not an administrator.
    assert_error(
        root.post(
            "/users",
            json!({"email": "nia@example.org", "name": "Again"}),
        )
        .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        root.post("/users", json!({"email": "not an address", "name": "X"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let ann = app.person("ann@example.org").await;
    assert_error(ann.get("/users").await, StatusCode::FORBIDDEN).await;
    assert_error(
        ann.post("/users", json!({"email": "x@example.org", "name": "X"}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[sqlx::test]
async fn a_disabled_account_is_refused_everywhere_until_enabled(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let root = admin(&app).await;
    let ann = app.person("ann@example.org").await;
    let ann_id = ann.user.as_ref().unwrap().id;
    let (_, session) = sign_in(&app, "ann@example.org", PASSWORD).await;
    assert_eq!(ann.get("/me").await.status(), StatusCode::OK);

    let off = expect(
        root.patch(&format!("/users/{ann_id}"), json!({"disabled": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(off["disabled"], true);
    assert_eq!(ann.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    let res = session.get(app.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the session is gone");
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[("email", "ann@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("disabled"));

    // Not oneself.
    let root_id = root.user.as_ref().unwrap().id;
    assert_error(
        root.patch(&format!("/users/{root_id}"), json!({"disabled": true}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        root.patch("/users/999999", json!({"disabled": true})).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    expect(
        root.patch(&format!("/users/{ann_id}"), json!({"disabled": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(ann.get("/me").await.status(), StatusCode::OK);
    assert_eq!(
        sign_in(&app, "ann@example.org", PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn administrators_create_accounts_from_the_members_form(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let root = admin(&app).await;
    let p = root.project("Study").await;
    let (_, browser) = sign_in(&app, "root@example.org", PASSWORD).await;
    let res = browser
        .post(app.url(&format!("/projects/{p}/members")))
        .form(&[("email", "new@example.org"), ("role", "coder")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(to, "/admin/users?email=new%40example.org");
    let page = app.page_text(&browser, &to).await;
    assert!(
        page.contains("No account uses new@example.org yet"),
        "{page}"
    );
    assert!(page.contains("value=\"new@example.org\""));
    // Create it there: the link is on the answering page.
    let res = browser
        .post(app.url("/admin/users"))
        .form(&[("email", "new@example.org"), ("name", "Neo")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let start = page.find("/set-password/").expect("the link is shown");
    let link = &page[start..start + page[start..].find('"').unwrap()];
    assert_eq!(
        app.browser()
            .get(app.url(link))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    // Someone who is not an administrator is told to ask one.
    let ann = app.person("ann@example.org").await;
    let q = ann.project("Hers").await;
    let (_, hers) = sign_in(&app, "ann@example.org", PASSWORD).await;
    let res = hers
        .post(app.url(&format!("/projects/{q}/members")))
        .form(&[("email", "ghost@example.org"), ("role", "coder")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["location"].to_str().unwrap(),
        format!("/projects/{q}")
    );
}
