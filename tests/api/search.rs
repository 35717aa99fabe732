//! Search across a project and "code all hits": hits equal a plain scan of
//! the stored text (offsets in code points, speakers right), auto-coding
//! writes exactly what it previewed, and undo removes exactly that.

use crate::helpers::{Api, TestApp, assert_error, expect, items};
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::BTreeSet;

const INTERVIEW: &str = "Interviewer: Tell me about the waiting list. Was the wait long?\n\
P1: 😀 The waiting list was long. We waited for a bed! Waiting-List again.\n\
The waitress was kind.\n";

const GROUP: &str = "# Focus group\n\
Facilitator: What about waiting?\n\
P2: We wait. Then we waited some more.\n\
C1: Carers wait too; the WAITING LIST never moves.\n\
X9: Someone unmapped is waiting.\n";

struct Study {
    p: ProjectId,
    docs: Vec<(i64, String, Value)>,
    code: i64,
}

async fn study(api: &Api) -> Study {
    let p = api.project("Search").await;
    api.participant(p, "P1", Some("Staff"), json!({})).await;
    api.participant(p, "P2", Some("Service user"), json!({}))
        .await;
    api.participant(p, "C1", Some("Carer"), json!({})).await;
    let mut docs = Vec::new();
    for (title, text) in [("Interview P1", INTERVIEW), ("Focus group", GROUP)] {
        let (d, stored) = api.document(p, title, text).await;
        let detail = expect(
            api.get(&format!("/projects/{p}/documents/{d}")).await,
            StatusCode::OK,
        )
        .await;
        docs.push((d, stored, detail));
    }
    let code = api.code(p, "Waiting", None).await;
    Study { p, docs, code }
}

/// The turn of `detail` that holds character `at`, and its speaker.
fn turn_at(detail: &Value, at: usize) -> Option<&Value> {
    items_of(&detail["turns"]).iter().find(|t| {
        t["start"].as_u64().unwrap() as usize <= at && at < t["end"].as_u64().unwrap() as usize
    })
}

fn items_of(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a list")
}

/// A plain scan: every case-insensitive, whole-word occurrence of `phrase`
/// in participants' speech (turns whose speaker is mapped to a
/// participant, after the label).
fn scan(detail: &Value, text: &str, phrase: &str) -> Vec<(usize, usize, String)> {
    let chars: Vec<char> = text.chars().collect();
    let lower: Vec<char> = chars
        .iter()
        .map(|c| c.to_lowercase().next().unwrap())
        .collect();
    let want: Vec<char> = phrase.to_lowercase().chars().collect();
    let mapped: BTreeSet<String> = items_of(&detail["speakers"])
        .iter()
        .filter(|s| !s["participant_id"].is_null())
        .map(|s| s["label"].as_str().unwrap().to_owned())
        .collect();
    let mut out = Vec::new();
    for i in 0..chars.len().saturating_sub(want.len() - 1) {
        if lower[i..i + want.len()] != want[..] {
            continue;
        }
        let before_ok = i == 0 || !chars[i - 1].is_alphanumeric();
        let after_ok = chars
            .get(i + want.len())
            .is_none_or(|c| !c.is_alphanumeric());
        let Some(turn) = turn_at(detail, i) else {
            continue;
        };
        let speaker = turn["speaker"].as_str().unwrap_or_default();
        let label_end = turn["start"].as_u64().unwrap() as usize + speaker.chars().count() + 1;
        if before_ok && after_ok && mapped.contains(speaker) && i >= label_end {
            out.push((i, i + want.len(), speaker.to_owned()));
        }
    }
    out
}

async fn search(api: &Api, p: ProjectId, query: &str) -> Value {
    expect(
        api.get(&format!("/projects/{p}/search?{query}")).await,
        StatusCode::OK,
    )
    .await
}

