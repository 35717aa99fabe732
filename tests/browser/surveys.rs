//! The survey pages in a real browser: a survey with its scales, and the
//! comparison of a scale between waves with its plots.

use crate::harness::{Chromium, click, fill, screenshot, wait_for_url, wait_until};
use crate::helpers::{PASSWORD, TestApp};
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;

#[sqlx::test]
async fn a_researcher_reads_a_scale_change_by_locality(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Partnership evaluation").await;
    let csv = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/survey/staff.csv"
    ))
    .unwrap();
    let form = Form::new()
        .part("file", Part::bytes(csv).file_name("staff.csv"))
        .text("name", "Staff survey")
        .text("min", "1")
        .text("max", "5");
    let made: Value = owner
        .upload(&format!("/projects/{p}/surveys"), form)
        .await
        .json()
        .await
        .unwrap();
    let s = made["survey"]["id"].as_i64().unwrap();

    let page = chromium.browser.new_page(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    page.goto(app.url(&format!("/projects/{p}/surveys/{s}")))
        .await
        .unwrap();
    // A scale from the page: its items and reversed items ticked.
    fill(&page, "input[name=name]", "Role clarity").await;
    for item in ["rc1", "rc2", "rc3", "rc4", "rc5", "rc6"] {
        click(&page, &format!("input[name=item][value={item}]")).await;
    }
    for item in ["rc3", "rc5"] {
        click(&page, &format!("input[name=reverse][value={item}]")).await;
    }
    fill(&page, "input[name=min_items]", "4").await;
    click(&page, "form[action$='/scales'] button[type=submit]").await;
    wait_until(&page, "document.querySelector('.flash-ok') !== null").await;
    let flash: String = page
        .evaluate("document.querySelector('.flash-ok').textContent")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(flash.contains("α = 0.70"), "{flash}");
    screenshot(&page, "survey").await;
    click(&page, "a.button[href*='/compare?scale=']").await;
    wait_until(
        &page,
        "document.querySelectorAll('.plots svg').length === 2",
    )
    .await;
    let lead: String = page
        .evaluate("document.querySelector('p.lead').textContent")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(lead.contains("Wave × locality interaction"), "{lead}");
    assert!(lead.contains("p < .001"), "{lead}");
    let rows: i64 = page
        .evaluate("document.querySelectorAll('.card table tbody tr').length")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert_eq!(rows, 5, "four localities and everyone");
    screenshot(&page, "survey-compare").await;
    // The joint display: participants of two localities, a theme coded.
    for (label, locality) in [("S01", "North"), ("S02", "South")] {
        owner
            .post(
                &format!("/projects/{p}/participants"),
                json!({"label": label, "group": "Staff", "attributes": {"locality": locality}}),
            )
            .await;
    }
    let code: Value = owner
        .post(
            &format!("/projects/{p}/codes"),
            json!({"name": "Role boundaries"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (doc, text) = owner
        .document(
            p,
            "Staff focus group",
            "S01: Since the merger I know exactly who does what.\nS02: Nobody can tell me where my job ends any more.",
        )
        .await;
    let start = text.find("Nobody").unwrap() as i64;
    owner
        .coding(
            p,
            doc,
            code["id"].as_i64().unwrap(),
            start,
            text.chars().count() as i64,
        )
        .await;
    page.goto(app.url(&format!("/projects/{p}/joint-display")))
        .await
        .unwrap();
    wait_until(&page, "document.querySelector('table.joint') !== null").await;
    let south: String = page
        .evaluate("[...document.querySelectorAll('table.joint tbody tr')].find(r => r.textContent.includes('South')).textContent")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(south.contains("100% (1/1)"), "{south}");
    assert!(south.contains("Nobody can tell me"), "{south}");
    screenshot(&page, "joint-display").await;
    // The Word and Excel files, kept beside the screenshots to be looked at.
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    for ext in ["docx", "xlsx"] {
        let res = owner
            .get(&format!(
                "/projects/{p}/exports/joint-display.{ext}?scale=1"
            ))
            .await;
        assert_eq!(res.status(), 200, "{ext}");
        std::fs::write(
            dir.join(format!("joint-display.{ext}")),
            res.bytes().await.unwrap(),
        )
        .unwrap();
    }
    let res = owner
        .get(&format!(
            "/projects/{p}/exports/theme-table.docx?columns=attr:locality"
        ))
        .await;
    assert_eq!(res.status(), 200);
    std::fs::write(dir.join("theme-table.docx"), res.bytes().await.unwrap()).unwrap();
    chromium.close().await;
}
