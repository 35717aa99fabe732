//! Intercoder agreement through the API: the figures equal scikit-learn's
//! and the krippendorff package's on the same unit vectors (computed by
//! scripts/reference/agreement.py into tests/fixtures/agreement/corpus.json),
//! intervals, bad requests, blind coding on every read route, and
//! adjudication into the consensus set.

use crate::helpers::{Api, TestApp, assert_error, expect, id, items};
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

const CORPUS: &str = include_str!("../fixtures/agreement/corpus.json");

/// The fixture's study, coded through the API by three people.
struct Study {
    app: TestApp,
    p: ProjectId,
    coders: Vec<Api>,
    /// Their user ids, in the fixture's order (A, B, C).
    ids: Vec<i64>,
    codes: Vec<i64>,
    fixture: Value,
}

async fn me(api: &Api) -> i64 {
    id(&expect(api.get("/me").await, StatusCode::OK).await)
}

async fn study(db: PgPool) -> Study {
    let app = TestApp::spawn(db).await;
    let fixture: Value = serde_json::from_str(CORPUS).unwrap();
    let a = app.person("a@example.org").await;
    let b = app.person("b@example.org").await;
    let c = app.person("c@example.org").await;
    let p = a.project("Agreement study").await;
    a.add(p, &b, "coder").await;
    a.add(p, &c, "coder").await;
    let mut docs = Vec::new();
    for d in fixture["documents"].as_array().unwrap() {
        let text = d["text"].as_str().unwrap();
        let (doc, stored) = a.document(p, d["title"].as_str().unwrap(), text).await;
        assert_eq!(stored, text, "the fixture's text is stored as it is");
        docs.push(doc);
    }
    let mut codes = Vec::new();
    for name in fixture["codes"].as_array().unwrap() {
        codes.push(a.code(p, name.as_str().unwrap(), None).await);
    }
    let coders = vec![a, b, c];
    for g in fixture["codings"].as_array().unwrap() {
        let at = |k: &str| g[k].as_u64().unwrap() as usize;
        coders[at("coder")]
            .coding(
                p,
                docs[at("document")],
                codes[at("code")],
                g["start"].as_i64().unwrap(),
                g["end"].as_i64().unwrap(),
            )
            .await;
    }
    let mut ids = Vec::new();
    for c in &coders {
        ids.push(me(c).await);
    }
    Study {
        app,
        p,
        coders,
        ids,
        codes,
        fixture,
    }
}

fn close(got: &Value, want: &Value, what: &str) {
    match want.as_f64() {
        None => assert!(got.is_null(), "{what}: want null, got {got}"),
        Some(w) => {
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: want {w}, got {got}"));
            assert!((g - w).abs() < 1e-9, "{what}: want {w}, got {g}");
        }
    }
}

impl Study {
    async fn report(&self, coders: &[i64], query: &str) -> Value {
        let ids: Vec<String> = coders.iter().map(i64::to_string).collect();
        let path = format!(
            "/projects/{}/agreement?coders={}&{query}",
            self.p,
            ids.join(",")
        );
        expect(self.coders[0].get(&path).await, StatusCode::OK).await
    }
}

#[sqlx::test]
async fn figures_equal_scikit_learn_and_krippendorff_at_every_unit(db: PgPool) {
    let s = study(db).await;
    for unit in ["character", "word", "turn"] {
        let want = &s.fixture["expected"][unit];
        let two = s
            .report(&s.ids[..2], &format!("unit={unit}&bootstrap=0"))
            .await;
        let three = s.report(&s.ids, &format!("unit={unit}&bootstrap=0")).await;
        assert_eq!(two["unit"], unit);
        let mut rows: Vec<(String, &Value, &Value, &Value)> = (0..s.codes.len())
            .map(|i| {
                assert_eq!(two["codes"][i]["code_id"], s.codes[i]);
                (
                    format!("{unit} code {i}"),
                    &want["codes"][i],
                    &two["codes"][i],
                    &three["codes"][i],
                )
            })
            .collect();
        rows.push((
            format!("{unit} pooled"),
            &want["pooled"],
            &two["pooled"],
            &three["pooled"],
        ));
        for (what, want, two, three) in rows {
            assert_eq!(two["units"], want["units"], "{what}");
            for k in ["both", "only_a", "only_b", "neither"] {
                assert_eq!(two[k], want["ab"][k], "{what} {k}");
            }
            close(
                &two["percent"],
                &want["ab"]["percent"],
                &format!("{what} %"),
            );
            close(&two["kappa"], &want["ab"]["kappa"], &format!("{what} κ"));
            close(&two["alpha"], &want["ab"]["alpha"], &format!("{what} α"));
            close(
                &three["percent"],
                &want["abc"]["percent"],
                &format!("{what} 3 %"),
            );
            close(
                &three["alpha"],
                &want["abc"]["alpha"],
                &format!("{what} 3 α"),
            );
            assert!(
                three["kappa"].is_null() && three["both"].is_null(),
                "{what}"
            );
            for (i, pair) in want["abc"]["pairs"].as_array().unwrap().iter().enumerate() {
                let (a, b) = (pair["a"].as_u64().unwrap(), pair["b"].as_u64().unwrap());
                let got = &three["pairs"][i];
                assert_eq!(got["coders"], json!([s.ids[a as usize], s.ids[b as usize]]));
                close(&got["kappa"], &pair["kappa"], &format!("{what} κ {a}-{b}"));
            }
        }
        // The top-level pairs are the pooled ones.
        assert_eq!(three["pairs"], three["pooled"]["pairs"]);
    }
}

