use crate::helpers::{TestApp, assert_error};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test]
async fn owners_add_members_by_email_and_change_their_roles(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let ruth = app.person("ruth@example.org").await;
    let p = owner.project("Study").await;

    let res = owner
        .post(
            &format!("/projects/{p}/members"),
            json!({"email": "RUTH@example.org", "role": "coder"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let added: Value = res.json().await.unwrap();
    assert_eq!(added["role"], "coder");
    let ruth_id = added["user_id"].as_i64().unwrap();

    let visible: Value = ruth
        .get(&format!("/projects/{p}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(visible["role"], "coder");

    let res = owner
        .patch(
            &format!("/projects/{p}/members/{ruth_id}"),
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["role"], "viewer");

    let list: Value = owner
        .get(&format!("/projects/{p}/members"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
}

#[sqlx::test]
async fn adding_a_member_twice_or_an_unknown_email_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let ruth = app.person("ruth@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &ruth, "coder").await;

    let twice = owner
        .post(
            &format!("/projects/{p}/members"),
            json!({"email": "ruth@example.org", "role": "viewer"}),
        )
        .await;
    assert_error(twice, StatusCode::CONFLICT).await;

    let unknown = owner
        .post(
            &format!("/projects/{p}/members"),
            json!({"email": "nobody@example.org", "role": "coder"}),
        )
        .await;
    assert_error(unknown, StatusCode::UNPROCESSABLE_ENTITY).await;

    let bad_role = owner
        .post(
            &format!("/projects/{p}/members"),
            json!({"email": "ruth@example.org", "role": "admin"}),
        )
        .await;
    assert_error(bad_role, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[sqlx::test]
async fn a_project_always_keeps_one_owner(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let ruth = app.person("ruth@example.org").await;
    let p = owner.project("Study").await;
    let me = owner.user.as_ref().unwrap().id;

    let demote = owner
        .patch(
            &format!("/projects/{p}/members/{me}"),
            json!({"role": "coder"}),
        )
        .await;
    assert_error(demote, StatusCode::CONFLICT).await;
    assert_error(
        owner.delete(&format!("/projects/{p}/members/{me}")).await,
        StatusCode::CONFLICT,
    )
    .await;

    // With a second owner, the first may step down.
    owner.add(p, &ruth, "owner").await;
    let demote = owner
        .patch(
            &format!("/projects/{p}/members/{me}"),
            json!({"role": "coder"}),
        )
        .await;
    assert_eq!(demote.status(), StatusCode::OK);
    let ruth_id = ruth.user.as_ref().unwrap().id;
    let last = ruth
        .delete(&format!("/projects/{p}/members/{ruth_id}"))
        .await;
    assert_error(last, StatusCode::CONFLICT).await;
}

#[sqlx::test]
async fn members_may_leave_but_only_owners_remove_others(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    owner.add(p, &viewer, "viewer").await;
    let viewer_id = viewer.user.as_ref().unwrap().id;
    let coder_id = coder.user.as_ref().unwrap().id;

    let res = coder
        .delete(&format!("/projects/{p}/members/{viewer_id}"))
        .await;
    assert_error(res, StatusCode::FORBIDDEN).await;
    let res = coder
        .patch(
            &format!("/projects/{p}/members/{viewer_id}"),
            json!({"role": "owner"}),
        )
        .await;
    assert_error(res, StatusCode::FORBIDDEN).await;

    assert_eq!(
        viewer
            .delete(&format!("/projects/{p}/members/{viewer_id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        viewer.get(&format!("/projects/{p}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    assert_eq!(
        owner
            .delete(&format!("/projects/{p}/members/{coder_id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        coder.get(&format!("/projects/{p}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
