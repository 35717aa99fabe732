//! The codebook, codings and memos through the JSON API: code-point ranges
//! over accented, emoji and CJK text, filters, permissions, merges, the
//! trash, CSV import/export, edit conflicts, the coding page's feed, and
//! coders working at once.

use crate::helpers::{Api, TestApp, assert_error, expect, id, items};
use futures_util::future::join_all;
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};

// ---- helpers ---------------------------------------------------------------

/// The code points `[start, end)` of `text`, as the API promises to count them.
fn slice(text: &str, start: i64, end: i64) -> String {
    text.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

/// The code-point index where `needle` first begins in `text`.
fn at(text: &str, needle: &str) -> i64 {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text:?}"));
    text[..byte].chars().count() as i64
}

fn len(text: &str) -> i64 {
    text.chars().count() as i64
}

/// The coding list with a query string (`""` for all).
async fn codings(api: &Api, p: ProjectId, query: &str) -> Value {
    let limit = if query.contains("limit=") {
        ""
    } else {
        "limit=1000&"
    };
    expect(
        api.get(&format!("/projects/{p}/codings?{limit}{query}"))
            .await,
        StatusCode::OK,
    )
    .await
}

fn ids(list: &Value) -> BTreeSet<i64> {
    list["items"].as_array().unwrap().iter().map(id).collect()
}

async fn tree(api: &Api, p: ProjectId) -> Vec<Value> {
    let body = expect(
        api.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["total"], body["items"].as_array().unwrap().len());
    body["items"].as_array().unwrap().clone()
}

fn by_path<'a>(tree: &'a [Value], path: &str) -> Option<&'a Value> {
    tree.iter().find(|c| c["path"] == path)
}

/// Codings rows in the database, whatever the API shows.
async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar::<_, i64>("select count(*) from coding")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

fn user_id(api: &Api) -> i64 {
    api.user.as_ref().unwrap().id.0
}

/// Every listed coding's `text` is its range of `text`.
fn check_texts(list: &Value, text: &str) {
    for c in list["items"].as_array().unwrap() {
        assert_eq!(
            c["text"].as_str().unwrap(),
            slice(
                text,
                c["start"].as_i64().unwrap(),
                c["end"].as_i64().unwrap()
            ),
            "{c}"
        );
    }
}

// ---- 1. text round trip ----------------------------------------------------

