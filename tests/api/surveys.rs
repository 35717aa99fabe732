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
