use crate::harness::{Chromium, click, fill, open_signed_in, screenshot, wait_for_url};
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
    map_speaker(&page, 3, "New: Ruth (Carer)").await;
    let mapped = mapped_participant(&app, "Ruth").await;
    assert_eq!(
        mapped.as_deref(),
        Some("Ruth"),
        "Ruth was mapped to a new participant"
    );

    page.goto(app.url(&format!("/projects/{p}/participants")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with("/participants")).await;
    screenshot(&page, "participants").await;
    chromium.close().await;
}

/// A big project's speaker menus: the participants are sent once and the
/// page fills every menu from them, each keeping its choice, and the
/// mapping saves as it does on a small project.
#[sqlx::test]
async fn a_big_projects_speaker_menus_are_filled_from_one_list(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Many people").await;
    let mut csv = String::from("label,group\n");
    for k in 1..=1200 {
        csv.push_str(&format!("P{k:04},Staff\n"));
    }
    let res = owner
        .raw_post(
            &format!("/projects/{p}/participants/import"),
            "text/csv",
            csv,
        )
        .await;
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let text = "Facilitator: Welcome.\nP0007: First.\nP0999: Second.\nZed: Third.\n";
    let (id, _) = owner.document(p, "Group", text).await;

    // The page as sent lists the participants once, not once a speaker.
    let path = format!("/projects/{p}/documents/{id}");
    let sent = app
        .page_text(&app.signed_in("ann@example.org").await, &path)
        .await;
    assert_eq!(sent.matches(">P0500 (Staff)</option>").count(), 1);

    let page = open_signed_in(&chromium, &app, "ann@example.org", &path).await;
    let menus = page
        .evaluate(
            "Array.from(document.querySelectorAll('.speaker-row select')).map(s => \
             [s.options.length, s.value, s.querySelector('optgroup[label=Participants]').children.length])",
        )
        .await
        .unwrap()
        .into_value::<Vec<(usize, String, usize)>>()
        .unwrap();
    assert_eq!(menus.len(), 4, "{menus:?}");
    // Every menu offers all 1,200 participants and keeps its choice: the
    // facilitator, P0007 and P0999 mapped by their labels, Zed unassigned.
    assert!(menus.iter().all(|m| m.2 == 1200), "{menus:?}");
    let chosen: Vec<&str> = menus.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(
        chosen.iter().filter(|v| v.starts_with("p:")).count(),
        2,
        "{chosen:?}"
    );
    assert!(
        chosen.contains(&"interviewer") && chosen.contains(&"unassigned"),
        "{chosen:?}"
    );
    screenshot(&page, "transcript-many-participants").await;

    // Map Zed to P0500 and save: the filled menu posts like a plain one.
    let zed = menus.iter().position(|m| m.1 == "unassigned").unwrap() + 1;
    map_speaker(&page, zed, "P0500 (Staff)").await;
    let mapped = mapped_participant(&app, "Zed").await;
    assert_eq!(mapped.as_deref(), Some("P0500"));
    chromium.close().await;
}

/// Choose the option of speaker `n`'s menu whose text contains `option`,
/// and save the mapping.
async fn map_speaker(page: &chromiumoxide::Page, n: usize, option: &str) {
    let select = page
        .find_element(format!("select[name=map_{n}]"))
        .await
        .unwrap();
    let value = page
        .evaluate(format!(
            "Array.from(document.querySelectorAll('select[name=map_{n}] option')).find(o => o.textContent.includes({option:?})).value"
        ))
        .await
        .unwrap()
        .into_value::<String>()
        .unwrap();
    select.click().await.unwrap();
    page.evaluate(format!(
        "document.querySelector('select[name=map_{n}]').value = '{value}'"
    ))
    .await
    .unwrap();
    click(page, ".speaker-panel button[type=submit]").await;
}

/// The participant speaker `label` is mapped to, once the save lands (or
/// `None` after five seconds).
async fn mapped_participant(app: &TestApp, label: &str) -> Option<String> {
    for _ in 0..100 {
        let mapped = sqlx::query_scalar!(
            "select p.label from speaker s join participant p using (participant_id) where s.label = $1",
            label
        )
        .fetch_optional(&app.db)
        .await
        .unwrap();
        if mapped.is_some() {
            return mapped;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    None
}
