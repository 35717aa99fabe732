//! Several servers on one database: what is done through one is seen by
//! the other at its next request — a coding, a remapped speaker, a code
//! merge, a revoked token and a sign-out. Each `TestApp` is a whole server
//! with its own state (its kept matrix attributions too), as two
//! `parley serve` processes behind a proxy would be.

use crate::helpers::{Api, TestApp, expect, items};
use parley::domain::ids::ProjectId;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sqlx::PgPool;

/// The same person's API client, pointed at another server.
fn through(api: &Api, other: &TestApp) -> Api {
    Api {
        base: other.url("/api/v1"),
        token: api.token.clone(),
        client: Client::new(),
        user: api.user.clone(),
    }
}

/// The matrix's references per group of the first row, as one server
/// answers it.
async fn staff_and_carers(api: &Api, p: impl std::fmt::Display) -> (Value, Value, usize) {
    let m = expect(
        api.get(&format!("/projects/{p}/matrix?measure=references"))
            .await,
        StatusCode::OK,
    )
    .await;
    let rows = m["rows"].as_array().unwrap();
    (
        rows[0]["values"]["Staff"].clone(),
        rows[0]["values"]["Carer"].clone(),
        rows.len(),
    )
}

/// A focus group of a staff member (P1) and a speaker not yet mapped (X1,
/// to become carer C1), a code, and P1's turn coded with it.
struct Study {
    p: ProjectId,
    theme: i64,
    d: i64,
    /// Where X1's turn starts.
    x1: i64,
}

async fn study(ann: &Api, name: &str) -> Study {
    let p = ann.project(name).await;
    ann.participant(p, "P1", Some("Staff"), json!({})).await;
    ann.participant(p, "C1", Some("Carer"), json!({})).await;
    let theme = ann.code(p, "Access", None).await;
    let (d, text) = ann
        .document(p, "Group", "P1: we waited\nX1: so did we\n")
        .await;
    let x1 = text.find("X1:").unwrap() as i64;
    ann.coding(p, d, theme, 4, 13).await;
    Study { p, theme, d, x1 }
}

