use crate::harness::{Chromium, click, fill, screenshot, wait_for_url};
use crate::helpers::{PASSWORD, TestApp};
use sqlx::PgPool;

#[sqlx::test]
async fn first_account_sign_in_and_a_new_project_through_the_pages(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;

    // A fresh server sends the first visitor to create the admin account.
    let page = chromium.browser.new_page(app.url("/")).await.unwrap();
    wait_for_url(&page, |u| u.ends_with("/setup")).await;
    screenshot(&page, "setup").await;
    fill(&page, "input[name=name]", "Ann Researcher").await;
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    fill(&page, "input[name=password_again]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    screenshot(&page, "projects-empty").await;
    let html = page.content().await.unwrap();
    assert!(html.contains("Welcome, Ann Researcher"));

    // Sign out, then back in through the login page.
    click(&page, "form[action='/logout'] button").await;
    wait_for_url(&page, |u| u.ends_with("/login")).await;
    screenshot(&page, "login").await;
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;

    // Create a project with the form beside the list.
    fill(&page, "input[name=name]", "Évaluer les partenariats 🧭").await;
    fill(
        &page,
        "textarea[name=description]",
        "Interviews and focus groups, 2004 wave.",
    )
    .await;
    click(&page, "form[action='/projects'] button[type=submit]").await;
    let url = wait_for_url(&page, |u| {
        u.contains("/projects/") && !u.ends_with("/projects")
    })
    .await;
    let heading = page
        .find_element("h1")
        .await
        .unwrap()
        .inner_text()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(heading, "Évaluer les partenariats 🧭");
    screenshot(&page, "project").await;

    let id: i64 = url.rsplit('/').next().unwrap().parse().unwrap();
    let row = sqlx::query!(
        r#"select p.name, m.role::text as "role!", u.email
           from project p join project_member m using (project_id) join app_user u using (user_id)
           where p.project_id = $1"#,
        id
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(row.name, "Évaluer les partenariats 🧭");
    assert_eq!(row.role, "owner");
    assert_eq!(row.email, "ann@example.org");

    for (path, name) in [
        ("/projects", "projects"),
        ("/account", "account"),
        (&*format!("/projects/{id}/settings"), "settings"),
    ] {
        page.goto(app.url(path)).await.unwrap();
        wait_for_url(&page, |u| u.ends_with(path)).await;
        screenshot(&page, name).await;
    }
    page.goto(app.url("/projects/999999")).await.unwrap();
    screenshot(&page, "not-found").await;

    chromium.close().await;
}