#[sqlx::test]
async fn exact_hits_equal_a_plain_scan_with_offsets_and_speakers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let s = study(&api).await;
    for phrase in ["waiting list", "wait", "waited", "we"] {
        let mut want = Vec::new();
        for (d, text, detail) in &s.docs {
            for (a, b, speaker) in scan(detail, text, phrase) {
                want.push((*d, a, b, speaker));
            }
        }
        let got = search(
            &api,
            s.p,
            &format!("q={}&exact=true&limit=1000", phrase.replace(' ', "+")),
        )
        .await;
        let mut found = Vec::new();
        for h in items(&got) {
            let d = h["document_id"].as_i64().unwrap();
            let (a, b) = (
                h["start"].as_u64().unwrap() as usize,
                h["end"].as_u64().unwrap() as usize,
            );
            let text = &s.docs.iter().find(|x| x.0 == d).unwrap().1;
            let covered: String = text.chars().skip(a).take(b - a).collect();
            assert_eq!(h["text"], covered.as_str(), "offsets are code points");
            assert!(covered.to_lowercase() == phrase, "{covered}");
            found.push((d, a, b, h["speaker"].as_str().unwrap().to_owned()));
        }
        want.sort();
        found.sort();
        assert!(!want.is_empty(), "{phrase}: the scan finds something");
        assert_eq!(found, want, "{phrase}");
        assert_eq!(got["total"], want.len());
    }
}

#[sqlx::test]
async fn stems_find_word_forms_and_hits_say_who_spoke(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let s = study(&api).await;
    let got = search(&api, s.p, "q=wait&limit=1000").await;
    let texts: Vec<&str> = items(&got)
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    // Participants only: not the interviewer, facilitator or X9 (unmapped);
    // "waitress" is another word.
    assert_eq!(
        texts,
        [
            "wait", "waited", "wait", "WAITING", "waiting", "waited", "Waiting"
        ],
        "documents by title, hits in order"
    );
    let first = &items(&got)[0];
    assert_eq!(first["document_title"], "Focus group");
    assert_eq!(first["speaker"], "P2");
    assert_eq!(first["participant"], "P2");
    assert_eq!(first["group"], "Service user");
    assert_eq!(first["before"], "We ");
    assert!(
        first["after"]
            .as_str()
            .unwrap()
            .starts_with(". Then we waited")
    );
    let carer = &items(&got)[2];
    assert_eq!(
        (&carer["speaker"], &carer["group"]),
        (&json!("C1"), &json!("Carer"))
    );
    assert_eq!(got["documents"], 2);

    // A phrase by stems; common words stand for any word.
    let got = search(&api, s.p, "q=waiting+for+the+bed").await;
    assert_eq!(items(&got).len(), 1);
    assert_eq!(items(&got)[0]["text"], "waited for a bed");

    // Everyone's speech, then a group and a document.
    let all = search(&api, s.p, "q=wait&speakers=all&limit=1000").await;
    let speakers: BTreeSet<&str> = items(&all)
        .iter()
        .filter_map(|h| h["speaker"].as_str())
        .collect();
    assert!(
        speakers.contains("Interviewer")
            && speakers.contains("Facilitator")
            && speakers.contains("X9")
    );
    let carers = search(&api, s.p, "q=wait&group=carer").await;
    assert_eq!(carers["total"], 2);
    let d = s.docs[0].0;
    let one = search(&api, s.p, &format!("q=wait&documents={d}")).await;
    assert_eq!(one["total"], 3);
    let paged = search(&api, s.p, "q=wait&limit=2&offset=6").await;
    assert_eq!((items(&paged).len(), &paged["total"]), (1, &json!(7)));

    // Clear refusals.
    for (query, status) in [
        ("q=", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=the+a", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=%E2%80%94", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=wait&speakers=some", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=wait&group=Nobody", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=wait&documents=99999", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=wait&documents=x", StatusCode::UNPROCESSABLE_ENTITY),
        ("q=wait&limit=0", StatusCode::BAD_REQUEST),
    ] {
        assert_error(
            api.get(&format!("/projects/{}/search?{query}", s.p)).await,
            status,
        )
        .await;
    }
}

