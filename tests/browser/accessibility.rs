//! Every page of the app audited with axe-core in a real browser: a study
//! with groups, transcripts, overlapping codings, memos, a survey, a second
//! coder and a trash of each kind, then each page in turn. Any serious or
//! critical violation fails the test, listed with its page and nodes.
//!
//! axe-core is vendored under tests/vendor/axe-core (for the tests only,
//! never served) and evaluated in each page as it is.

use crate::harness::{
    Chromium, click, eval, fill, screenshot, screenshot_view, wait_for_url, wait_until,
};
use crate::helpers::{PASSWORD, TestApp, expect, id, items};
use chromiumoxide::Page;
use chromiumoxide::cdp::browser_protocol::emulation::SetEmulatedMediaParams;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::time::Duration;

const AXE: &str = include_str!("../vendor/axe-core/axe.min.js");

#[derive(Debug, Deserialize)]
struct Violation {
    id: String,
    impact: String,
    help: String,
    nodes: usize,
    targets: Vec<String>,
}

/// Run axe-core on the page as it stands and answer its serious and
/// critical violations. All rules run, at their default settings.
async fn audit(page: &Page) -> Vec<Violation> {
    wait_until(page, "document.readyState === 'complete'").await;
    // Let the page's modules finish drawing (stripes, lists, plots).
    tokio::time::sleep(Duration::from_millis(300)).await;
    // What is folded away is audited too.
    let _: bool = eval(
        page,
        "(() => { document.querySelectorAll('details').forEach(d => { d.open = true; }); return true; })()",
    )
    .await;
    let loaded: bool = eval(page, "typeof window.axe === 'object'").await;
    if !loaded {
        page.evaluate(AXE).await.expect("axe-core loads");
    }
    eval(
        page,
        "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations
           .filter(v => v.impact === 'serious' || v.impact === 'critical')
           .map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
                        targets: v.nodes.slice(0, 5).map(n => JSON.stringify(n.target)) })))",
    )
    .await
}

/// Audit the page now shown under `name`, adding what it finds to `found`.
async fn check(page: &Page, name: &str, found: &mut Vec<(String, Violation)>) {
    let violations = audit(page).await;
    let title: String = eval(page, "document.title").await;
    eprintln!(
        "audited {name}: “{title}”, {} serious or critical",
        violations.len()
    );
    for v in &violations {
        eprintln!(
            "{name}: {} ({}) — {}: {} node(s), e.g. {}",
            v.id,
            v.impact,
            v.help,
            v.nodes,
            v.targets.join(" ")
        );
    }
    found.extend(violations.into_iter().map(|v| (name.to_owned(), v)));
}

/// Open `path` and audit it.
async fn visit(
    page: &Page,
    app: &TestApp,
    path: &str,
    name: &str,
    found: &mut Vec<(String, Violation)>,
) {
    page.goto(app.url(path))
        .await
        .unwrap_or_else(|e| panic!("{name} ({path}): {e}"));
    check(page, name, found).await;
}

/// Put `contents` into the file field `selector` (as a person choosing a
/// file would) and submit its form.
async fn submit_file(page: &Page, selector: &str, file_name: &str, contents: &str) {
    let js = format!(
        "(() => {{ const input = document.querySelector({sel});
           const dt = new DataTransfer();
           dt.items.add(new File([{contents}], {file_name}, {{ type: 'text/csv' }}));
           input.files = dt.files;
           input.form.requestSubmit(); return true; }})()",
        sel = serde_json::to_string(selector).unwrap(),
        contents = serde_json::to_string(contents).unwrap(),
        file_name = serde_json::to_string(file_name).unwrap(),
    );
    let _: bool = eval(page, &js).await;
}

/// Code-point range of the first `needle` in `text` (the texts are ASCII).
fn at(text: &str, needle: &str) -> (i64, i64) {
    let a = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in the text"));
    (a as i64, (a + needle.len()) as i64)
}