#[sqlx::test]
async fn intervals_bracket_the_estimate_and_repeat_with_a_seed(db: PgPool) {
    let s = study(db).await;
    let q = "unit=word&bootstrap=400&seed=11";
    let first = s.report(&s.ids[..2], q).await;
    let again = s.report(&s.ids[..2], q).await;
    assert_eq!(first, again, "the same seed gives the same intervals");
    assert_eq!(first["seed"], 11);
    assert_eq!(first["bootstrap"], 400);
    let other = s
        .report(&s.ids[..2], "unit=word&bootstrap=400&seed=12")
        .await;
    assert_ne!(first["pooled"]["kappa_ci"], other["pooled"]["kappa_ci"]);
    let mut rows: Vec<&Value> = first["codes"].as_array().unwrap().iter().collect();
    rows.push(&first["pooled"]);
    for row in rows {
        for (k, ci) in [("kappa", "kappa_ci"), ("alpha", "alpha_ci")] {
            let (Some(x), Some(ci)) = (row[k].as_f64(), row[ci].as_array()) else {
                continue;
            };
            let (lo, hi) = (ci[0].as_f64().unwrap(), ci[1].as_f64().unwrap());
            assert!(lo <= x && x <= hi, "{k} {x} outside [{lo}, {hi}]");
            assert!(lo < hi, "four documents resampled give some spread");
        }
    }
    // Without a seed, the answer says which one it used.
    let unseeded = s.report(&s.ids[..2], "unit=word&bootstrap=50").await;
    let seed = unseeded["seed"].as_u64().expect("a seed");
    let repeated = s
        .report(&s.ids[..2], &format!("unit=word&bootstrap=50&seed={seed}"))
        .await;
    assert_eq!(unseeded["pooled"], repeated["pooled"]);
}

