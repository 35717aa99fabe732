use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinSet;

/// A TCP relay to PostgreSQL that can be cut and restored on the same port,
/// to play a database outage without stopping the shared server.
struct Relay {
    addr: SocketAddr,
    target: SocketAddr,
    tasks: Option<JoinSet<()>>,
}

impl Relay {
    async fn start(target: SocketAddr) -> Relay {
        let mut relay = Relay {
            addr: "127.0.0.1:0".parse().unwrap(),
            target,
            tasks: None,
        };
        relay.up().await;
        relay
    }

    async fn up(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(64).unwrap();
        self.addr = listener.local_addr().unwrap();
        let target = self.target;
        let mut tasks = JoinSet::new();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                conns.spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        self.tasks = Some(tasks);
    }

    /// Cut every connection and refuse new ones.
    async fn down(&mut self) {
        if let Some(mut tasks) = self.tasks.take() {
            tasks.shutdown().await;
        }
    }
}

/// The app on a pool that reaches PostgreSQL through a relay.
async fn behind_relay(pool: &PgPool) -> (Relay, TestApp) {
    let opts = pool.connect_options();
    let target: SocketAddr = format!("{}:{}", opts.get_host(), opts.get_port())
        .parse()
        .expect("tests reach PostgreSQL over TCP");
    let relay = Relay::start(target).await;
    let through_relay = (*opts).clone().host("127.0.0.1").port(relay.addr.port());
    let app_pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(through_relay)
        .await
        .unwrap();
    let app = TestApp::spawn(app_pool).await;
    (relay, app)
}

/// Does /healthz answer 200 again within ten seconds?
async fn recovers(app: &TestApp) -> bool {
    for _ in 0..50 {
        if health(app).await.0 == StatusCode::OK {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

async fn health(app: &TestApp) -> (StatusCode, Value) {
    let res = reqwest::get(app.url("/healthz")).await.unwrap();
    (res.status(), res.json().await.unwrap())
}

#[sqlx::test]
async fn healthz_is_ok_while_the_database_answers(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["database"], "ok");
}

#[sqlx::test]
async fn an_outage_gives_503_and_the_server_recovers_by_itself(pool: PgPool) {
    let (mut relay, app) = behind_relay(&pool).await;
    let ann = app.person("ann@example.org").await;
    assert_eq!(health(&app).await.0, StatusCode::OK);

    relay.down().await;
    let (status, body) = health(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "unavailable");
    let res = ann.get("/projects").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["error"].as_str().unwrap().contains("database"),
        "{body}"
    );

    relay.up().await;
    let recovered = recovers(&app).await;
    assert!(recovered, "healthz answers 200 again without a restart");
    assert_eq!(ann.get("/projects").await.status(), StatusCode::OK);
}

#[sqlx::test]
async fn writes_in_flight_when_the_database_goes_are_whole_or_absent(pool: PgPool) {
    let (mut relay, app) = behind_relay(&pool).await;
    let ann = std::sync::Arc::new(app.person("ann@example.org").await);
    let p = ann.project("Study").await;
    let text = "P01: ".to_owned() + &"word ".repeat(2000);
    let doc: Value = ann
        .post(
            &format!("/projects/{p}/documents"),
            serde_json::json!({"title": "One", "text": text}),
        )
        .await
        .json()
        .await
        .unwrap();
    let code: Value = ann
        .post(
            &format!("/projects/{p}/codes"),
            serde_json::json!({"name": "Trust"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let (doc, code) = (doc["id"].as_i64().unwrap(), code["id"].as_i64().unwrap());

    // Eight clients code as fast as they can while the database goes away
    // and comes back.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = JoinSet::new();
    for c in 0..8i64 {
        let (ann, stop) = (ann.clone(), stop.clone());
        clients.spawn(async move {
            let mut acknowledged = Vec::new();
            let mut statuses = Vec::new();
            let mut i = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let start = 5 + 5 * (c * 200 + i % 200);
                i += 1;
                let res = ann
                    .post(
                        &format!("/projects/{p}/codings"),
                        serde_json::json!({
                            "document_id": doc, "code_id": code,
                            "start": start, "end": start + 4, "memo": format!("{c}-{i}")
                        }),
                    )
                    .await;
                let status = res.status();
                statuses.push(status);
                if status == StatusCode::CREATED {
                    let body: Value = res.json().await.unwrap();
                    acknowledged.push(body["id"].as_i64().unwrap());
                } else if status == StatusCode::SERVICE_UNAVAILABLE {
                    let body: Value = res.json().await.unwrap();
                    assert!(body["error"].as_str().unwrap().contains("database"));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            (acknowledged, statuses)
        });
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    relay.down().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    relay.up().await;
    let recovered = recovers(&app).await;
    assert!(recovered, "the server recovers by itself");
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    let mut acknowledged = Vec::new();
    let mut unavailable = 0;
    while let Some(done) = clients.join_next().await {
        let (ids, statuses) = done.unwrap();
        acknowledged.extend(ids);
        for s in statuses {
            assert!(
                s == StatusCode::CREATED
                    || s == StatusCode::OK
                    || s == StatusCode::SERVICE_UNAVAILABLE,
                "a write during the outage got {s}"
            );
            unavailable += usize::from(s == StatusCode::SERVICE_UNAVAILABLE);
        }
    }
    assert!(unavailable > 0, "the outage was felt");
    assert!(!acknowledged.is_empty());
    // Every acknowledged coding is there, with its attribution; nothing
    // else is (no half-written coding without its parts).
    let stored: Vec<(i64, i64)> = sqlx::query_as(
        "select g.coding_id, (select count(*) from coding_part cp where cp.coding_id = g.coding_id)
         from coding g where g.project_id = $1",
    )
    .bind(p.0)
    .fetch_all(&pool)
    .await
    .unwrap();
    for id in &acknowledged {
        assert!(
            stored.iter().any(|(s, _)| s == id),
            "acknowledged coding {id} is missing"
        );
    }
    for (id, parts) in &stored {
        assert!(*parts > 0, "coding {id} was stored without its attribution");
    }
    assert!(
        stored.len() <= acknowledged.len() + 8,
        "{} stored, {} acknowledged: at most one unacknowledged write per client \
         (committed as the answer was lost) may remain",
        stored.len(),
        acknowledged.len()
    );
}