const GROUP_TEXT: &str = "Interviewer: Welcome, everyone. How did you first get help?\n\
P01: We waited months on the waiting list before anyone rang back, and by then I had stopped sleeping.\n\
P02: The waiting was the worst part. Nobody told us anything for weeks, and I felt judged at the surgery.\n\
P03: As a carer I was never asked what I thought, and I stopped trusting the letters they sent.\n\
Interviewer: And once you were seen?\n\
P01: The day centre became a sanctuary for me, a quiet room where nobody was waiting for me to fail.\n\
P02: I trust my care coordinator now: she does what she says she will do.\n\
P04: My son still waits for a bed, and the waiting makes him ashamed to ask again.\n";

const FOLLOW_UP_TEXT: &str = "Interviewer: What changed over the year?\n\
P01: The waiting got shorter once the new team started, but the letters still came late.\n\
P03: I began to trust them when they rang me back the same day.\n\
P04: People at church still look at us differently, which is hard.\n";

#[sqlx::test]
async fn every_page_passes_axe_with_no_serious_or_critical_violation(pool: PgPool) {
    let Some(chromium) = Chromium::launch().await else {
        return;
    };
    let app = TestApp::spawn(pool).await;
    let mut found: Vec<(String, Violation)> = Vec::new();

    // Before any account exists, the first visitor sees the setup page.
    let page = chromium.browser.new_page(app.url("/")).await.unwrap();
    wait_for_url(&page, |u| u.ends_with("/setup")).await;
    check(&page, "setup", &mut found).await;

    // ---- the study, through the API --------------------------------------
    let owner = app.person("ann@example.org").await;
    let ben = app.person("ben@example.org").await;
    sqlx::query("update app_user set is_admin = true where email = 'ann@example.org'")
        .execute(&app.db)
        .await
        .unwrap();
    let p = owner.project("Waiting well").await;
    owner.add(p, &ben, "coder").await;
    for (label, group, locality) in [
        ("P01", "Service user", "North"),
        ("P02", "Service user", "South"),
        ("P03", "Carer", "North"),
        ("P04", "Carer", "South"),
    ] {
        owner
            .participant(p, label, Some(group), json!({"locality": locality}))
            .await;
    }
    let (d1, t1) = owner.document(p, "Focus group 1", GROUP_TEXT).await;
    let (d2, t2) = owner.document(p, "Follow-up group", FOLLOW_UP_TEXT).await;
    assert!(
        t1.is_ascii() && t2.is_ascii(),
        "byte offsets are code points"
    );
    let participants: Value = owner
        .get(&format!("/projects/{p}/participants"))
        .await
        .json()
        .await
        .unwrap();
    let mut mapping = serde_json::Map::new();
    for item in items(&participants) {
        mapping.insert(
            item["label"].as_str().unwrap().to_owned(),
            json!(item["id"].as_i64().unwrap()),
        );
    }
    let p01 = mapping["P01"].as_i64().unwrap();

    let waiting = owner
        .code_defined(
            p,
            "Waiting",
            None,
            "Time spent waiting for help, and what it does",
        )
        .await;
    let lists = owner.code(p, "Waiting lists", Some(waiting)).await;
    let trust = owner
        .code_defined(p, "Trust", None, "Trust in staff and services")
        .await;
    let stigma = owner.code(p, "Stigma", None).await;
    let sanctuary = owner.code(p, "Sanctuary", None).await;
    let obsolete = owner.code(p, "Obsolete", None).await;

    // Many codings of Waiting by P01 and P02 (dark heatmap cells), few of
    // the others (light ones), some overlapping.
    let (s, e) = at(&t1, "We waited months on the waiting list");
    for i in 0..24 {
        owner.coding(p, d1, waiting, s + i, e).await;
    }
    let (s, e) = at(&t1, "The waiting was the worst part.");
    for i in 0..12 {
        owner.coding(p, d1, waiting, s + i, e).await;
    }
    let (s, e) = at(&t1, "waiting list before anyone rang back");
    owner.coding(p, d1, lists, s, e).await;
    let (s, e) = at(
        &t1,
        "Nobody told us anything for weeks, and I felt judged at the surgery.",
    );
    owner.coding(p, d1, waiting, s, e).await;
    let (s2, e2) = at(&t1, "I felt judged at the surgery.");
    owner.coding(p, d1, stigma, s2, e2).await;
    let (s, e) = at(&t1, "I stopped trusting the letters they sent.");
    owner.coding(p, d1, trust, s, e).await;
    let (s, e) = at(&t1, "The day centre became a sanctuary for me");
    let memo = json!({"document_id": d1, "code_id": sanctuary, "start": s, "end": e,
                      "memo": "Sanctuary as *quiet* — compare P03"});
    expect(
        owner.post(&format!("/projects/{p}/codings"), memo).await,
        StatusCode::CREATED,
    )
    .await;
    // Counts spread over the heatmap's scale: about 0.3, 0.4, just under
    // and just over 0.5 of the largest.
    for (code, needle, n) in [
        (sanctuary, "The day centre became a sanctuary for me", 17),
        (trust, "I trust my care coordinator now", 11),
        (
            waiting,
            "My son still waits for a bed, and the waiting makes him ashamed to ask again.",
            21,
        ),
        (stigma, "ashamed to ask again", 15),
    ] {
        let (s, e) = at(&t1, needle);
        for i in 1..=n {
            owner.coding(p, d1, code, s + i, e).await;
        }
    }
    let (s, e) = at(&t2, "The waiting got shorter once the new team started");
    owner.coding(p, d2, waiting, s, e).await;
    let (s, e) = at(&t2, "I began to trust them");
    owner.coding(p, d2, trust, s, e).await;
    let (s, e) = at(&t2, "People at church still look at us differently");
    owner.coding(p, d2, stigma, s, e).await;
    owner.coding(p, d2, obsolete, s, e).await;
    // The second coder, agreeing in part.
    let (s, e) = at(&t1, "We waited months on the waiting list");
    ben.coding(p, d1, waiting, s, e + 20).await;
    let (s, e) = at(&t1, "I trust my care coordinator now");
    ben.coding(p, d1, trust, s, e).await;
    let (s, e) = at(&t2, "I began to trust them");
    ben.coding(p, d2, trust, s, e).await;

    for (path, memo) in [
        (
            format!("/projects/{p}/memo"),
            "Waiting comes up in **every** group.",
        ),
        (
            format!("/projects/{p}/documents/{d1}/memo"),
            "Lively group; P04 arrived late.",
        ),
    ] {
        expect(
            owner.put(&path, json!({ "memo": memo })).await,
            StatusCode::OK,
        )
        .await;
    }
    // Something in each trash.
    let (d3, _) = owner
        .document(p, "Pilot interview", "Interviewer: Testing.\nP01: Fine.\n")
        .await;
    expect(
        owner.delete(&format!("/projects/{p}/documents/{d3}")).await,
        StatusCode::NO_CONTENT,
    )
    .await;
    let old = owner.code(p, "Old idea", None).await;
    expect(
        owner.delete(&format!("/projects/{p}/codes/{old}")).await,
        StatusCode::OK,
    )
    .await;

    // A survey with a scale.
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
    let survey = made["survey"]["id"].as_i64().unwrap();
    let scale = expect(
        owner
            .post(
                &format!("/projects/{p}/surveys/{survey}/scales"),
                json!({"name": "Role clarity", "items": ["rc1", "rc2", "rc3", "rc4", "rc5", "rc6"],
                       "reverse": ["rc3", "rc5"], "min": 1.0, "max": 5.0, "min_items": 4}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let scale = scale["scale"]["id"]
        .as_i64()
        .or_else(|| scale["id"].as_i64())
        .unwrap_or_else(|| panic!("a scale id in {scale}"));

    // An account waiting for its password, for the set-password page.
    let link = expect(
        owner
            .post(
                "/users",
                json!({"email": "cat@example.org", "name": "Cat Coder"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    // The link's path, whether the server answers it whole or as a path.
    let set_password = link["set_password_url"].as_str().unwrap();
    let set_password = match set_password.find("/set-password/") {
        Some(i) => set_password[i..].to_owned(),
        None => panic!("a set-password link: {set_password}"),
    };
    let a = id(&owner.get("/me").await.json::<Value>().await.unwrap());
    let b = id(&ben.get("/me").await.json::<Value>().await.unwrap());

    // ---- signed out -------------------------------------------------------
    visit(&page, &app, "/login", "login", &mut found).await;
    visit(&page, &app, &set_password, "set-password", &mut found).await;

    // ---- signed in --------------------------------------------------------
    page.goto(app.url("/login")).await.unwrap();
    fill(&page, "input[name=email]", "ann@example.org").await;
    fill(&page, "input[name=password]", PASSWORD).await;
    click(&page, "button[type=submit].primary").await;
    wait_for_url(&page, |u| u.ends_with("/projects")).await;
    check(&page, "projects", &mut found).await;

    let pp = format!("/projects/{p}");
    let pages: Vec<(String, &str)> = vec![
        (pp.clone(), "project overview"),
        (format!("{pp}/documents"), "documents"),
        (format!("{pp}/documents/{d1}/edit"), "document edit"),
        (format!("{pp}/documents/{d1}/delete"), "document delete"),
        (format!("{pp}/documents/trash"), "documents trash"),
        (format!("{pp}/participants"), "participants"),
        (format!("{pp}/participants/{p01}/edit"), "participant edit"),
        (format!("{pp}/codes"), "codebook"),
        (format!("{pp}/codes/{waiting}"), "code excerpts"),
        (format!("{pp}/codes/{waiting}/report"), "code report"),
        (format!("{pp}/codes/{obsolete}/delete"), "code delete"),
        (format!("{pp}/codes/trash"), "codes trash"),
        (format!("{pp}/search?q=waiting"), "search"),
        (format!("{pp}/search?q=zebra+crossing"), "search, no hits"),
        (format!("{pp}/matrix"), "matrix"),
        (format!("{pp}/matrix?measure=cases_pct"), "matrix, cases %"),
        (
            format!("{pp}/matrix?columns=attr:locality&rollup=true"),
            "matrix, by locality rolled up",
        ),
        (format!("{pp}/matrix/cooccurrence"), "co-occurrence"),
        (format!("{pp}/theme-table"), "theme table"),
        (format!("{pp}/surveys"), "surveys"),
        (format!("{pp}/surveys/{survey}"), "survey"),
        (format!("{pp}/joint-display"), "joint display"),
        (
            format!("{pp}/agreement?coder={a}&coder={b}&unit=word&bootstrap=200&seed=7"),
            "agreement",
        ),
        (
            format!("{pp}/agreement/compare?document={d1}&code={waiting}&coders={a},{b}"),
            "agreement compare",
        ),
        (format!("{pp}/memos"), "memos"),
        (format!("{pp}/settings"), "settings"),
        ("/account".to_owned(), "account"),
        ("/admin/users".to_owned(), "admin accounts"),
        ("/projects/999999".to_owned(), "not found"),
    ];
    for (path, name) in &pages {
        visit(&page, &app, path, name, &mut found).await;
    }

    // The heatmap has dark cells (white numbers) and tinted light ones, and
    // prints with its colours.
    page.goto(app.url(&format!("{pp}/matrix"))).await.unwrap();
    let (dark, light): (usize, usize) = eval(
        &page,
        "[document.querySelectorAll('.matrix .heat-dark').length,
          [...document.querySelectorAll('.matrix .heat:not(.heat-dark)')]
            .filter(td => parseFloat(td.style.getPropertyValue('--h')) > 0.2).length]",
    )
    .await;
    assert!(
        dark > 0 && light > 0,
        "dark cells {dark}, tinted light cells {light}"
    );
    screenshot(&page, "a11y-matrix").await;
    page.execute(SetEmulatedMediaParams::builder().media("print").build())
        .await
        .unwrap();
    screenshot(&page, "a11y-matrix-print").await;
    page.execute(SetEmulatedMediaParams::builder().media("").build())
        .await
        .unwrap();
    page.goto(app.url(&format!("{pp}/matrix/cooccurrence")))
        .await
        .unwrap();
    screenshot(&page, "a11y-cooccurrence").await;

    // The survey comparison, by the link its page offers.
    page.goto(app.url(&format!("{pp}/surveys/{survey}")))
        .await
        .unwrap();
    let compare: String = eval(
        &page,
        "document.querySelector(\"a[href*='/compare?scale=']\").getAttribute('href')",
    )
    .await;
    assert!(compare.contains(&format!("scale={scale}")), "{compare}");
    page.goto(app.url(&compare)).await.unwrap();
    wait_until(&page, "document.querySelectorAll('.plots svg').length > 0").await;
    check(&page, "survey compare", &mut found).await;

    // The coding page with its codings drawn, and "Codings here" open on
    // the overlapping ones.
    page.goto(app.url(&format!("{pp}/documents/{d1}")))
        .await
        .unwrap();
    wait_until(
        &page,
        "document.querySelectorAll('#stripes .stripe').length > 3",
    )
    .await;
    check(&page, "coding page", &mut found).await;
    page.evaluate(
        "(() => { const s = [...document.querySelectorAll('#stripes .stripe')];
           s[s.length - 1].click(); })()",
    )
    .await
    .unwrap();
    wait_until(&page, "!document.getElementById('here').hidden").await;
    let _: bool = eval(
        &page,
        "(() => { const d = document.getElementById('doc-jump'); if (d) d.open = true; return true; })()",
    )
    .await;
    check(&page, "coding page, codings here", &mut found).await;
    // Two codes ticked, and the filter offering to create a code.
    for code in [trust, stigma] {
        let _: bool = eval(
            &page,
            &format!(
                "(() => {{ document.querySelector('#code-list .code-item[data-code=\"{code}\"] .code-check').click(); return true; }})()"
            ),
        )
        .await;
    }
    wait_until(
        &page,
        "document.querySelectorAll('#code-list [aria-selected=true]').length === 2",
    )
    .await;
    let _: bool = eval(
        &page,
        "(() => { document.getElementById('code-list').scrollIntoView(); return true; })()",
    )
    .await;
    screenshot_view(&page, "a11y-coding-ticked").await;
    fill(&page, "#code-filter", "Hope").await;
    wait_until(&page, "document.getElementById('code-create') !== null").await;
    check(&page, "coding page, codes ticked and filtered", &mut found).await;
    screenshot_view(&page, "a11y-coding").await;

    // Search, then the preview of coding its hits (a form's answer).
    page.goto(app.url(&format!("{pp}/search?q=waiting")))
        .await
        .unwrap();
    let _: bool = eval(
        &page,
        &format!(
            "(() => {{ document.querySelector('select[name=code_id]').value = '{lists}';
               document.querySelector('.code-hits button[type=submit]').click(); return true; }})()"
        ),
    )
    .await;
    wait_for_url(&page, |u| u.ends_with("/search/code")).await;
    check(&page, "search preview", &mut found).await;

    // The participants file checked before importing (a form's answer).
    page.goto(app.url(&format!("{pp}/participants")))
        .await
        .unwrap();
    submit_file(
        &page,
        "form[action$='/participants/import'] input[type=file]",
        "people.csv",
        "label,group,locality\nP05,Carer,North\nP06,,South\n,Carer,East\n",
    )
    .await;
    wait_for_url(&page, |u| u.ends_with("/participants/import")).await;
    check(&page, "participants import", &mut found).await;

    // A survey file checked before importing (a form's answer).
    page.goto(app.url(&format!("{pp}/surveys"))).await.unwrap();
    submit_file(
        &page,
        "form[action$='/surveys/check'] input[type=file]",
        "wave.csv",
        "id,wave,locality,q1,q2\nR1,2002,North,3,4\nR2,2002,South,9,2\n",
    )
    .await;
    wait_for_url(&page, |u| u.ends_with("/surveys/check")).await;
    check(&page, "survey check", &mut found).await;

    chromium.close().await;

    let report: Vec<String> = found
        .iter()
        .map(|(page, v)| {
            format!(
                "{page}: {} ({}) — {}; {} node(s): {}",
                v.id,
                v.impact,
                v.help,
                v.nodes,
                v.targets.join(" ")
            )
        })
        .collect();
    assert!(
        report.is_empty(),
        "axe-core found {} serious or critical violation(s):\n{}",
        report.len(),
        report.join("\n")
    );
}
