//! The shape of every `/api/v1` answer, pinned: which keys each resource
//! has and what JSON type each one holds. R and Python scripts read these
//! keys by name, so a renamed store field must not reach them unnoticed:
//! adding, removing or renaming a key, or changing its type, fails here.

use crate::helpers::{Api, TestApp, id};
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Map, Value, json};
use sqlx::PgPool;

/// `v` with every leaf replaced by its JSON type's name; arrays keep their
/// elements (each one's shape), objects their keys.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(_) => json!("number"),
        Value::String(_) => json!("string"),
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<_, _>>(),
        ),
    }
}

/// Assert that `got` has exactly the shape `want`.
#[track_caller]
fn pin(what: &str, got: &Value, want: Value) {
    let got = shape(got);
    assert!(
        got == want,
        "the JSON shape of {what} changed:\n  got  {}\n  want {}",
        serde_json::to_string_pretty(&got).unwrap(),
        serde_json::to_string_pretty(&want).unwrap(),
    );
}

/// The answer's JSON, after checking its status.
async fn body(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let text = res.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// The first item of a list answer, after checking the list's own shape.
fn first(list: &Value) -> &Value {
    let items = list["items"].as_array().expect("an items array");
    assert!(list["total"].is_i64(), "a total in {list}");
    assert_eq!(
        list.as_object().unwrap().len(),
        2,
        "a list is items and total only: {list}"
    );
    items.first().expect("at least one item")
}

/// An interview with times, the interviewer, a participant mapped by label
/// and a speaker mapped to no one.
const INTERVIEW: &str = "\
[00:00:05] Interviewer: How did the ward feel to you?
[00:00:12] P01: Calm, mostly. The café was a lifeline.
[00:00:30] Stranger: Can I add something?
";

/// A project with a group, a participant, an interview, a code and
/// sub-code, and a coding of the participant's turn.
struct Study {
    owner: Api,
    coder: Api,
    p: ProjectId,
    group: Value,
    participant: Value,
    document: Value,
    parent: Value,
    code: Value,
    coding: Value,
}

async fn study(app: &TestApp) -> Study {
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Contract").await;
    owner.add(p, &coder, "coder").await;
    let group = body(
        owner
            .post(
                &format!("/projects/{p}/groups"),
                json!({"name": "Night staff"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let participant = body(
        owner
            .post(
                &format!("/projects/{p}/participants"),
                json!({"label": "P01", "group": "Night staff", "attributes": {"locality": "North"}}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let document = body(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({
                    "title": "Interview 1",
                    "kind": "interview",
                    "text": INTERVIEW,
                    "held_on": "2026-06-01",
                    "attributes": {"site": "Lyon"},
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let parent = body(
        owner
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": "Safety", "colour": "#aa3355", "shortcut": "s"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let code = body(
        coder
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": "Refuge", "parent_id": id(&parent)}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    let text = document["text"].as_str().unwrap();
    let start = text[..text.find("Calm").unwrap()].chars().count();
    let coding = body(
        coder
            .post(
                &format!("/projects/{p}/codings"),
                json!({
                    "document_id": id(&document),
                    "code_id": id(&code),
                    "start": start,
                    "end": start + 13,
                    "memo": "A first impression.",
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    Study {
        owner,
        coder,
        p,
        group,
        participant,
        document,
        parent,
        code,
        coding,
    }
}

fn project() -> Value {
    json!({
        "id": "number",
        "name": "string",
        "description": "string",
        "created_at": "string",
        "updated_at": "string",
        "role": "string",
        "members": "number",
        "blind": "bool",
    })
}

#[sqlx::test]
async fn the_caller_projects_and_members_keep_their_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;

    let me = body(s.owner.get("/me").await, StatusCode::OK).await;
    pin(
        "the caller",
        &me,
        json!({"id": "number", "email": "string", "name": "string", "is_admin": "bool"}),
    );

    let created = body(
        s.owner
            .post("/projects", json!({"name": "Another", "description": "x"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    pin("a new project", &created, project());
    let shown = body(s.owner.get(&format!("/projects/{p}")).await, StatusCode::OK).await;
    pin("a project", &shown, project());
    let list = body(s.coder.get("/projects").await, StatusCode::OK).await;
    pin("a project in the list", first(&list), project());
    // A change answers the project itself, without the caller's role and
    // the member count.
    let changed = body(
        s.owner
            .patch(&format!("/projects/{p}"), json!({"description": "Wave 2"}))
            .await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a changed project",
        &changed,
        json!({
            "id": "number",
            "name": "string",
            "description": "string",
            "created_at": "string",
            "updated_at": "string",
        }),
    );

    let member = json!({
        "user_id": "number",
        "email": "string",
        "name": "string",
        "role": "string",
        "added_at": "string",
    });
    let coder = s.coder.user.as_ref().unwrap().id;
    let shown = body(
        s.owner.get(&format!("/projects/{p}/members/{coder}")).await,
        StatusCode::OK,
    )
    .await;
    pin("a member", &shown, member.clone());
    let list = body(
        s.owner.get(&format!("/projects/{p}/members")).await,
        StatusCode::OK,
    )
    .await;
    pin("a member in the list", first(&list), member.clone());
    let changed = body(
        s.owner
            .patch(
                &format!("/projects/{p}/members/{coder}"),
                json!({"role": "viewer"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a changed member", &changed, member.clone());
    let third = app.person("third@example.org").await;
    let added = body(
        s.owner
            .post(
                &format!("/projects/{p}/members"),
                json!({"email": "third@example.org", "role": "viewer"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(added["user_id"], third.user.as_ref().unwrap().id.0);
    pin("a new member", &added, member);
}

#[sqlx::test]
async fn groups_participants_and_documents_keep_their_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;

    let group = json!({
        "id": "number",
        "name": "string",
        "position": "number",
        "participants": "number",
    });
    pin("a new group", &s.group, group.clone());
    let list = body(
        s.owner.get(&format!("/projects/{p}/groups")).await,
        StatusCode::OK,
    )
    .await;
    pin("a group in the list", first(&list), group.clone());
    let changed = body(
        s.owner
            .patch(
                &format!("/projects/{p}/groups/{}", id(&s.group)),
                json!({"name": "Day staff", "position": 1}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a changed group", &changed, group);

    let participant = json!({
        "id": "number",
        "label": "string",
        "group": "string",
        "group_id": "number",
        "attributes": {"locality": "string"},
        "documents": "number",
    });
    pin("a new participant", &s.participant, participant.clone());
    let pid = id(&s.participant);
    let shown = body(
        s.owner
            .get(&format!("/projects/{p}/participants/{pid}"))
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a participant", &shown, participant.clone());
    let list = body(
        s.owner.get(&format!("/projects/{p}/participants")).await,
        StatusCode::OK,
    )
    .await;
    pin("a participant in the list", first(&list), participant);
    let summary = json!({
        "id": "number",
        "title": "string",
        "kind": "string",
        // Today a date serialises as `[year, day of the year]`.
        "held_on": ["number", "number"],
        "attributes": {"site": "string"},
        "original_filename": "null",
        "source_format": "string",
        "length": "number",
        "created_at": "string",
        "turn_count": "number",
        "speaker_count": "number",
        "unassigned_speakers": "number",
    });
    let timed_turn = json!({
        "speaker": "string",
        "start": "number",
        "end": "number",
        "time": "string",
        "time_ms": "number",
    });
    let mut detail = summary.clone();
    detail["text"] = json!("string");
    detail["turns"] = json!([timed_turn, timed_turn, timed_turn]);
    detail["speakers"] = json!([
        {
            "label": "string",
            "participant_id": "null",
            "role": "string",
            "participant": "null",
            "group": "null",
            "group_id": "null",
            "turns": "number",
        },
        {
            "label": "string",
            "participant_id": "number",
            "role": "string",
            "participant": "string",
            "group": "string",
            "group_id": "number",
            "turns": "number",
        },
        {
            "label": "string",
            "participant_id": "null",
            "role": "string",
            "participant": "null",
            "group": "null",
            "group_id": "null",
            "turns": "number",
        },
    ]);
    pin("a new document", &s.document, detail.clone());
    let d = id(&s.document);
    let shown = body(
        s.owner.get(&format!("/projects/{p}/documents/{d}")).await,
        StatusCode::OK,
    )
    .await;
    pin("a document", &shown, detail.clone());
    let list = body(
        s.owner.get(&format!("/projects/{p}/documents")).await,
        StatusCode::OK,
    )
    .await;
    pin("a document in the list", first(&list), summary.clone());
    let changed = body(
        s.owner
            .patch(
                &format!("/projects/{p}/documents/{d}"),
                json!({"title": "Interview one", "held_on": null}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    let mut undated = summary.clone();
    undated["held_on"] = json!("null");
    pin("a changed document", &changed, undated);
    let speakers = body(
        s.owner
            .put(
                &format!("/projects/{p}/documents/{d}/speakers"),
                json!([{"label": "Stranger", "role": "interviewer"}]),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("the speakers", &speakers, detail["speakers"].clone());

    // A multipart upload answers what it made and what it refused.
    let form = Form::new()
        .part(
            "file",
            Part::bytes(&b"I: Hello\nP01: Hi"[..]).file_name("short.txt"),
        )
        .part(
            "file",
            Part::bytes(&b"%PDF-1.4"[..]).file_name("report.pdf"),
        );
    let report = body(
        s.owner
            .upload(&format!("/projects/{p}/documents"), form)
            .await,
        StatusCode::MULTI_STATUS,
    )
    .await;
    let untimed_turn = json!({"speaker": "string", "start": "number", "end": "number"});
    let mut uploaded = summary;
    uploaded["held_on"] = json!("null");
    uploaded["attributes"] = json!({});
    uploaded["original_filename"] = json!("string");
    uploaded["text"] = json!("string");
    uploaded["turns"] = json!([untimed_turn, untimed_turn]);
    uploaded["speakers"] = json!([
        {
            "label": "string",
            "participant_id": "null",
            "role": "string",
            "participant": "null",
            "group": "null",
            "group_id": "null",
            "turns": "number",
        },
        {
            "label": "string",
            "participant_id": "number",
            "role": "string",
            "participant": "string",
            "group": "string",
            "group_id": "number",
            "turns": "number",
        },
    ]);
    pin(
        "an upload report",
        &report,
        json!({
            "documents": [uploaded],
            "errors": [{"file": "string", "status": "number", "error": "string"}],
        }),
    );
    // With nothing imported, the report leads with the first error.
    let form = Form::new().part(
        "file",
        Part::bytes(&b"%PDF-1.4"[..]).file_name("report.pdf"),
    );
    let refused = body(
        s.owner
            .upload(&format!("/projects/{p}/documents"), form)
            .await,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
    )
    .await;
    pin(
        "a refused upload",
        &refused,
        json!({
            "error": "string",
            "documents": [],
            "errors": [{"file": "string", "status": "number", "error": "string"}],
        }),
    );

    // Without a group, the group's name and id are null.
    let changed = body(
        s.owner
            .patch(
                &format!("/projects/{p}/participants/{pid}"),
                json!({"group": null}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a participant without a group",
        &changed,
        json!({
            "id": "number",
            "label": "string",
            "group": "null",
            "group_id": "null",
            "attributes": {"locality": "string"},
            "documents": "number",
        }),
    );
    let import = |query: &str, csv: &'static str| {
        s.owner
            .client
            .post(format!(
                "{}/projects/{p}/participants/import{query}",
                s.owner.base
            ))
            .bearer_auth(s.owner.token.as_ref().unwrap())
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    let checked = body(
        import(
            "?dry_run=true",
            "label,group,locality\nP02,Day staff,South\n",
        )
        .await
        .unwrap(),
        StatusCode::OK,
    )
    .await;
    pin(
        "a participants import report",
        &checked,
        json!({
            "imported": "number",
            "dry_run": "bool",
            "rows": [{
                "line": "number",
                "label": "string",
                "group": "string",
                "attributes": {"locality": "string"},
                "error": "null",
            }],
        }),
    );
    let refused = body(
        import("", "label,group,locality\nP03,Nurses,South\n")
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    pin(
        "a refused participants import",
        &refused,
        json!({
            "error": "string",
            "rows": [{
                "line": "number",
                "label": "string",
                "group": "string",
                "attributes": {"locality": "string"},
                "error": "string",
            }],
        }),
    );
}

fn code(parent: &str, shortcut: &str) -> Value {
    json!({
        "id": "number",
        "parent_id": parent,
        "name": "string",
        "path": "string",
        "depth": "number",
        "colour": "string",
        "definition": "string",
        "inclusion": "string",
        "exclusion": "string",
        "example": "string",
        "shortcut": shortcut,
        "position": "number",
        "memo": "string",
        "version": "number",
        "codings": "number",
        "updated_at": "string",
    })
}

#[sqlx::test]
async fn codes_codings_memos_and_the_matrix_keep_their_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;

    pin("a new code", &s.parent, code("null", "string"));
    pin("a new sub-code", &s.code, code("number", "null"));
    let c = id(&s.code);
    let shown = body(
        s.owner.get(&format!("/projects/{p}/codes/{c}")).await,
        StatusCode::OK,
    )
    .await;
    pin("a code", &shown, code("number", "null"));
    let list = body(
        s.owner.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    pin("a code in the tree", first(&list), code("null", "string"));
    let changed = body(
        s.owner
            .patch(
                &format!("/projects/{p}/codes/{c}"),
                json!({"definition": "A place of safety.", "version": shown["version"]}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a changed code", &changed, code("number", "null"));

    let attribution = json!({
        "label": "string",
        "participant_id": "number",
        "participant": "string",
        "group_id": "number",
        "group": "string",
        "attributes": {"locality": "string"},
    });
    let coding = json!({
        "id": "number",
        "code_id": "number",
        "document_id": "number",
        "coder": "number",
        "coder_name": "string",
        "start": "number",
        "end": "number",
        "memo": "string",
        "starred": "bool",
        "text": "string",
        "code_name": "string",
        "code_colour": "string",
        "document_title": "string",
        "speakers": [attribution],
        "turn": "number",
        "time": "string",
        "created_at": "string",
        "updated_at": "string",
    });
    pin("a new coding", &s.coding, coding.clone());
    let g = id(&s.coding);
    let shown = body(
        s.owner.get(&format!("/projects/{p}/codings/{g}")).await,
        StatusCode::OK,
    )
    .await;
    pin("a coding", &shown, coding.clone());
    let list = body(
        s.owner.get(&format!("/projects/{p}/codings")).await,
        StatusCode::OK,
    )
    .await;
    pin("a coding in the list", first(&list), coding.clone());
    let changed = body(
        s.coder
            .patch(
                &format!("/projects/{p}/codings/{g}"),
                json!({"starred": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a changed coding", &changed, coding);
    let d = id(&s.document);
    let feed = body(
        s.owner
            .get(&format!("/projects/{p}/documents/{d}/codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a document's codings feed",
        &feed,
        json!({
            "fingerprint": "string",
            "me": "number",
            "codings": [{
                "id": "number",
                "code_id": "number",
                "coder": "number",
                "start": "number",
                "end": "number",
                "memo": "string",
                "starred": "bool",
                "created_at": "string",
            }],
        }),
    );

    let memo = body(
        s.owner
            .put(
                &format!("/projects/{p}/memo"),
                json!({"memo": "Why this study."}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("the project memo", &memo, json!({"memo": "string"}));
    let memo = body(
        s.owner
            .get(&format!("/projects/{p}/documents/{d}/memo"))
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a document memo", &memo, json!({"memo": "string"}));
    let memos = body(
        s.owner.get(&format!("/projects/{p}/memos")).await,
        StatusCode::OK,
    )
    .await;
    pin(
        "the memos",
        &memos,
        json!({
            "items": [
                {
                    "on": "string",
                    "id": "number",
                    "about": "string",
                    "memo": "string",
                    "author": "string",
                    "written_at": "string",
                    "document_id": "null",
                    "excerpt": "null",
                    "start": "null",
                },
                {
                    "on": "string",
                    "id": "number",
                    "about": "string",
                    "memo": "string",
                    "author": "string",
                    "written_at": "string",
                    "document_id": "number",
                    "excerpt": "string",
                    "start": "number",
                },
            ],
            "total": "number",
        }),
    );

    let matrix = body(
        s.owner
            .get(&format!("/projects/{p}/matrix?columns=group"))
            .await,
        StatusCode::OK,
    )
    .await;
    let columns: Vec<&str> = matrix["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["key"].as_str().unwrap())
        .collect();
    let values: Map<String, Value> = columns
        .iter()
        .map(|k| (k.to_string(), json!("number")))
        .collect();
    let row = |parent: &str| {
        json!({
            "code_id": "number",
            "parent_id": parent,
            "path": "string",
            "depth": "number",
            "values": values,
            "total": "number",
        })
    };
    let column = json!({"key": "string", "label": "string", "participants": "number"});
    pin(
        "the matrix",
        &matrix,
        json!({
            "measure": "string",
            "columns_by": "string",
            "rollup": "bool",
            "participants": "number",
            "columns": vec![column; columns.len()],
            "rows": [row("null"), row("number")],
        }),
    );
}

#[sqlx::test]
async fn trash_and_import_reports_keep_their_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let s = study(&app).await;
    let p = s.p;

    let footprint = json!({"codes": "number", "codings": "number"});
    let gone = body(
        s.owner
            .delete(&format!("/projects/{p}/codes/{}", id(&s.parent)))
            .await,
        StatusCode::OK,
    )
    .await;
    pin("what a delete took", &gone, footprint.clone());
    let trash = body(
        s.owner.get(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a trashed code",
        first(&trash),
        json!({
            "id": "number",
            "name": "string",
            "colour": "string",
            "parent_path": "null",
            "deleted_at": "string",
            "deleted_by": "string",
            "codes": "number",
            "codings": "number",
        }),
    );
    let restored = body(
        s.owner
            .post(
                &format!("/projects/{p}/codes/{}/restore", id(&s.parent)),
                json!({}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a restore",
        &restored,
        json!({
            "id": "number",
            "name": "string",
            "codes": "number",
            "codings": "number",
            "moved_to_top": "bool",
            "shortcuts_dropped": "number",
        }),
    );
    let merged = body(
        s.owner
            .post(
                &format!("/projects/{p}/codes/{}/merge", id(&s.code)),
                json!({"into": id(&s.parent)}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a merge", &merged, code("null", "string"));
    s.owner
        .delete(&format!("/projects/{p}/codes/{}", id(&s.parent)))
        .await;
    let emptied = body(
        s.owner.delete(&format!("/projects/{p}/codes/trash")).await,
        StatusCode::OK,
    )
    .await;
    pin("an emptied trash", &emptied, footprint);

    let imported = body(
        s.owner
            .raw_post(
                &format!("/projects/{p}/codes/import"),
                "text/csv",
                "path,definition\nPlaces/Ward,Where care happens\n",
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    pin(
        "a codebook import",
        &imported,
        json!({"created": "number", "updated": "number"}),
    );

    let qdpx = s
        .owner
        .get(&format!("/projects/{p}/exports/project.qdpx"))
        .await;
    assert_eq!(qdpx.status(), StatusCode::OK);
    let bytes = qdpx.bytes().await.unwrap().to_vec();
    let form = Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name("project.qdpx")
            .mime_str("application/zip")
            .unwrap(),
    );
    let copy = body(
        s.owner.upload("/projects/import", form).await,
        StatusCode::CREATED,
    )
    .await;
    pin(
        "a project import",
        &copy,
        json!({
            "project": project(),
            "report": {
                "origin": "string",
                "documents": "number",
                "codes": "number",
                "codings": "number",
                "participants": "number",
                "memos": "number",
                "coders": "number",
                // Lines of text, empty for a file Parley wrote itself.
                "positions": [],
                "adjusted": [],
                "not_imported": [],
            },
        }),
    );
}

#[sqlx::test]
async fn search_accounts_and_the_document_trash_keep_their_shape(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("ann@example.org").await;
    let p = owner.project("Shapes").await;
    owner
        .post(
            &format!("/projects/{p}/participants"),
            json!({"label": "P1", "group": "Staff"}),
        )
        .await;
    let code = owner.code(p, "Waiting", None).await;
    let (doc, _) = owner
        .document(
            p,
            "Interview",
            "Interviewer: and?\nP1: We waited for weeks.\n",
        )
        .await;
    let found = body(
        owner.get(&format!("/projects/{p}/search?q=wait")).await,
        StatusCode::OK,
    )
    .await;
    let hit = json!({
        "document_id": "number", "document_title": "string", "start": "number",
        "end": "number", "text": "string", "before": "string", "after": "string",
        "speaker": "string", "turn": "number", "participant": "string", "group": "string",
    });
    pin(
        "a search",
        &found,
        json!({"items": [hit], "total": "number", "documents": "number"}),
    );
    let coded = body(
        owner
            .post(
                &format!("/projects/{p}/search/code"),
                json!({"q": "wait", "code_id": code, "extent": "sentence"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    pin(
        "code all hits",
        &coded,
        json!({
            "created": "number", "existing": "number", "batch": "number",
            "codings": [{"document_id": "number", "document_title": "string", "start": "number",
                         "end": "number", "text": "string", "existing": "bool"}],
        }),
    );
    let undone = body(
        owner
            .delete(&format!("/projects/{p}/search/batches/{}", coded["batch"]))
            .await,
        StatusCode::OK,
    )
    .await;
    pin("an undo", &undone, json!({"removed": "number"}));

    // The document trash.
    let res = owner
        .delete(&format!("/projects/{p}/documents/{doc}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let trash = body(
        owner.get(&format!("/projects/{p}/documents/trash")).await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a trashed document",
        first(&trash),
        json!({
            "id": "number", "title": "string", "codings": "number", "coders": "number",
            "memos": "number", "deleted_by": "string", "deleted_at": "string",
        }),
    );
    let back = body(
        owner
            .post(&format!("/projects/{p}/documents/{doc}/restore"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    pin(
        "a restored document",
        &back,
        json!({"codings": "number", "lost": "number"}),
    );
    let emptied = body(
        owner
            .delete(&format!("/projects/{p}/documents/trash"))
            .await,
        StatusCode::OK,
    )
    .await;
    pin("an emptied trash", &emptied, json!({"deleted": "number"}));

    // Accounts, for an administrator.
    sqlx::query("update app_user set is_admin = true where email = 'ann@example.org'")
        .execute(&app.db)
        .await
        .unwrap();
    let user = json!({
        "id": "number", "email": "string", "name": "string", "is_admin": "bool",
        "disabled": "bool", "has_password": "bool", "projects": "number", "created_at": "string",
    });
    let made = body(
        owner
            .post("/users", json!({"email": "new@example.org", "name": "New"}))
            .await,
        StatusCode::CREATED,
    )
    .await;
    pin(
        "a new account",
        &made,
        json!({"user": user.clone(), "set_password_url": "string",
               "set_password_path": "string", "expires_at": "string"}),
    );
    let users = body(owner.get("/users").await, StatusCode::OK).await;
    pin("an account", first(&users), user.clone());
    let changed = body(
        owner
            .patch(
                &format!("/users/{}", made["user"]["id"]),
                json!({"disabled": true}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    pin("a changed account", &changed, user);
    let link = body(
        owner
            .post(
                &format!("/users/{}/password-link", made["user"]["id"]),
                json!({}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    pin(
        "a set-password link",
        &link,
        json!({"set_password_url": "string", "set_password_path": "string", "expires_at": "string"}),
    );
}
