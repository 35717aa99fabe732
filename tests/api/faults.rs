//! Faults: the server killed in the middle of an import, and PostgreSQL
//! going away while writes are in flight. Nothing half-written may remain
//! visible, and every acknowledged write must still be there.

use crate::cli::url_of;
use crate::helpers::TestApp;
use parley::domain::ids::ProjectId;
use parley::store;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sqlx::PgPool;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `parley serve` as a separate process, so it can be killed outright.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    async fn start(pool: &PgPool) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_parley"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", url_of(pool))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(res) = reqwest::get(format!("{base}/healthz")).await
                && res.status() == StatusCode::OK
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the server did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Server { child, base }
    }

    /// SIGKILL: no shutdown, no cleanup, as a power cut would do it.
    fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Wait until `ready` holds (polling the database), at most 60 s.
async fn until(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !ready().await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn scalar(db: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(db)
        .await
        .unwrap()
}

/// A project of `docs` seeded transcripts with codings, as a `.qdpx`.
async fn big_exchange(pool: &PgPool, docs: usize) -> Vec<u8> {
    let out = Command::new(env!("CARGO_BIN_EXE_parley"))
        .args([
            "bench",
            "seed",
            "--docs",
            &docs.to_string(),
            "--codings",
            &(docs * 300).to_string(),
            "--words",
            "2000",
            "--email",
            "seeder@example.org",
        ])
        .env("DATABASE_URL", url_of(pool))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let project = ProjectId(scalar(pool, "select max(project_id) from project").await);
    parley::service::exchange::qdpx_bytes(pool, project)
        .await
        .expect("an export")
}

#[sqlx::test]
async fn a_server_killed_mid_import_leaves_no_project_behind(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.person("ann@example.org").await;
    let qdpx = big_exchange(&pool, 40).await;
    let before = scalar(&pool, "select count(*) from project").await;

    let mut server = Server::start(&pool).await;
    let upload = reqwest::Client::new()
        .post(format!("{}/api/v1/projects/import", server.base))
        .bearer_auth(ann.token.as_deref().unwrap())
        .multipart(Form::new().part("file", Part::bytes(qdpx).file_name("big.qdpx")))
        .send();
    let request = tokio::spawn(upload);
    // Kill it once the import has written part of the project.
    until("the import has written documents", async || {
        scalar(
            &pool,
            "select count(*) from document d join project p using (project_id) where p.importing",
        )
        .await
            > 0
    })
    .await;
    server.kill();
    assert!(
        request.await.unwrap().is_err(),
        "the request died with the server"
    );

    // The half-made project exists but nobody can see it.
    let pending = scalar(
        &pool,
        "select coalesce(max(project_id), 0) from project where importing",
    )
    .await;
    assert!(pending > 0, "the import was caught midway");
    let mine: Value = ann.get("/projects").await.json().await.unwrap();
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != pending),
        "a half-imported project is listed: {mine}"
    );
    assert_eq!(
        ann.get(&format!("/projects/{pending}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // The next sweep (at every start, then hourly) removes it and all it held.
    assert_eq!(
        store::projects::remove_abandoned_imports(&pool)
            .await
            .unwrap(),
        1
    );
    assert_eq!(scalar(&pool, "select count(*) from project").await, before);
    for table in ["document", "code", "coding", "participant"] {
        let n = scalar(
            &pool,
            &format!("select count(*) from {table} where project_id = {pending}"),
        )
        .await;
        assert_eq!(n, 0, "{table} rows of the abandoned import remain");
    }
}

#[sqlx::test]
async fn a_running_import_is_not_mistaken_for_an_abandoned_one(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.person("ann@example.org").await;
    let name = parley::domain::project::ProjectName::parse("Arriving").unwrap();
    let owner = ann.user.as_ref().unwrap().id;
    let (project, guard) = store::projects::ImportGuard::create(&pool, owner, &name, "")
        .await
        .unwrap();
    assert_eq!(
        store::projects::remove_abandoned_imports(&pool)
            .await
            .unwrap(),
        0,
        "an import in progress was removed"
    );
    assert_eq!(
        ann.get(&format!("/projects/{}", project.id)).await.status(),
        StatusCode::NOT_FOUND,
        "an import in progress is visible"
    );
    guard.release().await;
    // Released, it is abandoned: this sweep removes it (or the server's own
    // sweep at start-up did, a moment earlier).
    store::projects::remove_abandoned_imports(&pool)
        .await
        .unwrap();
    let left = scalar(
        &pool,
        &format!(
            "select count(*) from project where project_id = {}",
            project.id
        ),
    )
    .await;
    assert_eq!(left, 0, "the abandoned import is removed");
}

#[sqlx::test]
async fn a_server_killed_mid_upload_leaves_only_whole_documents(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let ann = app.person("ann@example.org").await;
    let p = ann.project("Study").await;
    let texts: Vec<String> = (0..150)
        .map(|i| {
            let mut t = String::new();
            for turn in 0..300 {
                if turn % 2 == 0 {
                    t.push_str(&format!("Interviewer: Question {turn} of file {i}?\n"));
                } else {
                    t.push_str(&format!(
                        "P{:02}: An answer of some length, with several words in it ({turn}).\n",
                        i % 40
                    ));
                }
            }
            t.trim_end().to_owned()
        })
        .collect();
    let mut form = Form::new();
    for (i, t) in texts.iter().enumerate() {
        form = form.part(
            "file",
            Part::bytes(t.clone().into_bytes()).file_name(format!("{i:03}.txt")),
        );
    }
    let mut server = Server::start(&pool).await;
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{}/api/v1/projects/{p}/documents", server.base))
            .bearer_auth(ann.token.as_deref().unwrap())
            .multipart(form)
            .send(),
    );
    until("some documents are stored", async || {
        scalar(
            &pool,
            &format!("select count(*) from document where project_id = {p}"),
        )
        .await
            > 0
    })
    .await;
    server.kill();
    let _ = request.await.unwrap();

    // Whatever was stored is whole: its full text, its turns and speakers.
    let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
        "select d.document_id, d.body,
                (select count(*) from turn t where t.document_id = d.document_id),
                (select count(*) from speaker s where s.document_id = d.document_id)
         from document d where d.project_id = $1",
    )
    .bind(p.0)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.len() < texts.len(),
        "the server was killed before it finished ({} of {} stored)",
        rows.len(),
        texts.len()
    );
    for (id, body, turns, speakers) in rows {
        assert!(texts.contains(&body), "document {id} holds a partial text");
        assert_eq!(turns, 300, "document {id} has {turns} of its 300 turns");
        assert_eq!(speakers, 2, "document {id} has {speakers} speakers");
    }
}