#[sqlx::test]
async fn codings_cover_code_points_of_accented_emoji_and_cjk_text(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    // "cafe\u{301}" is decomposed on the way in; the server keeps NFC.
    let raw = "Interviewer: Ça va?\nP01: Je suis très 😀 contente, naïve 👩\u{200d}👩\u{200d}👧 cafe\u{301}\nP02: 我很高兴，谢谢。🇫🇷 fin\n";
    let (doc, text) = owner.document(p, "Unicode", raw).await;
    assert!(text.contains("café"), "normalised to NFC: {text:?}");
    let theme = owner.code(p, "Feelings 😀", None).await;

    let family = "👩\u{200d}👩\u{200d}👧";
    let ranges = [
        (at(&text, "😀"), at(&text, "😀") + 1),
        (at(&text, family), at(&text, family) + 5),
        // Half a ZWJ sequence is still a range of code points.
        (at(&text, family), at(&text, family) + 2),
        (at(&text, "très"), at(&text, " café") + 5),
        (at(&text, "我"), at(&text, "我") + 4),
        (at(&text, "🇫🇷"), at(&text, "🇫🇷") + 2),
        (at(&text, "café"), at(&text, "café") + 4),
        (0, len(&text)),
        (len(&text) - 1, len(&text)),
    ];
    let mut made = Vec::new();
    for (start, end) in ranges {
        let c = owner.coding(p, doc, theme, start, end).await;
        let want = slice(&text, start, end);
        assert_eq!(c["text"].as_str().unwrap(), want, "[{start}, {end})");
        assert_eq!(c["start"], start);
        assert_eq!(c["end"], end);
        assert_eq!(c["code_name"], "Feelings 😀");
        assert_eq!(c["document_title"], "Unicode");
        assert_eq!(c["coder"], user_id(&owner));
        made.push((id(&c), want));
    }
    assert_eq!(made[0].1, "😀");
    assert_eq!(made[1].1, family);
    assert_eq!(made[4].1, "我很高兴");
    assert_eq!(made[5].1, "🇫🇷");
    assert_eq!(made[6].1, "café");
    assert_eq!(made[7].1, text);
    assert_eq!(
        made[8].1, "n",
        "the last code point (the final line break is trimmed)"
    );

    // The same texts come back from one coding, the list, and the feed.
    for (c, want) in &made {
        let got = expect(
            owner.get(&format!("/projects/{p}/codings/{c}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(got["text"].as_str().unwrap(), want);
    }
    let list = codings(&owner, p, "").await;
    assert_eq!(list["total"], ranges.len());
    check_texts(&list, &text);
    let feed = expect(
        owner
            .get(&format!("/projects/{p}/documents/{doc}/codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    let feed_ranges: BTreeSet<(i64, i64)> = feed["codings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["start"].as_i64().unwrap(), c["end"].as_i64().unwrap()))
        .collect();
    assert_eq!(feed_ranges, ranges.iter().copied().collect());

    // One past the end is refused; moving a range keeps counting code points.
    assert_error(
        owner.apply(p, doc, theme, 0, len(&text) + 1).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let (c, _) = &made[0];
    let start = at(&text, "谢谢");
    let moved = expect(
        owner
            .patch(
                &format!("/projects/{p}/codings/{c}"),
                json!({"start": start, "end": start + 2}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moved["text"], "谢谢");
}

// ---- 2. nesting, overlaps, filters -----------------------------------------

/// A coding as made: (document, code, coder, start).
type Made = (i64, i64, i64, i64);

#[sqlx::test]
async fn nested_and_overlapping_codings_are_all_listed_and_filtered(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let (d1, t1) = owner.document(p,
        "One",
        "Interviewer: How safe did you feel?\nP01: Safe on the ward, but scared at night, no privacy at all.\n",
    )
    .await;
    let (d2, t2) = owner
        .document(p, "Two", "I: And you?\nP02: Never safe. 🙁\n")
        .await;
    let safety = owner.code(p, "Safety", None).await;
    let fear = owner.code(p, "Fear", Some(safety)).await;
    let night = owner.code(p, "Night", Some(fear)).await;
    let privacy = owner.code(p, "Privacy", None).await;

    let s = at(&t1, "Safe on");
    let e = at(&t1, "at all.") + 7;
    let scared = at(&t1, "scared");
    let mut expected: BTreeMap<i64, Made> = BTreeMap::new();
    for (api, d, c, start, end) in [
        (&owner, d1, safety, s, e),                      // whole answer
        (&owner, d1, fear, s, e),                        // same range, another code
        (&coder, d1, safety, s, e),                      // same range and code, another coder
        (&owner, d1, fear, scared, scared + 6),          // nested inside
        (&coder, d1, night, scared, e - 10),             // overlapping the nested one
        (&owner, d1, privacy, at(&t1, "no privacy"), e), // overlapping the end
        (&coder, d2, fear, at(&t2, "Never"), len(&t2) - 1),
    ] {
        let made = api.coding(p, d, c, start, end).await;
        expected.insert(id(&made), (d, c, user_id(api), start));
    }
    let texts = |d: i64| if d == d1 { &t1 } else { &t2 };

    let all = codings(&owner, p, "").await;
    assert_eq!(all["total"], 7);
    assert_eq!(ids(&all), expected.keys().copied().collect());
    for c in all["items"].as_array().unwrap() {
        let (d, code_id, coder_id, start) = expected[&id(c)];
        assert_eq!(c["document_id"], d);
        assert_eq!(c["code_id"], code_id);
        assert_eq!(c["coder"], coder_id);
        assert_eq!(c["start"], start);
        assert_eq!(
            c["text"].as_str().unwrap(),
            slice(texts(d), start, c["end"].as_i64().unwrap())
        );
    }

    let select = |f: &dyn Fn(&Made) -> bool| -> BTreeSet<i64> {
        expected
            .iter()
            .filter(|(_, v)| f(v))
            .map(|(k, _)| *k)
            .collect()
    };
    let cases: Vec<(String, BTreeSet<i64>)> = vec![
        (format!("code_id={safety}"), select(&|v| v.1 == safety)),
        (
            format!("code_id={safety}&include_subcodes=true"),
            select(&|v| [safety, fear, night].contains(&v.1)),
        ),
        (
            format!("code_id={fear}&include_subcodes=true"),
            select(&|v| [fear, night].contains(&v.1)),
        ),
        (format!("code_id={fear}"), select(&|v| v.1 == fear)),
        (format!("document_id={d2}"), select(&|v| v.0 == d2)),
        (
            format!("coder={}", user_id(&coder)),
            select(&|v| v.2 == user_id(&coder)),
        ),
        (
            format!(
                "coder={}&document_id={d1}&code_id={safety}&include_subcodes=true",
                user_id(&coder)
            ),
            select(&|v| {
                v.2 == user_id(&coder) && v.0 == d1 && [safety, fear, night].contains(&v.1)
            }),
        ),
    ];
    for (query, want) in cases {
        let got = codings(&owner, p, &query).await;
        assert_eq!(ids(&got), want, "{query}");
        assert_eq!(got["total"], want.len(), "{query}");
    }

    // A document's list alone has a query of its own: it answers the same
    // items, field by field, as the general query (run here by a filter
    // that keeps them all), and pages the same way.
    for d in [d1, d2] {
        let own = codings(&owner, p, &format!("document_id={d}")).await;
        let general = codings(&owner, p, &format!("document_id={d}&starred=false")).await;
        assert!(own["total"].as_i64().unwrap() > 0);
        assert_eq!(own, general, "document {d}");
    }
    let own = codings(&owner, p, &format!("document_id={d1}&limit=2&offset=1")).await;
    let general = codings(
        &owner,
        p,
        &format!("document_id={d1}&starred=false&limit=2&offset=1"),
    )
    .await;
    assert_eq!(
        (own["total"].clone(), own["items"].as_array().unwrap().len()),
        (json!(6), 2)
    );
    assert_eq!(own, general);

    // Paging keeps the total.
    let page = codings(&owner, p, "limit=2&offset=2").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["total"], 7);
    let past = expect(
        owner.get(&format!("/projects/{p}/codings?offset=50")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(past["items"].as_array().unwrap().len(), 0);
    assert_eq!(past["total"], 7);

    // The same code on the same range by the same coder is answered, not added.
    let again = expect(owner.apply(p, d1, safety, s, e).await, StatusCode::OK).await;
    assert_eq!(again["id"], *expected.keys().next().unwrap());
    assert_eq!(stored(&app).await, 7);

    // The codebook counts each code's own codings.
    let codes = tree(&owner, p).await;
    let count = |path: &str| by_path(&codes, path).unwrap()["codings"].as_i64().unwrap();
    assert_eq!(count("Safety"), 2);
    assert_eq!(count("Safety / Fear"), 3);
    assert_eq!(count("Safety / Fear / Night"), 1);
    assert_eq!(count("Privacy"), 1);
    assert_eq!(
        by_path(&codes, "Safety / Fear / Night").unwrap()["depth"],
        2
    );
}

// ---- 3. bad requests write nothing -----------------------------------------

#[sqlx::test]
async fn bad_ranges_and_foreign_or_trashed_codes_are_refused_and_write_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let other = owner.project("Other study").await;
    let (doc, text) = owner.document(p, "T", "I: Hello?\nP1: Hé 😀 there\n").await;
    let (foreign_doc, _) = owner.document(other, "F", "I: x\nP9: y\n").await;
    let theme = owner.code(p, "Theme", None).await;
    let foreign_code = owner.code(other, "Theme", None).await;
    let binned = owner.code(p, "Binned", None).await;
    let n = len(&text);
    owner.coding(p, doc, theme, 0, 2).await;
    expect(
        owner.delete(&format!("/projects/{p}/codes/{binned}")).await,
        StatusCode::OK,
    )
    .await;

    let bad: Vec<(&str, Value)> = vec![
        (
            "negative start",
            json!({"document_id": doc, "code_id": theme, "start": -1, "end": 3}),
        ),
        (
            "negative both",
            json!({"document_id": doc, "code_id": theme, "start": -5, "end": -1}),
        ),
        (
            "empty",
            json!({"document_id": doc, "code_id": theme, "start": 2, "end": 2}),
        ),
        (
            "backwards",
            json!({"document_id": doc, "code_id": theme, "start": 5, "end": 2}),
        ),
        (
            "past the end",
            json!({"document_id": doc, "code_id": theme, "start": 0, "end": n + 1}),
        ),
        (
            "starts at the end",
            json!({"document_id": doc, "code_id": theme, "start": n, "end": n + 1}),
        ),
        (
            "huge",
            json!({"document_id": doc, "code_id": theme, "start": 0, "end": 1_i64 << 40}),
        ),
        (
            "i32 wrap",
            json!({"document_id": doc, "code_id": theme, "start": 0, "end": (1_i64 << 32) + 3}),
        ),
        (
            "max",
            json!({"document_id": doc, "code_id": theme, "start": i64::MAX - 1, "end": i64::MAX}),
        ),
        (
            "beyond i64",
            json!({"document_id": doc, "code_id": theme, "start": 0, "end": 1e30}),
        ),
        (
            "fraction",
            json!({"document_id": doc, "code_id": theme, "start": 0.5, "end": 2}),
        ),
        (
            "string",
            json!({"document_id": doc, "code_id": theme, "start": "0", "end": 2}),
        ),
        (
            "missing end",
            json!({"document_id": doc, "code_id": theme, "start": 0}),
        ),
        (
            "foreign code",
            json!({"document_id": doc, "code_id": foreign_code, "start": 0, "end": 2}),
        ),
        (
            "foreign document",
            json!({"document_id": foreign_doc, "code_id": theme, "start": 0, "end": 2}),
        ),
        (
            "no such code",
            json!({"document_id": doc, "code_id": 999_999, "start": 0, "end": 2}),
        ),
        (
            "no such document",
            json!({"document_id": 999_999, "code_id": theme, "start": 0, "end": 2}),
        ),
        (
            "trashed code",
            json!({"document_id": doc, "code_id": binned, "start": 0, "end": 2}),
        ),
    ];
    for (what, body) in bad {
        let res = owner.post(&format!("/projects/{p}/codings"), body).await;
        let status = res.status();
        assert!(status.is_client_error(), "{what}: {status}");
        assert_error(res, status).await;
        assert_eq!(stored(&app).await, 1, "{what} wrote a coding");
    }
    // A foreign or trashed code is named in the error.
    let msg = assert_error(
        owner.apply(p, doc, binned, 0, 2).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(msg.contains("trash"), "{msg}");
    assert_eq!(codings(&owner, p, "").await["total"], 1);
    assert_eq!(codings(&owner, other, "").await["total"], 0);

    // Changing a coding is checked the same way.
    let c = id(&codings(&owner, p, "").await["items"][0]);
    for body in [
        json!({"start": 3, "end": 3}),
        json!({"start": -1, "end": 3}),
        json!({"start": 0, "end": n + 1}),
        json!({"start": 1}),
        json!({"code_id": foreign_code}),
        json!({"code_id": binned}),
    ] {
        let res = owner
            .patch(&format!("/projects/{p}/codings/{c}"), body.clone())
            .await;
        let status = res.status();
        assert!(status.is_client_error(), "{body}: {status}");
        assert_error(res, status).await;
    }
    let still = expect(
        owner.get(&format!("/projects/{p}/codings/{c}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (still["start"].as_i64(), still["end"].as_i64()),
        (Some(0), Some(2))
    );
    assert_eq!(still["code_id"], theme);
    // A coding of another project is not found through this one.
    assert_error(
        owner.get(&format!("/projects/{other}/codings/{c}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Nor is another project's document, or its codings, though the same
    // person owns both (the coding page's feed reads by the document's key
    // and checks its project).
    owner.coding(other, foreign_doc, foreign_code, 0, 2).await;
    assert_error(
        owner
            .get(&format!("/projects/{p}/documents/{foreign_doc}/codings"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let listed = expect(
        owner
            .get(&format!("/projects/{p}/codings?document_id={foreign_doc}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["total"], 0, "{listed}");
    let own = expect(
        owner
            .get(&format!(
                "/projects/{other}/documents/{foreign_doc}/codings"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(own["codings"].as_array().unwrap().len(), 1);
}

// ---- 4. roles ---------------------------------------------------------------

#[sqlx::test]
async fn viewers_cannot_code_and_outsiders_see_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    let coder = app.person("coder@example.org").await;
    let outsider = app.person("outsider@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &viewer, "viewer").await;
    owner.add(p, &coder, "coder").await;
    let (doc, _) = owner.document(p, "T", "I: Hello?\nP1: Hi there\n").await;
    let theme = owner.code(p, "Theme", None).await;
    let other = owner.code(p, "Other", None).await;
    let c = id(&owner.coding(p, doc, theme, 0, 5).await);

    let forbidden = [
        viewer
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc, "code_id": theme, "start": 1, "end": 4}),
            )
            .await,
        // What a coding's own checks would say comes second to the refusal
        // (they are read alongside the access check).
        viewer
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc, "code_id": theme, "start": 4, "end": 1}),
            )
            .await,
        viewer
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": 999_999, "code_id": theme, "start": 1, "end": 4}),
            )
            .await,
        viewer
            .patch(
                &format!("/projects/{p}/codings/{c}"),
                json!({"memo": "mine"}),
            )
            .await,
        viewer
            .patch(
                &format!("/projects/{p}/codings/{c}"),
                json!({"starred": true}),
            )
            .await,
        viewer.delete(&format!("/projects/{p}/codings/{c}")).await,
        viewer
            .post(&format!("/projects/{p}/codes"), json!({"name": "Viewer's"}))
            .await,
        viewer
            .patch(
                &format!("/projects/{p}/codes/{theme}"),
                json!({"name": "Renamed"}),
            )
            .await,
        viewer.delete(&format!("/projects/{p}/codes/{theme}")).await,
        viewer
            .post(
                &format!("/projects/{p}/codes/{theme}/merge"),
                json!({"into": other}),
            )
            .await,
        viewer
            .raw_post(
                &format!("/projects/{p}/codes/import"),
                "text/csv",
                "path\nX\n",
            )
            .await,
        viewer
            .client
            .put(format!("{}/projects/{p}/memo", viewer.base))
            .bearer_auth(viewer.token.as_ref().unwrap())
            .json(&json!({"memo": "no"}))
            .send()
            .await
            .unwrap(),
    ];
    for res in forbidden {
        assert_error(res, StatusCode::FORBIDDEN).await;
    }
    // Viewers read.
    assert_eq!(codings(&viewer, p, "").await["total"], 1);
    assert_eq!(tree(&viewer, p).await.len(), 2);

    let hidden = [
        outsider.get(&format!("/projects/{p}/codings")).await,
        outsider.get(&format!("/projects/{p}/codings/{c}")).await,
        outsider.get(&format!("/projects/{p}/codes")).await,
        outsider.get(&format!("/projects/{p}/memos")).await,
        outsider
            .get(&format!("/projects/{p}/documents/{doc}/codings"))
            .await,
        outsider
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc, "code_id": theme, "start": 1, "end": 4}),
            )
            .await,
        outsider
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": 999_999, "code_id": theme, "start": 4, "end": 1}),
            )
            .await,
        outsider
            .post(&format!("/projects/{p}/codes"), json!({"name": "Mine"}))
            .await,
        outsider.delete(&format!("/projects/{p}/codings/{c}")).await,
        outsider
            .get(&format!("/projects/{p}/documents/{doc}"))
            .await,
        outsider
            .get(&format!("/projects/{p}/exports/codebook.csv?bom=perhaps"))
            .await,
        outsider
            .get(&format!("/projects/{p}/exports/codebook.qdc"))
            .await,
        outsider
            .get(&format!("/projects/{p}/codings?document_id={doc}"))
            .await,
        // A bad page is not reported to someone who may not see the list.
        outsider
            .get(&format!("/projects/{p}/codings?document_id={doc}&limit=0"))
            .await,
    ];
    for res in hidden {
        assert_error(res, StatusCode::NOT_FOUND).await;
    }
    assert_error(
        app.anonymous().get(&format!("/projects/{p}/codings")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    // Another coder may star the owner's coding but not change or delete it.
    let starred = expect(
        coder
            .patch(
                &format!("/projects/{p}/codings/{c}"),
                json!({"starred": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(starred["starred"], true);
    for body in [
        json!({"memo": "mine now"}),
        json!({"start": 1, "end": 3}),
        json!({"code_id": other}),
        json!({"starred": false, "memo": "sneaky"}),
    ] {
        assert_error(
            coder
                .patch(&format!("/projects/{p}/codings/{c}"), body)
                .await,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    assert_error(
        coder.delete(&format!("/projects/{p}/codings/{c}")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let unchanged = expect(
        owner.get(&format!("/projects/{p}/codings/{c}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(unchanged["memo"], "");
    assert_eq!(unchanged["starred"], true);
    assert_eq!(unchanged["code_id"], theme);

    // An owner may change and delete a coder's coding.
    let theirs = id(&coder.coding(p, doc, theme, 2, 6).await);
    expect(
        owner
            .patch(
                &format!("/projects/{p}/codings/{theirs}"),
                json!({"memo": "checked"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let res = owner
        .delete(&format!("/projects/{p}/codings/{theirs}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_error(
        owner.get(&format!("/projects/{p}/codings/{theirs}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // And a coder deletes their own.
    let own = id(&coder.coding(p, doc, other, 2, 6).await);
    assert_eq!(
        coder
            .delete(&format!("/projects/{p}/codings/{own}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(stored(&app).await, 1);
}

// ---- 5. merge ---------------------------------------------------------------

#[sqlx::test]
async fn merging_keeps_every_coding_and_merges_same_named_children(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let (doc, text) = owner
        .document(
            p,
            "T",
            &format!("I: Go on.\nP1: {}\n", "lorem ipsum ".repeat(10)),
        )
        .await;
    let a = owner.code(p, "A", None).await;
    let a1 = owner.code(p, "A1", Some(a)).await;
    let a1_deep = owner.code(p, "Deep", Some(a1)).await;
    let a2 = owner.code(p, "A2", Some(a)).await;
    let b = owner.code(p, "B", None).await;
    let b_a1 = owner.code(p, "a1", Some(b)).await; // same name, other case
    let b_deep = owner.code(p, "Deep", Some(b_a1)).await;
    let b_solo = owner.code(p, "Solo", Some(b)).await;
    expect(
        owner
            .patch(
                &format!("/projects/{p}/codes/{a}"),
                json!({"memo": "Memo of A", "definition": "A's definition"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    let plan = [
        (a, 2),
        (a1, 3),
        (a1_deep, 1),
        (a2, 1),
        (b, 1),
        (b_a1, 2),
        (b_deep, 1),
        (b_solo, 1),
    ];
    let mut all = BTreeSet::new();
    let mut start = 10;
    for (c, n) in plan {
        for _ in 0..n {
            all.insert(id(&owner.coding(p, doc, c, start, start + 3).await));
            start += 2;
        }
    }
    let before = all.len();
    assert_eq!(before, 12);

    // Refused merges change nothing.
    for (from, into) in [(a, a), (a, a1), (a, a1_deep)] {
        assert_error(
            owner
                .post(
                    &format!("/projects/{p}/codes/{from}/merge"),
                    json!({"into": into}),
                )
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    assert_error(
        owner
            .post(
                &format!("/projects/{p}/codes/{a}/merge"),
                json!({"into": 999_999}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(tree(&owner, p).await.len(), 8);

    let merged = expect(
        owner
            .post(
                &format!("/projects/{p}/codes/{a}/merge"),
                json!({"into": b}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(merged["id"], b);
    assert!(
        merged["memo"].as_str().unwrap().contains("Memo of A"),
        "{merged}"
    );
    assert_eq!(merged["definition"], "A's definition");

    let codes = tree(&owner, p).await;
    let paths: Vec<&str> = codes.iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        ["B", "B / a1", "B / a1 / Deep", "B / Solo", "B / A2"],
        "{paths:?}"
    );
    assert_error(
        owner.get(&format!("/projects/{p}/codes/{a}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let count = |path: &str| by_path(&codes, path).unwrap()["codings"].as_i64().unwrap();
    assert_eq!(count("B"), 3);
    assert_eq!(count("B / a1"), 5);
    assert_eq!(count("B / a1 / Deep"), 2);
    assert_eq!(count("B / A2"), 1);
    assert_eq!(by_path(&codes, "B / A2").unwrap()["id"], a2);

    let branch = codings(&owner, p, &format!("code_id={b}&include_subcodes=true")).await;
    assert_eq!(branch["total"], before);
    assert_eq!(ids(&branch), all);
    check_texts(&branch, &text);
    assert_eq!(stored(&app).await, before as i64);
}

#[sqlx::test]
async fn a_merge_counts_a_passage_coded_with_both_codes_by_one_coder_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let (doc, _) = owner
        .document(p, "T", "I: Go on.\nP1: the same passage twice\n")
        .await;
    let a = owner.code(p, "A", None).await;
    let b = owner.code(p, "B", None).await;
    let child = owner.code(p, "Child", Some(a)).await;
    // The owner coded one passage with both; the coder with A only.
    let on_a = id(&owner.coding(p, doc, a, 14, 20).await);
    let on_b = id(&owner.coding(p, doc, b, 14, 20).await);
    let theirs = id(&coder.coding(p, doc, a, 14, 20).await);
    let on_child = id(&owner.coding(p, doc, child, 14, 20).await);
    expect(
        owner
            .patch(
                &format!("/projects/{p}/codings/{on_a}"),
                json!({"memo": "Said twice", "starred": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // Moving one onto the other by hand is refused rather than doubled.
    assert_error(
        owner
            .patch(
                &format!("/projects/{p}/codings/{on_a}"),
                json!({"code_id": b}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        owner
            .patch(
                &format!("/projects/{p}/codings/{on_child}"),
                json!({"code_id": a}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;

    expect(
        owner
            .post(
                &format!("/projects/{p}/codes/{a}/merge"),
                json!({"into": b}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let on = codings(&owner, p, &format!("code_id={b}")).await;
    assert_eq!(ids(&on), BTreeSet::from([on_b, theirs]));
    let kept = on["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| id(c) == on_b)
        .unwrap();
    assert_eq!(kept["memo"], "Said twice");
    assert_eq!(kept["starred"], true);
    assert_error(
        owner.get(&format!("/projects/{p}/codings/{on_a}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let codes = tree(&owner, p).await;
    assert_eq!(by_path(&codes, "B").unwrap()["codings"], 2);
    assert_eq!(by_path(&codes, "B / Child").unwrap()["codings"], 1);

    // A sub-code merged into its own parent.
    expect(
        owner
            .post(
                &format!("/projects/{p}/codes/{child}/merge"),
                json!({"into": b}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let codes = tree(&owner, p).await;
    assert_eq!(codes.len(), 1);
    assert_eq!(
        codes[0]["codings"], 2,
        "the child's coding duplicated the owner's on B"
    );
    assert_eq!(stored(&app).await, 2);
    // One code's answer counts its own codings as the tree does.
    let one = expect(
        owner.get(&format!("/projects/{p}/codes/{b}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(one["codings"], codes[0]["codings"]);
    assert_eq!(one["path"], codes[0]["path"]);
}

// ---- 6. trash ---------------------------------------------------------------

#[sqlx::test]
async fn deleted_codes_go_to_the_trash_with_their_codings_and_come_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let (doc, _) = owner
        .document(p, "T", "I: Go on.\nP1: one two three four five six seven\n")
        .await;
    let keep = owner.code(p, "Keep", None).await;
    let t = owner.code(p, "Trash me", Some(keep)).await;
    let t1 = owner.code(p, "Child", Some(t)).await;
    let t1a = owner.code(p, "Grandchild", Some(t1)).await;
    let kept = id(&owner.coding(p, doc, keep, 0, 4).await);
    let mut gone = BTreeSet::new();
    for (c, s) in [(t, 10), (t1, 12), (t1, 14), (t1a, 16)] {
        gone.insert(id(&coder.coding(p, doc, c, s, s + 3).await));
    }

    let footprint = expect(
        coder.delete(&format!("/projects/{p}/codes/{t}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(footprint["codes"], 3);
    assert_eq!(footprint["codings"], 4);
    let listed = codings(&owner, p, "").await;
    assert_eq!(ids(&listed), BTreeSet::from([kept]));
    assert_eq!(listed["total"], 1);
    let feed = expect(
        owner
            .get(&format!("/projects/{p}/documents/{doc}/codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(feed["codings"].as_array().unwrap().len(), 1);
    for c in &gone {
        assert_error(
            owner.get(&format!("/projects/{p}/codings/{c}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    assert_eq!(tree(&owner, p).await.len(), 1);
    for c in [t, t1, t1a] {
        assert_error(
            owner.get(&format!("/projects/{p}/codes/{c}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_error(
            owner.apply(p, doc, c, 0, 3).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let trash = expect(
        owner.get(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trash["total"], 1);
    assert_eq!(trash["items"][0]["id"], t);
    assert_eq!(trash["items"][0]["name"], "Trash me");
    assert_eq!(trash["items"][0]["codes"], 3);
    assert_eq!(trash["items"][0]["codings"], 4);
    assert_eq!(trash["items"][0]["parent_path"], "Keep");

    // Restore brings back the branch, in place, with the same codings.
    let restored = expect(
        coder
            .post(&format!("/projects/{p}/codes/{t}/restore"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(restored["codes"], 3);
    assert_eq!(restored["codings"], 4);
    assert_eq!(restored["moved_to_top"], false);
    let codes = tree(&owner, p).await;
    assert!(
        by_path(&codes, "Keep / Trash me / Child / Grandchild").is_some(),
        "{codes:?}"
    );
    let listed = codings(&owner, p, "").await;
    let mut all = gone.clone();
    all.insert(kept);
    assert_eq!(ids(&listed), all);
    let trash = expect(
        owner.get(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trash["total"], 0);

    // A sub-code deleted on its own is a trash item of its own.
    let footprint = expect(
        owner.delete(&format!("/projects/{p}/codes/{t1a}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        (footprint["codes"].as_i64(), footprint["codings"].as_i64()),
        (Some(1), Some(1))
    );
    expect(
        owner.delete(&format!("/projects/{p}/codes/{t}")).await,
        StatusCode::OK,
    )
    .await;
    let trash = expect(
        owner.get(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trash["total"], 2);

    // Only owners empty the trash; then it is gone for good.
    assert_error(
        coder.delete(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(stored(&app).await, 5);
    let emptied = expect(
        owner.delete(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emptied["codes"], 3);
    assert_eq!(emptied["codings"], 4);
    assert_eq!(stored(&app).await, 1);
    let trash = expect(
        owner.get(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(trash["total"], 0);
    assert_error(
        owner
            .post(&format!("/projects/{p}/codes/{t}/restore"), json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(tree(&owner, p).await.len(), 1);
}

#[sqlx::test]
async fn a_restored_code_whose_name_was_taken_is_renamed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let old = owner.code(p, "Safety", None).await;
    expect(
        owner.delete(&format!("/projects/{p}/codes/{old}")).await,
        StatusCode::OK,
    )
    .await;
    owner.code(p, "safety", None).await;
    let restored = expect(
        owner
            .post(&format!("/projects/{p}/codes/{old}/restore"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(restored["name"], "Safety (restored)");
    let names: Vec<Value> = tree(&owner, p)
        .await
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert_eq!(names, [json!("safety"), json!("Safety (restored)")]);
}

// ---- 7. concurrency ---------------------------------------------------------

#[sqlx::test]
async fn four_coders_coding_one_document_at_once_lose_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let mut coders = Vec::new();
    for i in 0..4 {
        let c = app.person(&format!("coder{i}@example.org")).await;
        owner.add(p, &c, "coder").await;
        coders.push(c);
    }
    let (doc, text) = owner
        .document(
            p,
            "T",
            &format!("I: Go on.\nP1: {}\n", "Ça 😀 va ".repeat(20)),
        )
        .await;
    let theme = owner.code(p, "Theme", None).await;

    let work = coders.iter().enumerate().flat_map(|(k, api)| {
        (0..25).map(move |i| async move {
            let start = i as i64 * 3;
            let end = start + 1 + k as i64;
            let res = api.apply(p, doc, theme, start, end).await;
            (user_id(api), expect(res, StatusCode::CREATED).await)
        })
    });
    let made = join_all(work).await;
    assert_eq!(made.len(), 100);

    let list = codings(&owner, p, &format!("document_id={doc}")).await;
    assert_eq!(list["total"], 100);
    check_texts(&list, &text);
    let made_ids: BTreeSet<i64> = made.iter().map(|(_, c)| id(c)).collect();
    assert_eq!(ids(&list), made_ids);
    for (k, api) in coders.iter().enumerate() {
        let mine = codings(&owner, p, &format!("coder={}", user_id(api))).await;
        assert_eq!(mine["total"], 25);
        for c in mine["items"].as_array().unwrap() {
            assert_eq!(
                c["end"].as_i64().unwrap() - c["start"].as_i64().unwrap(),
                1 + k as i64
            );
            assert_eq!(c["coder_name"], format!("coder{k}"));
        }
    }
    assert_eq!(stored(&app).await, 100);
    let feed = expect(
        owner
            .get(&format!("/projects/{p}/documents/{doc}/codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(feed["codings"].as_array().unwrap().len(), 100);
}

#[sqlx::test]
async fn the_same_coding_sent_twice_at_once_is_stored_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let (doc, _) = owner
        .document(p, "T", "I: Go on.\nP1: a double click\n")
        .await;
    let theme = owner.code(p, "Theme", None).await;
    let answers = join_all((0..20).map(|_| owner.apply(p, doc, theme, 3, 9))).await;
    let mut seen = BTreeSet::new();
    let mut created = 0;
    for res in answers {
        let status = res.status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::OK,
            "{status}"
        );
        created += usize::from(status == StatusCode::CREATED);
        seen.insert(id(&res.json::<Value>().await.unwrap()));
    }
    assert_eq!(created, 1);
    assert_eq!(seen.len(), 1);
    assert_eq!(stored(&app).await, 1);
}

#[sqlx::test]
async fn a_merge_while_coders_are_coding_loses_no_acknowledged_coding(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let mut coders = Vec::new();
    for i in 0..4 {
        let c = app.person(&format!("coder{i}@example.org")).await;
        owner.add(p, &c, "coder").await;
        coders.push(c);
    }
    let (doc, _) = owner
        .document(p, "T", &format!("I: Go on.\nP1: {}\n", "words ".repeat(40)))
        .await;
    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    // The race is narrow: run it a few times, with fresh codes each round.
    for round in 0..5 {
        let m = owner.code(p, &format!("M{round}"), None).await;
        let m1 = owner.code(p, "Twin", Some(m)).await;
        let m2 = owner.code(p, "Only in M", Some(m)).await;
        let n = owner.code(p, &format!("N{round}"), None).await;
        let n1 = owner.code(p, "Twin", Some(n)).await;
        // Mostly the twin sub-code, whose codings move to N's twin.
        let targets = [m1, m, m1, m2, m1, n, n1];

        // Each coder codes on until a few codings after the merge, so that
        // codings land before, during and after it whatever its pace.
        let done = std::sync::atomic::AtomicBool::new(false);
        let done = &done;
        let work = coders.iter().enumerate().map(|(k, api)| async move {
            let mut out = Vec::new();
            let mut after = 0;
            for i in 0..50usize {
                if done.load(std::sync::atomic::Ordering::Acquire) {
                    after += 1;
                    if after > 8 {
                        break;
                    }
                }
                let c = targets[(i + k) % targets.len()];
                let start = i as i64 * 4 + k as i64;
                let res = api.apply(p, doc, c, start, start + 2 + round).await;
                let status = res.status();
                let body: Value = res.json().await.unwrap();
                out.push((status, body));
            }
            out
        });
        let merge = async {
            tokio::time::sleep(std::time::Duration::from_millis(10 + 3 * round as u64)).await;
            let res = owner
                .post(
                    &format!("/projects/{p}/codes/{m}/merge"),
                    json!({"into": n}),
                )
                .await;
            done.store(true, std::sync::atomic::Ordering::Release);
            res
        };
        let (results, merged) = tokio::join!(join_all(work), merge);
        let results: Vec<(StatusCode, Value)> = results.into_iter().flatten().collect();
        assert_eq!(
            merged.status(),
            StatusCode::OK,
            "{}",
            merged.text().await.unwrap()
        );
        for (status, body) in &results {
            if status.is_success() {
                acknowledged.insert(id(body));
            } else {
                // Only a code that has just gone may be refused, and clearly.
                assert_eq!(*status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                assert!(body["error"].as_str().unwrap().contains("code"), "{body}");
                refused += 1;
            }
        }
        let paths: Vec<Value> = tree(&owner, p)
            .await
            .iter()
            .filter(|c| {
                c["path"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("N{round}"))
            })
            .map(|c| c["path"].clone())
            .collect();
        let top = format!("N{round}");
        assert_eq!(
            paths,
            [
                json!(top),
                json!(format!("{top} / Twin")),
                json!(format!("{top} / Only in M"))
            ]
        );
        assert!(by_path(&tree(&owner, p).await, &format!("M{round}")).is_none());
    }
    // Both outcomes must have happened often, or the race was not run:
    // codings acknowledged around the merge, and codings refused because
    // their code had just gone (a coding is one statement, so the merge
    // waits for no coder's transaction). How many land before the merge
    // depends on the machine's pace; the eight after it each round give
    // at least ~45 acknowledged and ~100 refused.
    assert!(
        acknowledged.len() > 40 && refused > 20,
        "{} acknowledged, {refused} refused",
        acknowledged.len()
    );
    let listed = ids(&codings(&owner, p, "").await);
    let lost: Vec<&i64> = acknowledged.difference(&listed).collect();
    assert!(
        lost.is_empty(),
        "acknowledged codings lost in the merge: {lost:?}"
    );
    assert_eq!(listed.len(), acknowledged.len());
    assert_eq!(stored(&app).await, acknowledged.len() as i64);
    // Every one is now under a surviving N code.
    let tree = tree(&owner, p).await;
    for c in codings(&owner, p, "").await["items"].as_array().unwrap() {
        let code = tree.iter().find(|t| t["id"] == c["code_id"]).unwrap();
        assert!(code["path"].as_str().unwrap().starts_with('N'), "{code}");
    }
}

// ---- 8. attribution ---------------------------------------------------------

#[sqlx::test]
async fn codings_are_attributed_to_the_speakers_they_cover(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let (doc, text) = owner.document(p,
        "FG",
        "Interviewer: What was it like?\nP01: Safe, mostly.\nP02: Not for me.\nP03: I don't know.\n",
    )
    .await;
    let groups = expect(
        owner.get(&format!("/projects/{p}/groups")).await,
        StatusCode::OK,
    )
    .await;
    let group_id = |name: &str| {
        groups["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == name)
            .map(id)
            .unwrap()
    };
    let (users, staff) = (group_id("Service user"), group_id("Staff"));
    let p01 = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/participants"),
                json!({"label": "P01", "group": "Service user", "attributes": {"locality": "North"}}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let p02 = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/participants"),
                json!({"label": "Pat", "group": "Staff", "attributes": {"locality": "South", "team": "CMHT 3"}}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let res = owner
        .client
        .put(format!(
            "{}/projects/{p}/documents/{doc}/speakers",
            owner.base
        ))
        .bearer_auth(owner.token.as_ref().unwrap())
        .json(&json!([
            {"label": "P01", "participant": "P01"},
            {"label": "P02", "participant_id": p02},
        ]))
        .send()
        .await
        .unwrap();
    let speakers = expect(res, StatusCode::OK).await;
    assert_eq!(speakers[0]["role"], "interviewer", "{speakers}");
    let theme = owner.code(p, "Theme", None).await;

    let question = owner
        .coding(p, doc, theme, at(&text, "What"), at(&text, "like?") + 5)
        .await;
    let first = owner
        .coding(p, doc, theme, at(&text, "Safe"), at(&text, "mostly") + 6)
        .await;
    let across = owner
        .coding(p, doc, theme, at(&text, "like?"), at(&text, "Not for") + 3)
        .await;
    let unknown = owner
        .coding(p, doc, theme, at(&text, "I don't"), at(&text, "know") + 4)
        .await;

    // A new coding is answered from the write itself: it must be what
    // reading it back gives, field for field.
    for made in [&question, &first, &across, &unknown] {
        let read = expect(
            owner
                .get(&format!("/projects/{p}/codings/{}", id(made)))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(&read, made);
    }
    assert_eq!(
        question["speakers"],
        json!([]),
        "interviewers are never attributed"
    );
    assert_eq!(
        first["speakers"],
        json!([{"label": "P01", "participant_id": p01, "participant": "P01",
                "group_id": users, "group": "Service user", "attributes": {"locality": "North"}}])
    );
    let labels: Vec<&str> = across["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["P01", "P02"]);
    assert_eq!(across["speakers"][1]["participant"], "Pat");
    assert_eq!(across["speakers"][1]["group"], "Staff");
    assert_eq!(across["speakers"][1]["attributes"]["team"], "CMHT 3");
    assert_eq!(
        unknown["speakers"],
        json!([{"label": "P03", "participant_id": null, "participant": null,
                "group_id": null, "group": null, "attributes": {}}])
    );

    let cases = [
        (format!("group={staff}"), vec![&across]),
        ("group=Staff".to_owned(), vec![&across]),
        ("group=service%20user".to_owned(), vec![&first, &across]),
        (format!("group={users}"), vec![&first, &across]),
        ("group=Carer".to_owned(), vec![]),
        ("group=unassigned".to_owned(), vec![&unknown]),
        (
            "attribute=locality%3DNorth".to_owned(),
            vec![&first, &across],
        ),
        ("attribute=team%3DCMHT%203".to_owned(), vec![&across]),
        ("attribute=locality%3DEast".to_owned(), vec![]),
        ("group=Staff&attribute=locality%3DNorth".to_owned(), vec![]),
    ];
    for (query, want) in cases {
        let got = codings(&owner, p, &query).await;
        let want: BTreeSet<i64> = want.into_iter().map(id).collect();
        assert_eq!(ids(&got), want, "{query}");
    }
    assert_error(
        owner
            .get(&format!("/projects/{p}/codings?group=Nurses"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        owner
            .get(&format!("/projects/{p}/codings?attribute=locality"))
            .await
            .status()
            .is_client_error()
    );
}

// ---- 9. codebook CSV --------------------------------------------------------

async fn import(api: &Api, p: ProjectId, csv: &'static str) -> reqwest::Response {
    api.raw_post(&format!("/projects/{p}/codes/import"), "text/csv", csv)
        .await
}

#[sqlx::test]
async fn a_codebook_csv_imports_with_implied_parents_and_exports_again(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let outcome = expect(
        import(
            &owner,
            p,
            "path,definition,inclusion,exclusion,example,colour\n\
             Inpatient frames / Sanctuary,Ward as a safe place,Mentions of rest,Home,“It felt safe”,#4E79A7\n\
             Inpatient frames / Asylum,Ward as refuge from the world,,,,\n\
             Fears over safety,,,,,#abc\n\
             Fears over safety / Self-harm 🙁,\"Risk, harm\",,,,\n",
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(outcome, json!({"created": 5, "updated": 0}));
    let codes = tree(&owner, p).await;
    let paths: Vec<&str> = codes.iter().map(|c| c["path"].as_str().unwrap()).collect();
    assert_eq!(
        paths,
        [
            "Inpatient frames",
            "Inpatient frames / Sanctuary",
            "Inpatient frames / Asylum",
            "Fears over safety",
            "Fears over safety / Self-harm 🙁"
        ]
    );
    let sanctuary = by_path(&codes, "Inpatient frames / Sanctuary").unwrap();
    assert_eq!(sanctuary["colour"], "#4e79a7");
    assert_eq!(sanctuary["definition"], "Ward as a safe place");
    assert_eq!(sanctuary["inclusion"], "Mentions of rest");
    assert_eq!(sanctuary["exclusion"], "Home");
    assert_eq!(sanctuary["example"], "“It felt safe”");
    assert_eq!(sanctuary["depth"], 1);
    assert_eq!(
        by_path(&codes, "Fears over safety").unwrap()["colour"],
        "#aabbcc"
    );
    assert_eq!(
        by_path(&codes, "Fears over safety / Self-harm 🙁").unwrap()["definition"],
        "Risk, harm"
    );
    for c in &codes {
        let colour = c["colour"].as_str().unwrap();
        assert!(colour.len() == 7 && colour.starts_with('#'), "{colour}");
    }

    let res = owner
        .get(&format!("/projects/{p}/exports/codebook.csv"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("path,definition,inclusion,exclusion,example,colour"),
        "{csv}"
    );
    for path in &paths {
        assert!(csv.contains(path), "{path} missing from {csv}");
    }
    assert!(csv.contains("\"Risk, harm\""), "{csv}");

    // The export imports back as updates, here as a multipart upload.
    let form = Form::new().part(
        "file",
        Part::bytes(csv.into_bytes()).file_name("codebook.csv"),
    );
    let res = owner
        .client
        .post(format!("{}/projects/{p}/codes/import", owner.base))
        .bearer_auth(owner.token.as_ref().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        expect(res, StatusCode::CREATED).await,
        json!({"created": 0, "updated": 5})
    );
    assert_eq!(tree(&owner, p).await.len(), 5);
}

#[sqlx::test]
async fn a_codebook_csv_with_a_bad_row_writes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let taken = owner
        .post(
            &format!("/projects/{p}/codes"),
            json!({"name": "Existing", "shortcut": "s"}),
        )
        .await;
    expect(taken, StatusCode::CREATED).await;

    for (csv, status) in [
        (
            "path,colour\nNew A,#123456\nNew B,red\n",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "path,definition\nNew A,x\n,orphan\n",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "path,definition\nNew A,x\nnew a,y\n",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "name,definition\nNew A,x\n",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("path\n", StatusCode::UNPROCESSABLE_ENTITY),
        // Fine on its own, but its shortcut is taken: found only when written.
        (
            "path,shortcut\nNew A / Child,\nNew B,S\n",
            StatusCode::CONFLICT,
        ),
    ] {
        let msg = assert_error(import(&owner, p, csv).await, status).await;
        assert!(!msg.is_empty());
        let paths: Vec<Value> = tree(&owner, p)
            .await
            .iter()
            .map(|c| c["path"].clone())
            .collect();
        assert_eq!(paths, [json!("Existing")], "{csv} wrote {paths:?}");
    }
    let msg = assert_error(
        import(&owner, p, "path,colour\nNew A,#123456\nNew B,red\n").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(msg.contains("line 3"), "{msg}");
}

// ---- 10. codebook edits and conflicts ---------------------------------------

#[sqlx::test]
async fn an_edit_from_an_old_version_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let c = owner.code(p, "Safety", None).await;
    let v = tree(&owner, p).await[0]["version"].as_i64().unwrap();

    let first = expect(
        owner
            .patch(
                &format!("/projects/{p}/codes/{c}"),
                json!({"definition": "Mine", "version": v}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["version"], v + 1);
    let msg = assert_error(
        coder
            .patch(
                &format!("/projects/{p}/codes/{c}"),
                json!({"definition": "Theirs", "version": v}),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains("version"), "{msg}");
    let now = expect(
        owner.get(&format!("/projects/{p}/codes/{c}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(now["definition"], "Mine");
    assert_eq!(now["version"], v + 1);
    // From the current version it goes through.
    let second = expect(
        coder
            .patch(
                &format!("/projects/{p}/codes/{c}"),
                json!({"definition": "Theirs", "version": v + 1}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(second["definition"], "Theirs");
}

#[sqlx::test]
async fn the_codebook_keeps_names_shortcuts_and_the_tree_consistent(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let made = expect(
        owner
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": "  Inpatient   frames ", "colour": "#ABC", "definition": "Frames", "shortcut": "I"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let frames = id(&made);
    assert_eq!(made["name"], "Inpatient frames");
    assert_eq!(made["colour"], "#aabbcc");
    assert_eq!(made["shortcut"], "i");
    assert_eq!(made["depth"], 0);
    assert_eq!(made["position"], 1);
    assert_eq!(made["codings"], 0);
    assert!(made["parent_id"].is_null());
    let sanctuary = owner.code(p, "Sanctuary", Some(frames)).await;
    let asylum = owner.code(p, "Asylum", Some(frames)).await;
    let safety = owner.code(p, "Safety", None).await;
    let other = owner.project("Other").await;
    let foreign = owner.code(other, "Foreign", None).await;

    let refused = [
        (json!({"name": "inpatient FRAMES"}), StatusCode::CONFLICT),
        (
            json!({"name": "sanctuary", "parent_id": frames}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"name": "Other", "shortcut": "i"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"name": "Other", "parent_id": foreign}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "Other", "parent_id": 999_999}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (json!({"name": "   "}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"name": "A / B"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"name": "Other", "colour": "red"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "Other", "shortcut": "ab"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // One letter whose lower case is two code points.
        (
            json!({"name": "Other", "shortcut": "İ"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, status) in refused {
        assert_error(
            owner
                .post(&format!("/projects/{p}/codes"), body.clone())
                .await,
            status,
        )
        .await;
    }
    assert_eq!(tree(&owner, p).await.len(), 4);
    // The same name elsewhere in the tree is fine.
    owner.code(p, "Sanctuary", Some(safety)).await;

    let patch = |c: i64, body: Value| {
        let owner = &owner;
        async move { owner.patch(&format!("/projects/{p}/codes/{c}"), body).await }
    };
    assert_error(
        patch(asylum, json!({"name": "SANCTUARY"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        patch(safety, json!({"shortcut": "I"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        patch(frames, json!({"parent_id": sanctuary})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_error(
        patch(frames, json!({"parent_id": frames})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_error(
        patch(frames, json!({"parent_id": foreign})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    // A move into a place where the name is taken is refused too.
    assert_error(
        patch(sanctuary, json!({"parent_id": safety})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        patch(999_999, json!({"name": "x"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Reorder, move to the top, free and reuse a shortcut.
    let moved = expect(patch(asylum, json!({"position": 1})).await, StatusCode::OK).await;
    assert_eq!(moved["position"], 1);
    let paths = |t: &[Value]| {
        t.iter()
            .map(|c| c["path"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        paths(&tree(&owner, p).await),
        [
            "Inpatient frames",
            "Inpatient frames / Asylum",
            "Inpatient frames / Sanctuary",
            "Safety",
            "Safety / Sanctuary"
        ]
    );
    let top = expect(
        patch(asylum, json!({"parent_id": null})).await,
        StatusCode::OK,
    )
    .await;
    assert!(top["parent_id"].is_null());
    assert_eq!(top["path"], "Asylum");
    let first = expect(patch(asylum, json!({"position": 1})).await, StatusCode::OK).await;
    assert_eq!(first["position"], 1);
    let codes = tree(&owner, p).await;
    assert_eq!(
        paths(&codes),
        [
            "Asylum",
            "Inpatient frames",
            "Inpatient frames / Sanctuary",
            "Safety",
            "Safety / Sanctuary"
        ]
    );
    let positions: Vec<i64> = codes
        .iter()
        .filter(|c| c["parent_id"].is_null())
        .map(|c| c["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3]);
    let freed = expect(
        patch(frames, json!({"shortcut": null})).await,
        StatusCode::OK,
    )
    .await;
    assert!(freed["shortcut"].is_null());
    let taken = expect(
        patch(safety, json!({"shortcut": "i"})).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(taken["shortcut"], "i");
    // Renaming a parent renames its children's paths.
    expect(
        patch(frames, json!({"name": "Frames"})).await,
        StatusCode::OK,
    )
    .await;
    assert!(by_path(&tree(&owner, p).await, "Frames / Sanctuary").is_some());
}

// ---- 11. the coding page's feed ---------------------------------------------

#[sqlx::test]
async fn the_document_feed_answers_304_until_a_coding_changes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let (doc, _) = owner
        .document(p, "T", "I: Go on.\nP1: one two three four\n")
        .await;
    let (other_doc, _) = owner.document(p, "U", "I: Go on.\nP1: five six\n").await;
    let theme = owner.code(p, "Theme", None).await;
    let url = format!("/projects/{p}/documents/{doc}/codings");

    let poll = |etag: Option<String>| {
        let mut req = owner
            .client
            .get(format!("{}{url}", owner.base))
            .bearer_auth(owner.token.as_ref().unwrap());
        if let Some(e) = etag {
            req = req.header("if-none-match", e);
        }
        req.send()
    };
    async fn fresh(res: reqwest::Response) -> (String, Value) {
        assert_eq!(res.status(), StatusCode::OK);
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        (etag, res.json().await.unwrap())
    }
    async fn unchanged(res: reqwest::Response) {
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
        assert!(res.bytes().await.unwrap().is_empty());
    }

    let (e0, body) = fresh(poll(None).await.unwrap()).await;
    assert_eq!(body["me"], user_id(&owner));
    assert_eq!(body["codings"], json!([]));
    assert_eq!(e0, format!("\"{}\"", body["fingerprint"].as_str().unwrap()));
    unchanged(poll(Some(e0.clone())).await.unwrap()).await;

    // Each kind of change makes the old ETag stale.
    let c = id(&coder.coding(p, doc, theme, 3, 6).await);
    let (e1, body) = fresh(poll(Some(e0.clone())).await.unwrap()).await;
    assert_ne!(e1, e0);
    assert_eq!(body["codings"][0]["id"], c);
    assert_eq!(body["codings"][0]["coder"], user_id(&coder));
    unchanged(poll(Some(e1.clone())).await.unwrap()).await;

    expect(
        owner
            .patch(
                &format!("/projects/{p}/codings/{c}"),
                json!({"starred": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let (e2, body) = fresh(poll(Some(e1.clone())).await.unwrap()).await;
    assert_ne!(e2, e1);
    assert_eq!(body["codings"][0]["starred"], true);

    expect(
        coder
            .patch(
                &format!("/projects/{p}/codings/{c}"),
                json!({"start": 4, "end": 8}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let (e3, body) = fresh(poll(Some(e2.clone())).await.unwrap()).await;
    assert_ne!(e3, e2);
    assert_eq!(body["codings"][0]["start"], 4);

    // Trashing the code hides its codings; restoring shows them again.
    expect(
        owner.delete(&format!("/projects/{p}/codes/{theme}")).await,
        StatusCode::OK,
    )
    .await;
    let (e4, body) = fresh(poll(Some(e3.clone())).await.unwrap()).await;
    assert_ne!(e4, e3);
    assert_eq!(body["codings"], json!([]));
    expect(
        owner
            .post(&format!("/projects/{p}/codes/{theme}/restore"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let (e5, body) = fresh(poll(Some(e4.clone())).await.unwrap()).await;
    assert_ne!(e5, e4);
    assert_eq!(body["codings"].as_array().unwrap().len(), 1);

    // A coding in another document does not disturb this one's feed.
    owner.coding(p, other_doc, theme, 0, 3).await;
    unchanged(poll(Some(e5.clone())).await.unwrap()).await;

    // Delete one and add another: still a change, even with the same count.
    let c2 = id(&owner.coding(p, doc, theme, 0, 2).await);
    let (e6, _) = fresh(poll(Some(e5.clone())).await.unwrap()).await;
    assert_eq!(
        coder
            .delete(&format!("/projects/{p}/codings/{c}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (e7, body) = fresh(poll(Some(e6.clone())).await.unwrap()).await;
    assert_ne!(e7, e6);
    assert_eq!(body["codings"].as_array().unwrap().len(), 1);
    assert_eq!(body["codings"][0]["id"], c2);
    assert_eq!(
        owner
            .delete(&format!("/projects/{p}/codings/{c2}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let (e8, body) = fresh(poll(Some(e7.clone())).await.unwrap()).await;
    assert_ne!(e8, e7);
    assert_eq!(body["codings"], json!([]));

    // A stale or foreign tag gets the whole answer.
    fresh(poll(Some("\"nonsense\"".into())).await.unwrap()).await;
    assert_error(
        owner
            .get(&format!("/projects/{p}/documents/999999/codings"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

// ---- 12. memos --------------------------------------------------------------

#[sqlx::test]
async fn project_document_code_and_coding_memos_are_listed_together(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let (doc, text) = owner
        .document(
            p,
            "Interview 1",
            "I: Go on.\nP1: It was a sanctuary 🙂 for me\n",
        )
        .await;
    let parent = owner.code(p, "Frames", None).await;
    let theme = owner.code(p, "Sanctuary", Some(parent)).await;
    let empty = expect(
        owner.get(&format!("/projects/{p}/memos")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(empty, json!({"items": [], "total": 0}));

    let put = |path: String, memo: &str| {
        owner
            .client
            .put(format!("{}{path}", owner.base))
            .bearer_auth(owner.token.as_ref().unwrap())
            .json(&json!({ "memo": memo }))
            .send()
    };
    let res = put(
        format!("/projects/{p}/memo"),
        "  Project thoughts\r\nline two  ",
    )
    .await
    .unwrap();
    assert_eq!(
        expect(res, StatusCode::OK).await["memo"],
        "Project thoughts\nline two"
    );
    let res = put(
        format!("/projects/{p}/documents/{doc}/memo"),
        "Document memo ✍️",
    )
    .await
    .unwrap();
    expect(res, StatusCode::OK).await;
    let res = put(format!("/projects/{p}/documents/999999/memo"), "nowhere")
        .await
        .unwrap();
    assert_error(res, StatusCode::NOT_FOUND).await;
    let code_memo = expect(
        coder
            .patch(
                &format!("/projects/{p}/codes/{theme}"),
                json!({"memo": "Code memo"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(code_memo["memo"], "Code memo");
    let start = at(&text, "sanctuary");
    let c = coder.coding(p, doc, theme, start, start + 11).await;
    let cid = id(&c);
    expect(
        coder
            .patch(
                &format!("/projects/{p}/codings/{cid}"),
                json!({"memo": "Coding memo"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    // A memo given with a new coding is kept too.
    let with_memo = expect(
        owner
            .post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc, "code_id": parent, "start": 0, "end": 2, "memo": "Given at once"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(with_memo["memo"], "Given at once");

    let memos = expect(
        owner.get(&format!("/projects/{p}/memos")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(memos["total"], 5, "{memos}");
    let items = memos["items"].as_array().unwrap();
    let on: Vec<&str> = items.iter().map(|m| m["on"].as_str().unwrap()).collect();
    assert_eq!(on, ["project", "document", "code", "coding", "coding"]);
    assert_eq!(items[0]["id"], p.0);
    assert_eq!(items[0]["memo"], "Project thoughts\nline two");
    assert_eq!(items[0]["author"], "owner");
    assert!(items[0]["written_at"].is_string());
    assert_eq!(items[1]["id"], doc);
    assert_eq!(items[1]["about"], "Interview 1");
    assert_eq!(items[1]["memo"], "Document memo ✍️");
    assert_eq!(items[1]["document_id"], doc);
    assert_eq!(items[2]["id"], theme);
    assert_eq!(items[2]["memo"], "Code memo");
    assert_eq!(items[2]["author"], "coder");
    assert_eq!(items[2]["about"], "Frames / Sanctuary");
    let coding_memo = items
        .iter()
        .find(|m| m["on"] == "coding" && m["id"] == cid)
        .unwrap();
    assert_eq!(coding_memo["on"], "coding");
    assert_eq!(coding_memo["memo"], "Coding memo");
    assert_eq!(coding_memo["excerpt"], "sanctuary 🙂");
    assert_eq!(coding_memo["start"], start);
    assert_eq!(coding_memo["document_id"], doc);
    assert_eq!(coding_memo["author"], "coder");
    let got = expect(
        owner.get(&format!("/projects/{p}/memo")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["memo"], "Project thoughts\nline two");
    let got = expect(
        owner
            .get(&format!("/projects/{p}/documents/{doc}/memo"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["memo"], "Document memo ✍️");

    // An emptied memo leaves the list; a trashed code's memos are hidden.
    let res = put(format!("/projects/{p}/documents/{doc}/memo"), "")
        .await
        .unwrap();
    expect(res, StatusCode::OK).await;
    expect(
        owner.delete(&format!("/projects/{p}/codes/{theme}")).await,
        StatusCode::OK,
    )
    .await;
    let memos = expect(
        owner.get(&format!("/projects/{p}/memos")).await,
        StatusCode::OK,
    )
    .await;
    let on: Vec<&str> = memos["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["on"].as_str().unwrap())
        .collect();
    assert_eq!(on, ["project", "coding"]);
    assert_eq!(memos["total"], 2);
}

#[sqlx::test]
async fn the_codebook_page_imports_a_qdc_codebook(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let browser = app.signed_in("owner@example.org").await;
    let qdc = std::fs::read("tests/fixtures/refi/taguette-1.4.1.qdc").unwrap();
    let form = Form::new().part("file", Part::bytes(qdc).file_name("taguette.qdc"));
    let res = browser
        .post(app.url(&format!("/projects/{p}/codes/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let names: BTreeSet<String> = tree(&owner, p)
        .await
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "interesting".into(),
            "people".into(),
            "waiting times".into()
        ])
    );
    let page = app
        .page_text(&browser, &format!("/projects/{p}/codes"))
        .await;
    assert!(page.contains("Codebook imported: 3 codes added"), "{page}");

    // A file that is neither says why, and adds nothing.
    let form = Form::new().part(
        "file",
        Part::bytes(b"<CodeBook".to_vec()).file_name("x.qdc"),
    );
    let res = browser
        .post(app.url(&format!("/projects/{p}/codes/import")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(tree(&owner, p).await.len(), 3);
}

/// A coding's attribution is worked out from a window of its document's
/// text: cut from the kept text for a new coding, cut in SQL where a
/// coding is written without one (imports, a changed range, adjudication,
/// coding every match). Both cuts give the same parts, across long turns,
/// time marks, accents and emoji, and ranges at the text's edges.
#[sqlx::test]
async fn both_ways_of_preparing_a_coding_split_it_alike(pool: PgPool) {
    use parley::domain::ids::{CodeId, DocumentId};
    use parley::service::texts::Texts;
    use parley::store::codings::NewCoding;

    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let theme = owner.code(p, "Theme", None).await;
    let speakers = ["Interviewer", "P01", "P02 😀", "Élodie"];
    let mut transcript = String::new();
    for turn in 0..40usize {
        let words = 3 + (turn * 37) % 140;
        let said: Vec<String> = (0..words)
            .map(|w| match (turn + w) % 9 {
                0 => "café".to_owned(),
                4 => "😀".to_owned(),
                _ => format!("w{w}"),
            })
            .collect();
        transcript.push_str(&format!(
            "[00:{:02}:{:02}] {}: {}\n",
            turn / 6,
            (turn * 7) % 60,
            speakers[turn % speakers.len()],
            said.join(" ")
        ));
    }
    let (doc, text) = owner.document(p, "Long turns", &transcript).await;
    let n = text.chars().count() as i64;
    let texts = Texts::default();
    let mut ranges = vec![(0, 1), (0, n), (n - 1, n), (0, n / 2), (n / 2, n)];
    let mut seed = 7u64;
    for _ in 0..300 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let start = (seed >> 33) as i64 % n;
        let len = 1 + (seed >> 13) as i64 % 900;
        ranges.push((start, (start + len).min(n)));
    }
    for (start, end) in ranges {
        let from_sql = parley::store::codings::prepare(
            &app.db,
            p,
            NewCoding {
                document: DocumentId(doc),
                code: CodeId(theme),
                start: start as i32,
                end: end as i32,
                memo: String::new(),
            },
        )
        .await
        .unwrap();
        let from_kept = parley::service::coding::prepare(
            &app.db,
            &texts,
            p,
            DocumentId(doc),
            CodeId(theme),
            (start, end),
            None,
        )
        .await
        .unwrap();
        assert_eq!(from_sql, from_kept, "[{start}, {end})");
    }
}

#[sqlx::test]
async fn lists_and_exports_go_by_title_without_case_then_document_then_position(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let body = "P01: one two three four five six seven eight\n";
    // Imported out of title order; two titles differ only in case, so
    // their documents' own order (by id) decides between them.
    let (beta, _) = owner.document(p, "beta", body).await;
    let (upper, _) = owner.document(p, "Alpha", body).await;
    let (lower, _) = owner.document(p, "alpha", body).await;
    let (gamma, _) = owner.document(p, "Gamma", body).await;
    let theme = owner.code(p, "Theme", None).await;
    let other = owner.code(p, "Other", None).await;
    // In each document, later ranges first, and two codings of one range.
    let mut made = Vec::new();
    for d in [gamma, beta, lower, upper] {
        for (code, start, end) in [
            (theme, 20, 30),
            (other, 5, 12),
            (theme, 5, 12),
            (theme, 5, 9),
        ] {
            let c = owner.coding(p, d, code, start, end).await;
            made.push((d, start, end, id(&c), code));
        }
    }
    let rank = |d: i64| match d {
        d if d == upper.min(lower) => 0,
        d if d == upper.max(lower) => 1,
        d if d == beta => 2,
        _ => 3,
    };
    made.sort_by_key(|&(d, start, end, id, _)| (rank(d), start, end, id));
    let expected: Vec<i64> = made.iter().map(|m| m.3).collect();

    let in_order = |list: &Value| -> Vec<i64> { items(list).iter().map(id).collect() };
    assert_eq!(
        in_order(&codings(&owner, p, "").await),
        expected,
        "one page"
    );
    // Page by page, the same order and the same total on every page.
    let mut paged = Vec::new();
    for offset in (0..expected.len()).step_by(5) {
        let page = codings(&owner, p, &format!("limit=5&offset={offset}")).await;
        assert_eq!(page["total"], expected.len());
        paged.extend(in_order(&page));
    }
    assert_eq!(paged, expected, "page by page");
    // One code's list keeps the order among its own.
    let listed = in_order(&codings(&owner, p, &format!("code_id={theme}")).await);
    let of_theme: Vec<i64> = made.iter().filter(|m| m.4 == theme).map(|m| m.3).collect();
    assert_eq!(listed, of_theme);
    assert_eq!(listed.len(), 12);

    // The export: one row per coding in the same order, each under its
    // document's title.
    let rows = owner
        .csv(&format!("/projects/{p}/exports/excerpts.csv"))
        .await
        .cells(&["document", "text"]);
    let title = |d: i64| match d {
        d if d == upper => "Alpha",
        d if d == lower => "alpha",
        d if d == beta => "beta",
        _ => "Gamma",
    };
    let wanted: Vec<Vec<String>> = made
        .iter()
        .map(|&(d, start, end, _, _)| vec![title(d).to_owned(), slice(body, start, end)])
        .collect();
    assert_eq!(rows, wanted);
}