#[sqlx::test]
async fn bad_requests_say_what_is_wrong(db: PgPool) {
    let s = study(db).await;
    let a = &s.coders[0];
    let (x, y) = (s.ids[0], s.ids[1]);
    let stranger = s.app.person("z@example.org").await;
    let other = stranger.project("Other").await;
    let foreign_code = stranger.code(other, "Elsewhere", None).await;
    let z = me(&stranger).await;
    let p = s.p;
    for (query, needle) in [
        (format!("coders={x},{z}"), "not a member"),
        (format!("coders={x},999999"), "not a member"),
        (format!("coders={x}"), "at least two"),
        (String::new(), "at least two"),
        (format!("coders={x},{x}"), "twice"),
        (
            format!("coders={x},{y}&unit=sentence"),
            "character, word or turn",
        ),
        (
            format!("coders={x},{y}&codes={foreign_code}"),
            "not a live code",
        ),
        (format!("coders={x},{y}&documents=0"), "not in this project"),
        (format!("coders={x},{y}&bootstrap=100000"), "at most"),
        (format!("coders={x},{y}&seed=-1"), "whole number"),
        ("coders=a,b".to_string(), "ids separated by commas"),
    ] {
        let res = a.get(&format!("/projects/{p}/agreement?{query}")).await;
        assert!(res.status().is_client_error(), "{query}: {}", res.status());
        let message = assert_error(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(message.contains(needle), "{query}: {message}");
    }
}

/// Every read route a coder or viewer has, and the coder ids it shows.
async fn coders_seen(api: &Api, p: ProjectId, doc: i64, code: i64) -> Vec<(String, Vec<i64>)> {
    let ids = |v: &Value, key: &str| -> Vec<i64> {
        let mut out: Vec<i64> = items(v).iter().map(|c| c[key].as_i64().unwrap()).collect();
        out.sort();
        out.dedup();
        out
    };
    let list = expect(
        api.get(&format!("/projects/{p}/codings")).await,
        StatusCode::OK,
    )
    .await;
    let by_code = expect(
        api.get(&format!("/projects/{p}/codings?code_id={code}"))
            .await,
        StatusCode::OK,
    )
    .await;
    // One document's list is read alongside the access check, as if
    // nothing were hidden, and read again narrowed when something is.
    let of_document = expect(
        api.get(&format!("/projects/{p}/codings?document_id={doc}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let marks = expect(
        api.get(&format!("/projects/{p}/documents/{doc}/codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    let with_document = expect(
        api.get(&format!("/projects/{p}/documents/{doc}?include=codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    let coders = |marks: &Value| -> Vec<i64> {
        let mut out: Vec<i64> = marks["codings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["coder"].as_i64().unwrap())
            .collect();
        out.sort();
        out.dedup();
        out
    };
    vec![
        ("codings".into(), ids(&list, "coder")),
        ("codings of a code".into(), ids(&by_code, "coder")),
        ("a document's codings".into(), coders(&marks)),
        ("a document with its codings".into(), coders(&with_document)),
        (
            "a document's full codings".into(),
            ids(&of_document, "coder"),
        ),
    ]
}

async fn references(api: &Api, p: ProjectId) -> i64 {
    let m = expect(
        api.get(&format!("/projects/{p}/matrix?measure=references"))
            .await,
        StatusCode::OK,
    )
    .await;
    m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["total"].as_f64().unwrap_or(0.0) as i64)
        .sum()
}

#[sqlx::test]
async fn blind_coding_hides_other_coders_on_every_read_route(db: PgPool) {
    let s = study(db).await;
    let (owner, coder) = (&s.coders[0], &s.coders[1]);
    let viewer = s.app.person("v@example.org").await;
    owner.add(s.p, &viewer, "viewer").await;
    let p = s.p;
    let docs = expect(
        owner.get(&format!("/projects/{p}/documents")).await,
        StatusCode::OK,
    )
    .await;
    let doc = id(&items(&docs)[0]);
    let code = s.codes[0];
    let everyone = references(owner, p).await;
    // Only owners switch it.
    assert_error(
        coder
            .put(&format!("/projects/{p}/settings"), json!({"blind": true}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let on = expect(
        owner
            .put(&format!("/projects/{p}/settings"), json!({"blind": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(on["blind"], true);
    let project = expect(owner.get(&format!("/projects/{p}")).await, StatusCode::OK).await;
    assert_eq!(project["blind"], true);

    let b = s.ids[1];
    for (route, seen) in coders_seen(coder, p, doc, code).await {
        assert_eq!(seen, vec![b], "a coder sees only their own on {route}");
    }
    for (route, seen) in coders_seen(&viewer, p, doc, code).await {
        assert!(
            seen.is_empty(),
            "a viewer (who codes nothing) sees none on {route}"
        );
    }
    for (route, seen) in coders_seen(owner, p, doc, code).await {
        assert!(seen.len() >= 2, "owners see everyone on {route}: {seen:?}");
    }
    let own = references(coder, p).await;
    assert!(
        0 < own && own < everyone,
        "the matrix counts {own} of {everyone}"
    );
    assert_eq!(references(&viewer, p).await, 0);
    assert_eq!(references(owner, p).await, everyone);
    // Another coder's coding, by id, is not there.
    let listed = expect(
        owner
            .get(&format!("/projects/{p}/codings?coder={}", s.ids[0]))
            .await,
        StatusCode::OK,
    )
    .await;
    let theirs = id(&items(&listed)[0]);
    assert_error(
        coder.get(&format!("/projects/{p}/codings/{theirs}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        coder
            .patch(
                &format!("/projects/{p}/codings/{theirs}"),
                json!({"starred": true}),
            )
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Asking for someone else's is refused, not silently answered.
    let other = s.ids[0];
    for path in [
        format!("/projects/{p}/codings?coder={other}"),
        format!("/projects/{p}/matrix?coder={other}"),
        format!("/projects/{p}/exports/excerpts.csv?coder={other}"),
    ] {
        assert_error(coder.get(&path).await, StatusCode::FORBIDDEN).await;
    }
    // Exports hold only their own.
    let rows = coder
        .csv(&format!("/projects/{p}/exports/excerpts.csv"))
        .await
        .rows
        .len();
    let mine = expect(
        coder.get(&format!("/projects/{p}/codings?limit=1")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rows as i64, mine["total"].as_i64().unwrap());
    assert_error(
        coder
            .get(&format!("/projects/{p}/exports/project.qdpx"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // Code counts are their own too.
    let codes = expect(
        coder.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    let counted: i64 = items(&codes)
        .iter()
        .map(|c| c["codings"].as_i64().unwrap())
        .sum();
    assert_eq!(counted, mine["total"].as_i64().unwrap());
    // Comparing coders is for owners and the adjudicator while blind.
    let q = format!(
        "/projects/{p}/agreement?coders={},{}&bootstrap=0",
        s.ids[0], s.ids[1]
    );
    assert_error(coder.get(&q).await, StatusCode::FORBIDDEN).await;
    expect(owner.get(&q).await, StatusCode::OK).await;

    // Switching it off reveals all.
    expect(
        owner
            .put(&format!("/projects/{p}/settings"), json!({"blind": false}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(references(coder, p).await, everyone);
    for (route, seen) in coders_seen(coder, p, doc, code).await {
        assert!(seen.len() >= 2, "all revealed on {route}: {seen:?}");
    }
}

#[sqlx::test]
async fn adjudication_makes_a_consensus_set_the_matrix_can_count(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app.person("o@example.org").await;
    let ann = app.person("ann@example.org").await;
    let ben = app.person("ben@example.org").await;
    let p = owner.project("Adjudicated").await;
    owner.add(p, &ann, "coder").await;
    owner.add(p, &ben, "coder").await;
    let text = "P01: The waiting list was long and nobody rang back.\nP01: My care coordinator was brilliant though.";
    let (doc, _) = owner.document(p, "Interview", text).await;
    let code = owner.code(p, "Waiting", None).await;
    let (a, b) = (me(&ann).await, me(&ben).await);
    // Agreement on [5, 30); A alone on [60, 70); A [75, 90) vs B [80, 95).
    ann.coding(p, doc, code, 5, 30).await;
    ben.coding(p, doc, code, 5, 30).await;
    ann.coding(p, doc, code, 60, 70).await;
    ann.coding(p, doc, code, 75, 90).await;
    ben.coding(p, doc, code, 80, 95).await;
    let cmp = expect(
        owner
            .get(&format!(
                "/projects/{p}/agreement/compare?document={doc}&code={code}&coders={a},{b}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    let stretches = cmp["stretches"].as_array().unwrap();
    let extents: Vec<(i64, i64, bool)> = stretches
        .iter()
        .map(|s| {
            (
                s["start"].as_i64().unwrap(),
                s["end"].as_i64().unwrap(),
                s["agreed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        extents,
        vec![(5, 30, true), (60, 70, false), (75, 95, false)]
    );
    let sides: Vec<String> = cmp["pieces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["side"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(sides, ["both", "only_a", "only_a", "both", "only_b"]);

    // A coder who is not the adjudicator may not decide.
    let decide = |start: i64, end: i64, decision: &str| json!({"document_id": doc, "code_id": code, "coders": [a, b], "start": start, "end": end, "decision": decision});
    assert_error(
        ann.post(
            &format!("/projects/{p}/adjudications"),
            decide(60, 70, "keep_a"),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    // A stretch that is not there (stale page) is a conflict.
    assert_error(
        owner
            .post(
                &format!("/projects/{p}/adjudications"),
                decide(60, 69, "keep_a"),
            )
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_error(
        owner
            .post(
                &format!("/projects/{p}/adjudications"),
                decide(60, 70, "agreed"),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_error(
        owner
            .post(
                &format!("/projects/{p}/adjudications"),
                decide(60, 70, "maybe"),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let settled = expect(
        owner
            .post(
                &format!("/projects/{p}/adjudications"),
                decide(60, 70, "drop"),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let consensus = settled["consensus_coder"].as_i64().unwrap();
    assert_eq!(settled["written"], 0);
    // The owner names Ben adjudicator; he settles the overlap as "both".
    expect(
        owner
            .put(
                &format!("/projects/{p}/settings"),
                json!({"adjudicator": b}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let both = expect(
        ben.post(
            &format!("/projects/{p}/adjudications"),
            decide(75, 95, "keep_both"),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(both["written"], 1);
    let agreed = expect(
        owner
            .post(
                &format!("/projects/{p}/adjudications/agreed"),
                json!({"coders": [a, b]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(agreed["decided"], 1);
    // Twice is once.
    let again = expect(
        owner
            .post(
                &format!("/projects/{p}/adjudications/agreed"),
                json!({"coders": [a, b]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(again["decided"], 0);

    // The consensus set: exactly the decided codings.
    let set = expect(
        owner
            .get(&format!("/projects/{p}/codings?coder={consensus}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut ranges: Vec<(i64, i64)> = items(&set)
        .iter()
        .map(|c| (c["start"].as_i64().unwrap(), c["end"].as_i64().unwrap()))
        .collect();
    ranges.sort();
    assert_eq!(ranges, vec![(5, 30), (75, 95)]);
    let m = expect(
        owner
            .get(&format!(
                "/projects/{p}/matrix?measure=references&coder={consensus}"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(m["rows"][0]["total"].as_f64(), Some(2.0));
    // Compared with each coder, like any coder.
    let vs = expect(
        owner
            .get(&format!(
                "/projects/{p}/agreement?coders={consensus},{a}&unit=character&bootstrap=0"
            ))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(vs["pooled"]["both"], 25 + 15);
    assert_eq!(vs["pooled"]["only_a"], 5, "consensus alone on 90–95");
    assert_eq!(vs["pooled"]["only_b"], 10, "Ann alone on 60–70");
    // Each decision is recorded: who, what, when.
    let log = expect(
        owner.get(&format!("/projects/{p}/adjudications")).await,
        StatusCode::OK,
    )
    .await;
    let log = items(&log);
    assert_eq!(log.len(), 3);
    assert_eq!(log[1]["decision"], "keep_both");
    assert_eq!(log[1]["decided_by"], b);
    assert!(log.iter().all(|d| d["decided_at"].is_string()));
    // The consensus set is not a side in a decision.
    assert_error(
        owner
            .post(
                &format!("/projects/{p}/adjudications/agreed"),
                json!({"coders": [consensus, a]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[sqlx::test]
async fn the_pages_compare_show_side_by_side_and_decide(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let owner = app.person("o@example.org").await;
    let ben = app.person("ben@example.org").await;
    let p = owner.project("Pages").await;
    owner.add(p, &ben, "coder").await;
    let (doc, _) = owner
        .document(p, "Interview", "P01: We waited fourteen weeks for anyone.")
        .await;
    let code = owner.code(p, "Waiting", None).await;
    let (a, b) = (me(&owner).await, me(&ben).await);
    owner.coding(p, doc, code, 5, 20).await;
    ben.coding(p, doc, code, 10, 30).await;
    let web = app.signed_in(owner.email()).await;
    let page = web
        .get(app.url(&format!(
            "/projects/{p}/agreement?coder={a}&coder={b}&unit=character&bootstrap=50&seed=3"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("κ [95% CI]"), "the table");
    assert!(html.contains("All codes (pooled)"));
    assert!(
        html.contains("agreement.xlsx?coders="),
        "export links keep the request"
    );
    let compare =
        format!("/projects/{p}/agreement/compare?document={doc}&code={code}&coders={a},{b}");
    assert!(html.contains(&format!("compare?code={code}&amp;coders={a},{b}")));
    let html = app.page_text(&web, &compare).await;
    for class in ["only-a", "only-b", "both"] {
        assert!(
            html.contains(&format!("<mark class=\"{class}\">")),
            "{class}"
        );
    }
    assert!(html.contains("Different extents"));
    let res = web
        .post(app.url(&format!("/projects/{p}/agreement/decide")))
        .form(&[
            ("document", doc.to_string()),
            ("code", code.to_string()),
            ("a", a.to_string()),
            ("b", b.to_string()),
            ("start", "5".into()),
            ("end", "30".into()),
            ("decision", "keep_b".into()),
            ("next", "2".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let settings = expect(
        owner.get(&format!("/projects/{p}/settings")).await,
        StatusCode::OK,
    )
    .await;
    let consensus = settings["consensus_coder"]
        .as_i64()
        .expect("a consensus set");
    let set = expect(
        owner
            .get(&format!("/projects/{p}/codings?coder={consensus}"))
            .await,
        StatusCode::OK,
    )
    .await;
    let kept: Vec<(i64, i64)> = items(&set)
        .iter()
        .map(|c| (c["start"].as_i64().unwrap(), c["end"].as_i64().unwrap()))
        .collect();
    assert_eq!(kept, vec![(10, 30)]);
    // Blind coding from the page.
    let res = web
        .post(app.url(&format!("/projects/{p}/agreement/settings")))
        .form(&[("blind", "on"), ("adjudicator", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let project = expect(owner.get(&format!("/projects/{p}")).await, StatusCode::OK).await;
    assert_eq!(project["blind"], true);
    let ben_web = app.signed_in(ben.email()).await;
    let html = app
        .page_text(&ben_web, &format!("/projects/{p}/agreement"))
        .await;
    assert!(html.contains("Coding is blind in this project"));
}
