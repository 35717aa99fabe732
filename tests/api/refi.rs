//! REFI-QDA exchange (`.qdpx` projects, `.qdc` codebooks) through the API
//! and the CLI.
//!
//! - Our exports validate against the official schemas (xmllint).
//! - A rich project survives a round trip: codes, codings (with coder and
//!   memo), participants, speaker mappings, attributes and memos.
//! - Real files (qc 1.3.2's demo, the spec's ATLAS.ti example) import with
//!   exact counts and the texts their tools meant.
//! - Hand-made files in the style of NVivo (Windows), MAXQDA, ATLAS.ti,
//!   QualCoder/qc, Taguette and NVivo for Mac (UTF-16 offsets, CRLF as one
//!   or two, BOMs, folder and GUID habits) import with every coding on
//!   exactly the intended words.
//! - Hostile uploads get a clear 4xx JSON error and leave no project behind.
//! - Who may import and export; `parley export` and `parley import-project`.

use crate::helpers::{Api, TestApp, assert_error, zip_of};
use parley::domain::ids::ProjectId;
use parley::domain::text::normalise;
use quick_xml::events::Event;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

// ---- helpers ---------------------------------------------------------------

/// The REFI-QDA test files: real samples and the official schemas.
/// `(imported 2026-12-06)`, with today's date.
fn imported_today() -> String {
    format!("(imported {})", time::OffsetDateTime::now_utc().date())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/refi")
        .join(name)
}

fn sample(name: &str) -> Vec<u8> {
    let path = fixture(&format!("samples/{name}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Validate `xml` against one of the official schemas with xmllint:
/// `Some((valid, messages))`, or `None` when xmllint is not installed (said
/// loudly; under `CI=true` a missing xmllint fails the test instead).
fn xmllint(schema: &str, xml: &[u8]) -> Option<(bool, String)> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("document.xml");
    std::fs::write(&file, xml).unwrap();
    let run = Command::new("xmllint")
        .arg("--noout")
        .arg("--nonet")
        .arg("--schema")
        .arg(fixture(&format!("schemas/{schema}")))
        .arg(&file)
        .output();
    match run {
        Ok(out) => Some((
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("xmllint is required under CI=true: apt-get install -y libxml2-utils");
            }
            eprintln!(
                "\n*** SKIPPING REFI-QDA SCHEMA VALIDATION: xmllint is not installed \
                 (apt-get install -y libxml2-utils) ***\n"
            );
            None
        }
        Err(e) => panic!("cannot run xmllint: {e}"),
    }
}

/// Assert `xml` is valid against `schema` (unless xmllint is missing).
fn assert_valid(schema: &str, xml: &[u8], what: &str) {
    if let Some((valid, messages)) = xmllint(schema, xml) {
        assert!(
            valid,
            "{what} is not valid against {schema}:\n{messages}\n--- the document ---\n{}",
            String::from_utf8_lossy(xml)
        );
    }
}

/// Answer body as JSON, after checking the status.
async fn expect(res: reqwest::Response, status: StatusCode) -> Value {
    let got = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn with_token(api: &Api, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    match &api.token {
        Some(t) => r.bearer_auth(t),
        None => r,
    }
}

/// `POST /projects/import` with `bytes` as the multipart `file` part.
async fn import(api: &Api, bytes: Vec<u8>) -> reqwest::Response {
    let part = Part::bytes(bytes)
        .file_name("project.qdpx")
        .mime_str("application/zip")
        .unwrap();
    with_token(
        api,
        api.client
            .post(format!("{}/projects/import", api.base))
            .multipart(Form::new().part("file", part)),
    )
    .send()
    .await
    .unwrap()
}

/// Import and expect a new project: its id and the report.
async fn imported(api: &Api, bytes: Vec<u8>) -> (ProjectId, Value) {
    let body = expect(import(api, bytes).await, StatusCode::CREATED).await;
    let p = ProjectId(id(&body["project"]));
    (p, body["report"].clone())
}

/// `POST /projects/{p}/codes/import` with a codebook as the request body.
async fn codes_import_body(api: &Api, p: ProjectId, body: &[u8]) -> reqwest::Response {
    with_token(
        api,
        api.client
            .post(format!("{}/projects/{p}/codes/import", api.base))
            .header("content-type", "application/xml")
            .body(body.to_vec()),
    )
    .send()
    .await
    .unwrap()
}

/// The same as a multipart `file` part.
async fn codes_import_file(api: &Api, p: ProjectId, body: &[u8]) -> reqwest::Response {
    let part = Part::bytes(body.to_vec())
        .file_name("codebook.qdc")
        .mime_str("application/xml")
        .unwrap();
    with_token(
        api,
        api.client
            .post(format!("{}/projects/{p}/codes/import", api.base))
            .multipart(Form::new().part("file", part)),
    )
    .send()
    .await
    .unwrap()
}

async fn download(api: &Api, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let res = api.get(path).await;
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.unwrap().to_vec();
    assert_eq!(
        status,
        StatusCode::OK,
        "{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    (headers, bytes)
}

/// Every file of a zip by name.
fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = ZipArchive::new(Cursor::new(bytes)).expect("a zip archive");
    let mut out = BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().expect("a readable entry name").to_string(), data);
    }
    out
}

/// Positions as an exchange tool counts them in `raw` (no BOM): code
/// points or UTF-16 units, a CRLF as two units or (ATLAS.ti) as one.
fn units(raw: &str, utf16: bool, crlf_one: bool) -> usize {
    let mut n = 0;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if crlf_one && c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
            n += 1;
        } else if utf16 {
            n += c.len_utf16();
        } else {
            n += 1;
        }
    }
    n
}

/// The `[start, end)` of the first `needle` in `raw`, counted like that.
fn span(raw: &str, needle: &str, utf16: bool, crlf_one: bool) -> (usize, usize) {
    let byte = raw
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {raw:?}"));
    let start = units(&raw[..byte], utf16, crlf_one);
    (start, start + units(needle, utf16, crlf_one))
}

fn slice(text: &str, start: usize, end: usize) -> String {
    text.chars()
        .skip(start)
        .take(end.saturating_sub(start))
        .collect()
}

/// The codebook: every code by id.
async fn codes(api: &Api, p: ProjectId) -> BTreeMap<i64, Value> {
    let body = expect(
        api.get(&format!("/projects/{p}/codes")).await,
        StatusCode::OK,
    )
    .await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (id(c), c.clone()))
        .collect()
}

fn paths(codes: &BTreeMap<i64, Value>) -> BTreeSet<String> {
    codes.values().map(|c| s(&c["path"])).collect()
}

fn by_path<'a>(codes: &'a BTreeMap<i64, Value>, path: &str) -> &'a Value {
    codes
        .values()
        .find(|c| c["path"] == path)
        .unwrap_or_else(|| panic!("no code {path:?} in {:?}", paths(codes)))
}

