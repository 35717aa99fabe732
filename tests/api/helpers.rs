//! The test harness: the real app on 127.0.0.1:0 over a fresh database
//! (from `#[sqlx::test]`), and a client per person.

use parley::app::App;
use parley::config::ServerConfig;
use parley::domain::account::{self, DisplayName, Email, NewPassword};
use parley::domain::ids::ProjectId;
use parley::store;
use parley::store::users::User;
use reqwest::{Client, Response, StatusCode, redirect};
use serde_json::{Value, json};
use sqlx::PgPool;
use std::net::SocketAddr;

pub const PASSWORD: &str = "correct horse battery";

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: PgPool,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl TestApp {
    pub async fn spawn(db: PgPool) -> TestApp {
        Self::spawn_with(db, ServerConfig::default()).await
    }

    pub async fn spawn_with(db: PgPool, mut config: ServerConfig) -> TestApp {
        config.addr = "127.0.0.1:0".parse().unwrap();
        let app = App::build(db.clone(), config).await.expect("bind");
        let addr = app.local_addr();
        let askers = app.askers();
        let server = tokio::spawn(async move {
            app.run_until(std::future::pending())
                .await
                .expect("server ran");
        });
        // Ready when it hears of access changes, as a server soon is (until
        // then it checks every request, which would hide what it keeps).
        for _ in 0..500 {
            if askers.listening() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(askers.listening(), "the server listens for access changes");
        TestApp { addr, db, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The body of `path` fetched with `client` (a page, for a browser's
    /// client), as text.
    pub async fn page_text(&self, client: &Client, path: &str) -> String {
        client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// A browser-like client: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .redirect(redirect::Policy::none())
            .build()
            .unwrap()
    }

    /// An account made directly in the store (as `parley user add` does).
    pub async fn user(&self, email: &str, name: &str) -> User {
        let hash = account::hash_password(&NewPassword::parse(PASSWORD).unwrap());
        store::users::insert(
            &self.db,
            &Email::parse(email).unwrap(),
            &DisplayName::parse(name).unwrap(),
            &hash,
            false,
        )
        .await
        .unwrap()
    }

    /// An API client for a new account with its own token.
    pub async fn person(&self, email: &str) -> Api {
        let user = self.user(email, email.split('@').next().unwrap()).await;
        let (token, hash) = account::new_token();
        store::tokens::insert(&self.db, user.id, "tests", &hash)
            .await
            .unwrap();
        Api {
            base: self.url("/api/v1"),
            token: Some(token),
            client: Client::new(),
            user: Some(user),
        }
    }

    pub fn anonymous(&self) -> Api {
        Api {
            base: self.url("/api/v1"),
            token: None,
            client: Client::new(),
            user: None,
        }
    }

    /// Sign in through the login form with a cookie-keeping client.
    pub async fn signed_in(&self, email: &str) -> Client {
        let client = self.browser();
        let res = client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "sign-in should redirect"
        );
        client
    }
}

/// A script's view of the API, with a Bearer token (or none).
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    pub client: Client,
    pub user: Option<User>,
}

impl Api {
    pub fn email(&self) -> &str {
        &self.user.as_ref().unwrap().email
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let r = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::PATCH, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.req(reqwest::Method::DELETE, path)
            .send()
            .await
            .unwrap()
    }

    pub async fn raw_post(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Response {
        self.req(reqwest::Method::POST, path)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn put(&self, path: &str, body: Value) -> Response {
        self.req(reqwest::Method::PUT, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// POST a multipart form (file uploads).
    pub async fn upload(&self, path: &str, form: reqwest::multipart::Form) -> Response {
        self.req(reqwest::Method::POST, path)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// A CSV file the server answers 200 to `path` with.
    pub async fn csv(&self, path: &str) -> Csv {
        let res = self.get(path).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let head = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        Csv { head, rows }
    }

    /// How many documents project `p` holds.
    pub async fn document_count(&self, p: ProjectId) -> i64 {
        let list: Value = self
            .get(&format!("/projects/{p}/documents"))
            .await
            .json()
            .await
            .unwrap();
        list["total"].as_i64().expect("a total")
    }

    /// Create a project and return its id.
    pub async fn project(&self, name: &str) -> ProjectId {
        let res = self.post("/projects", json!({ "name": name })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        ProjectId(res.json::<Value>().await.unwrap()["id"].as_i64().unwrap())
    }

    /// Add `other` to project `p` with `role`.
    pub async fn add(&self, p: ProjectId, other: &Api, role: &str) {
        let res = self
            .post(
                &format!("/projects/{p}/members"),
                json!({ "email": other.email(), "role": role }),
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "{}",
            res.text().await.unwrap()
        );
    }
}

/// Assert an API error: status, JSON content type, and an `error` message.
pub async fn assert_error(res: Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status);
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "content type {ct}");
    let body: Value = res.json().await.unwrap();
    let message = body["error"].as_str().expect("an error message").to_owned();
    assert!(!message.is_empty());
    message
}

/// The API token a page shows (`parley_…`).
pub fn token_on(page: &str) -> String {
    let start = page.find("parley_").expect("a token on the page");
    page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}

// ---- study builders: one call per endpoint, checked --------------------------

/// The answer's JSON, after checking its status.
pub async fn expect(res: Response, status: StatusCode) -> Value {
    let got = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

/// An answer's `id`.
pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"))
}

/// A list answer's items.
pub fn items(v: &Value) -> &Vec<Value> {
    v["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items in {v}"))
}

/// A CSV answer: its header and its records (a cell may hold line breaks,
/// so rows are records, not lines).
pub struct Csv {
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Csv {
    /// Where the column named `name` is.
    pub fn column(&self, name: &str) -> usize {
        self.head
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {:?}", self.head))
    }

    /// Each row's cells in the named columns.
    pub fn cells(&self, names: &[&str]) -> Vec<Vec<String>> {
        let at: Vec<usize> = names.iter().map(|n| self.column(n)).collect();
        self.rows
            .iter()
            .map(|r| at.iter().map(|&i| r[i].clone()).collect())
            .collect()
    }
}

/// Where a redirect goes.
pub fn location(res: &Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// A deflated zip of `entries`, in order, names exactly as given.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

impl Api {
    /// `POST …/documents` from text: its id and its text as the API serves
    /// it back (normalised).
    pub async fn document(&self, p: ProjectId, title: &str, text: &str) -> (i64, String) {
        let res = self
            .post(
                &format!("/projects/{p}/documents"),
                json!({"title": title, "text": text}),
            )
            .await;
        let d = id(&expect(res, StatusCode::CREATED).await);
        let got = expect(
            self.get(&format!("/projects/{p}/documents/{d}")).await,
            StatusCode::OK,
        )
        .await;
        (d, got["text"].as_str().unwrap().to_owned())
    }

    /// `POST …/codes`: its id.
    pub async fn code(&self, p: ProjectId, name: &str, parent: Option<i64>) -> i64 {
        self.code_defined(p, name, parent, "").await
    }

    /// `POST …/codes` with a definition: its id.
    pub async fn code_defined(
        &self,
        p: ProjectId,
        name: &str,
        parent: Option<i64>,
        definition: &str,
    ) -> i64 {
        let res = self
            .post(
                &format!("/projects/{p}/codes"),
                json!({"name": name, "parent_id": parent, "definition": definition}),
            )
            .await;
        id(&expect(res, StatusCode::CREATED).await)
    }

    /// `POST …/participants`.
    pub async fn participant(&self, p: ProjectId, label: &str, group: Option<&str>, attrs: Value) {
        let res = self
            .post(
                &format!("/projects/{p}/participants"),
                json!({"label": label, "group": group, "attributes": attrs}),
            )
            .await;
        expect(res, StatusCode::CREATED).await;
    }

    /// `PUT …/documents/{doc}/speakers`.
    pub async fn map_speakers(&self, p: ProjectId, doc: i64, mapping: Value) {
        let res = self
            .put(&format!("/projects/{p}/documents/{doc}/speakers"), mapping)
            .await;
        expect(res, StatusCode::OK).await;
    }

    /// `POST …/codings`, the answer as it is.
    pub async fn apply(&self, p: ProjectId, doc: i64, code: i64, start: i64, end: i64) -> Response {
        self.post(
            &format!("/projects/{p}/codings"),
            json!({"document_id": doc, "code_id": code, "start": start, "end": end}),
        )
        .await
    }

    /// `POST …/codings`, expecting a new coding.
    pub async fn coding(&self, p: ProjectId, doc: i64, code: i64, start: i64, end: i64) -> Value {
        expect(
            self.apply(p, doc, code, start, end).await,
            StatusCode::CREATED,
        )
        .await
    }
}
