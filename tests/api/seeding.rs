//! The benchmark's seeder writes its corpus with COPY through
//! `store::bench`, not through the use cases. This checks that the two
//! writers agree: a small seeded corpus, written again through the API
//! (same texts, participants, codes, speaker mappings and codings by the
//! same coders), gives the same matrix in every measure.

use crate::helpers::{Api, TestApp};
use parley::bench::seed::{SeedArgs, seed};
use parley::domain::account;
use parley::domain::ids::ProjectId;
use parley::store;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body = res.text().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// An API client acting as `user`, with a token made in the store.
fn as_user(app: &TestApp, token: String) -> Api {
    Api {
        base: app.url("/api/v1"),
        token: Some(token),
        client: reqwest::Client::new(),
        user: None,
    }
}

/// Write project `from` again through the API as a new project.
async fn rewrite(app: &TestApp, pool: &PgPool, owner: &Api, from: ProjectId) -> ProjectId {
    let to = owner.project("Through the API").await;
    // Participants, by label.
    for p in store::participants::list(pool, from).await.unwrap() {
        created(
            owner
                .post(
                    &format!("/projects/{to}/participants"),
                    json!({"label": p.label, "group": p.group, "attributes": p.attributes}),
                )
                .await,
        )
        .await;
    }
    // Codes in tree order, parents first.
    let mut code_ids: HashMap<i64, i64> = HashMap::new();
    for c in store::codes::outline(pool, from).await.unwrap() {
        let parent = c.parent_id.map(|p| code_ids[&p.0]);
        let made = created(
            owner
                .post(
                    &format!("/projects/{to}/codes"),
                    json!({"name": c.name, "parent_id": parent, "colour": c.colour.as_str()}),
                )
                .await,
        )
        .await;
        code_ids.insert(c.id.0, made["id"].as_i64().unwrap());
    }
    // Coders: members of the new project, each with a token of their own.
    let mut coders: HashMap<i64, Api> = HashMap::new();
    let (docs, _) = store::documents::list(pool, from, 100, 0).await.unwrap();
    for d in &docs {
        for m in store::codings::marks(pool, from, d.id).await.unwrap() {
            if coders.contains_key(&m.coder.0) {
                continue;
            }
            let user = store::users::get(pool, m.coder).await.unwrap().unwrap();
            if user.email != owner.email() {
                created(
                    owner
                        .post(
                            &format!("/projects/{to}/members"),
                            json!({"email": user.email, "role": "coder"}),
                        )
                        .await,
                )
                .await;
            }
            let (token, hash) = account::new_token();
            store::tokens::insert(pool, m.coder, "equivalence", &hash)
                .await
                .unwrap();
            coders.insert(m.coder.0, as_user(app, token));
        }
    }
    // Documents with their speaker mappings and codings.
    for d in &docs {
        let text = store::documents::text(pool, from, d.id)
            .await
            .unwrap()
            .unwrap();
        let doc = created(
            owner
                .post(
                    &format!("/projects/{to}/documents"),
                    json!({"title": d.title, "kind": d.kind.as_str(), "text": text}),
                )
                .await,
        )
        .await;
        assert_eq!(doc["text"], text.as_str(), "the text is stored as seeded");
        let id = doc["id"].as_i64().unwrap();
        let mapping: Vec<Value> = store::documents::speakers(pool, from, d.id)
            .await
            .unwrap()
            .into_iter()
            .map(|s| match s.participant {
                Some(p) => json!({"label": s.label, "participant": p}),
                None => json!({"label": s.label, "role": s.role}),
            })
            .collect();
        let res = owner
            .client
            .put(format!(
                "{}/projects/{to}/documents/{id}/speakers",
                owner.base
            ))
            .bearer_auth(owner.token.as_ref().unwrap())
            .json(&mapping)
            .send()
            .await
            .unwrap();
        created(res).await;
        for m in store::codings::marks(pool, from, d.id).await.unwrap() {
            let coder = &coders[&m.coder.0];
            created(
                coder
                    .post(
                        &format!("/projects/{to}/codings"),
                        json!({"document_id": id, "code_id": code_ids[&m.code_id.0],
                               "start": m.start, "end": m.end}),
                    )
                    .await,
            )
            .await;
        }
    }
    to
}

/// A matrix answer with ids left out: columns by key, rows by path.
async fn matrix(api: &Api, p: ProjectId, query: &str) -> Value {
    let res = api.get(&format!("/projects/{p}/matrix?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let m: Value = res.json().await.unwrap();
    let columns: Vec<Value> = m["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!([c["key"], c["label"], c["participants"]]))
        .collect();
    let rows: BTreeMap<String, Value> = m["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["path"].as_str().unwrap().to_owned(), r["values"].clone()))
        .collect();
    json!({"columns": columns, "rows": rows, "participants": m["participants"]})
}

#[sqlx::test]
async fn a_seeded_corpus_counts_as_the_same_data_written_through_the_api(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let owner = app.person("owner@example.org").await;
    let seeded = seed(
        &pool,
        &SeedArgs {
            docs: 4,
            codings: 120,
            words: 900,
            seed: 11,
            coders: 3,
            email: Some("owner@example.org".into()),
        },
    )
    .await
    .unwrap();
    assert_eq!(seeded.codings, 120);
    let rewritten = rewrite(&app, &pool, &owner, seeded.project).await;
    let mut compared = 0;
    for columns in ["group", "attr:locality", "group,attr:locality"] {
        for measure in ["references", "cases", "cases_pct", "documents", "words"] {
            for rollup in ["false", "true"] {
                let q = format!("columns={columns}&measure={measure}&rollup={rollup}");
                let a = matrix(&owner, seeded.project, &q).await;
                let b = matrix(&owner, rewritten, &q).await;
                assert_eq!(a, b, "{q}");
                compared += 1;
            }
        }
    }
    assert_eq!(compared, 30);
    // The matrix is not empty: the comparison compared counts.
    let m = matrix(&owner, seeded.project, "measure=references").await;
    let total: f64 = m["rows"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_object().unwrap().values())
        .filter_map(Value::as_f64)
        .sum();
    assert!(total > 0.0, "{m}");
}