/// Every coding of the project, page by page (`limit` a page).
async fn all_codings(api: &Api, p: ProjectId, limit: usize) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    loop {
        let page = expect(
            api.get(&format!(
                "/projects/{p}/codings?limit={limit}&offset={}",
                out.len()
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        let items = page["items"].as_array().unwrap();
        let total = page["total"].as_u64().unwrap() as usize;
        out.extend(items.iter().cloned());
        if items.is_empty() || out.len() >= total {
            assert_eq!(out.len(), total, "paging lost or repeated codings");
            break;
        }
    }
    let distinct: BTreeSet<i64> = out.iter().map(id).collect();
    assert_eq!(
        distinct.len(),
        out.len(),
        "a coding came twice while paging"
    );
    out
}

/// Every document with its text, turns and speakers.
async fn documents(api: &Api, p: ProjectId) -> Vec<Value> {
    let list = expect(
        api.get(&format!("/projects/{p}/documents?limit=1000"))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut out = Vec::new();
    for d in list["items"].as_array().unwrap() {
        out.push(
            expect(
                api.get(&format!("/projects/{p}/documents/{}", id(d))).await,
                StatusCode::OK,
            )
            .await,
        );
    }
    out
}

fn document_titled<'a>(docs: &'a [Value], title: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["title"] == title)
        .unwrap_or_else(|| {
            let titles: Vec<String> = docs.iter().map(|d| s(&d["title"])).collect();
            panic!("no document {title:?} in {titles:?}")
        })
}

/// `label → (role, participant label)` of a document's speakers.
fn speakers(doc: &Value) -> BTreeMap<String, (String, Option<String>)> {
    doc["speakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|sp| {
            (
                s(&sp["label"]),
                (
                    s(&sp["role"]),
                    sp["participant"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

async fn participants(api: &Api, p: ProjectId) -> BTreeMap<String, Value> {
    let body = expect(
        api.get(&format!("/projects/{p}/participants?limit=1000"))
            .await,
        StatusCode::OK,
    )
    .await;
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (s(&x["label"]), x.clone()))
        .collect()
}

async fn document_memo(api: &Api, p: ProjectId, d: i64) -> String {
    s(&expect(
        api.get(&format!("/projects/{p}/documents/{d}/memo")).await,
        StatusCode::OK,
    )
    .await["memo"])
}

async fn project_memo(api: &Api, p: ProjectId) -> String {
    s(&expect(
        api.get(&format!("/projects/{p}/memo")).await,
        StatusCode::OK,
    )
    .await["memo"])
}

/// `(document title, code path, start, end, text)` of every coding,
/// sorted, for comparing with what a file meant.
async fn placed(api: &Api, p: ProjectId) -> Vec<(String, String, i64, i64, String)> {
    let codes = codes(api, p).await;
    let mut out: Vec<_> = all_codings(api, p, 1000)
        .await
        .iter()
        .map(|c| {
            (
                s(&c["document_title"]),
                s(&codes[&c["code_id"].as_i64().unwrap()]["path"]),
                c["start"].as_i64().unwrap(),
                c["end"].as_i64().unwrap(),
                s(&c["text"]),
            )
        })
        .collect();
    out.sort();
    out
}

/// Projects visible to `api`, and projects in the whole database.
async fn project_counts(app: &TestApp, api: &Api) -> (u64, i64) {
    let mine = expect(api.get("/projects").await, StatusCode::OK).await;
    let all = sqlx::query_scalar::<_, i64>("select count(*) from project")
        .fetch_one(&app.db)
        .await
        .unwrap();
    (mine["total"].as_u64().unwrap(), all)
}

fn lines(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        .iter()
        .map(s)
        .collect()
}

/// The one report line mentioning every one of `words`.
fn line_with(report: &Value, key: &str, words: &[&str]) -> String {
    // Names come as the file wrote them (macOS tools write decomposed
    // accents): compare in NFC.
    let all: Vec<String> = lines(report, key).iter().map(|l| normalise(l)).collect();
    let found: Vec<&String> = all
        .iter()
        .filter(|l| words.iter().all(|w| l.contains(&normalise(w))))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {key} line with {words:?}; {key} = {all:#?}"
    );
    found[0].clone()
}

// ---- a rich project, built through the API --------------------------------

const INTERVIEW: &str = "Interviewer: Bonjour Zoë, comment ça va ?\n\
Zoë: Très bien 😀 merci. Le café était froid, on attend toujours. 👩\u{200d}👩\u{200d}👧 Ma famille est venue.\n\
Interviewer: Et la nuit ?\n\
Zoë: La nuit, c’est dur 🇫🇷. Personne ne vient quand on sonne, et on reste seule avec ses pensées. \
J’ai demandé plusieurs fois qu’on laisse la lumière du couloir allumée, parce que le noir complet me fait peur \
depuis l’opération ; l’infirmière de nuit est gentille mais elle a trente patients 🙁.\n";

const FOCUS_GROUP: &str = "Facilitator: What makes nights hard?\n\
P02: Staffing. One nurse for thirty patients 😓.\n\
Sam: The waiting, honestly — call bells ring for ages.\n\
P03: Je ne sais pas… the noise?\n\
P02: And families calling at midnight 📞.\n";

const LONG_TURN: &str = "La nuit, c’est dur 🇫🇷. Personne ne vient quand on sonne, et on reste seule avec ses pensées. \
J’ai demandé plusieurs fois qu’on laisse la lumière du couloir allumée, parce que le noir complet me fait peur \
depuis l’opération ; l’infirmière de nuit est gentille mais elle a trente patients 🙁.";

struct Rich {
    owner: Api,
    coder: Api,
    project: ProjectId,
    /// Codings made, for the report's count.
    codings: usize,
}

fn at(text: &str, needle: &str) -> (i64, i64) {
    let byte = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text:?}"));
    let start = text[..byte].chars().count() as i64;
    (start, start + needle.chars().count() as i64)
}

/// Everything Parley keeps that a REFI-QDA project can carry: participants
/// with groups and attributes, two documents with accents and emoji, speaker
/// mappings (an interviewer, a label that is not the participant's label, a
/// speaker left unassigned although a participant has its label), a code
/// tree with definitions and memos and the same name in two branches,
/// codings by two coders with memos, document and project memos.
async fn rich_project(app: &TestApp) -> Rich {
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Nuits à l’hôpital 🌙").await;
    expect(
        owner
            .patch(
                &format!("/projects/{p}"),
                json!({"description": "Carers and staff on nights — « été 2026 »"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;
    owner.add(p, &coder, "coder").await;

    // Participants.
    expect(
        owner
            .post(
                &format!("/projects/{p}/groups"),
                json!({"name": "Bénévoles"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;
    for (label, group, attributes) in [
        (
            "P01",
            Some("Carer"),
            json!({"age band": "65+", "locality": "Nord-Est"}),
        ),
        (
            "P02",
            Some("Staff"),
            json!({"role": "Infirmière 👩\u{200d}⚕️"}),
        ),
        ("P03", Some("Service user"), json!({})),
        ("Samir", Some("Bénévoles"), json!({"shift": "nuit"})),
        ("P05", None, json!({"note": "not interviewed yet"})),
    ] {
        expect(
            owner
                .post(
                    &format!("/projects/{p}/participants"),
                    json!({"label": label, "group": group, "attributes": attributes}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }

    // Documents.
    let d1 = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({
                    "title": "Entretien — Zoë (été)",
                    "text": INTERVIEW,
                    "kind": "interview",
                    "held_on": "2026-06-01",
                    "attributes": {"site": "Lyon", "wave": "2"},
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let d2 = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({
                    "title": "Focus group — équipe de nuit",
                    "text": FOCUS_GROUP,
                    "kind": "focus_group",
                    "attributes": {"site": "Paris", "wave": "2"},
                }),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let mapped = expect(
        owner
            .client
            .put(format!(
                "{}/projects/{p}/documents/{d1}/speakers",
                owner.base
            ))
            .bearer_auth(owner.token.as_deref().unwrap())
            .json(&json!([
                {"label": "Interviewer", "role": "interviewer"},
                {"label": "Zoë", "participant": "P01"},
            ]))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(mapped.as_array().unwrap().len(), 2, "{mapped}");
    let mapped = expect(
        owner
            .client
            .put(format!(
                "{}/projects/{p}/documents/{d2}/speakers",
                owner.base
            ))
            .bearer_auth(owner.token.as_deref().unwrap())
            .json(&json!([
                {"label": "Facilitator", "role": "interviewer"},
                {"label": "P02", "participant": "P02"},
                {"label": "Sam", "participant": "Samir"},
                {"label": "P03", "role": "unassigned"},
            ]))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert_eq!(mapped.as_array().unwrap().len(), 4, "{mapped}");

    // The codebook.
    let code = |name: &'static str, parent: Option<i64>, extra: Value| {
        let owner = &owner;
        async move {
            let mut body = json!({"name": name, "parent_id": parent});
            body.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            id(&expect(
                owner.post(&format!("/projects/{p}/codes"), body).await,
                StatusCode::CREATED,
            )
            .await)
        }
    };
    let safety = code(
        "Sécurité 🛡️",
        None,
        json!({
            "colour": "#e15759",
            "definition": "Feeling safe — or not.\n\nSecond paragraph: nights & « alarms ».",
            "inclusion": "calm, protected, <rassurée>",
            "exclusion": "financial security",
            "example": "“On se sent protégé”",
        }),
    )
    .await;
    let night = code(
        "Nuit",
        Some(safety),
        json!({"colour": "#4e79a7", "definition": "At night."}),
    )
    .await;
    let fear = code("Peur", Some(night), json!({})).await;
    let other_safety = code("Autres", Some(safety), json!({})).await;
    let waiting = code(
        "Attente ⏳",
        None,
        json!({"colour": "#59a14f", "example": "« on attend toujours »"}),
    )
    .await;
    let other_waiting = code("Autres", Some(waiting), json!({"colour": "#f28e2b"})).await;
    let family = code(
        "Famille 👩\u{200d}👩\u{200d}👧",
        None,
        json!({"colour": "#b07aa1"}),
    )
    .await;
    expect(
        owner
            .patch(
                &format!("/projects/{p}/codes/{safety}"),
                json!({"memo": "Revisit after wave 2 ✔\nLine two.", "shortcut": "s"}),
            )
            .await,
        StatusCode::OK,
    )
    .await;

    // Codings by two coders; the texts as the server keeps them.
    let t1 = normalise(INTERVIEW);
    let t2 = normalise(FOCUS_GROUP);
    let (t1, t2) = (t1.as_str(), t2.as_str());
    let plan: Vec<(&Api, i64, &str, i64, &str)> = vec![
        (&owner, d1, t1, safety, "Très bien 😀"),
        (
            &owner,
            d1,
            t1,
            family,
            "👩\u{200d}👩\u{200d}👧 Ma famille est venue.",
        ),
        (&owner, d1, t1, night, LONG_TURN),
        (&owner, d1, t1, fear, "Personne ne vient"),
        (&owner, d1, t1, waiting, "on attend toujours"),
        (&owner, d1, t1, other_safety, "🇫🇷"),
        (
            &owner,
            d2,
            t2,
            other_waiting,
            "One nurse for thirty patients 😓",
        ),
        (&owner, d2, t2, waiting, "call bells ring for ages"),
        // The same code on the same range as the owner: kept apart.
        (&coder, d1, t1, safety, "Très bien 😀"),
        (&coder, d2, t2, waiting, "The waiting, honestly"),
        (&coder, d2, t2, family, "families calling at midnight 📞"),
        (&coder, d1, t1, night, "Personne ne vient"),
    ];
    let memos: BTreeMap<usize, &str> = [
        (0, "Owner: relief 😀"),
        (2, "A long turn — more than 200 characters."),
        (8, "Coder: agrees, « soulagement »"),
        (9, "Coder memo ✍️\nwith a second line"),
    ]
    .into_iter()
    .collect();
    for (i, (api, d, text, code_id, needle)) in plan.iter().enumerate() {
        let (start, end) = at(text, needle);
        let mut body = json!({"document_id": d, "code_id": code_id, "start": start, "end": end});
        if let Some(m) = memos.get(&i) {
            body["memo"] = json!(m);
        }
        let made = expect(
            api.post(&format!("/projects/{p}/codings"), body).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(made["text"], *needle);
        // Two starred quotes.
        if i == 0 || i == 9 {
            expect(
                api.patch(
                    &format!("/projects/{p}/codings/{}", id(&made)),
                    json!({"starred": true}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
    }

    // Memos.
    expect(
        owner
            .client
            .put(format!("{}/projects/{p}/documents/{d1}/memo", owner.base))
            .bearer_auth(owner.token.as_deref().unwrap())
            .json(&json!({"memo": "Memo on Zoë’s interview.\nSecond line 🙂 & <b>not bold</b>"}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    expect(
        owner
            .client
            .put(format!("{}/projects/{p}/memo", owner.base))
            .bearer_auth(owner.token.as_deref().unwrap())
            .json(&json!({"memo": "Project memo — été 2026 ☀️\nTwo lines."}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let codings = plan.len();
    drop(plan);
    Rich {
        owner,
        coder,
        project: p,
        codings,
    }
}

/// A coding as a round trip must keep it: (document, code path, start,
/// end, text, memo, coder name, starred, created at).
type CodingRow = (
    String,
    String,
    i64,
    i64,
    String,
    String,
    String,
    bool,
    String,
);

/// Everything a round trip must keep, in comparable form.
#[derive(Debug, PartialEq)]
struct Snapshot {
    name: String,
    description: String,
    /// (path, colour, definition, inclusion, exclusion, example, memo, shortcut)
    codes: Vec<[String; 8]>,
    /// (document, code path, start, end, text, memo, coder name, starred,
    /// created at)
    codings: Vec<CodingRow>,
    /// label → (group, attributes)
    participants: BTreeMap<String, (Option<String>, Value)>,
    /// title → (kind, held_on, attributes, text, speakers, memo)
    documents: BTreeMap<String, (String, Value, Value, String, String, String)>,
    project_memo: String,
}

async fn snapshot(api: &Api, p: ProjectId) -> Snapshot {
    let project = expect(api.get(&format!("/projects/{p}")).await, StatusCode::OK).await;
    let codes = codes(api, p).await;
    let mut code_rows: Vec<[String; 8]> = codes
        .values()
        .map(|c| {
            [
                s(&c["path"]),
                s(&c["colour"]),
                s(&c["definition"]),
                s(&c["inclusion"]),
                s(&c["exclusion"]),
                s(&c["example"]),
                s(&c["memo"]),
                c["shortcut"].as_str().unwrap_or("").to_owned(),
            ]
        })
        .collect();
    code_rows.sort();
    let mut coding_rows: Vec<_> = all_codings(api, p, 5)
        .await
        .iter()
        .map(|c| {
            (
                s(&c["document_title"]),
                s(&codes[&c["code_id"].as_i64().unwrap()]["path"]),
                c["start"].as_i64().unwrap(),
                c["end"].as_i64().unwrap(),
                s(&c["text"]),
                s(&c["memo"]),
                s(&c["coder_name"]),
                c["starred"].as_bool().unwrap(),
                // To the second: a file keeps xsd:dateTime seconds.
                s(&c["created_at"]).chars().take(19).collect(),
            )
        })
        .collect();
    coding_rows.sort();
    let participants = participants(api, p)
        .await
        .into_iter()
        .map(|(label, x)| {
            (
                label,
                (
                    x["group"].as_str().map(str::to_owned),
                    x["attributes"].clone(),
                ),
            )
        })
        .collect();
    let mut docs = BTreeMap::new();
    for d in documents(api, p).await {
        let memo = document_memo(api, p, id(&d)).await;
        docs.insert(
            s(&d["title"]),
            (
                s(&d["kind"]),
                d["held_on"].clone(),
                d["attributes"].clone(),
                s(&d["text"]),
                format!("{:?}", speakers(&d)),
                memo,
            ),
        );
    }
    Snapshot {
        name: s(&project["name"]),
        description: s(&project["description"]),
        codes: code_rows,
        codings: coding_rows,
        participants,
        documents: docs,
        project_memo: project_memo(api, p).await,
    }
}

// ---- 1. exports validate ----------------------------------------------------

#[sqlx::test]
async fn exports_validate_against_the_official_schemas(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let rich = rich_project(&app).await;
    let p = rich.project;

    let (headers, qdpx) =
        download(&rich.owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    assert_eq!(headers["content-type"], "application/zip");
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains(".qdpx"),
        "{disposition}"
    );
    let files = unzip(&qdpx);
    let qde = files.get("project.qde").expect("project.qde at the root");
    assert!(!qde.starts_with(b"\xEF\xBB\xBF"), "project.qde has no BOM");
    let xml = std::str::from_utf8(qde).expect("project.qde is UTF-8");
    assert!(xml.contains("xmlns=\"urn:QDA-XML:project:1.0\""), "{xml}");

    // One UTF-8 text per document under sources/, named by its GUID, holding
    // exactly the document's text.
    let texts: Vec<(&String, &Vec<u8>)> = files
        .iter()
        .filter(|(name, _)| name.starts_with("sources/") && name.ends_with(".txt"))
        .collect();
    assert_eq!(texts.len(), 2, "{:?}", files.keys().collect::<Vec<_>>());
    let docs = documents(&rich.owner, p).await;
    for d in &docs {
        let text = s(&d["text"]);
        assert!(
            texts.iter().any(|(_, bytes)| *bytes == text.as_bytes()),
            "no sources/*.txt holds {:?}",
            d["title"]
        );
    }
    for (name, _) in &texts {
        let guid = &name["sources/".len()..name.len() - 4];
        assert_eq!(guid.len(), 36, "{name}");
        assert!(
            xml.contains(&format!("plainTextPath=\"internal://{guid}.txt\"")),
            "{name} is not a source's plainTextPath"
        );
    }
    // What the XML must carry.
    for needle in [
        "Stakeholder group",
        "Bénévoles",
        "Samir",
        "Sécurité 🛡️",
        "Revisit after wave 2",
        "Coder: agrees",
        "Project memo — été 2026",
        "Memo on Zoë’s interview.",
        "&lt;rassurée&gt;",
        "Nord-Est",
    ] {
        assert!(xml.contains(needle), "{needle:?} missing from project.qde");
    }
    assert_valid("Project-mrt2019.xsd", qde, "project.qde");

    let (headers, qdc) =
        download(&rich.owner, &format!("/projects/{p}/exports/codebook.qdc")).await;
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/xml"),
        "{headers:?}"
    );
    let qdc_text = std::str::from_utf8(&qdc).unwrap();
    assert!(
        qdc_text.contains("xmlns=\"urn:QDA-XML:codebook:1.0\""),
        "{qdc_text}"
    );
    assert_eq!(qdc_text.matches("<Code ").count(), 7, "{qdc_text}");
    assert!(!qdc_text.contains("NoteRef"), "{qdc_text}");
    assert_valid("Codebook.xsd", &qdc, "the .qdc codebook");
}

/// A project before its codebook exists: both downloads must still be
/// valid REFI-QDA files (or, for the codebook, a clear refusal).
#[sqlx::test]
async fn an_empty_project_exports_schema_valid_files(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Empty").await;
    let (_, qdpx) = download(&owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let files = unzip(&qdpx);
    assert_valid(
        "Project-mrt2019.xsd",
        files.get("project.qde").expect("project.qde"),
        "an empty project's project.qde",
    );
    // A codebook without codes must still be a valid codebook (or be
    // refused with a clear error): Codebook.xsd needs at least one <Code>.
    let res = owner
        .get(&format!("/projects/{p}/exports/codebook.qdc"))
        .await;
    if res.status() == StatusCode::OK {
        let qdc = res.bytes().await.unwrap();
        assert_valid("Codebook.xsd", &qdc, "an empty project's .qdc");
    } else {
        assert!(res.status().is_client_error(), "{}", res.status());
    }
}

// ---- 2. round trip --------------------------------------------------------

#[sqlx::test]
async fn a_project_survives_a_round_trip(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let rich = rich_project(&app).await;
    let (owner, p) = (&rich.owner, rich.project);
    // Times well in the past, so a copy made now could not match by chance.
    for sql in [
        "update coding set created_at = timestamptz '2024-03-04 05:06:07+00' + coding_id * interval '1 minute'",
        "update project set memo_at = timestamptz '2024-01-02 03:04:05+00'",
        "update document set memo_at = timestamptz '2024-01-03 03:04:05+00' where memo <> ''",
        "update code set memo_at = timestamptz '2024-01-04 03:04:05+00' where memo <> ''",
    ] {
        sqlx::query(sql).execute(&app.db).await.unwrap();
    }
    let before = snapshot(owner, p).await;
    // The snapshot is worth comparing.
    assert_eq!(before.codes.len(), 7);
    assert_eq!(before.codings.len(), rich.codings);
    assert_eq!(before.participants.len(), 5);
    assert_eq!(before.documents.len(), 2);
    assert!(before.codes.iter().any(|c| c[6].starts_with("Revisit")));

    let (_, qdpx) = download(owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let (copy, report) = imported(owner, qdpx).await;
    assert_ne!(copy, p);

    // The report counts what was made.
    assert_eq!(report["documents"], 2, "{report}");
    assert_eq!(report["codes"], 7, "{report}");
    assert_eq!(report["codings"], rich.codings, "{report}");
    assert_eq!(report["participants"], 5, "{report}");
    assert_eq!(
        report["coders"], 1,
        "only the second coder is new: {report}"
    );
    // code memo + 4 coding memos + document memo + project memo
    assert_eq!(report["memos"], 7, "{report}");
    assert!(s(&report["origin"]).starts_with("Parley"), "{report}");
    assert_eq!(lines(&report, "not_imported"), Vec::<String>::new());
    assert_eq!(lines(&report, "adjusted"), Vec::<String>::new());

    let after = snapshot(owner, copy).await;
    // The copy is told apart from its original by the day it came in.
    assert_eq!(after.name, format!("{} {}", before.name, imported_today()));
    assert_eq!(after.description, before.description);
    assert_eq!(after.codes, before.codes);
    assert_eq!(after.codings, before.codings);
    assert_eq!(after.participants, before.participants);
    assert_eq!(after.documents, before.documents);
    assert_eq!(after.project_memo, before.project_memo);
    // Memos keep the time they were written (to the second).
    let memo_times = |p: ProjectId| async move {
        let list = expect(
            owner.get(&format!("/projects/{p}/memos")).await,
            StatusCode::OK,
        )
        .await;
        let mut out: Vec<(String, String, String)> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["on"] != "coding")
            .map(|m| {
                (
                    s(&m["on"]),
                    s(&m["memo"]),
                    s(&m["written_at"]).chars().take(19).collect(),
                )
            })
            .collect();
        out.sort();
        out
    };
    let (was, now) = (memo_times(p).await, memo_times(copy).await);
    assert_eq!(was.len(), 3, "project, document and code memos: {was:?}");
    assert_eq!(now, was);

    // The second coder's codings stay theirs: a different account from the
    // owner's, named as the coder was, even on the very range and code the
    // owner coded too.
    let codings = all_codings(owner, copy, 1000).await;
    let me = owner.user.as_ref().unwrap().id.0;
    let coder_ids: BTreeSet<i64> = codings
        .iter()
        .filter(|c| c["coder_name"] == "coder")
        .map(|c| c["coder"].as_i64().unwrap())
        .collect();
    assert_eq!(coder_ids.len(), 1, "{coder_ids:?}");
    assert!(!coder_ids.contains(&me));
    assert!(
        codings
            .iter()
            .filter(|c| c["coder_name"] == "owner")
            .all(|c| c["coder"] == me)
    );
    let same: Vec<&Value> = codings
        .iter()
        .filter(|c| c["text"] == "Très bien 😀")
        .collect();
    assert_eq!(same.len(), 2);
    assert_ne!(same[0]["coder"], same[1]["coder"]);

    // The import is the caller's project; the old one is untouched.
    let project = expect(
        owner.get(&format!("/projects/{copy}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(project["role"], "owner");
    assert_error(
        rich.coder.get(&format!("/projects/{copy}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(snapshot(owner, p).await, before);
}

#[sqlx::test]
async fn our_codebook_survives_a_qdc_round_trip(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let rich = rich_project(&app).await;
    let owner = &rich.owner;
    let (_, qdc) = download(
        owner,
        &format!("/projects/{}/exports/codebook.qdc", rich.project),
    )
    .await;
    let fresh = owner.project("Fresh").await;
    let outcome = expect(
        codes_import_file(owner, fresh, &qdc).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(outcome["created"], 7, "{outcome}");
    // Everything but the memos (a .qdc has none).
    let fields = |codes: BTreeMap<i64, Value>| -> Vec<[String; 6]> {
        let mut rows: Vec<[String; 6]> = codes
            .values()
            .map(|c| {
                [
                    "path",
                    "colour",
                    "definition",
                    "inclusion",
                    "exclusion",
                    "example",
                ]
                .map(|k| s(&c[k]))
            })
            .collect();
        rows.sort();
        rows
    };
    assert_eq!(
        fields(codes(owner, fresh).await),
        fields(codes(owner, rich.project).await)
    );
}

/// A coding made by someone who has since left the project is still
/// theirs in Parley (the API names its coder); the round trip must keep
/// it theirs too, and must not merge it into the owner's coding of the
/// same passage with the same code.
#[sqlx::test]
async fn a_former_members_codings_keep_their_coder_in_a_round_trip(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let coder = app.person("coder@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &coder, "coder").await;
    let text = "I: How was it?\nP01: Long nights, no sleep, nobody came.\n";
    let doc = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({"title": "T", "text": text}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let theme = id(&expect(
        owner
            .post(&format!("/projects/{p}/codes"), json!({"name": "Nights"}))
            .await,
        StatusCode::CREATED,
    )
    .await);
    let t = normalise(text);
    for (api, needle, memo) in [
        (&owner, "Long nights", ""),
        (&coder, "Long nights", "the coder's reading"),
        (&coder, "nobody came", ""),
    ] {
        let (start, end) = at(&t, needle);
        expect(
            api.post(
                &format!("/projects/{p}/codings"),
                json!({"document_id": doc, "code_id": theme, "start": start, "end": end, "memo": memo}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let coder_id = coder.user.as_ref().unwrap().id.0;
    let res = owner
        .delete(&format!("/projects/{p}/members/{coder_id}"))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let before = snapshot(&owner, p).await;
    assert_eq!(
        before.codings.iter().filter(|c| c.6 == "coder").count(),
        2,
        "Parley still names the former member: {:?}",
        before.codings
    );

    let (_, qdpx) = download(&owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let (copy, report) = imported(&owner, qdpx).await;
    let after = snapshot(&owner, copy).await;
    assert_eq!(
        after.codings, before.codings,
        "the former member's codings after the round trip (report: {report})"
    );
}

/// Definition, inclusion, exclusion and example travel in one REFI-QDA
/// description; text that merely looks like a field label must come back
/// in the field it was in.
#[sqlx::test]
async fn code_fields_that_contain_label_like_paragraphs_survive_a_round_trip(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    for (name, body) in [
        (
            "Waiting",
            json!({
                "definition": "Talk about waiting.\n\nExample: “I waited three hours for a bed”",
                "example": "“All night on a trolley”",
            }),
        ),
        (
            "Respite",
            json!({"definition": "Breaks from caring.\n\nInclude: day centres only if named."}),
        ),
    ] {
        let mut body = body;
        body["name"] = json!(name);
        expect(
            owner.post(&format!("/projects/{p}/codes"), body).await,
            StatusCode::CREATED,
        )
        .await;
    }
    let before = snapshot(&owner, p).await;
    let (_, qdpx) = download(&owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let (copy, _) = imported(&owner, qdpx).await;
    assert_eq!(snapshot(&owner, copy).await.codes, before.codes);
}

#[sqlx::test]
async fn trashed_codes_and_their_codings_stay_out_of_exports(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    let text = "I: Hello?\nP01: Nights are long and loud.\n";
    let doc = id(&expect(
        owner
            .post(
                &format!("/projects/{p}/documents"),
                json!({"title": "T", "text": text}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await);
    let mut ids = Vec::new();
    for (name, parent) in [("Kept", None), ("Binned", None), ("Child", Some(1usize))] {
        let parent_id = parent.map(|i: usize| ids[i]);
        ids.push(id(&expect(
            owner
                .post(
                    &format!("/projects/{p}/codes"),
                    json!({"name": name, "parent_id": parent_id}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await));
    }
    let t = normalise(text);
    for (code, needle) in [(ids[0], "Nights"), (ids[1], "long"), (ids[2], "loud")] {
        let (start, end) = at(&t, needle);
        expect(
            owner
                .post(
                    &format!("/projects/{p}/codings"),
                    json!({"document_id": doc, "code_id": code, "start": start, "end": end}),
                )
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    // Binning the parent bins its child and both codes' codings.
    expect(
        owner
            .delete(&format!("/projects/{p}/codes/{}", ids[1]))
            .await,
        StatusCode::OK,
    )
    .await;
    let (_, qdpx) = download(&owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let files = unzip(&qdpx);
    let xml = String::from_utf8(files["project.qde"].clone()).unwrap();
    assert!(
        !xml.contains("Binned") && !xml.contains("\"Child\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<Coding ").count(), 1, "{xml}");
    assert_valid("Project-mrt2019.xsd", &files["project.qde"], "project.qde");
    let (copy, report) = imported(&owner, qdpx).await;
    assert_eq!(lines(&report, "not_imported"), Vec::<String>::new());
    let (start, end) = at(&t, "Nights");
    assert_eq!(
        placed(&owner, copy).await,
        vec![(
            "T".to_owned(),
            "Kept".to_owned(),
            start,
            end,
            "Nights".to_owned()
        )]
    );
}

// ---- 3. real files ------------------------------------------------------------

/// What a qc `project.qde` says: code GUID → path, and every coding as
/// (source file, start, end, selection name, code GUID).
type QcCoding = (String, usize, usize, String, String);

fn read_qc(xml: &str) -> (BTreeMap<String, String>, Vec<QcCoding>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().expand_empty_elements = true;
    let mut code_path: Vec<String> = Vec::new();
    let mut code_paths = BTreeMap::new();
    let mut source = String::new();
    let mut selection: Option<(usize, usize, String)> = None;
    let mut codings = Vec::new();
    loop {
        match reader.read_event().expect("well-formed project.qde") {
            Event::Start(e) => {
                let mut attrs: BTreeMap<String, String> = BTreeMap::new();
                for a in e.attributes() {
                    let a = a.unwrap();
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .unwrap()
                        .into_owned();
                    attrs.insert(a.key.as_ref().to_owned(), value);
                }
                match e.local_name().as_ref() {
                    "Code" => {
                        code_path.push(attrs["name"].clone());
                        code_paths.insert(attrs["guid"].to_lowercase(), code_path.join(" / "));
                    }
                    "TextSource" => source = attrs["plainTextPath"].clone(),
                    "PlainTextSelection" => {
                        selection = Some((
                            attrs["startPosition"].parse().unwrap(),
                            attrs["endPosition"].parse().unwrap(),
                            attrs["name"].clone(),
                        ));
                    }
                    "CodeRef" => {
                        let (start, end, name) = selection.clone().expect("CodeRef in a selection");
                        codings.push((
                            source.clone(),
                            start,
                            end,
                            name,
                            attrs["targetGUID"].to_lowercase(),
                        ));
                    }
                    _ => {}
                }
            }
            Event::End(e) => match e.local_name().as_ref() {
                "Code" => {
                    code_path.pop();
                }
                "PlainTextSelection" => selection = None,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    (code_paths, codings)
}

#[sqlx::test]
async fn the_qc_demo_imports_every_coding_on_the_line_it_meant(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let bytes = sample("qc-1.3.2_demo.qdpx");
    let files = unzip(&bytes);
    let qde = std::str::from_utf8(&files["project.qde"]).unwrap();
    let (code_paths, file_codings) = read_qc(qde);
    assert_eq!(code_paths.len(), 262);
    assert_eq!(file_codings.len(), 205);

    let (p, report) = imported(&owner, bytes.clone()).await;
    assert_eq!(report["origin"], "qc 1.3.2", "{report}");
    assert_eq!(report["documents"], 2, "{report}");
    assert_eq!(report["codes"], 262, "{report}");
    assert_eq!(report["codings"], 205, "{report}");
    assert_eq!(lines(&report, "not_imported"), Vec::<String>::new());

    let codes = codes(&owner, p).await;
    assert_eq!(codes.len(), 262);
    assert_eq!(
        paths(&codes),
        code_paths.values().cloned().collect::<BTreeSet<_>>()
    );
    // Codings per code: exactly the file's count per CodeRef.
    let mut per_code: BTreeMap<String, i64> = BTreeMap::new();
    for (_, _, _, _, code) in &file_codings {
        *per_code.entry(code_paths[code].clone()).or_default() += 1;
    }
    for c in codes.values() {
        let want = per_code.get(&s(&c["path"])).copied().unwrap_or(0);
        assert_eq!(c["codings"], want, "codings of {}", c["path"]);
    }

    // The documents hold the .txt files' text (LF, no BOM), normalised.
    let docs = documents(&owner, p).await;
    let mut texts: BTreeMap<String, (String, String)> = BTreeMap::new();
    for file in ["board_2017.txt", "admin-1.txt"] {
        let raw = String::from_utf8(files[&format!("sources/{file}")].clone()).unwrap();
        assert!(!raw.starts_with('\u{feff}') && !raw.contains('\r'));
        let doc = document_titled(&docs, file);
        assert_eq!(s(&doc["text"]), normalise(&raw), "{file}");
        texts.insert(file.to_owned(), (raw, s(&doc["title"])));
    }

    // Every coding covers what qc meant: the selection [start, end) in code
    // points, which qc names "line:N" — line N (from 0) with its line break
    // (clipped where Parley trims the end of the text).
    let got = placed(&owner, p).await;
    let mut want = Vec::new();
    for (file, start, end, name, code) in &file_codings {
        let (raw, title) = &texts[file];
        let text = normalise(raw);
        let n: usize = name.strip_prefix("line:").unwrap().parse().unwrap();
        let line = raw.split('\n').nth(n).unwrap();
        let meant = format!("{line}\n");
        assert_eq!(slice(raw, *start, *end), meant, "{file} {name}");
        let len = text.chars().count();
        let clipped = slice(&text, *start, (*end).min(len));
        assert!(meant.starts_with(&clipped) && !clipped.is_empty());
        want.push((
            title.clone(),
            code_paths[code].clone(),
            *start as i64,
            (*end).min(len) as i64,
            clipped,
        ));
    }
    want.sort();
    assert_eq!(got.len(), want.len());
    assert_eq!(got, want);
    // A few by hand.
    let first = got
        .iter()
        .find(|c| c.0 == "board_2017.txt" && c.2 == 320)
        .unwrap();
    assert_eq!((first.2, first.3), (320, 400));
    assert!(
        first.4.ends_with('\n') && first.4.chars().count() == 80,
        "{first:?}"
    );
    assert_eq!(
        first.4,
        format!(
            "{}\n",
            texts["board_2017.txt"].0.split('\n').nth(6).unwrap()
        )
    );
}

#[sqlx::test]
async fn the_atlas_example_imports_its_codes_and_reports_what_it_cannot(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let (p, report) = imported(&owner, sample("refi-1.5-annexA2_atlasti-8.4-example.qdpx")).await;
    assert!(s(&report["origin"]).starts_with("ATLAS.ti 8.4"), "{report}");
    assert_eq!(report["codes"], 14, "{report}");
    // The archive holds none of its text files.
    assert_eq!(report["documents"], 0, "{report}");
    assert_eq!(report["codings"], 0, "{report}");

    // The hierarchy hidden in "Coke::diet Coke" is rebuilt: two codes under
    // "Coke", the other eleven at the top.
    let codes = codes(&owner, p).await;
    assert_eq!(codes.len(), 14);
    let coke = by_path(&codes, "Coke");
    for child in ["Coke / diet Coke", "Coke / full-fat Coke"] {
        let c = by_path(&codes, child);
        assert_eq!(c["parent_id"], coke["id"], "{child}");
        assert_eq!(c["depth"], 1);
    }
    let roots: BTreeSet<String> = codes
        .values()
        .filter(|c| c["parent_id"].is_null())
        .map(|c| s(&c["path"]))
        .collect();
    assert_eq!(roots.len(), 12, "{roots:?}");
    for root in [
        "happiness",
        "Feelings",
        "disgust",
        "waste of time",
        "Coke",
        "milk",
        "serene",
        "bacon and eggs",
        "sleepy",
        "Breakfast food",
        "cornflakes",
        "\"rushed\"",
    ] {
        assert!(roots.contains(root), "{root} in {roots:?}");
    }
    let feelings = by_path(&codes, "Feelings");
    assert_eq!(feelings["definition"], "thoughts about breakfast foods");
    assert_eq!(feelings["colour"], "#f00082");
    line_with(&report, "adjusted", &["::"]);

    // The report names each missing text file, each source that is not
    // text, the link and the graph.
    for name in [
        "1960s Coca Cola commercial - Audio.docx",
        "1960s Coca Cola commercial - Visual.docx",
        "1994 Diet Coke-Diet Coke Break.docx",
        "Mabêl 2ième.txt",
        "Mabel.txt",
        "Simon.docx",
    ] {
        let line = line_with(&report, "not_imported", &[&format!("“{name}”"), "missing"]);
        assert!(line.contains("internal://"), "{line}");
    }
    let not_imported = lines(&report, "not_imported");
    for (kind, name) in [
        ("PictureSource", "cornflakes-n-milk.jpg"),
        ("PDFSource", "Kellogg's Passion for Nutrition.pdf"),
        ("PDFSource", "Pay de Limón"),
        ("AudioSource", "Jeanine's Breakfast.m4a"),
        ("VideoSource", "1960s Coca Cola commercial.mp4"),
        ("VideoSource", "1994 Diet Coke-Diet Coke Break.mp4"),
    ] {
        line_with(&report, "not_imported", &[kind, name]);
    }
    assert!(
        not_imported.iter().any(|l| l == "1 link"),
        "{not_imported:#?}"
    );
    assert!(
        not_imported.iter().any(|l| l == "1 graph"),
        "{not_imported:#?}"
    );
    // Its research plan note becomes the project memo.
    assert!(
        project_memo(&owner, p)
            .await
            .contains("This is a great project"),
        "{}",
        project_memo(&owner, p).await
    );
}

// ---- 4. files in the style of each tool --------------------------------------

const NVIVO_TEXT: &str = "😀 So happy today!! 🎉🎉 #party\r\n\
😭😭 worst service ever 😡 never again\r\n\
Loved the staff ❤️ they were kind 👍\r\n\
Café crème ☕ at 3am 🌙 — still waiting for the nurse\r\n";

#[sqlx::test]
async fn an_nvivo_windows_style_project_lands_on_the_intended_words(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let source = "3f9a4c1e-8b2d-4e6f-9a1b-2c3d4e5f6a7b";
    let user = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9";
    let code_guids = [
        ("Joy", "5d0e7a31-1b2c-4d3e-8f40-516273849501"),
        ("Anger", "5d0e7a31-1b2c-4d3e-8f40-516273849502"),
        ("Care", "5d0e7a31-1b2c-4d3e-8f40-516273849503"),
    ];
    let plan = [
        ("So happy today", 0),
        ("party", 0),
        ("worst service ever", 1),
        ("never again", 1),
        ("Loved the staff", 2),
        ("they were kind", 2),
        ("still waiting for the nurse", 1),
    ];
    let mut selections = String::new();
    for (i, (words, code)) in plan.iter().enumerate() {
        // NVivo for Windows: UTF-16 units, a CRLF as two, empty names.
        let (start, end) = span(NVIVO_TEXT, words, true, false);
        selections.push_str(&format!(
            r#"<PlainTextSelection guid="7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c{i:02}" name="" startPosition="{start}" endPosition="{end}" creatingUser="{user}" creationDateTime="2020-02-03T10:11:12Z" modifyingUser="{user}" modifiedDateTime="2020-02-03T10:11:12Z"><Coding guid="8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d{i:02}" creatingUser="{user}" creationDateTime="2020-02-03T10:11:12Z"><CodeRef targetGUID="{}"/></Coding></PlainTextSelection>"#,
            code_guids[*code].1
        ));
    }
    let code_xml: String = code_guids
        .iter()
        .map(|(name, guid)| format!(r#"<Code guid="{guid}" name="{name}" isCodable="true"/>"#))
        .collect();
    let qde = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<Project name="Social media" origin="NVivo 12.6.0.959" basePath="" creatingUserGUID="{user}" creationDateTime="2020-02-03T10:00:00Z" xmlns="urn:QDA-XML:project:1.0">
<Users><User guid="{user}" name="Nia Analyst" id="NA"/></Users>
<CodeBook><Codes><Code guid="1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d" name="Nodes" isCodable="false">{code_xml}</Code></Codes></CodeBook>
<Sources><TextSource guid="{source}" name="Tweets batch 1" richTextPath="internal://{source}.docx" plainTextPath="internal://{source}.txt" creatingUser="{user}" creationDateTime="2020-02-03T10:00:00Z">{selections}</TextSource></Sources>
</Project>"#
    );
    let mut txt = b"\xEF\xBB\xBF".to_vec();
    txt.extend_from_slice(NVIVO_TEXT.as_bytes());
    let archive = zip_of(&[
        ("project.qde", qde.as_bytes()),
        (&format!("Sources/{source}.txt"), &txt),
        (
            &format!("Sources/{source}.docx"),
            b"PK\x03\x04 not a real docx",
        ),
    ]);
    let (p, report) = imported(&owner, archive).await;
    assert_eq!(report["codings"], plan.len(), "{report}");
    assert_eq!(report["coders"], 1, "{report}");
    assert_eq!(lines(&report, "not_imported"), Vec::<String>::new());
    line_with(
        &report,
        "positions",
        &["Tweets batch 1", "UTF-16", "as two"],
    );

    let codes = codes(&owner, p).await;
    assert_eq!(
        paths(&codes),
        ["Nodes", "Nodes / Anger", "Nodes / Care", "Nodes / Joy"]
            .map(String::from)
            .into()
    );
    let mut want: Vec<_> = plan
        .iter()
        .map(|(words, code)| (format!("Nodes / {}", codes_name(*code)), words.to_string()))
        .collect();
    want.sort();
    let mut got: Vec<_> = placed(&owner, p)
        .await
        .into_iter()
        .map(|(_, path, _, _, text)| (path, text))
        .collect();
    got.sort();
    assert_eq!(got, want);
    // The BOM is gone, the CRLFs are line breaks.
    let docs = documents(&owner, p).await;
    assert_eq!(s(&docs[0]["text"]), normalise(NVIVO_TEXT));
    // The coder is kept by name.
    let codings = all_codings(&owner, p, 1000).await;
    assert!(codings.iter().all(|c| c["coder_name"] == "Nia Analyst"));
}

fn codes_name(i: usize) -> &'static str {
    ["Joy", "Anger", "Care"][i]
}

const MAXQDA_FG: &str = "Moderator: How are nights on ward 3?\n\
Ana: Long. We wait for hours for painkillers.\n\
Ben: The night nurse is kind but alone.\n\
Ana: Breakfast comes at six, then nothing.\n";

const MAXQDA_INTERVIEW: &str = "I: Tell me about the last admission.\n\
Cléo: Thé froid, médecins pressés. But the porter was lovely.\n";

#[sqlx::test]
async fn a_maxqda_style_project_keeps_sets_variables_and_annotations(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let user = "A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D";
    let fg = "B0000000-1111-4222-8333-444455556666";
    let iv = "B0000000-1111-4222-8333-444455557777";
    let waiting = "C0000000-0000-4000-8000-000000000001";
    let night = "C0000000-0000-4000-8000-000000000002";
    let staff = "C0000000-0000-4000-8000-000000000003";
    let site = "D0000000-0000-4000-8000-000000000001";
    let wave = "D0000000-0000-4000-8000-000000000002";
    let sel = |i: u32, text: &str, needle: &str, code: Option<&str>, description: Option<&str>| {
        // MAXQDA: code points, LF, often no audit dates on selections.
        let (start, end) = span(text, needle, false, false);
        let description = description
            .map(|d| format!("<Description>{d}</Description>"))
            .unwrap_or_default();
        let coding = code
            .map(|c| {
                format!(
                    r#"<Coding guid="E0000000-0000-4000-8000-0000000000{i:02}" creatingUser="{user}"><CodeRef targetGUID="{c}"/></Coding>"#
                )
            })
            .unwrap_or_default();
        format!(
            r#"<PlainTextSelection guid="F0000000-0000-4000-8000-0000000000{i:02}" name="{needle}" startPosition="{start}" endPosition="{end}" creatingUser="{user}">{description}{coding}</PlainTextSelection>"#
        )
    };
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Ward study" origin="MAXQDA 24 (Release 24.4.0)" creatingUserGUID="{user}" creationDateTime="2024-05-06T07:08:09Z">
 <Users><User guid="{user}" name="Mia Müller"/></Users>
 <CodeBook><Codes>
  <Code guid="{waiting}" name="Waiting" isCodable="true" color="#ff8000"><Description>Time spent waiting.</Description>
   <Code guid="{night}" name="Night" isCodable="true" color="#0080ff"><Description>Waiting at night.</Description></Code>
  </Code>
  <Code guid="{staff}" name="Staff" isCodable="true" color="#00a000"><Description>Mentions of staff.</Description></Code>
 </Codes></CodeBook>
 <Variables>
  <Variable guid="{site}" name="Site" typeOfVariable="Text"/>
  <Variable guid="{wave}" name="Wave" typeOfVariable="Integer"/>
 </Variables>
 <Sources>
  <TextSource guid="{fg}" name="FG ward 3" plainTextPath="internal://{fg}.txt" creatingUser="{user}">
   {}{}{}{}
   <VariableValue><VariableRef targetGUID="{site}"/><TextValue>Ward 3</TextValue></VariableValue>
   <VariableValue><VariableRef targetGUID="{wave}"/><IntegerValue>2</IntegerValue></VariableValue>
  </TextSource>
  <TextSource guid="{iv}" name="Interview 07" plainTextPath="internal://{iv}.txt">
   {}
   <VariableValue><VariableRef targetGUID="{site}"/><TextValue>Ward 5</TextValue></VariableValue>
  </TextSource>
 </Sources>
 <Sets>
  <Set guid="A0000000-0000-4000-8000-000000000001" name="Night shift"><MemberSource targetGUID="{fg}"/><MemberSource targetGUID="{iv}"/></Set>
  <Set guid="A0000000-0000-4000-8000-000000000002" name="Pilot"><MemberSource targetGUID="{fg}"/></Set>
 </Sets>
</Project>"##,
        sel(
            1,
            MAXQDA_FG,
            "We wait for hours for painkillers",
            Some(night),
            None
        ),
        sel(
            2,
            MAXQDA_FG,
            "The night nurse is kind but alone",
            Some(staff),
            None
        ),
        sel(3, MAXQDA_FG, "then nothing", Some(waiting), None),
        sel(
            4,
            MAXQDA_FG,
            "Breakfast comes at six",
            None,
            Some("Check with the ward manager")
        ),
        sel(
            5,
            MAXQDA_INTERVIEW,
            "Thé froid, médecins pressés",
            Some(waiting),
            None
        ),
    );
    let archive = zip_of(&[
        ("project.qde", qde.as_bytes()),
        (&format!("sources/{fg}.txt"), MAXQDA_FG.as_bytes()),
        (&format!("sources/{iv}.txt"), MAXQDA_INTERVIEW.as_bytes()),
    ]);
    let (p, report) = imported(&owner, archive).await;
    assert_eq!(report["documents"], 2, "{report}");
    assert_eq!(report["codings"], 4, "{report}");
    assert_eq!(lines(&report, "not_imported"), Vec::<String>::new());

    let codes = codes(&owner, p).await;
    let w = by_path(&codes, "Waiting");
    assert_eq!(
        (s(&w["colour"]), s(&w["definition"])),
        ("#ff8000".into(), "Time spent waiting.".into())
    );
    let n = by_path(&codes, "Waiting / Night");
    assert_eq!(
        (s(&n["colour"]), s(&n["definition"])),
        ("#0080ff".into(), "Waiting at night.".into())
    );
    assert_eq!(by_path(&codes, "Staff")["colour"], "#00a000");
    // A parent code carries codings of its own.
    assert_eq!(w["codings"], 2);

    let got = placed(&owner, p).await;
    let want = vec![
        (
            "FG ward 3".to_owned(),
            "Staff".to_owned(),
            "The night nurse is kind but alone",
        ),
        ("FG ward 3".into(), "Waiting".into(), "then nothing"),
        (
            "FG ward 3".into(),
            "Waiting / Night".into(),
            "We wait for hours for painkillers",
        ),
        (
            "Interview 07".into(),
            "Waiting".into(),
            "Thé froid, médecins pressés",
        ),
    ];
    let got_short: Vec<(String, String, &str)> = got
        .iter()
        .map(|(d, c, _, _, t)| (d.clone(), c.clone(), t.as_str()))
        .collect();
    assert_eq!(got_short, want);

    // Sets and source variables become document attributes.
    let docs = documents(&owner, p).await;
    let fg_doc = document_titled(&docs, "FG ward 3");
    assert_eq!(
        fg_doc["attributes"],
        json!({"Site": "Ward 3", "Wave": "2", "set": "Night shift; Pilot"})
    );
    let iv_doc = document_titled(&docs, "Interview 07");
    assert_eq!(
        iv_doc["attributes"],
        json!({"Site": "Ward 5", "set": "Night shift"})
    );
    // The selection without a code is an annotation in the document memo.
    let memo = document_memo(&owner, p, id(fg_doc)).await;
    assert!(memo.contains("Breakfast comes at six"), "{memo}");
    assert!(memo.contains("Check with the ward manager"), "{memo}");
    assert_eq!(document_memo(&owner, p, id(iv_doc)).await, "");
}

const ATLAS_TEXT: &str = "Mabel: I have Coke for breakfast.\r\n\
Interviewer: Really? Every day?\r\n\
Mabel: Every day, diet Coke. It makes me feel awake.\r\n\
Interviewer: And your children?\r\n\
Mabel: Cornflakes and milk, like everyone.\r\n";

#[sqlx::test]
async fn an_atlas_style_project_counts_a_crlf_as_one_and_reports_empty_quotations(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let user = "AD68FBE7-E1EE-4A82-A279-23CC698C89EB";
    let source = "B2F54555-0D2D-43B2-B40C-2A1C048F5F1C";
    let coke = "7496BA52-9C8D-4396-8FAB-CC438614E453";
    let diet = "D299EFAE-5779-46DC-9827-A3D1A5D544BC";
    let feelings = "0F8A1907-7E42-4739-8610-A676B4D1B69F";
    let quotation = |i: u32, start: usize, end: usize, code: &str, comment: &str| {
        let comment = if comment.is_empty() {
            String::new()
        } else {
            format!("<Description>{comment}</Description>")
        };
        format!(
            r#"<PlainTextSelection guid="9E000000-0000-4000-8000-0000000000{i:02}" name="Quotation 1:{i}" startPosition="{start}" endPosition="{end}" creatingUser="{user}" creationDateTime="2019-03-04T10:00:00Z" modifyingUser="{user}" modifiedDateTime="2019-03-04T10:00:00Z">{comment}<Coding guid="9F000000-0000-4000-8000-0000000000{i:02}" creatingUser="{user}" creationDateTime="2019-03-04T10:00:00Z"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>"#
        )
    };
    // ATLAS.ti: code points, a CRLF counted as one.
    let one = |needle: &str| span(ATLAS_TEXT, needle, false, true);
    let plan = [
        ("I have Coke for breakfast", coke, "why so much Coke?"),
        ("diet Coke", diet, ""),
        ("It makes me feel awake", feelings, ""),
        ("Cornflakes and milk", feelings, ""),
    ];
    let mut selections = String::new();
    for (i, (needle, code, comment)) in plan.iter().enumerate() {
        let (start, end) = one(needle);
        selections.push_str(&quotation(i as u32 + 1, start, end, code, comment));
    }
    let (empty_at, _) = one("like everyone");
    selections.push_str(&quotation(9, empty_at, empty_at, feelings, ""));
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:QDA-XML:project:1.0 http://schema.qdasoftware.org/versions/Project/v1.0/Project.xsd" name="Breakfast study" origin="ATLAS.ti 9.1.3 (Windows)" creatingUserGUID="{user}" basePath="C:\Users\someone\Documents\Breakfast study Media">
 <Users><User guid="{user}" name="Friedrich Markgraf"/></Users>
 <CodeBook><Codes>
  <Code guid="{coke}" name="Coke" isCodable="true"/>
  <Code guid="{diet}" name="Coke::diet Coke" isCodable="true"/>
  <Code guid="{feelings}" name="Feelings" isCodable="true" color="#F00082"><Description>thoughts about breakfast</Description></Code>
 </Codes></CodeBook>
 <Sources><TextSource guid="{source}" name="Mabel.txt" plainTextPath="internal://{source}.txt" creatingUser="{user}">{selections}</TextSource></Sources>
</Project>"##
    );
    let archive = zip_of(&[
        ("Breakfast study.qde", qde.as_bytes()),
        (&format!("sources/{source}.txt"), ATLAS_TEXT.as_bytes()),
    ]);
    let (p, report) = imported(&owner, archive).await;
    assert_eq!(report["codings"], 4, "{report}");
    line_with(&report, "positions", &["Mabel.txt", "as one"]);
    let empty = line_with(&report, "not_imported", &["Mabel.txt", "empty"]);
    assert!(empty.contains(&format!("{empty_at}–{empty_at}")), "{empty}");

    let codes = codes(&owner, p).await;
    assert_eq!(
        paths(&codes),
        ["Coke", "Coke / diet Coke", "Feelings"]
            .map(String::from)
            .into()
    );
    let mut got: Vec<(String, String)> = placed(&owner, p)
        .await
        .into_iter()
        .map(|(_, path, _, _, text)| (path, text))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("Coke".to_owned(), "I have Coke for breakfast".to_owned()),
            ("Coke / diet Coke".into(), "diet Coke".into()),
            ("Feelings".into(), "Cornflakes and milk".into()),
            ("Feelings".into(), "It makes me feel awake".into()),
        ]
    );
    // A quotation's comment is its coding's memo.
    let codings = all_codings(&owner, p, 1000).await;
    let commented = codings
        .iter()
        .find(|c| c["text"] == "I have Coke for breakfast")
        .unwrap();
    assert_eq!(commented["memo"], "why so much Coke?");
    assert!(
        codings
            .iter()
            .all(|c| c["coder_name"] == "Friedrich Markgraf")
    );
}

const QC_INTERVIEW: &str = "Interviewer: How do you manage, Ann? 🙂\n\
Ann: Some days 😩 I get no respite at all. My sister helps on Sundays 🙏 and that keeps me going.\n\
Interviewer: What gives you hope?\n\
Ann: The grandchildren 👧👦, honestly.\n";

const QC_FOCUS_GROUP: &str = "Facilitator: What would help?\n\
P02: More staff on nights 😓.\n\
P03: Somebody to talk to.\n\
P02: Respite beds, honestly.\n";

#[sqlx::test]
async fn a_qualcoder_style_project_maps_cases_to_speakers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let user = "4a5b6c7d-8e9f-4a0b-9c1d-2e3f4a5b6c7d";
    let interview = "11111111-2222-4333-8444-555566667777";
    let focus = "11111111-2222-4333-8444-555566668888";
    let burden = "22222222-0000-4000-8000-000000000001";
    let respite = "22222222-0000-4000-8000-000000000002";
    let hope = "22222222-0000-4000-8000-000000000003";
    let group = "33333333-0000-4000-8000-000000000001";
    let age = "33333333-0000-4000-8000-000000000002";
    let locality = "33333333-0000-4000-8000-000000000003";
    let plan = [
        (interview, QC_INTERVIEW, "no respite at all", respite),
        (
            interview,
            QC_INTERVIEW,
            "My sister helps on Sundays",
            respite,
        ),
        (
            interview,
            QC_INTERVIEW,
            "The grandchildren 👧👦, honestly",
            hope,
        ),
        (focus, QC_FOCUS_GROUP, "More staff on nights", burden),
        (focus, QC_FOCUS_GROUP, "Respite beds", respite),
    ];
    let selections = |source: &str| -> String {
        plan.iter()
            .enumerate()
            .filter(|(_, x)| x.0 == source)
            .map(|(i, (_, text, words, code))| {
                // QualCoder: Qt's UTF-16 positions, the selected text as the name.
                let (start, end) = span(text, words, true, false);
                format!(
                    r#"<PlainTextSelection guid="44444444-0000-4000-8000-0000000000{i:02}" name="{words}" startPosition="{start}" endPosition="{end}" creatingUser="{user}" creationDateTime="2024-01-02T03:04:05Z"><Coding guid="55555555-0000-4000-8000-0000000000{i:02}" creatingUser="{user}" creationDateTime="2024-01-02T03:04:05Z"><CodeRef targetGUID="{code}"/></Coding></PlainTextSelection>"#
                )
            })
            .collect()
    };
    let value = |var: &str, kind: &str, v: &str| {
        format!(
            r#"<VariableValue><VariableRef targetGUID="{var}"/><{kind}>{v}</{kind}></VariableValue>"#
        )
    };
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" name="Carers" origin="QualCoder 3.6" creatingUserGUID="{user}" creationDateTime="2024-01-02T03:04:05Z">
<Users><User guid="{user}" name="default"/></Users>
<CodeBook><Codes>
<Code guid="{burden}" name="Burden" isCodable="false" color="#EB7333"><Code guid="{respite}" name="Respite" isCodable="true" color="#F89D43"/></Code>
<Code guid="{hope}" name="Hope" isCodable="true" color="#AAFFAA"/>
</Codes></CodeBook>
<Variables>
<Variable guid="{group}" name="Group" typeOfVariable="Text"/>
<Variable guid="{age}" name="Age" typeOfVariable="Float"/>
<Variable guid="{locality}" name="Locality" typeOfVariable="Text"/>
</Variables>
<Cases>
<Case guid="66666666-0000-4000-8000-000000000001" name="P01">{}{}{}<SourceRef targetGUID="{interview}"/></Case>
<Case guid="66666666-0000-4000-8000-000000000002" name="P02">{}{}<SourceRef targetGUID="{focus}"/></Case>
<Case guid="66666666-0000-4000-8000-000000000003" name="P03">{}<SourceRef targetGUID="{focus}"/></Case>
</Cases>
<Sources>
<TextSource guid="{interview}" name="interview_ann.txt" plainTextPath="interview_ann.txt">{}</TextSource>
<TextSource guid="{focus}" name="focus_group.txt" plainTextPath="focus_group.txt">{}</TextSource>
</Sources>
</Project>"##,
        value(group, "TextValue", "Carer"),
        value(age, "FloatValue", "67.0"),
        value(locality, "TextValue", "North"),
        value(group, "TextValue", "Staff"),
        value(locality, "TextValue", "South"),
        value(group, "TextValue", "Service user"),
        selections(interview),
        selections(focus),
    );
    let bom = |t: &str| [b"\xEF\xBB\xBF".as_slice(), t.as_bytes()].concat();
    let archive = zip_of(&[
        ("project.qde", qde.as_bytes()),
        ("sources/interview_ann.txt", &bom(QC_INTERVIEW)),
        ("sources/focus_group.txt", &bom(QC_FOCUS_GROUP)),
    ]);
    let (p, report) = imported(&owner, archive).await;
    assert_eq!(report["participants"], 3, "{report}");
    assert_eq!(report["codings"], plan.len(), "{report}");
    assert_eq!(lines(&report, "not_imported"), Vec::<String>::new());
    line_with(&report, "positions", &["interview_ann.txt", "UTF-16"]);

    // Participants with their group and attributes.
    let people = participants(&owner, p).await;
    assert_eq!(people.len(), 3);
    let group_of = |label: &str| s(&people[label]["group"]).to_lowercase();
    assert_eq!(group_of("P01"), "carer");
    assert_eq!(group_of("P02"), "staff");
    assert_eq!(group_of("P03"), "service user");
    assert_eq!(
        people["P01"]["attributes"],
        json!({"Age": "67.0", "Locality": "North"})
    );
    assert_eq!(people["P02"]["attributes"], json!({"Locality": "South"}));
    assert_eq!(people["P03"]["attributes"], json!({}));

    // …mapped to the speakers of their documents: the interview's one case
    // is "Ann", whatever her label; the focus group's by label.
    let docs = documents(&owner, p).await;
    let iv = speakers(document_titled(&docs, "interview_ann.txt"));
    assert_eq!(
        iv["Ann"],
        ("participant".into(), Some("P01".into())),
        "{iv:?}"
    );
    assert_eq!(iv["Interviewer"].0, "interviewer", "{iv:?}");
    let fg = speakers(document_titled(&docs, "focus_group.txt"));
    assert_eq!(
        fg["P02"],
        ("participant".into(), Some("P02".into())),
        "{fg:?}"
    );
    assert_eq!(
        fg["P03"],
        ("participant".into(), Some("P03".into())),
        "{fg:?}"
    );
    assert_eq!(fg["Facilitator"].0, "interviewer", "{fg:?}");

    // Every coding on its words.
    let mut got: Vec<(String, String)> = placed(&owner, p)
        .await
        .into_iter()
        .map(|(_, path, _, _, text)| (text, path))
        .collect();
    got.sort();
    let mut want: Vec<(String, String)> = plan
        .iter()
        .map(|(_, _, words, code)| {
            let path = if *code == burden {
                "Burden"
            } else if *code == respite {
                "Burden / Respite"
            } else {
                "Hope"
            };
            (words.to_string(), path.to_owned())
        })
        .collect();
    want.sort();
    assert_eq!(got, want);
}

const FG_BY_CASES: &str = "Moderator: Welcome, both of you.\n\
Rita: I look after my dad.\n\
Tom: I work nights on the ward.\n\
Rita: Some nights I do not sleep.\n";

/// Focus-group participants given as cases holding their turns (a
/// `SelectionRef` per turn, as NOTES.md §7.6 and NVivo's case coding do):
/// each case's speaker is mapped to it, and those bare selections are not
/// annotations.
#[sqlx::test]
async fn focus_group_cases_given_by_selections_map_their_speakers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let source = "12121212-3434-4565-8787-909090909090";
    let turn = |i: u32, needle: &str| {
        let (start, end) = span(FG_BY_CASES, needle, false, false);
        format!(
            r#"<PlainTextSelection guid="5e1ec000-0000-4000-8000-0000000000{i:02}" name="" startPosition="{start}" endPosition="{end}"/>"#
        )
    };
    let (start, end) = span(FG_BY_CASES, "Some nights I do not sleep", false, false);
    let qde = format!(
        r##"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Carers FG" origin="NVivo 14">
<CodeBook><Codes><Code guid="c0de0000-0000-4000-8000-000000000001" name="Sleep" isCodable="true"/></Codes></CodeBook>
<Variables><Variable guid="7a000000-0000-4000-8000-000000000001" name="Stakeholder group" typeOfVariable="Text"/></Variables>
<Cases>
<Case guid="ca5e0000-0000-4000-8000-000000000001" name="C01"><VariableValue><VariableRef targetGUID="7a000000-0000-4000-8000-000000000001"/><TextValue>Carer</TextValue></VariableValue><SelectionRef targetGUID="5e1ec000-0000-4000-8000-000000000001"/><SelectionRef targetGUID="5e1ec000-0000-4000-8000-000000000003"/></Case>
<Case guid="ca5e0000-0000-4000-8000-000000000002" name="S07"><VariableValue><VariableRef targetGUID="7a000000-0000-4000-8000-000000000001"/><TextValue>Staff</TextValue></VariableValue><SelectionRef targetGUID="5e1ec000-0000-4000-8000-000000000002"/></Case>
</Cases>
<Sources><TextSource guid="{source}" name="FG carers and staff" plainTextPath="internal://{source}.txt">{}{}{}<PlainTextSelection guid="5e1ec000-0000-4000-8000-000000000009" name="" startPosition="{start}" endPosition="{end}"><Coding guid="c0d10000-0000-4000-8000-000000000001"><CodeRef targetGUID="c0de0000-0000-4000-8000-000000000001"/></Coding></PlainTextSelection></TextSource></Sources>
</Project>"##,
        turn(1, "Rita: I look after my dad."),
        turn(2, "Tom: I work nights on the ward."),
        turn(3, "Rita: Some nights I do not sleep."),
    );
    let (p, report) = imported(
        &owner,
        zip_of(&[
            ("project.qde", qde.as_bytes()),
            (&format!("sources/{source}.txt"), FG_BY_CASES.as_bytes()),
        ]),
    )
    .await;
    assert_eq!(report["participants"], 2, "{report}");
    assert_eq!(report["codings"], 1, "{report}");
    let people = participants(&owner, p).await;
    assert_eq!(s(&people["C01"]["group"]), "Carer");
    assert_eq!(s(&people["S07"]["group"]), "Staff");
    let docs = documents(&owner, p).await;
    let doc = document_titled(&docs, "FG carers and staff");
    let sp = speakers(doc);
    assert_eq!(
        sp["Rita"],
        ("participant".into(), Some("C01".into())),
        "{sp:?}"
    );
    assert_eq!(
        sp["Tom"],
        ("participant".into(), Some("S07".into())),
        "{sp:?}"
    );
    assert_eq!(sp["Moderator"].0, "interviewer", "{sp:?}");
    // The coded turn is attributed to its speaker's participant.
    let codings = all_codings(&owner, p, 1000).await;
    assert_eq!(codings[0]["text"], "Some nights I do not sleep");
    assert_eq!(
        codings[0]["speakers"][0]["participant"], "C01",
        "{}",
        codings[0]
    );
    // Selections that only say whose turn it is are no annotations.
    let memo = document_memo(&owner, p, id(doc)).await;
    assert!(
        !memo.contains("Annotation"),
        "case selections became annotations in the document memo:\n{memo}"
    );
}

const TAGUETTE_QDC: &str = r#"<?xml version='1.0' encoding='utf-8'?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="Taguette 1.4.1"><Codes><Code guid="4f0c8a6e-3f6b-5d2a-9c61-2b8e5d1f7a10" name="interesting" isCodable="true"/><Code guid="9a3e1b27-6c4d-5e8f-a0b1-c2d3e4f5a6b7" name="people" isCodable="true"/><Code guid="1b2c3d4e-5f60-5718-a9b0-c1d2e3f4a5b6" name="waiting times" isCodable="true"/></Codes><Sets/></CodeBook>"#;

const NVIVO_MAC_QDC: &str = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>
<CodeBook xmlns=\"urn:QDA-XML:codebook:1:0\" origin=\"NVivo 12 for Mac\">
  <Codes>
    <Code guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A01}\" name=\"Computing\" isCodable=\"false\">
      <Description>What “computing” means here.</Description>
      <Code guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A02}\" name=\"programming\" isCodable=\"true\" color=\"#1F77B4\"/>
      <Code guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A03}\" name=\"fun\" isCodable=\"true\" color=\"#FFBB7880\"/>
    </Code>
    <Code guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A04}\" name=\"Games\" isCodable=\"false\">
      <Code guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A05}\" name=\"fun\" isCodable=\"true\"/>
      <Code guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A06}\" name=\"programming\" isCodable=\"true\"/>
    </Code>
  </Codes>
  <Sets>
    <Set guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0B01}\" name=\"Fun things\">
      <MemberCode guid=\"{0E3C1D2A-7F41-4B2E-9A7C-3C5D2E1F0A03}\"/>
      <MemberCode guid=\"0e3c1d2a-7f41-4b2e-9a7c-3c5d2e1f0a05\"/>
    </Set>
  </Sets>
</CodeBook>
";

#[sqlx::test]
async fn taguette_and_nvivo_mac_codebooks_import_into_an_existing_project(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Study").await;
    expect(
        owner
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": "people", "definition": "Mentions of people", "colour": "#123456"}),
            )
            .await,
        StatusCode::CREATED,
    )
    .await;

    // Taguette: flat, no colours, an empty (schema-invalid) <Sets/>.
    let outcome = expect(
        codes_import_body(&owner, p, TAGUETTE_QDC.as_bytes()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(outcome["created"], 2, "{outcome}");
    let codes_now = codes(&owner, p).await;
    assert_eq!(
        paths(&codes_now),
        ["interesting", "people", "waiting times"]
            .map(String::from)
            .into()
    );
    let people = by_path(&codes_now, "people");
    assert_eq!(people["definition"], "Mentions of people", "kept: {people}");
    assert_eq!(people["colour"], "#123456", "kept: {people}");

    // NVivo for Mac: `codebook:1:0`, a BOM, braced GUIDs, the same names in
    // two branches, colours with alpha.
    let outcome = expect(
        codes_import_file(&owner, p, NVIVO_MAC_QDC.as_bytes()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(outcome["created"], 6, "{outcome}");
    assert_eq!(outcome["updated"], 0, "{outcome}");
    let codes_now = codes(&owner, p).await;
    assert_eq!(
        paths(&codes_now),
        [
            "Computing",
            "Computing / fun",
            "Computing / programming",
            "Games",
            "Games / fun",
            "Games / programming",
            "interesting",
            "people",
            "waiting times",
        ]
        .map(String::from)
        .into()
    );
    assert_eq!(
        by_path(&codes_now, "Computing / programming")["colour"],
        "#1f77b4"
    );
    assert_eq!(by_path(&codes_now, "Computing / fun")["colour"], "#ffbb78");
    assert_eq!(
        by_path(&codes_now, "Computing")["definition"],
        "What “computing” means here."
    );
    let under = |parent: &str| -> BTreeSet<String> {
        let pid = &by_path(&codes_now, parent)["id"];
        codes_now
            .values()
            .filter(|c| &c["parent_id"] == pid)
            .map(|c| s(&c["name"]))
            .collect()
    };
    assert_eq!(under("Computing"), under("Games"));

    // Importing it again changes nothing new.
    let again = expect(
        codes_import_body(&owner, p, NVIVO_MAC_QDC.as_bytes()).await,
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(again["created"], 0, "{again}");
    assert_eq!(codes(&owner, p).await.len(), 9);

    // A project file is not a codebook.
    let qdc_project = r#"<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>"#;
    let message = assert_error(
        codes_import_body(&owner, p, qdc_project.as_bytes()).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(message.contains("not a codebook"), "{message}");
}

// ---- 5. hostile input ---------------------------------------------------------

const TINY_QDE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Tiny" origin="Hand-made">
 <CodeBook><Codes><Code guid="AAAAAAAA-0000-4000-8000-000000000001" name="Greeting" isCodable="true"/></Codes></CodeBook>
 <Sources>
  <TextSource guid="BBBBBBBB-0000-4000-8000-000000000001" name="One" plainTextPath="internal://BBBBBBBB-0000-4000-8000-000000000001.txt">
   <PlainTextSelection guid="CCCCCCCC-0000-4000-8000-000000000001" startPosition="0" endPosition="5">
    <Coding guid="DDDDDDDD-0000-4000-8000-000000000001"><CodeRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
  </TextSource>
 </Sources>
</Project>"#;

const TINY_TXT: (&str, &[u8]) = (
    "sources/BBBBBBBB-0000-4000-8000-000000000001.txt",
    b"Hello world",
);

/// `project.qde` with `n` text sources all reading the same file.
fn many_sources(n: usize) -> String {
    let mut out = String::from(
        r#"<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="Amplified"><Sources>"#,
    );
    for i in 0..n {
        out.push_str(&format!(
            r#"<TextSource guid="BBBBBBBB-0000-4000-8000-{i:012}" name="S{i}" plainTextPath="internal://zeros.txt"/>"#
        ));
    }
    out.push_str("</Sources></Project>");
    out
}

/// Rewrite the uncompressed size that both headers declare for `name`.
fn declare_size(zip: &mut [u8], name: &str, size: u32) {
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        let (name_len_at, name_at, size_at) = match &zip[at..at + 4] {
            [0x50, 0x4b, 0x03, 0x04] => (at + 26, at + 30, at + 22),
            [0x50, 0x4b, 0x01, 0x02] => (at + 28, at + 46, at + 24),
            _ => continue,
        };
        let len = usize::from(u16::from_le_bytes([zip[name_len_at], zip[name_len_at + 1]]));
        if zip.get(name_at..name_at + len) == Some(name.as_bytes()) {
            zip[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "both headers of {name}");
}

#[sqlx::test]
async fn hostile_uploads_are_refused_and_create_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    owner.project("Existing").await;
    let cap = parley::formats::ZipLimits::default();

    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not a zip",
            b"this is not a zip file at all".to_vec(),
            "not a valid .qdpx",
        ),
        ("an empty file", Vec::new(), ""),
        (
            "a zip-slip entry",
            zip_of(&[
                ("project.qde", TINY_QDE.as_bytes()),
                TINY_TXT,
                ("../evil.txt", b"x"),
            ]),
            "unsafe name",
        ),
        (
            "a deeper zip-slip entry",
            zip_of(&[
                ("project.qde", TINY_QDE.as_bytes()),
                ("sources/../../evil.txt", b"x"),
            ]),
            "unsafe name",
        ),
        (
            "an absolute path",
            zip_of(&[
                ("project.qde", TINY_QDE.as_bytes()),
                TINY_TXT,
                ("/tmp/evil.txt", b"x"),
            ]),
            "unsafe name",
        ),
        (
            "a Windows drive path",
            zip_of(&[("project.qde", TINY_QDE.as_bytes()), ("C:\\evil.txt", b"x")]),
            "unsafe name",
        ),
    ];
    // More entries than allowed (stored, so the archive stays small).
    let mut many = ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    many.start_file("project.qde", stored).unwrap();
    many.write_all(TINY_QDE.as_bytes()).unwrap();
    for i in 0..cap.max_entries {
        many.start_file(format!("sources/{i}.txt"), stored).unwrap();
    }
    let many = many.finish().unwrap().into_inner();
    cases.push(("too many entries", many, "more than the 10000 allowed"));
    // A zip bomb: one small entry (4 MiB of zeros, a few KiB deflated) read
    // by more sources than the cap allows in total.
    let zeros = vec![0u8; 4 * 1024 * 1024];
    let n = (cap.max_total_bytes / zeros.len() as u64) as usize + 1;
    let bomb = zip_of(&[
        ("project.qde", many_sources(n).as_bytes()),
        ("sources/zeros.txt", &zeros),
    ]);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    cases.push((
        "a zip bomb (amplified)",
        bomb,
        "expands to more than 256 MiB",
    ));
    // One entry that says it inflates beyond the cap.
    let mut big = zip_of(&[("project.qde", TINY_QDE.as_bytes()), TINY_TXT]);
    declare_size(&mut big, TINY_TXT.0, cap.max_total_bytes as u32 + 1);
    cases.push(("an entry larger than the cap", big, "expands to more than"));
    let xml_cases: [(&str, &str, &str); 5] = [
        (
            "billion laughs",
            r#"<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>"#,
            "DTD",
        ),
        (
            "an external entity",
            r#"<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Project xmlns="urn:QDA-XML:project:1.0" name="x"><Description>&xxe;</Description></Project>"#,
            "DTD",
        ),
        (
            "an external DTD",
            r#"<?xml version="1.0"?><!DOCTYPE Project SYSTEM "http://127.0.0.1:1/evil.dtd"><Project xmlns="urn:QDA-XML:project:1.0" name="x"/>"#,
            "DTD",
        ),
        (
            "malformed XML",
            r#"<?xml version="1.0"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources></Project>"#,
            "not well-formed XML",
        ),
        (
            "another vocabulary",
            r#"<?xml version="1.0"?><html><body>hi</body></html>"#,
            "not a REFI-QDA file",
        ),
    ];
    for (what, xml, expected) in xml_cases {
        cases.push((
            what,
            zip_of(&[("project.qde", xml.as_bytes()), TINY_TXT]),
            expected,
        ));
    }
    cases.push((
        "no .qde",
        zip_of(&[TINY_TXT, ("readme.txt", b"hello")]),
        "no project file",
    ));
    cases.push((
        "two .qde files",
        zip_of(&[
            ("project.qde", TINY_QDE.as_bytes()),
            ("Other.qde", TINY_QDE.as_bytes()),
            TINY_TXT,
        ]),
        "2 project files",
    ));
    cases.push((
        "a source that is not UTF-8",
        zip_of(&[
            ("project.qde", TINY_QDE.as_bytes()),
            (TINY_TXT.0, b"caf\xE9 au lait"),
        ]),
        "not UTF-8",
    ));

    for (what, bytes, expected) in cases {
        // The names are written as given: the archive really is hostile.
        if what.contains("zip-slip") || what.contains("absolute") {
            let archive = ZipArchive::new(Cursor::new(&bytes)).unwrap();
            let names: Vec<String> = archive
                .file_names()
                .map(|n| n.expect("a readable entry name").to_string())
                .collect();
            assert!(
                names.iter().any(|n| n.contains("..") || n.starts_with('/')),
                "{what}: {names:?}"
            );
        }
        let before = project_counts(&app, &owner).await;
        let res = import(&owner, bytes).await;
        let status = res.status();
        assert!(status.is_client_error(), "{what}: got {status}");
        let message = assert_error(res, status).await;
        assert!(message.contains(expected), "{what}: {message}");
        assert_eq!(project_counts(&app, &owner).await, before, "{what}");
    }

    // Not a multipart upload at all.
    let before = project_counts(&app, &owner).await;
    let res = owner
        .raw_post("/projects/import", "application/zip", "PK\u{3}\u{4}")
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert_error(res, StatusCode::BAD_REQUEST).await;
    assert_eq!(project_counts(&app, &owner).await, before);
}

#[sqlx::test]
async fn a_zip_entry_that_hides_its_size_is_stopped_at_the_cap(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let cap = parley::formats::ZipLimits::default().max_total_bytes as usize;
    // Just over the cap of zeros, compressed; then the headers claim 11 bytes.
    let started = std::time::Instant::now();
    let zeros = vec![0u8; cap + 1024 * 1024];
    let mut bomb = zip_of(&[("project.qde", TINY_QDE.as_bytes()), (TINY_TXT.0, &zeros)]);
    drop(zeros);
    declare_size(&mut bomb, TINY_TXT.0, 11);
    assert!(bomb.len() < 2 * 1024 * 1024, "{}", bomb.len());
    eprintln!(
        "built a {} KiB zip bomb in {:?}",
        bomb.len() / 1024,
        started.elapsed()
    );
    let before = project_counts(&app, &owner).await;
    let res = import(&owner, bomb).await;
    let status = res.status();
    assert!(status.is_client_error(), "{status}");
    let message = assert_error(res, status).await;
    // The zip reader stops at the declared size ("damaged"), or the cap does.
    assert!(
        message.contains("expands to more than") || message.contains("damaged"),
        "{message}"
    );
    assert_eq!(project_counts(&app, &owner).await, before);
}

#[sqlx::test]
async fn missing_files_and_bad_selections_are_reported_not_fatal(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let qde = r#"<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Partial" origin="Hand-made">
 <CodeBook><Codes><Code guid="AAAAAAAA-0000-4000-8000-000000000001" name="Greeting" isCodable="true"/></Codes></CodeBook>
 <Sources>
  <TextSource guid="BBBBBBBB-0000-4000-8000-000000000001" name="Present" plainTextPath="internal://BBBBBBBB-0000-4000-8000-000000000001.txt">
   <PlainTextSelection guid="CCCCCCCC-0000-4000-8000-000000000001" startPosition="0" endPosition="5">
    <Coding guid="DDDDDDDD-0000-4000-8000-000000000001"><CodeRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="CCCCCCCC-0000-4000-8000-000000000002" startPosition="6" endPosition="500">
    <Coding guid="DDDDDDDD-0000-4000-8000-000000000002"><CodeRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="CCCCCCCC-0000-4000-8000-000000000003" startPosition="8" endPosition="3">
    <Coding guid="DDDDDDDD-0000-4000-8000-000000000003"><CodeRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
   <PlainTextSelection guid="CCCCCCCC-0000-4000-8000-000000000004" startPosition="6" endPosition="11">
    <Coding guid="DDDDDDDD-0000-4000-8000-000000000004"><CodeRef targetGUID="EEEEEEEE-0000-4000-8000-000000000009"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <TextSource guid="BBBBBBBB-0000-4000-8000-000000000002" name="Absent" plainTextPath="internal://BBBBBBBB-0000-4000-8000-000000000002.txt">
   <PlainTextSelection guid="CCCCCCCC-0000-4000-8000-000000000005" startPosition="0" endPosition="5">
    <Coding guid="DDDDDDDD-0000-4000-8000-000000000005"><CodeRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/></Coding>
   </PlainTextSelection>
  </TextSource>
  <TextSource guid="BBBBBBBB-0000-4000-8000-000000000003" name="Host file" plainTextPath="absolute:///etc/passwd"/>
  <TextSource guid="BBBBBBBB-0000-4000-8000-000000000004" name="Host URL" plainTextPath="file:///etc/hostname"/>
  <TextSource guid="BBBBBBBB-0000-4000-8000-000000000005" name="Escaping" plainTextPath="internal://../../../../etc/passwd"/>
 </Sources>
</Project>"#;
    let (p, report) = imported(&owner, zip_of(&[("project.qde", qde.as_bytes()), TINY_TXT])).await;
    // Paths are looked up in the archive only, never on the server's disk.
    for name in ["Host file", "Host URL", "Escaping"] {
        line_with(&report, "not_imported", &[&format!("“{name}”"), "missing"]);
    }
    assert_eq!(report["documents"], 1, "{report}");
    assert_eq!(report["codings"], 1, "{report}");
    let missing = line_with(&report, "not_imported", &["“Absent”", "missing"]);
    assert!(
        missing.contains("internal://BBBBBBBB-0000-4000-8000-000000000002.txt")
            && missing.contains("1 selection"),
        "{missing}"
    );
    let out_of_range = line_with(&report, "not_imported", &["“Present”", "6–500"]);
    assert!(out_of_range.contains("beyond the end"), "{out_of_range}");
    line_with(&report, "not_imported", &["“Present”", "8–3"]);
    line_with(
        &report,
        "not_imported",
        &["“Present”", "not in the codebook"],
    );
    let got = placed(&owner, p).await;
    assert_eq!(
        got,
        vec![(
            "Present".to_owned(),
            "Greeting".to_owned(),
            0,
            5,
            "Hello".to_owned()
        )]
    );
}

// ---- 6. access ------------------------------------------------------------------

#[sqlx::test]
async fn imports_belong_to_the_caller_and_exports_follow_project_access(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let viewer = app.person("viewer@example.org").await;
    let outsider = app.person("outsider@example.org").await;
    let p = owner.project("Study").await;
    owner.add(p, &viewer, "viewer").await;
    expect(
        owner
            .post(&format!("/projects/{p}/codes"), json!({"name": "Theme"}))
            .await,
        StatusCode::CREATED,
    )
    .await;

    // Importing makes a project owned by whoever imports, visible to no one else.
    let (mine, _) = imported(
        &outsider,
        zip_of(&[("project.qde", TINY_QDE.as_bytes()), TINY_TXT]),
    )
    .await;
    let project = expect(
        outsider.get(&format!("/projects/{mine}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(project["role"], "owner");
    assert_eq!(project["name"], format!("Tiny {}", imported_today()));
    assert_eq!(project["members"], 1);
    assert_error(
        owner.get(&format!("/projects/{mine}")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_error(
        import(
            &app.anonymous(),
            zip_of(&[("project.qde", TINY_QDE.as_bytes())]),
        )
        .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    for path in ["exports/project.qdpx", "exports/codebook.qdc"] {
        let url = format!("/projects/{p}/{path}");
        assert_error(outsider.get(&url).await, StatusCode::NOT_FOUND).await;
        assert_error(app.anonymous().get(&url).await, StatusCode::UNAUTHORIZED).await;
        let (_, bytes) = download(&viewer, &url).await;
        assert!(!bytes.is_empty(), "{path}");
    }
    // Viewers cannot add to the codebook; outsiders do not see the project.
    let before = codes(&owner, p).await.len();
    assert_error(
        codes_import_body(&viewer, p, TAGUETTE_QDC.as_bytes()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        codes_import_file(&viewer, p, TAGUETTE_QDC.as_bytes()).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    assert_error(
        codes_import_body(&outsider, p, TAGUETTE_QDC.as_bytes()).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(codes(&owner, p).await.len(), before);
}

// ---- 7. the command line -------------------------------------------------------

/// The URL of the test's own database, for the `parley` binary.
fn url_of(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

fn parley(url: &str, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_parley"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .env_remove("PARLEY_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[sqlx::test]
async fn the_cli_exports_and_imports_projects(pool: PgPool) {
    let url = url_of(&pool);
    let app = TestApp::spawn(pool).await;
    let rich = rich_project(&app).await;
    let (owner, p) = (&rich.owner, rich.project);
    let dir = tempfile::tempdir().unwrap();
    let qdpx = dir.path().join("study.qdpx");
    let qdc = dir.path().join("codebook.qdc");
    let os = |s: &str| std::ffi::OsString::from(s);
    let project = p.0.to_string();

    let out = parley(
        &url,
        &[
            &os("export"),
            &os("--project"),
            &os(&project),
            &os("--format"),
            &os("qdpx"),
            &os("-o"),
            qdpx.as_os_str(),
        ],
    );
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    let bytes = std::fs::read(&qdpx).unwrap();
    let files = unzip(&bytes);
    assert_eq!(
        files.keys().filter(|n| n.ends_with(".txt")).count(),
        2,
        "{:?}",
        files.keys().collect::<Vec<_>>()
    );
    assert_valid(
        "Project-mrt2019.xsd",
        &files["project.qde"],
        "the CLI's project.qde",
    );
    // The same archive as the API's.
    let (_, from_api) = download(owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    assert_eq!(unzip(&from_api), files);

    let out = parley(
        &url,
        &[
            &os("export"),
            &os("--project"),
            &os(&project),
            &os("--format"),
            &os("qdc"),
            &os("-o"),
            qdc.as_os_str(),
        ],
    );
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    assert_valid(
        "Codebook.xsd",
        &std::fs::read(&qdc).unwrap(),
        "the CLI's .qdc",
    );

    // Errors are clear.
    let out = parley(
        &url,
        &[
            &os("export"),
            &os("--project"),
            &os("999999"),
            &os("-o"),
            qdc.as_os_str(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text_of(&out.stderr).contains("no project 999999"),
        "{}",
        text_of(&out.stderr)
    );
    let out = parley(
        &url,
        &[
            &os("export"),
            &os("--project"),
            &os(&project),
            &os("--format"),
            &os("pdf"),
            &os("-o"),
            qdc.as_os_str(),
        ],
    );
    assert!(!out.status.success());
    assert!(
        text_of(&out.stderr).contains("qdpx or qdc"),
        "{}",
        text_of(&out.stderr)
    );

    // Import it back as the owner.
    let before = snapshot(owner, p).await;
    let out = parley(
        &url,
        &[
            &os("import-project"),
            qdpx.as_os_str(),
            &os("--email"),
            &os("owner@example.org"),
        ],
    );
    assert!(out.status.success(), "{}", text_of(&out.stderr));
    let stdout = text_of(&out.stdout);
    assert!(
        stdout.contains(&format!(
            "2 documents, 7 codes, {} codings, 5 participants",
            rich.codings
        )),
        "{stdout}"
    );
    let list = expect(owner.get("/projects").await, StatusCode::OK).await;
    let ids: Vec<i64> = list["items"].as_array().unwrap().iter().map(id).collect();
    assert_eq!(ids.len(), 2, "{list}");
    let copy = ProjectId(*ids.iter().find(|i| **i != p.0).unwrap());
    assert!(
        stdout.contains(&format!("imported project {copy}")),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("/projects/{copy}")), "{stdout}");
    let after = snapshot(owner, copy).await;
    assert_eq!(after.codes, before.codes);
    assert_eq!(after.codings, before.codings);
    assert_eq!(after.participants, before.participants);
    assert_eq!(after.documents, before.documents);

    // A file that is not a project fails with its name and the reason.
    let junk = dir.path().join("junk.qdpx");
    std::fs::write(&junk, b"not a zip").unwrap();
    let out = parley(
        &url,
        &[
            &os("import-project"),
            junk.as_os_str(),
            &os("--email"),
            &os("owner@example.org"),
        ],
    );
    assert!(!out.status.success());
    let err = text_of(&out.stderr);
    assert!(
        err.contains("junk.qdpx") && err.contains("not a valid .qdpx"),
        "{err}"
    );
}

#[sqlx::test]
async fn exported_guids_are_lower_case(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let rich = rich_project(&app).await;
    let owner = &rich.owner;
    let (_, qdpx) = download(
        owner,
        &format!("/projects/{}/exports/project.qdpx", rich.project),
    )
    .await;
    let (_, qdc) = download(
        owner,
        &format!("/projects/{}/exports/codebook.qdc", rich.project),
    )
    .await;
    let files = unzip(&qdpx);
    let qde = String::from_utf8(files["project.qde"].clone()).unwrap();
    let qdc = String::from_utf8(qdc).unwrap();
    for xml in [qde, qdc] {
        let mut seen = 0;
        for part in xml
            .split("GUID=\"")
            .skip(1)
            .chain(xml.split("guid=\"").skip(1))
        {
            let guid = &part[..part.find('"').unwrap()];
            assert_eq!(guid, guid.to_ascii_lowercase(), "{guid}");
            seen += 1;
        }
        assert!(seen > 5, "GUIDs were found ({seen})");
    }
}

#[sqlx::test]
async fn caption_time_marks_survive_a_round_trip(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let owner = app.person("owner@example.org").await;
    let p = owner.project("Calls").await;
    let vtt = "WEBVTT\n\n00:00:01.000 --> 00:00:03.000\n<v Interviewer>How was it?</v>\n\n00:03:12.000 --> 00:03:15.000\n<v Jane Smith>We waited for months.</v>\n";
    let form = Form::new().part(
        "file",
        Part::bytes(vtt.as_bytes().to_vec()).file_name("call.vtt"),
    );
    let res = owner
        .upload(&format!("/projects/{p}/documents"), form)
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let times = |doc: &Value| -> Vec<(u64, String)> {
        doc["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["start"].as_u64().unwrap(), s(&t["time"])))
            .collect()
    };
    let before = times(&documents(&owner, p).await[0]);
    assert_eq!(before.len(), 2);
    assert_eq!(before[1].1, "00:03:12");
    let (_, qdpx) = download(&owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let (copy, report) = imported(&owner, qdpx).await;
    assert_eq!(
        report["memos"], 0,
        "the time marks are not a memo: {report}"
    );
    let after = times(&documents(&owner, copy).await[0]);
    assert_eq!(after, before);
    // Imported from the page: the report with the project's tabs around it.
    let web = app.signed_in(owner.email()).await;
    let (_, qdpx) = download(&owner, &format!("/projects/{p}/exports/project.qdpx")).await;
    let form = Form::new().part("file", Part::bytes(qdpx).file_name("calls.qdpx"));
    let html = web
        .post(app.url("/projects/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Imported “Calls (imported"), "the report");
    assert!(
        html.contains(r#"<nav class="tabs" aria-label="Project">"#),
        "the project's tabs"
    );
}