/// The codings of `code`, as (document, start, end, text).
async fn codings_of(api: &Api, p: ProjectId, code: i64) -> BTreeSet<(i64, i64, i64, String)> {
    let list = expect(
        api.get(&format!("/projects/{p}/codings?code_id={code}&limit=1000"))
            .await,
        StatusCode::OK,
    )
    .await;
    items(&list)
        .iter()
        .map(|c| {
            (
                c["document_id"].as_i64().unwrap(),
                c["start"].as_i64().unwrap(),
                c["end"].as_i64().unwrap(),
                c["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn planned(v: &Value) -> BTreeSet<(i64, i64, i64, String)> {
    items_of(&v["codings"])
        .iter()
        .filter(|c| c["existing"] == false)
        .map(|c| {
            (
                c["document_id"].as_i64().unwrap(),
                c["start"].as_i64().unwrap(),
                c["end"].as_i64().unwrap(),
                c["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[sqlx::test]
async fn code_all_hits_writes_exactly_the_preview_and_undo_removes_exactly_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let s = study(&api).await;
    let (p, code) = (s.p, s.code);
    // A coding made by hand stays whatever happens to the batch.
    let by_hand = api.coding(p, s.docs[1].0, code, 0, 14).await;
    let before = codings_of(&api, p, code).await;
    let body = json!({"q": "waiting list", "code_id": code, "extent": "sentence"});
    let mut dry = body.clone();
    dry["dry_run"] = json!(true);
    let preview = expect(
        api.post(&format!("/projects/{p}/search/code"), dry.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(preview["batch"], Value::Null);
    assert_eq!(preview["created"], 3);
    let want = planned(&preview);
    let texts: BTreeSet<&str> = want.iter().map(|c| c.3.as_str()).collect();
    assert_eq!(
        texts,
        BTreeSet::from([
            "😀 The waiting list was long.",
            "Waiting-List again.",
            "Carers wait too; the WAITING LIST never moves."
        ]),
        "sentences around each hit"
    );
    assert_eq!(
        codings_of(&api, p, code).await,
        before,
        "a dry run writes nothing"
    );

    let done = expect(
        api.post(&format!("/projects/{p}/search/code"), body.clone())
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(done["created"], 3);
    assert_eq!(planned(&done), want);
    let after = codings_of(&api, p, code).await;
    let added: BTreeSet<_> = after.difference(&before).cloned().collect();
    assert_eq!(added, want, "exactly the previewed codings");

    // Again: everything exists already, nothing is written.
    let again = expect(
        api.post(&format!("/projects/{p}/search/code"), body.clone())
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (&again["created"], &again["existing"]),
        (&json!(0), &json!(3))
    );
    assert_eq!(again["batch"], Value::Null);

    // Undo removes exactly the batch.
    let batch = done["batch"].as_i64().unwrap();
    let undone = expect(
        api.delete(&format!("/projects/{p}/search/batches/{batch}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(undone["removed"], 3);
    assert_eq!(codings_of(&api, p, code).await, before);
    assert!(
        before
            .iter()
            .any(|c| c.1 == by_hand["start"].as_i64().unwrap())
    );
    assert_error(
        api.delete(&format!("/projects/{p}/search/batches/{batch}"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
}

#[sqlx::test]
async fn ticked_hits_and_turn_extents_code_only_those(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let s = study(&api).await;
    let (p, code) = (s.p, s.code);
    let hits = search(&api, p, "q=wait").await;
    let ticked: Vec<Value> = items(&hits)
        .iter()
        .filter(|h| h["speaker"] == "P2" || h["speaker"] == "C1")
        .map(|h| json!({"document_id": h["document_id"], "start": h["start"], "end": h["end"]}))
        .collect();
    assert_eq!(ticked.len(), 4);
    let done = expect(
        api.post(
            &format!("/projects/{p}/search/code"),
            json!({"q": "wait", "code_id": code, "extent": "turn", "hits": ticked}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    // Two hits in each turn: one coding per turn, without its label.
    let texts: BTreeSet<String> = planned(&done).into_iter().map(|c| c.3).collect();
    assert_eq!(
        texts,
        BTreeSet::from([
            "We wait. Then we waited some more.".to_owned(),
            "Carers wait too; the WAITING LIST never moves.".to_owned()
        ])
    );
    assert_eq!(done["created"], 2);

    // A hit that is not one, an unknown code or extent, and a viewer.
    for (body, status) in [
        (
            json!({"q": "wait", "code_id": code, "hits": [{"document_id": s.docs[0].0, "start": 0, "end": 3}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"q": "wait", "code_id": 999999}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"q": "wait", "code_id": code, "extent": "page"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"q": "wait", "code": code}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let res = api.post(&format!("/projects/{p}/search/code"), body).await;
        assert!(res.status().is_client_error(), "{}", res.status());
        assert_eq!(res.status(), status);
    }
    let viewer = app.person("vic@example.org").await;
    api.add(p, &viewer, "viewer").await;
    assert_error(
        viewer
            .post(
                &format!("/projects/{p}/search/code"),
                json!({"q": "wait", "code_id": code}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A coder cannot undo another's batch; the owner can.
    let coder = app.person("cy@example.org").await;
    api.add(p, &coder, "coder").await;
    let batch = done["batch"].as_i64().unwrap();
    assert_error(
        coder
            .delete(&format!("/projects/{p}/search/batches/{batch}"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        api.delete(&format!("/projects/{p}/search/batches/424242"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[sqlx::test]
async fn the_search_page_previews_codes_and_undoes_hits(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let api = app.person("ann@example.org").await;
    let s = study(&api).await;
    let (p, code) = (s.p, s.code);
    let browser = app.signed_in("ann@example.org").await;
    let text = |res: reqwest::Response| async move {
        assert_eq!(res.status(), StatusCode::OK);
        res.text().await.unwrap()
    };
    let page = text(
        browser
            .get(app.url(&format!("/projects/{p}/search?q=wait")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("7 hits in 2 documents"), "{page}");
    assert!(page.contains("<mark>WAITING</mark>"));
    assert!(page.contains("Service user"));
    // Tick the first two hits and preview their turns.
    let values: Vec<String> = page
        .split("name=\"hit\" value=\"")
        .skip(1)
        .map(|x| x[..x.find('"').unwrap()].to_owned())
        .collect();
    assert_eq!(values.len(), 7);
    let form = vec![
        ("q", "wait".to_owned()),
        ("code_id", code.to_string()),
        ("extent", "turn".to_owned()),
        ("hit", values[0].clone()),
        ("hit", values[1].clone()),
    ];
    let preview = text(
        browser
            .post(app.url(&format!("/projects/{p}/search/code")))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        preview.contains("Code 1 passage with"),
        "both hits are in one turn: {preview}"
    );
    assert!(preview.contains("We wait. Then we waited some more."));
    assert!(
        codings_of(&api, p, code).await.is_empty(),
        "a preview writes nothing"
    );
    let mut confirm = form.clone();
    confirm.push(("confirm", "1".into()));
    let res = browser
        .post(app.url(&format!("/projects/{p}/search/code")))
        .form(&confirm)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(to.contains("batch="), "{to}");
    let coded = codings_of(&api, p, code).await;
    assert_eq!(coded.len(), 1);
    assert_eq!(
        coded.iter().next().unwrap().3,
        "We wait. Then we waited some more."
    );
    let page = text(browser.get(app.url(&to)).send().await.unwrap()).await;
    assert!(page.contains("Coded 1 passage with “Waiting”."), "{page}");
    let undo = page
        .split("action=\"")
        .find(|x| x.contains("/undo\""))
        .map(|x| x[..x.find('"').unwrap()].to_owned())
        .expect("an Undo form");
    let res = browser
        .post(app.url(&undo))
        .form(&[("q", "wait")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(codings_of(&api, p, code).await.is_empty(), "undone");
    // A bad search says why on the page.
    let page = text(
        browser
            .get(app.url(&format!("/projects/{p}/search?q=the")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.contains("common words"), "{page}");
}
