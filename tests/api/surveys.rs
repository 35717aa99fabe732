//! Questionnaires through the API: the figures equal SciPy's, statsmodels'
//! and pandas' on the same file (scripts/reference/survey_files.py made
//! tests/fixtures/survey/), bad files write nothing, re-import shows its
//! difference before it replaces.

use crate::helpers::{Api, TestApp, assert_error, expect, id, items};
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/survey/");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

fn expected(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

async fn upload(api: &Api, p: ProjectId, file: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut form = Form::new().part(
        "file",
        Part::bytes(fixture(file)).file_name(file.to_owned()),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    api.upload(&format!("/projects/{p}/surveys"), form).await
}

fn close(got: &Value, want: &Value, what: &str) {
    match (got.as_f64(), want.as_f64()) {
        (Some(g), Some(w)) => {
            let tol = 1e-6 * w.abs().max(1.0);
            assert!((g - w).abs() <= tol, "{what}: got {g}, want {w}");
        }
        _ => assert_eq!(got, want, "{what}"),
    }
}

fn close_pair(got: &Value, want: &Value, what: &str) {
    close(&got[0], &want[0], &format!("{what} low"));
    close(&got[1], &want[1], &format!("{what} high"));
}

fn same_change(got: &Value, want: &Value, what: &str) {
    assert_eq!(got["value"], want["value"], "{what}");
    for (g, w) in got["waves"]
        .as_array()
        .unwrap()
        .iter()
        .zip(want["waves"].as_array().unwrap())
    {
        let at = format!("{what} wave {}", w["wave"]);
        assert_eq!(g["wave"], w["wave"], "{at}");
        assert_eq!(g["n"], w["n"], "{at} n");
        close(&g["mean"], &w["mean"], &format!("{at} mean"));
        close(&g["sd"], &w["sd"], &format!("{at} sd"));
        close_pair(&g["ci"], &w["ci"], &format!("{at} ci"));
    }
    close(
        &got["difference"],
        &want["difference"],
        &format!("{what} difference"),
    );
    close_pair(
        &got["difference_ci"],
        &want["difference_ci"],
        &format!("{what} difference ci"),
    );
    for k in ["t", "df", "p"] {
        close(
            &got["welch"][k],
            &want["welch"][k],
            &format!("{what} welch {k}"),
        );
    }
    close(&got["hedges_g"], &want["hedges_g"], &format!("{what} g"));
}

async fn check_file(api: &Api, p: ProjectId, file: &str) {
    let want = expected("staff_expected.json");
    let res = upload(api, p, file, &[("name", file), ("min", "1"), ("max", "5")]).await;
    let body = expect(res, StatusCode::CREATED).await;
    assert_eq!(body["responses"], want["rows"]);
    let kinds: Vec<(String, String)> = body["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["kind"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(kinds[0], ("id".into(), "respondent".into()));
    assert_eq!(kinds[1], ("wave".into(), "wave".into()));
    assert_eq!(kinds[2], ("locality".into(), "attribute".into()));
    assert_eq!(kinds[3], ("profession".into(), "attribute".into()));
    assert!(kinds[4..].iter().all(|(_, k)| k == "item"), "{kinds:?}");
    let survey = id(&body["survey"]);
    for s in want["scales"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        let made = expect(
            api.post(
                &format!("/projects/{p}/surveys/{survey}/scales"),
                json!({"name": name, "items": s["items"], "reverse": s["reverse"], "min": s["min"],
                       "max": s["max"], "score": s["score"], "min_items": s["min_items"]}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let scale = id(&made);
        let shown = expect(
            api.get(&format!("/projects/{p}/surveys/{survey}/scales/{scale}"))
                .await,
            StatusCode::OK,
        )
        .await;
        close(&shown["alpha"], &s["alpha"], &format!("{file} {name} α"));
        for (wave, a) in s["alpha_by_wave"].as_object().unwrap() {
            close(
                &shown["alpha_by_wave"][wave],
                a,
                &format!("{file} {name} α {wave}"),
            );
        }
        for (i, stat) in shown["item_stats"].as_array().unwrap().iter().enumerate() {
            close(
                &stat["item_total"],
                &s["item_total"][i],
                &format!("{name} r {i}"),
            );
            close(
                &stat["alpha_if_deleted"],
                &s["alpha_if_deleted"][i],
                &format!("{name} α-if {i}"),
            );
        }
        let got = expect(
            api.get(&format!(
                "/projects/{p}/surveys/{survey}/compare?scale={scale}&within=attr:locality"
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        let c = &s["compare"];
        assert_eq!(got["waves"], c["waves"]);
        same_change(
            &got["overall"],
            &c["overall"],
            &format!("{file} {name} overall"),
        );
        let groups = got["groups"].as_array().unwrap();
        assert_eq!(groups.len(), c["groups"].as_array().unwrap().len());
        for (g, w) in groups.iter().zip(c["groups"].as_array().unwrap()) {
            same_change(g, w, &format!("{file} {name} {}", w["value"]));
        }
        for k in ["f", "df1", "df2", "p"] {
            close(
                &got["interaction"][k],
                &c["interaction"][k],
                &format!("{name} interaction {k}"),
            );
        }
    }
}

#[sqlx::test]
async fn every_figure_equals_scipy_and_statsmodels_from_csv_and_xlsx(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Staff survey").await;
    check_file(&ann, p, "staff.csv").await;
    check_file(&ann, p, "staff.xlsx").await;
    let list = expect(
        ann.get(&format!("/projects/{p}/surveys")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&list).len(), 2);
}

#[sqlx::test]
async fn a_bad_file_lists_its_problems_and_writes_nothing(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Staff survey").await;
    for case in expected("bad_expected.json").as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let res = upload(&ann, p, file, &[("min", "1"), ("max", "5")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{file}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].is_string(), "{file}: {body}");
        let errors = body["errors"].as_array().unwrap();
        let found = errors.iter().any(|e| {
            e["row"] == case["row"]
                && e["column"] == case["column"]
                && e["problem"]
                    .as_str()
                    .unwrap()
                    .contains(case["problem"].as_str().unwrap().split(' ').next().unwrap())
        });
        assert!(found, "{file}: want {case}, got {errors:?}");
        assert!(body["survey"].is_null());
    }
    let list = expect(
        ann.get(&format!("/projects/{p}/surveys")).await,
        StatusCode::OK,
    )
    .await;
    assert!(items(&list).is_empty(), "nothing written");
}

#[sqlx::test]
async fn reimport_shows_the_difference_then_replaces(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Staff survey").await;
    let first = expect(
        upload(&ann, p, "staff.csv", &[("name", "Staff")]).await,
        StatusCode::CREATED,
    )
    .await;
    let survey = id(&first["survey"]);
    // A dry run of a smaller file: a preview, nothing written.
    let preview = expect(
        upload(
            &ann,
            p,
            "bad_empty.csv",
            &[("name", "Staff"), ("dry_run", "true")],
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let problems = preview["errors"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|e| e["problem"].as_str().unwrap().contains("no responses"))
    );
    let same = expect(
        upload(
            &ann,
            p,
            "staff.xlsx",
            &[("name", "Staff"), ("dry_run", "true")],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(same["difference"]["unchanged"], first["responses"]);
    assert_eq!(same["difference"]["added"], 0);
    // Without replace=true the name is taken.
    let msg = assert_error(
        upload(&ann, p, "staff.xlsx", &[("name", "staff")]).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(msg.contains("replace=true"), "{msg}");
    let replaced = expect(
        upload(
            &ann,
            p,
            "staff.xlsx",
            &[("name", "Staff"), ("replace", "true")],
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(replaced["replaced"], true);
    assert_eq!(id(&replaced["survey"]), survey, "the same survey, replaced");
    // A correction of the guessed kinds is applied.
    let fixed = expect(
        upload(
            &ann,
            p,
            "staff.csv",
            &[
                ("name", "Other"),
                ("dry_run", "1"),
                ("columns", "profession:ignore,rc6:ignore"),
            ],
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let kind = |name: &str| {
        fixed["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["kind"]
            .clone()
    };
    assert_eq!(kind("profession"), "ignore");
    assert_eq!(kind("rc6"), "ignore");
    // Scales are checked.
    for (body, needle) in [
        (
            json!({"name": "X", "items": ["rc1"], "min": 1, "max": 5}),
            "at least two",
        ),
        (
            json!({"name": "X", "items": ["rc1", "nope"], "min": 1, "max": 5}),
            "not an item",
        ),
        (
            json!({"name": "X", "items": ["rc1", "rc2"], "reverse": ["rc3"], "min": 1, "max": 5}),
            "not one of",
        ),
        (
            json!({"name": "X", "items": ["rc1", "rc2"], "min": 5, "max": 1}),
            "min below max",
        ),
        (
            json!({"name": "X", "items": ["rc1", "rc2"], "min": 1, "max": 5, "min_items": 3}),
            "min_items",
        ),
        (
            json!({"name": "X", "items": ["rc1", "rc2"], "min": 1, "max": 5, "score": "median"}),
            "mean or sum",
        ),
    ] {
        let msg = assert_error(
            ann.post(&format!("/projects/{p}/surveys/{survey}/scales"), body)
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(msg.contains(needle), "{msg}");
    }
    // An answer outside the scale's range is listed, and no scale is made.
    let odd = expect(
        upload(&ann, p, "bad_out_of_range.csv", &[("name", "Odd")]).await,
        StatusCode::CREATED,
    )
    .await;
    let odd_id = id(&odd["survey"]);
    let msg = assert_error(
        ann.post(
            &format!("/projects/{p}/surveys/{odd_id}/scales"),
            json!({"name": "JS", "items": ["js1", "js2", "js3"], "min": 1, "max": 5}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(msg.contains("row 8, js3: 7"), "{msg}");
    let shown = expect(
        ann.get(&format!("/projects/{p}/surveys/{odd_id}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(shown["scales"].as_array().unwrap().is_empty());
    // Comparison requests are checked too.
    let scale = id(&expect(
        ann.post(
            &format!("/projects/{p}/surveys/{survey}/scales"),
            json!({"name": "RC", "items": ["rc1", "rc2", "rc4"], "min": 1, "max": 5}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    for (query, needle) in [
        (format!("scale={scale}&within=attr:team"), "attributes"),
        (format!("scale={scale}&waves=2002,1999"), "waves"),
        ("scale=x".to_string(), "scale"),
    ] {
        let msg = assert_error(
            ann.get(&format!("/projects/{p}/surveys/{survey}/compare?{query}"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(msg.contains(needle), "{query}: {msg}");
    }
    let overall = expect(
        ann.get(&format!(
            "/projects/{p}/surveys/{survey}/compare?scale={scale}&within=none"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert!(overall["groups"].as_array().unwrap().is_empty());
    assert!(overall["interaction"].is_null());
    // Viewers read, and cannot import.
    let viewer = app.person("v@example.org").await;
    ann.add(p, &viewer, "viewer").await;
    expect(
        viewer.get(&format!("/projects/{p}/surveys/{survey}")).await,
        StatusCode::OK,
    )
    .await;
    assert_error(
        upload(&viewer, p, "staff.csv", &[]).await,
        StatusCode::FORBIDDEN,
    )
    .await;
}

#[sqlx::test]
async fn the_joint_display_puts_the_matrix_beside_the_scale_change(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Mixed methods").await;
    for (label, group, locality) in [
        ("C01", "Carer", "North"),
        ("C02", "Carer", "South"),
        ("U01", "Service user", "North"),
        ("S01", "Staff", "East"),
    ] {
        ann.participant(p, label, Some(group), json!({"locality": locality}))
            .await;
    }
    let access = ann.code(p, "Access", None).await;
    let waiting = ann.code(p, "Waiting", Some(access)).await;
    let trust = ann.code(p, "Trust", None).await;
    let text = "Interviewer: Tell me.\nC01: We waited for months.\nC02: Nobody rang back.\nU01: I trust my nurse.\nS01: Caseloads are too high.";
    let (doc, stored) = ann.document(p, "Focus group", text).await;
    let at = |needle: &str| {
        let b = stored.find(needle).unwrap();
        let s = stored[..b].chars().count() as i64;
        (s, s + needle.chars().count() as i64)
    };
    for (code, needle) in [
        (waiting, "We waited for months."),
        (access, "Nobody rang back."),
        (trust, "I trust my nurse."),
        (waiting, "Caseloads are too high."),
    ] {
        let (s, e) = at(needle);
        ann.coding(p, doc, code, s, e).await;
    }
    let made = expect(
        upload(&ann, p, "staff.csv", &[("name", "Staff")]).await,
        StatusCode::CREATED,
    )
    .await;
    let survey = id(&made["survey"]);
    let scale = id(&expect(
        ann.post(
            &format!("/projects/{p}/surveys/{survey}/scales"),
            json!({"name": "Role clarity", "items": ["rc1", "rc2", "rc3", "rc4", "rc5", "rc6"],
                   "reverse": ["rc3", "rc5"], "min": 1, "max": 5, "min_items": 4}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await);
    let j = expect(
        ann.get(&format!(
            "/projects/{p}/joint-display?scale={scale}&within=attr:locality&codes={access},{trust}"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let matrix = expect(
        ann.get(&format!(
            "/projects/{p}/matrix?columns=attr:locality&measure=cases_pct&rollup=true"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let compare = expect(
        ann.get(&format!(
            "/projects/{p}/surveys/{survey}/compare?scale={scale}&within=attr:locality"
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    let key_of = |value: &str| {
        matrix["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["label"] == value)
            .map(|c| c["key"].as_str().unwrap().to_owned())
    };
    let rows = j["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "every locality of the survey: {rows:?}");
    for row in rows {
        let value = row["value"].as_str().unwrap();
        let group = compare["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["value"] == value)
            .unwrap();
        assert_eq!(row["change"], *group, "{value}: the comparison's figures");
        for (t, code) in row["themes"]
            .as_array()
            .unwrap()
            .iter()
            .zip([access, trust])
        {
            let want = key_of(value).and_then(|k| {
                matrix["rows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|r| r["code_id"] == code)
                    .map(|r| r["values"][k.as_str()].clone())
            });
            match want {
                Some(w) => assert_eq!(t["cases_pct"], w, "{value} {code}"),
                None => assert!(t["cases_pct"].is_null(), "{value}: no participant"),
            }
        }
    }
    let north = rows.iter().find(|r| r["value"] == "North").unwrap();
    assert_eq!(
        north["themes"][0]["cases_pct"], 50.0,
        "C01 of C01, U01 (Waiting rolls up)"
    );
    assert_eq!(north["themes"][1]["cases_pct"], 50.0, "U01 trusts");
    let quote = &north["themes"][0]["quote"];
    assert_eq!(quote["text"], "We waited for months.");
    assert!(quote["who"].as_str().unwrap().contains("North"));
    assert!(
        rows.iter().find(|r| r["value"] == "West").unwrap()["themes"][0]["cases_pct"].is_null()
    );
    assert_eq!(j["overall"]["change"], compare["overall"]);
    // The files.
    for ext in ["csv", "xlsx", "docx"] {
        let res = ann
            .get(&format!(
                "/projects/{p}/exports/joint-display.{ext}?scale={scale}&codes={access},{trust}"
            ))
            .await;
        assert_eq!(res.status(), StatusCode::OK, "{ext}");
        let name = res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            name.contains("joint-display-Role-clarity-by-locality"),
            "{name}"
        );
        let body = res.bytes().await.unwrap();
        if ext == "csv" {
            let text = String::from_utf8(body.to_vec()).unwrap();
            assert!(
                text.contains("locality,North,Access cases %,50\n"),
                "{text}"
            );
        } else {
            assert!(body.starts_with(b"PK"));
        }
    }
    assert_error(
        ann.get(&format!(
            "/projects/{p}/joint-display?scale={scale}&within=none"
        ))
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}
