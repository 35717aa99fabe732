use crate::helpers::{Api, TestApp, assert_error, expect, items};
use parley::domain::ids::ProjectId;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;

async fn upload(
    api: &Api,
    p: impl std::fmt::Display,
    files: &[(&str, &[u8])],
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new();
    for (name, bytes) in files {
        form = form.part(
            "file",
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    api.client
        .post(format!("{}/projects/{p}/documents", api.base))
        .bearer_auth(api.token.as_ref().unwrap())
        .multipart(form)
        .send()
        .await
        .unwrap()
}

fn slice(text: &str, start: u64, end: u64) -> String {
    text.chars()
        .skip(start as usize)
        .take((end - start) as usize)
        .collect()
}

#[sqlx::test]
async fn a_text_transcript_is_split_into_turns_with_code_point_ranges(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let text = "Interview 3 — North 🌲\r\n\r\nInterviewer: How was the ward?\r\nP07: It felt like a sanctuary 🙂, café and all.\r\nreally.\r\n";
    let res = upload(&owner, p, &[("North 03.txt", text.as_bytes())], &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let doc = &body["documents"][0];
    assert_eq!(doc["title"], "North 03");
    let text = doc["text"].as_str().unwrap();
    assert!(!text.contains('\r'));
    let turns = doc["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[1]["speaker"], "P07");
    let t1 = slice(
        text,
        turns[1]["start"].as_u64().unwrap(),
        turns[1]["end"].as_u64().unwrap(),
    );
    assert_eq!(
        t1,
        "P07: It felt like a sanctuary 🙂, café and all.\nreally."
    );
    let speakers = doc["speakers"].as_array().unwrap();
    assert_eq!(speakers[0]["role"], "interviewer");
    assert_eq!(speakers[1]["role"], "unassigned");

    let id = doc["id"].as_i64().unwrap();
    let got: Value = owner
        .get(&format!("/projects/{p}/documents/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["text"], doc["text"]);
    let list: Value = owner
        .get(&format!("/projects/{p}/documents"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
}

#[sqlx::test]
async fn a_batch_with_one_bad_file_imports_the_others(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let res = upload(
        &owner,
        p,
        &[
            ("a.txt", b"I: hi\nP1: yes"),
            ("report.pdf", b"%PDF-1.4"),
            ("b.md", b"I: hi\nP2: no"),
        ],
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::MULTI_STATUS);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["documents"].as_array().unwrap().len(), 2);
    assert_eq!(body["errors"][0]["file"], "report.pdf");
    assert!(
        body["errors"][0]["error"]
            .as_str()
            .unwrap()
            .contains(".docx")
    );
}

#[sqlx::test]
async fn bad_files_create_nothing_and_get_a_clear_4xx(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    for (name, bytes, status) in [
        ("x.pdf", &b"%PDF"[..], StatusCode::UNSUPPORTED_MEDIA_TYPE),
        ("x.txt", &b""[..], StatusCode::UNPROCESSABLE_ENTITY),
        ("x.txt", &b"caf\xe9"[..], StatusCode::UNPROCESSABLE_ENTITY),
        (
            "x.docx",
            &b"not a zip"[..],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "x.txt",
            &b"\x00\x01\x02binary"[..],
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let res = upload(&owner, p, &[(name, bytes)], &[]).await;
        assert_error(res, status).await;
    }
    let list: Value = owner
        .get(&format!("/projects/{p}/documents"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
}

#[sqlx::test]
async fn captions_become_turns_with_times(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Jane Smith>Hello there.</v>\n\n00:00:03.500 --> 00:00:05.000\n<v Jane Smith>Still me.</v>\n\n00:00:06.000 --> 00:00:08.000\n<v Interviewer>Thanks.</v>\n";
    let res = upload(&owner, p, &[("call.vtt", vtt.as_bytes())], &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let doc = &body["documents"][0];
    let turns = doc["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 2);
    assert_eq!(turns[0]["time"], "00:00:01");
    let text = doc["text"].as_str().unwrap();
    assert!(!text.contains("-->"));
    assert!(
        slice(
            text,
            turns[0]["start"].as_u64().unwrap(),
            turns[0]["end"].as_u64().unwrap()
        )
        .starts_with("Jane Smith: Hello there. Still me.")
    );
}

#[sqlx::test]
async fn excerpts_say_their_turn_and_time_mark(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Interviewer>How was it?</v>\n\n00:03:12.000 --> 00:03:15.000\n<v Jane Smith>We waited for months.</v>\n";
    let res = upload(&owner, p, &[("call.vtt", vtt.as_bytes())], &[]).await;
    let body: Value = res.json().await.unwrap();
    let doc = &body["documents"][0];
    let text = doc["text"].as_str().unwrap();
    let at = text.find("waited").unwrap();
    let start = text[..at].chars().count() as i64;
    let code = owner.code(p, "Waiting", None).await;
    let made = owner
        .coding(p, doc["id"].as_i64().unwrap(), code, start, start + 6)
        .await;
    assert_eq!(made["turn"], 2, "the second turn of the document");
    assert_eq!(made["time"], "00:03:12");
    let csv = owner
        .csv(&format!("/projects/{p}/exports/excerpts.csv"))
        .await;
    assert_eq!(
        csv.cells(&["turn", "time", "start"]),
        [["2", "00:03:12", &start.to_string()]],
        "one row; offsets stay for scripts"
    );
}

#[sqlx::test]
async fn participants_import_checks_rows_then_maps_speakers_automatically(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let import = |csv: &'static str| {
        owner
            .client
            .post(format!("{}/projects/{p}/participants/import", owner.base))
            .bearer_auth(owner.token.as_ref().unwrap())
            .header("content-type", "text/csv")
            .body(csv)
            .send()
    };
    let bad = import("label,group,locality\nP07,Staff,North\nP08,Nurses,South\nP07,Carer,East\n")
        .await
        .unwrap();
    let msg = assert_error(bad, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        msg.contains("Nurses") && msg.contains("more than once"),
        "{msg}"
    );
    let none: Value = owner
        .get(&format!("/projects/{p}/participants"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["total"], 0, "nothing written");

    let ok = import("label,group,locality\nP07,Service user,North\nC03,Carer,South\n")
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    let list: Value = owner
        .get(&format!("/projects/{p}/participants"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    let p07 = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["label"] == "P07")
        .unwrap()
        .clone();
    assert_eq!(p07["group"], "Service user");
    assert_eq!(p07["attributes"]["locality"], "North");

    let res = owner
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "FG", "text": "Facilitator: Hi\np07: Hello\nC03: Hey\nStranger: Yo"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let doc: Value = res.json().await.unwrap();
    let roles: Vec<(&str, &str)> = doc["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["label"].as_str().unwrap(), s["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [
            ("Facilitator", "interviewer"),
            ("p07", "participant"),
            ("C03", "participant"),
            ("Stranger", "unassigned")
        ]
    );

    let id = doc["id"].as_i64().unwrap();
    let res = owner
        .client
        .put(format!(
            "{}/projects/{p}/documents/{id}/speakers",
            owner.base
        ))
        .bearer_auth(owner.token.as_ref().unwrap())
        .json(&json!([{"label": "Stranger", "role": "interviewer"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let speakers: Value = res.json().await.unwrap();
    assert_eq!(speakers[3]["role"], "interviewer");
}

#[sqlx::test]
async fn documents_are_404_for_outsiders_and_read_only_for_viewers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    let outsider = app.person("outsider@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &viewer, "viewer").await;
    let doc: Value = owner
        .post(
            &format!("/projects/{p}/documents"),
            json!({"title": "T", "text": "I: a\nP1: b"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = doc["id"].as_i64().unwrap();
    assert_error(
        outsider.get(&format!("/projects/{p}/documents/{id}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        viewer
            .get(&format!("/projects/{p}/documents/{id}"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_error(
        viewer
            .delete(&format!("/projects/{p}/documents/{id}"))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        viewer
            .post(
                &format!("/projects/{p}/documents"),
                json!({"title": "T", "text": "x"}),
            )
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_eq!(
        owner
            .delete(&format!("/projects/{p}/documents/{id}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
}

#[sqlx::test]
async fn the_upload_form_imports_several_files_and_reports_the_bad_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let browser = app.signed_in("owner@example.org").await;
    let form = Form::new()
        .part(
            "file",
            Part::bytes(b"I: hi\nP1: yes".to_vec()).file_name("one.txt"),
        )
        .part(
            "file",
            Part::bytes(b"%PDF-1.4".to_vec()).file_name("two.pdf"),
        )
        .text("kind", "interview");
    let res = browser
        .post(app.url(&format!("/projects/{p}/documents")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = app
        .page_text(&browser, &format!("/projects/{p}/documents"))
        .await;
    assert!(page.contains("1 document imported."), "{page}");
    assert!(
        page.contains("two.pdf: Parley cannot read .pdf files"),
        "{page}"
    );
    assert!(page.contains(">one</a>"));
}

/// Every coding of a project as the API lists it, with memo and star.
async fn all_codings(api: &Api, p: ProjectId) -> Vec<Value> {
    let list = expect(
        api.get(&format!("/projects/{p}/codings?limit=1000")).await,
        StatusCode::OK,
    )
    .await;
    let mut v: Vec<Value> = items(&list)
        .iter()
        .map(|c| {
            json!([
                c["id"],
                c["document_id"],
                c["code_id"],
                c["coder"],
                c["start"],
                c["end"],
                c["memo"],
                c["starred"],
                c["created_at"]
            ])
        })
        .collect();
    v.sort_by_key(|c| c[0].as_i64());
    v
}

#[sqlx::test]
async fn a_deleted_document_waits_in_the_trash_and_comes_back_whole(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let bob = app.person("bob@example.org").await;
    let p = ann.project("Trash").await;
    ann.add(p, &bob, "coder").await;
    ann.participant(p, "P1", Some("Staff"), json!({})).await;
    let code = ann.code(p, "Theme", None).await;
    let (keep, _) = ann.document(p, "Kept", "P1: stays here all along").await;
    let (doc, _) = ann
        .document(
            p,
            "Going",
            "Interviewer: well?\nP1: we waited for weeks and weeks\n",
        )
        .await;
    ann.coding(p, keep, code, 4, 9).await;
    let a = ann.coding(p, doc, code, 23, 29).await;
    ann.patch(
        &format!("/projects/{p}/codings/{}", a["id"]),
        json!({"memo": "telling", "starred": true}),
    )
    .await;
    bob.coding(p, doc, code, 23, 40).await;
    bob.coding(p, doc, code, 30, 35).await;
    ann.put(
        &format!("/projects/{p}/documents/{doc}/memo"),
        json!({"memo": "Recorded in the ward."}),
    )
    .await;
    let before = all_codings(&ann, p).await;
    async fn matrix(api: &Api, p: ProjectId) -> Value {
        let path = format!("/projects/{p}/matrix?measure=references");
        expect(api.get(&path).await, StatusCode::OK).await["rows"].clone()
    }
    let matrix_before = matrix(&ann, p).await;

    // The page says what goes with it.
    let browser = app.signed_in("ann@example.org").await;
    let page = app
        .page_text(&browser, &format!("/projects/{p}/documents/{doc}/delete"))
        .await;
    assert!(page.contains("3 codings by 2 coders, 2 memos"), "{page}");

    assert_eq!(
        ann.delete(&format!("/projects/{p}/documents/{doc}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        ann.get(&format!("/projects/{p}/documents/{doc}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        all_codings(&ann, p).await.len(),
        1,
        "only the kept document's"
    );
    assert_ne!(
        matrix(&ann, p).await,
        matrix_before,
        "the matrix no longer counts it"
    );
    let trash = expect(
        ann.get(&format!("/projects/{p}/documents/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items(&trash).len(), 1);
    let t = &items(&trash)[0];
    assert_eq!(
        (&t["title"], &t["codings"], &t["coders"], &t["memos"]),
        (&json!("Going"), &json!(3), &json!(2), &json!(2))
    );
    assert_eq!(t["deleted_by"], "ann");

    // A viewer cannot restore; a coder can, and everything comes back.
    let vic = app.person("vic@example.org").await;
    ann.add(p, &vic, "viewer").await;
    assert_error(
        vic.post(&format!("/projects/{p}/documents/{doc}/restore"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let back = expect(
        bob.post(&format!("/projects/{p}/documents/{doc}/restore"), json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!((&back["codings"], &back["lost"]), (&json!(3), &json!(0)));
    assert_eq!(
        all_codings(&ann, p).await,
        before,
        "same ids, memos, stars and times"
    );
    assert_eq!(matrix(&ann, p).await, matrix_before);
    let memo = expect(
        ann.get(&format!("/projects/{p}/documents/{doc}/memo"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(memo["memo"], "Recorded in the ward.");
    let detail = expect(
        ann.get(&format!("/projects/{p}/documents/{doc}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(items_of(&detail["turns"]).len(), 2);
    assert!(
        items_of(&detail["speakers"])
            .iter()
            .any(|s| s["label"] == "P1" && !s["participant_id"].is_null()),
        "the speaker mapping too"
    );
    assert_error(
        bob.post(&format!("/projects/{p}/documents/{doc}/restore"), json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // Only owners empty the trash.
    assert_eq!(
        ann.delete(&format!("/projects/{p}/documents/{doc}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert_error(
        bob.delete(&format!("/projects/{p}/documents/trash")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    let emptied = expect(
        ann.delete(&format!("/projects/{p}/documents/trash")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(emptied["deleted"], 1);
    assert_error(
        ann.post(&format!("/projects/{p}/documents/{doc}/restore"), json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

fn items_of(v: &Value) -> &Vec<Value> {
    v.as_array().expect("a list")
}

#[sqlx::test]
async fn speakers_map_themselves_to_participants_added_later(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Later").await;
    let (d, _) = ann
        .document(
            p,
            "Group",
            "Interviewer: go on\nP03: first\nc07: second\nP09: third\n",
        )
        .await;
    let mapped = |detail: &Value, label: &str| {
        items_of(&detail["speakers"])
            .iter()
            .find(|s| s["label"] == label)
            .map(|s| s["participant_id"].clone())
            .unwrap()
    };
    let detail = expect(
        ann.get(&format!("/projects/{p}/documents/{d}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(mapped(&detail, "P03").is_null());
    // One by one, and by a participants file (labels ignore case).
    let made = expect(
        ann.post(
            &format!("/projects/{p}/participants"),
            json!({"label": "P03", "group": "Staff"}),
        )
        .await,
        StatusCode::CREATED,
    )
    .await;
    let res = ann
        .raw_post(
            &format!("/projects/{p}/participants/import"),
            "text/csv",
            "label,group\nC07,Carer\n",
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let detail = expect(
        ann.get(&format!("/projects/{p}/documents/{d}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(mapped(&detail, "P03"), made["id"]);
    assert!(!mapped(&detail, "c07").is_null(), "C07 for c07");
    assert!(mapped(&detail, "P09").is_null(), "no participant P09");
    assert!(mapped(&detail, "Interviewer").is_null());
}

#[sqlx::test]
async fn an_identical_file_is_added_again_only_when_asked(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Copies").await;
    let text: &[u8] = b"P1: the same words\n";
    let res = upload(&ann, p, &[("one.txt", text)], &[]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = upload(
        &ann,
        p,
        &[("again.txt", text), ("other.txt", b"P1: other words\n")],
        &[],
    )
    .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["documents"].as_array().unwrap().len(), 1, "{body}");
    let err = &body["errors"][0];
    assert_eq!(err["file"], "again.txt");
    assert_eq!(err["status"], 409);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("identical to “one”"),
        "{err}"
    );
    let res = upload(&ann, p, &[("again.txt", text)], &[("copies", "true")]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(ann.document_count(p).await, 3);
}

/// A document read whole in one statement (the API's document and the
/// transcript page) says what the separate reads say: summary, text,
/// turns, and speakers with their turns, in order of first turn.
#[sqlx::test]
async fn a_document_read_whole_matches_its_parts_read_apart(pool: PgPool) {
    use parley::domain::ids::DocumentId;
    use parley::store::documents;
    fn json(v: &impl serde::Serialize) -> Value {
        serde_json::to_value(v).unwrap()
    }
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Whole").await;
    ann.participant(p, "P2", Some("Carer"), json!({})).await;
    ann.participant(p, "P1", Some("Staff"), json!({"locality": "North"}))
        .await;
    let text = "Focus group\nInterviewer: Hello.\nP2: Hi.\nZed: Hey.\nP1: Hello.\nP2: Again.\nInterviewer: Thanks.\n";
    let (d, _) = ann.document(p, "Group", text).await;
    let (empty, _) = ann.document(p, "No speakers", "Just notes.").await;
    // Read twice: its text and turns read, then kept.
    let texts = parley::service::texts::Texts::default();
    let whole = |id: DocumentId| {
        let (db, texts) = (app.db.clone(), &texts);
        async move { parley::service::documents::detail(&db, texts, p, id).await }
    };
    for d in [d, empty, d, empty] {
        let id = DocumentId(d);
        let detail = whole(id).await.unwrap();
        assert_eq!(
            json(&detail.summary),
            json(&documents::get(&app.db, p, id).await.unwrap().unwrap()),
            "document {d}"
        );
        assert_eq!(
            Some(detail.text),
            documents::text(&app.db, p, id).await.unwrap(),
            "document {d}"
        );
        let turns: Vec<parley::service::documents::TurnView> = documents::turns(&app.db, p, id)
            .await
            .unwrap()
            .into_iter()
            .map(Into::into)
            .collect();
        assert_eq!(json(&detail.turns), json(&turns), "document {d}");
        assert_eq!(
            json(&detail.speakers),
            json(&documents::speakers(&app.db, p, id).await.unwrap()),
            "document {d}"
        );
    }
    // The cases are there: speakers in order of first turn, with counts.
    let detail = whole(DocumentId(d)).await.unwrap();
    let labels: Vec<(&str, i64)> = detail
        .speakers
        .iter()
        .map(|s| (s.label.as_str(), s.turns))
        .collect();
    assert_eq!(
        labels,
        [("Interviewer", 2), ("P2", 2), ("Zed", 1), ("P1", 1)]
    );
    assert_eq!(detail.summary.turn_count, detail.turns.len() as i64);
    assert_eq!(
        (
            detail.summary.speaker_count,
            detail.summary.unassigned_speakers
        ),
        (4, 1)
    );
    assert!(whole(DocumentId(d + 1000)).await.is_err());
}

#[sqlx::test]
async fn a_document_can_come_with_its_codings_in_one_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;
    let code = ann.code(p, "Waiting", None).await;
    let (d, _) = ann
        .document(p, "Interview", "I: how was it\nP1: we waited for weeks\n")
        .await;
    let (other, _) = ann.document(p, "Other", "P2: fine\n").await;
    let bea = app.person("bea@example.org").await;
    ann.add(p, &bea, "coder").await;
    let binned = ann.code(p, "Binned", None).await;
    // Made out of text order, by two coders; one of a code then trashed.
    ann.coding(p, d, code, 25, 28).await;
    bea.coding(p, d, code, 18, 28).await;
    ann.coding(p, d, code, 18, 24).await;
    ann.coding(p, d, binned, 14, 20).await;
    ann.coding(p, other, code, 4, 8).await;
    expect(
        ann.delete(&format!("/projects/{p}/codes/{binned}")).await,
        StatusCode::OK,
    )
    .await;

    let plain = expect(
        ann.get(&format!("/projects/{p}/documents/{d}")).await,
        StatusCode::OK,
    )
    .await;
    assert!(plain.get("codings").is_none(), "only when asked for");
    let with = expect(
        ann.get(&format!("/projects/{p}/documents/{d}?include=codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(with["text"], plain["text"]);
    assert_eq!(with["turns"], plain["turns"]);
    // The same codings, as the coding page's own list draws them.
    let marks = expect(
        ann.get(&format!("/projects/{p}/documents/{d}/codings"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(with["codings"], marks["codings"]);
    let ranges: Vec<(i64, i64)> = with["codings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["start"].as_i64().unwrap(), c["end"].as_i64().unwrap()))
        .collect();
    assert_eq!(ranges, [(18, 24), (18, 28), (25, 28)], "in text order");
    // The list read with the codings carries the fingerprint a poll
    // compares against.
    let etag = format!("\"{}\"", marks["fingerprint"].as_str().unwrap());
    let poll = ann
        .client
        .get(format!("{}/projects/{p}/documents/{d}/codings", ann.base))
        .bearer_auth(ann.token.as_ref().unwrap())
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), StatusCode::NOT_MODIFIED);

    let message = assert_error(
        ann.get(&format!("/projects/{p}/documents/{d}?include=memos"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(message.contains("include"), "{message}");
    // Another project's document is not found through this one.
    let q = ann.project("Other study").await;
    assert_error(
        ann.get(&format!("/projects/{q}/documents/{d}?include=codings"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
