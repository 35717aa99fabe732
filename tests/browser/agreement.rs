//! The agreement pages in a real browser: the report, two coders side by
//! side, and settling a disagreement by keyboard.

use crate::harness::{Chromium, click, fill, screenshot, wait_for_url, wait_until};
use crate::helpers::{PASSWORD, TestApp};
use serde_json::Value;
use sqlx::PgPool;

#[sqlx::test]
async fn an_owner_reads_the_report_and_settles_a_disagreement(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let ben = app.person("ben@example.org").await;
    let p = owner.project("Carers study").await;
    owner.add(p, &ben, "coder").await;
    let text = "Interviewer: How was the first contact?\n\
                C01: We waited fourteen weeks before anyone rang back, and by then my son had stopped sleeping.\n\
                Interviewer: And since then?\n\
                C01: His care coordinator has been brilliant: she does what she says she will do.\n\
                C01: I trust them now, but it took the best part of a year.";
    let (d1, _) = owner.document(p, "Carer interview C01", text).await;
    let (d2, _) = owner
        .document(
            p,
            "Carer interview C02",
            "C02: Nobody told us anything for months.\nC02: Then it all happened at once.",
        )
        .await;
    let waiting = owner.code(p, "Waiting", None).await;
    let trust = owner.code(p, "Trust", None).await;
    for (api, doc, code, s, e) in [
        (&owner, d1, waiting, 45, 90),
        (&ben, d1, waiting, 45, 140),
        (&owner, d1, trust, 180, 260),
        (&ben, d1, trust, 180, 260),
        (&owner, d1, trust, 262, 290),
        (&ben, d2, waiting, 5, 40),
        (&owner, d2, waiting, 5, 40),
    ] {
        api.coding(p, doc, code, s, e).await;
    }
    let me = |v: Value| v["id"].as_i64().unwrap();
    let a = me(owner.get("/me").await.json().await.unwrap());
    let b = me(ben.get("/me").await.json().await.unwrap());

    let page = chromium.browser.new_page(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    page.goto(app.url(&format!(
        "/projects/{p}/agreement?coder={a}&coder={b}&unit=word&bootstrap=200&seed=7"
    )))
    .await
    .unwrap();
    wait_until(&page, "document.querySelector('table.agreement') !== null").await;
    let pooled: String = page
        .evaluate("document.querySelector('table.agreement .total-row').textContent")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(pooled.contains("All codes (pooled)"), "{pooled}");
    screenshot(&page, "agreement").await;
    // The workbook, kept beside the screenshots to be looked at.
    let xlsx = owner
        .get(&format!(
            "/projects/{p}/exports/agreement.xlsx?coders={a},{b}&unit=word&bootstrap=200&seed=7"
        ))
        .await;
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "a workbook");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::write(dir.join("agreement.xlsx"), &bytes).unwrap();

    page.goto(app.url(&format!(
        "/projects/{p}/agreement/compare?document={d1}&code={waiting}&coders={a},{b}"
    )))
    .await
    .unwrap();
    screenshot(&page, "agreement-compare").await;
    wait_until(
        &page,
        "document.querySelectorAll('.transcript-text mark.only-b').length === 1",
    )
    .await;
    click(&page, "#s1 button[value=keep_both]").await;
    wait_until(
        &page,
        "document.querySelector('.flash') !== null && location.hash === '#s2'",
    )
    .await;
    let flash: String = page
        .evaluate("document.querySelector('.flash').textContent")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(flash.contains("keep both"), "{flash}");
    let settings: Value = owner
        .get(&format!("/projects/{p}/settings"))
        .await
        .json()
        .await
        .unwrap();
    let consensus = settings["consensus_coder"].as_i64().unwrap();
    let kept: Value = owner
        .get(&format!("/projects/{p}/codings?coder={consensus}"))
        .await
        .json()
        .await
        .unwrap();
    let kept: Vec<(i64, i64)> = kept["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["start"].as_i64().unwrap(), c["end"].as_i64().unwrap()))
        .collect();
    assert_eq!(kept, vec![(45, 140)]);
    chromium.close().await;
}
