use crate::harness::{Chromium, click, fill, press, screenshot, wait_for_url, wait_until};
use crate::helpers::{PASSWORD, TestApp};
use chromiumoxide::cdp::browser_protocol::emulation::SetEmulatedMediaParams;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

/// Code-point range of `needle` in `text` (from its first character to the
/// end of `until`).
fn span(text: &str, needle: &str, until: &str) -> (i32, i32) {
    let a = text.find(needle).unwrap();
    let b = text.find(until).unwrap() + until.len();
    (
        text[..a].chars().count() as i32,
        text[..b].chars().count() as i32,
    )
}

async fn codings(db: &PgPool) -> Vec<(i64, i32, i32, String, String)> {
    sqlx::query_as(
        "select g.coding_id, g.start_pos, g.end_pos, c.name, g.memo
         from coding g join code c using (code_id) order by g.coding_id",
    )
    .fetch_all(db)
    .await
    .unwrap()
}

/// Poll the database until `ok` holds (the page saves in the background).
async fn wait_for_codings(
    db: &PgPool,
    ok: impl Fn(&[(i64, i32, i32, String, String)]) -> bool,
) -> Vec<(i64, i32, i32, String, String)> {
    let mut last = Vec::new();
    for _ in 0..200 {
        last = codings(db).await;
        if ok(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("codings never reached the expected state; last: {last:?}");
}

#[sqlx::test]
async fn a_coder_codes_accented_and_emoji_text_with_the_keyboard(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Inpatient care").await;
    owner
        .post(
            &format!("/projects/{p}/participants"),
            json!({"label": "P01", "group": "Service user"}),
        )
        .await;
    let text = "Interviewer: Tell me about the ward.\n\
                P01: The café was a sanctuary 😀 for me — très calme, naïve even.\n\
                Interviewer: And privacy?\n\
                P01: No privacy at all 👩‍👩‍👧 there.\n";
    let doc: Value = owner
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "Ward interview 1", "text": text, "participant": "P01"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let doc = doc["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for (name, key) in [("Sanctuary", "s"), ("Lack of privacy", "")] {
        let res = owner
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": name, "shortcut": key, "definition": format!("{name}, as the speaker frames it")}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let code: Value = res.json().await.unwrap();
        ids.push(code["id"].as_i64().unwrap());
    }
    let (sanctuary, privacy) = (ids[0], ids[1]);

    let page = chromium.browser.new_page(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    let doc_url = app.url(&format!("/projects/{p}/documents/{doc}"));
    page.goto(&doc_url).await.unwrap();
    wait_until(
        &page,
        "document.querySelectorAll('#code-list .code-item').length === 2",
    )
    .await;

    // Select "café … très" (accents and an emoji in between) and press the
    // code's shortcut key.
    page.evaluate(
        "(() => { const a = document.getElementById('transcript'); a.focus();
           const el = [...a.querySelectorAll('[data-s]')].find(e => e.textContent.includes('café'));
           const t = el.firstChild;
           getSelection().setBaseAndExtent(t, t.data.indexOf('café'), t, t.data.indexOf('très') + 4); })()",
    )
    .await
    .unwrap();
    wait_until(
        &page,
        "document.getElementById('selection-status').textContent.includes('café')",
    )
    .await;
    press(&page, "s", "KeyS", 83, 0).await;
    let (start, end) = span(text, "café", "très");
    let rows = wait_for_codings(&app.db, |rows| rows.len() == 1).await;
    assert_eq!((rows[0].1, rows[0].2), (start, end));
    assert_eq!(rows[0].3, "Sanctuary");

    // Select a line with the keyboard (Shift+End from the caret), then find
    // the other code by typing a few letters, and apply it with Enter.
    page.evaluate(
        "(() => { const a = document.getElementById('transcript'); a.focus();
           const el = [...a.querySelectorAll('[data-s]')].find(e => e.textContent.includes('No privacy'));
           const t = el.firstChild;
           getSelection().collapse(t, t.data.indexOf('No privacy')); })()",
    )
    .await
    .unwrap();
    press(&page, "End", "End", 35, 8).await;
    wait_until(
        &page,
        "document.getElementById('selection-status').textContent.includes('No privacy')",
    )
    .await;
    press(&page, "/", "Slash", 191, 0).await;
    wait_until(
        &page,
        "document.activeElement && document.activeElement.id === 'code-filter'",
    )
    .await;
    fill(&page, "#code-filter", "priv").await;
    wait_until(&page, "document.querySelector('#code-list .code-item.active .code-label').textContent === 'Lack of privacy'").await;
    press(&page, "Enter", "Enter", 13, 0).await;
    let (start2, end2) = span(text, "No privacy", "there.");
    let rows = wait_for_codings(&app.db, |rows| rows.len() == 2).await;
    assert_eq!(
        (rows[1].1, rows[1].2, rows[1].3.as_str()),
        (start2, end2, "Lack of privacy")
    );

    // After a reload both codings are drawn: highlights and margin stripes.
    page.goto(&doc_url).await.unwrap();
    wait_until(
        &page,
        "document.querySelectorAll('#stripes .stripe').length === 2",
    )
    .await;
    let highlighted: bool = page
        .evaluate(format!(
            "CSS.highlights.has('code-{sanctuary}') && CSS.highlights.get('code-{sanctuary}').size === 1"
        ))
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(highlighted, "the Sanctuary coding is highlighted");
    screenshot(&page, "coding").await;

    // Click its stripe, write a memo, save it.
    let first = rows[0].0;
    // (Stripes are redrawn when the layout changes, so click in one step.)
    page.evaluate(format!(
        "document.querySelector(\"#stripes .stripe[data-coding='{first}']\").click()"
    ))
    .await
    .unwrap();
    wait_until(&page, "!document.getElementById('here').hidden").await;
    fill(
        &page,
        "#here .here-memo",
        "Sanctuary as calm — compare P04 ✔",
    )
    .await;
    page.evaluate("[...document.querySelectorAll('#here button')].find(b => b.textContent === 'Save memo').click()")
        .await
        .unwrap();
    wait_for_codings(&app.db, |rows| {
        rows[0].4 == "Sanctuary as calm — compare P04 ✔"
    })
    .await;
    screenshot(&page, "coding-memo").await;

    // Remove it; undo brings it back with its memo; remove it again.
    page.evaluate("[...document.querySelectorAll('#here button')].find(b => b.textContent === 'Remove').click()")
        .await
        .unwrap();
    wait_for_codings(&app.db, |rows| {
        rows.len() == 1 && rows[0].3 == "Lack of privacy"
    })
    .await;
    page.evaluate("document.getElementById('transcript').focus()")
        .await
        .unwrap();
    press(&page, "z", "KeyZ", 90, 2).await;
    let rows = wait_for_codings(&app.db, |rows| rows.len() == 2).await;
    let back = rows.iter().find(|r| r.3 == "Sanctuary").unwrap();
    assert_eq!((back.1, back.2), (start, end));
    assert_eq!(back.4, "Sanctuary as calm — compare P04 ✔");

    // Another coder's new coding appears without a reload, and the
    // selection in progress survives it.
    page.evaluate(
        "(() => { const a = document.getElementById('transcript');
           const el = [...a.querySelectorAll('[data-s]')].find(e => e.textContent.includes('Tell me'));
           const t = el.firstChild;
           getSelection().setBaseAndExtent(t, t.data.indexOf('Tell'), t, t.data.indexOf('ward')); })()",
    )
    .await
    .unwrap();
    let bob = app.person("bob@example.org").await;
    let res = owner
        .post(
            &format!("/projects/{p}/members"),
            json!({"email": "bob@example.org", "role": "coder"}),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let (s3, e3) = span(text, "The café", "sanctuary");
    let res = bob
        .post(
            &format!("/projects/{p}/codings"),
            json!({"document_id": doc, "code_id": privacy, "start": s3, "end": e3}),
        )
        .await;
    assert_eq!(res.status(), 201);
    wait_until(
        &page,
        "document.querySelectorAll('#stripes .stripe').length === 3",
    )
    .await;
    let kept: String = page
        .evaluate("getSelection().toString()")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert_eq!(kept, "Tell me about the ");

    // The code's page lists its excerpt with speaker and group.
    page.goto(app.url(&format!("/projects/{p}/codes")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with("/codes")).await;
    screenshot(&page, "codebook").await;
    // Printed, the codebook is the study's codebook: no navigation or forms.
    page.execute(SetEmulatedMediaParams::builder().media("print").build())
        .await
        .unwrap();
    let printed: bool = page
        .evaluate("getComputedStyle(document.querySelector('.site-header')).display === 'none' && getComputedStyle(document.querySelector('aside')).display === 'none' && document.querySelector('.code-fields').offsetHeight > 0")
        .await
        .unwrap()
        .into_value()
        .unwrap();
    assert!(
        printed,
        "the print view hides the chrome and keeps definitions"
    );
    screenshot(&page, "codebook-print").await;
    page.execute(SetEmulatedMediaParams::builder().media("").build())
        .await
        .unwrap();
    click(&page, ".code-name").await;
    wait_for_url(&page, |u| u.contains("/codes/")).await;
    let html = page.content().await.unwrap();
    assert!(
        html.contains("café was a sanctuary 😀 for me — très"),
        "the excerpt is listed"
    );
    assert!(html.contains("Service user"), "with its speaker's group");
    screenshot(&page, "code-excerpts").await;

    // Its link opens the document at that coding, with the coding listed.
    click(&page, ".excerpt .meta a").await;
    wait_for_url(&page, |u| u.contains("#coding-")).await;
    wait_until(&page, "!document.getElementById('here').hidden && [...document.querySelectorAll('#here .here-code')].some(a => a.textContent === 'Sanctuary')").await;

    // The matrix counts them by group; a cell opens the excerpts behind it.
    page.goto(app.url(&format!("/projects/{p}/matrix")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with("/matrix")).await;
    let html = page.content().await.unwrap();
    assert!(html.contains("Service user") && html.contains("N = 1"));
    screenshot(&page, "matrix").await;
    click(&page, "td.heat a").await;
    wait_for_url(&page, |u| u.contains("/codes/") && u.contains("group=")).await;
    assert!(page.content().await.unwrap().contains("P01"));
    page.goto(app.url(&format!("/projects/{p}/theme-table")))
        .await
        .unwrap();
    wait_for_url(&page, |u| u.ends_with("/theme-table")).await;
    assert!(page.content().await.unwrap().contains("1/1 (100%)"));
    screenshot(&page, "theme-table").await;

    // The overview counts the work and offers the exchange files.
    page.goto(app.url(&format!("/projects/{p}"))).await.unwrap();
    wait_for_url(&page, |u| u.ends_with(&format!("/projects/{p}"))).await;
    let html = page.content().await.unwrap();
    assert!(html.contains("Export project (.qdpx)"));
    screenshot(&page, "project-overview").await;
    chromium.close().await;
}
