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
    let opts = pool.connect_options();
    let target: SocketAddr = format!("{}:{}", opts.get_host(), opts.get_port())
        .parse()
        .expect("tests reach PostgreSQL over TCP");
    let mut relay = Relay::start(target).await;
    let through_relay = (*opts).clone().host("127.0.0.1").port(relay.addr.port());
    let app_pool = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_with(through_relay)
        .await
        .unwrap();
    let app = TestApp::spawn(app_pool).await;
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
    let mut recovered = false;
    for _ in 0..50 {
        if health(&app).await.0 == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "healthz answers 200 again without a restart");
    assert_eq!(ann.get("/projects").await.status(), StatusCode::OK);
}