/// Map X1 to the carer C1.
async fn x1_is_a_carer(ann: &Api, s: &Study) {
    let res = ann
        .put(
            &format!("/projects/{}/documents/{}/speakers", s.p, s.d),
            json!([{"label": "X1", "participant": "C1", "role": "participant"}]),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
}

#[sqlx::test]
async fn what_one_server_does_the_other_sees_at_its_next_request(pool: PgPool) {
    let one = TestApp::spawn(pool.clone()).await;
    let two = TestApp::spawn(pool).await;
    let ann = one.person("ann@example.org").await;
    let ann_two = through(&ann, &two);
    let s = study(&ann, "Two servers").await;
    let Study { p, theme, d, x1 } = s;
    let other = ann.code(p, "Waiting", None).await;

    // The second server reads the matrix, and keeps its attributions.
    assert_eq!(staff_and_carers(&ann_two, p).await.0, json!(1.0));

    // A coding through the first: the second's matrix and excerpts have it.
    ann.coding(p, d, theme, x1 + 4, x1 + 13).await;
    let list = expect(
        ann_two
            .get(&format!("/projects/{p}/codings?code_id={theme}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&list).len(), 2, "the excerpt list");
    let (staff, carers, _) = staff_and_carers(&ann_two, p).await;
    assert_eq!(
        (staff, carers),
        (json!(1.0), json!(0.0)),
        "X1 is no one yet"
    );

    // A remapped speaker through the first: the second counts X1 as a carer.
    x1_is_a_carer(&ann, &s).await;
    let (staff, carers, _) = staff_and_carers(&ann_two, p).await;
    assert_eq!((staff, carers), (json!(1.0), json!(1.0)));

    // A merge through the first: the second has one code left, counting both.
    ann.coding(p, d, other, 0, 13).await;
    assert_eq!(staff_and_carers(&ann_two, p).await.2, 2);
    let res = ann
        .post(
            &format!("/projects/{p}/codes/{other}/merge"),
            json!({"into": theme}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let codes = expect(
        ann_two.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&codes).len(), 1);
    let (staff, _, rows) = staff_and_carers(&ann_two, p).await;
    assert_eq!((staff, rows), (json!(2.0), 1));

    // A token revoked through the first is refused by the second.
    let browser = one.signed_in("ann@example.org").await;
    let token_id: i64 = sqlx::query_scalar(
        "select api_token_id from api_token t join app_user u using (user_id) where u.email = 'ann@example.org'",
    )
    .fetch_one(&one.db)
    .await
    .unwrap();
    assert_eq!(ann_two.get("/me").await.status(), StatusCode::OK);
    // The second keeps who the token is for in this project.
    let codes_of_p = format!("/projects/{p}/codes");
    assert_eq!(ann_two.get(&codes_of_p).await.status(), StatusCode::OK);
    let res = browser
        .post(one.url(&format!("/account/tokens/{token_id}/revoke")))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(ann_two.get("/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        ann_two.get(&codes_of_p).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Signed in through the first, the session works on the second (one
    // cookie, one database); signed out through the first, it is gone there.
    let res = browser.get(two.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the session is shared");
    let res = browser.post(one.url("/logout")).send().await.unwrap();
    assert!(res.status().is_redirection());
    let res = browser.get(two.url("/projects")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "signed out everywhere");
    assert!(
        res.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

/// Whether a server has kept its copy of the project's attributions.
async fn kept(db: &PgPool, p: i64) -> bool {
    sqlx::query_scalar("select exists (select 1 from matrix_copy where project_id = $1)")
        .bind(p)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_server_that_starts_from_the_kept_copy_counts_what_changed_meanwhile(pool: PgPool) {
    let one = TestApp::spawn(pool.clone()).await;
    let ann = one.person("ann@example.org").await;
    let s = study(&ann, "Restarts").await;
    let Study { p, theme, d, x1 } = s;

    // The first count keeps a copy in the database (in the background).
    assert_eq!(staff_and_carers(&ann, p).await.0, json!(1.0));
    let waited = std::time::Instant::now();
    while !kept(&one.db, p.0).await {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "no copy kept"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Changes after the copy: a coding, and X1 mapped to a carer.
    ann.coding(p, d, theme, x1 + 4, x1 + 13).await;
    x1_is_a_carer(&ann, &s).await;
    let expected = staff_and_carers(&ann, p).await;
    assert_eq!((&expected.0, &expected.1), (&json!(1.0), &json!(1.0)));

    // A server started now begins from the copy and catches up.
    let two = TestApp::spawn(pool.clone()).await;
    assert_eq!(staff_and_carers(&through(&ann, &two), p).await, expected);

    // A damaged copy is not trusted: the next server counts afresh.
    sqlx::query("update matrix_copy set data = '\\x504d413105ff'::bytea where project_id = $1")
        .bind(p.0)
        .execute(&one.db)
        .await
        .unwrap();
    let three = TestApp::spawn(pool).await;
    assert_eq!(staff_and_carers(&through(&ann, &three), p).await, expected);
}

#[sqlx::test]
async fn tables_that_changed_are_analysed_as_autovacuum_would(pool: PgPool) {
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query(
        "insert into app_user (email, name, password_hash)
         select 'u' || g || '@example.org', 'U', 'x' from generate_series(1, 200) g",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    // Counters reach the statistics views when a backend reports them.
    sqlx::query("select pg_stat_force_next_flush()")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let analysed = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, bool>(
                "select last_analyze is not null from pg_stat_user_tables where relname = $1",
            )
            .bind(table)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    assert!(!analysed("app_user").await);
    let mut done = Vec::new();
    let waited = std::time::Instant::now();
    while !done.contains(&"app_user".to_owned()) {
        assert!(
            waited.elapsed() < std::time::Duration::from_secs(20),
            "app_user was not analysed: {done:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        done = parley::store::analyze_changed(&pool).await.unwrap();
    }
    assert!(analysed("app_user").await);
    // Nothing changed since: nothing to do.
    sqlx::query("select pg_stat_clear_snapshot()")
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        !parley::store::analyze_changed(&pool)
            .await
            .unwrap()
            .contains(&"app_user".to_owned())
    );
}

/// Whether `api` may read project `p` through its server, as a status.
async fn reads(api: &Api, p: ProjectId) -> StatusCode {
    api.get(&format!("/projects/{p}/codes")).await.status()
}

#[sqlx::test]
async fn roles_and_members_changed_through_one_server_hold_at_once_on_the_other(pool: PgPool) {
    let one = TestApp::spawn(pool.clone()).await;
    let two = TestApp::spawn(pool).await;
    let ann = one.person("ann@example.org").await;
    let ruth = one.person("ruth@example.org").await;
    let ruth_two = through(&ruth, &two);
    let s = study(&ann, "Roles").await;
    let p = s.p;
    let res = ann
        .post(
            &format!("/projects/{p}/members"),
            json!({"email": "ruth@example.org", "role": "coder"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ruth_id = res.json::<Value>().await.unwrap()["user_id"]
        .as_i64()
        .unwrap();
    let coding = json!({"document_id": s.d, "code_id": s.theme, "start": 0, "end": 2});

    // Each round: Ruth codes through the second server (which keeps her
    // role), is made a viewer through the first and is refused by the
    // second at once, then made a coder again and let in at once.
    for round in 0..10 {
        let start = 4 + round;
        let coding =
            json!({"document_id": s.d, "code_id": s.theme, "start": start, "end": start + 2});
        let res = ruth_two
            .post(&format!("/projects/{p}/codings"), coding.clone())
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "round {round}");
        for (role, status) in [("viewer", StatusCode::FORBIDDEN), ("coder", StatusCode::OK)] {
            let res = ann
                .patch(
                    &format!("/projects/{p}/members/{ruth_id}"),
                    json!({"role": role}),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            let res = ruth_two
                .post(&format!("/projects/{p}/codings"), coding.clone())
                .await;
            assert_eq!(res.status(), status, "round {round}, as a {role}");
        }
    }

    // Removed through the first: the second no longer knows her there.
    assert_eq!(reads(&ruth_two, p).await, StatusCode::OK);
    let res = ann
        .delete(&format!("/projects/{p}/members/{ruth_id}"))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(reads(&ruth_two, p).await, StatusCode::NOT_FOUND);
    let res = ruth_two
        .post(&format!("/projects/{p}/codings"), coding)
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn a_server_answers_from_what_it_keeps_until_a_change_is_announced(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Kept").await;
    assert_eq!(reads(&ann, p).await, StatusCode::OK);

    // Removed with the announcing triggers off (as no statement of Parley
    // can): the server still answers from what it keeps...
    let mut conn = app.db.acquire().await.unwrap();
    sqlx::query("set session_replication_role = replica")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("delete from api_token")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::query("set session_replication_role = origin")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(reads(&ann, p).await, StatusCode::OK, "kept");

    // ... until a change is announced, as every trigger does (heard as
    // soon as PostgreSQL delivers it).
    sqlx::query("select pg_notify('parley_access', '')")
        .execute(&mut *conn)
        .await
        .unwrap();
    let mut status = reads(&ann, p).await;
    for _ in 0..100 {
        if status != StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        status = reads(&ann, p).await;
    }
    assert_eq!(status, StatusCode::UNAUTHORIZED, "forgotten once announced");
}
