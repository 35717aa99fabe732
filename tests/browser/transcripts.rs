use crate::harness::{Chromium, click, fill, screenshot, wait_for_url};
use crate::helpers::{PASSWORD, TestApp};
use serde_json::json;
use sqlx::PgPool;

#[sqlx::test]
async fn a_transcript_shows_its_speakers_and_their_mapping_can_be_fixed(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Partnerships").await;
    let res = owner
        .post(
            &format!("/projects/{p}/participants"),
            json!({"label": "C07", "group": "Carer", "attributes": {"locality": "North"}}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let text = "Focus group, North locality\n\n[00:00:05] Facilitator: Welcome, everyone.\n\n[00:00:12] C07: It felt like a sanctuary 🙂 — a café of sorts.\n\n[00:00:30] Ruth: For me it was the lack of privacy.\nNobody knocked.";
    let doc: serde_json::Value = owner
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "North focus group", "text": text}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = doc["id"].as_i64().unwrap();

    let page = chromium.browser.new_page(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;

    page.goto(app.url(&format!("/projects/{p}/documents")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with("/documents")).await;
    screenshot(&page, "documents").await;
    assert!(page.content().await.unwrap().contains("1 unassigned"));

    page.goto(app.url(&format!("/projects/{p}/documents/{id}")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with(&format!("/documents/{id}"))).await;
    screenshot(&page, "transcript").await;
    let html = page.content().await.unwrap();
    assert!(html.contains("00:00:12") && html.contains("Carer"));

    // Ruth is unassigned: make her a new participant in the Carer group.
    let ruth_select = page.find_element("select[name=map_3]").await.unwrap();
    let option = page
        .evaluate("Array.from(document.querySelectorAll('select[name=map_3] option')).find(o => o.textContent.includes('New: Ruth (Carer)')).value")
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    ruth_select.click().await.unwrap();
    page.evaluate(format!(
        "document.querySelector('select[name=map_3]').value = '{option}'"
    ))
    .await
    .unwrap();
    click(&page, ".speaker-panel button[type=submit]").await;
    let mut mapped = None;
    for _ in 0..100 {
        mapped = sqlx::query_scalar!(
            r#"select p.label from speaker s join participant p using (participant_id) where s.label = 'Ruth'"#
        )
        .fetch_optional(&app.db)
        .await
        .unwrap();
        if mapped.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mapped = mapped.expect("Ruth was mapped to a new participant");
    assert_eq!(mapped, "Ruth");

    page.goto(app.url(&format!("/projects/{p}/participants")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with("/participants")).await;
    screenshot(&page, "participants").await;
    chromium.close().await;
}
