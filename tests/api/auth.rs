use crate::helpers::{PASSWORD, TestApp, location};
use parley::config::ServerConfig;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test]
async fn the_first_visitor_creates_the_admin_account(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let browser = app.browser();

    let res = browser.get(app.url("/")).send().await.unwrap();
    assert_eq!(location(&res), "/setup");
    let page = app.page_text(&browser, "/setup").await;
    assert!(page.contains("Create account"));

    let res = browser
        .post(app.url("/setup"))
        .form(&[
            ("name", "Ann Researcher"),
            ("email", "ann@example.org"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/projects");

    let page = app.page_text(&browser, "/projects").await;
    assert!(
        page.contains("Welcome, Ann Researcher"),
        "signed in, with a welcome"
    );
    let admin =
        sqlx::query_scalar!("select is_admin from app_user where email = 'ann@example.org'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert!(admin, "the first account is an administrator");
}

#[sqlx::test]
async fn setup_is_closed_once_an_account_exists(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.browser();

    let res = browser.get(app.url("/setup")).send().await.unwrap();
    assert_eq!(location(&res), "/login");
    let res = browser
        .post(app.url("/setup"))
        .form(&[
            ("name", "Mallory"),
            ("email", "mallory@example.org"),
            ("password", PASSWORD),
            ("password_again", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/login");
    let n = sqlx::query_scalar!(r#"select count(*) as "n!" from app_user"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(n, 1, "no second account was created");
}

#[sqlx::test]
async fn setup_explains_what_to_fix(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let res = app
        .browser()
        .post(app.url("/setup"))
        .form(&[
            ("name", "Ann"),
            ("email", "ann@example.org"),
            ("password", PASSWORD),
            ("password_again", "something else entirely"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains("the two passwords differ"));
    assert!(page.contains("ann@example.org"), "typed values are kept");
}

#[sqlx::test]
async fn anonymous_page_visits_are_sent_to_sign_in_and_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.browser();

    let res = browser
        .get(app.url("/projects/1/settings"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login?next=/projects/1/settings");

    let res = browser
        .post(app.url("/login"))
        .form(&[
            ("email", "ann@example.org"),
            ("password", PASSWORD),
            ("next", "/account"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/account");

    // An off-site `next` is ignored.
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[
            ("email", "ann@example.org"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/projects");
}

#[sqlx::test]
async fn session_cookies_are_http_only_and_same_site_lax(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[("email", "ann@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("parley_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain http on localhost: {cookie}"
    );
}

#[sqlx::test]
async fn session_cookies_are_secure_behind_https(pool: PgPool) {
    let config = ServerConfig {
        public_url: Some("https://parley.example.org".into()),
        ..Default::default()
    };
    let app = TestApp::spawn_with(pool, config).await;
    app.user("ann@example.org", "Ann").await;
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[("email", "ann@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Secure"), "{cookie}");
}

#[sqlx::test]
async fn wrong_passwords_are_refused_then_throttled(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.browser();
    let attempt = |password: &'static str| {
        browser
            .post(app.url("/login"))
            .form(&[("email", "ann@example.org"), ("password", password)])
            .send()
    };

    let res = attempt("wrong password").await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.text().await.unwrap().contains("do not match"));
    for _ in 0..4 {
        assert_eq!(
            attempt("wrong password").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Five failures: even the right password is refused for a while.
    let res = attempt(PASSWORD).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("Too many failed sign-ins")
    );

    // Another address is not affected.
    app.user("ruth@example.org", "Ruth").await;
    app.signed_in("ruth@example.org").await;
}

#[sqlx::test]
async fn signing_out_ends_the_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.signed_in("ann@example.org").await;
    assert_eq!(
        browser
            .get(app.url("/projects"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let res = browser.post(app.url("/logout")).send().await.unwrap();
    assert_eq!(location(&res), "/login");
    let res = browser.get(app.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn cross_site_form_posts_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.signed_in("ann@example.org").await;

    let res = browser
        .post(app.url("/projects"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("name", "Planted")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.unwrap().contains("cross-site"));

    // The same post from the page itself goes through.
    let res = browser
        .post(app.url("/projects"))
        .header("origin", app.url(""))
        .header("sec-fetch-site", "same-origin")
        .form(&[("name", "Mine")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let names: Vec<String> = sqlx::query_scalar!("select name from project")
        .fetch_all(&app.db)
        .await
        .unwrap();
    assert_eq!(names, ["Mine"]);
}

#[sqlx::test]
async fn api_tokens_are_made_on_the_account_page_shown_once_and_revocable(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.signed_in("ann@example.org").await;

    let res = browser
        .post(app.url("/account/tokens"))
        .form(&[("name", "R scripts")])
        .send()
        .await
        .unwrap();
    // The page that answers shows it (nothing keeps it for a later page).
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let token = crate::helpers::token_on(&page);
    assert!(page.contains("R scripts"));

    let again = app.page_text(&browser, "/account").await;
    assert!(!again.contains(&token), "a token is shown only once");

    let api = reqwest::Client::new();
    let me: Value = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ann@example.org");

    let id = sqlx::query_scalar!("select api_token_id from api_token")
        .fetch_one(&app.db)
        .await
        .unwrap();
    let res = browser
        .post(app.url(&format!("/account/tokens/{id}/revoke")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = api
        .get(app.url("/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[sqlx::test]
async fn a_password_change_needs_the_current_one_and_signs_out_other_sessions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let here = app.signed_in("ann@example.org").await;
    let elsewhere = app.signed_in("ann@example.org").await;

    let wrong = here
        .post(app.url("/account/password"))
        .form(&[
            ("current", "not it at all"),
            ("password", "a new long password"),
            ("password_again", "a new long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::SEE_OTHER);
    let page = app.page_text(&here, "/account").await;
    assert!(page.contains("current password is not right"));

    here.post(app.url("/account/password"))
        .form(&[
            ("current", PASSWORD),
            ("password", "a new long password"),
            ("password_again", "a new long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        here.get(app.url("/account")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        elsewhere
            .get(app.url("/account"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::SEE_OTHER,
        "the other browser was signed out"
    );
    let res = app
        .browser()
        .post(app.url("/login"))
        .form(&[
            ("email", "ann@example.org"),
            ("password", "a new long password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/projects");
}

#[sqlx::test]
async fn the_browser_session_also_works_for_the_json_api(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user("ann@example.org", "Ann").await;
    let browser = app.signed_in("ann@example.org").await;
    let me: Value = browser
        .get(app.url("/api/v1/me"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], "ann@example.org");
}

#[sqlx::test]
async fn deleting_a_project_from_its_page_needs_its_exact_name(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Partnerships").await;
    let browser = app.signed_in("owner@example.org").await;

    let res = browser
        .post(app.url(&format!("/projects/{p}/delete")))
        .form(&[("confirm_name", "partnerships")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), format!("/projects/{p}/settings"));
    let page = app
        .page_text(&browser, &format!("/projects/{p}/settings"))
        .await;
    assert!(page.contains("does not match"));

    let res = browser
        .post(app.url(&format!("/projects/{p}/delete")))
        .form(&[("confirm_name", "Partnerships")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/projects");
    let left = sqlx::query_scalar!(r#"select count(*) as "n!" from project"#)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(left, 0);
}

#[sqlx::test]
async fn project_pages_are_404_for_outsiders_and_settings_403_for_viewers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    app.person("outsider@example.org").await;
    let p = owner.project("Partnerships").await;
    owner.add(p, &viewer, "viewer").await;

    let outsider = app.signed_in("outsider@example.org").await;
    let res = outsider
        .get(app.url(&format!("/projects/{p}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        res.text().await.unwrap().contains("Page not found"),
        "a friendly page"
    );

    let viewer = app.signed_in("viewer@example.org").await;
    assert_eq!(
        viewer
            .get(app.url(&format!("/projects/{p}")))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let res = viewer
        .get(app.url(&format!("/projects/{p}/settings")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = viewer
        .post(app.url(&format!("/projects/{p}/settings")))
        .form(&[("name", "Renamed")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn pages_carry_protective_headers_and_escape_user_text(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("<script>alert(1)</script>").await;
    let browser = app.signed_in("owner@example.org").await;
    let res = browser
        .get(app.url(&format!("/projects/{p}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'")
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert!(res.headers().contains_key("x-request-id"));
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("alert(1)"));
}
