//! `parley bench run`: measure a real server over HTTP.
//!
//! Each measurement starts its own `parley serve` child process (this
//! binary, `PARLEY_ADDR=127.0.0.1:<free port>`, the same `DATABASE_URL`),
//! so the server's peak RSS (`VmHWM`, and `VmRSS` sampled every 10 ms) is
//! that measurement's alone and never mixed up with the client's. Times are
//! taken by the client on the loopback interface, to the last byte of the
//! body. The run signs in as a bench account with a fresh random password
//! and a new API token, and afterwards removes the codings and projects it
//! made (unless `--keep`).

use super::corpus::Plan;
use super::seed::{self, SeedArgs};
use super::{PROJECT_PREFIX, Rng};
use crate::domain::account;
use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::{ProjectName, Role};
use crate::store;
use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, IF_NONE_MATCH};
use reqwest::{Client, StatusCode};
use serde_json::json;
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// POST …/codings from many concurrent clients.
    Coding,
    /// The coding page of a 20,000-word transcript with 1,000 codings.
    Page,
    /// GET …/codings?code_id=…&limit=100.
    Excerpts,
    /// GET …/matrix for every measure, column choice and roll-up.
    Matrix,
    /// GET …/exports/theme-table.xlsx of ~100,000 excerpts.
    Export,
    /// POST …/documents with 500 transcripts.
    Import,
    /// GET …/agreement: two coders, 200 transcripts, 60 codes.
    Agreement,
    /// Coders, readers and exporters at once for `--load-minutes`, on one
    /// server and on more (`--load-servers`). Not in the default set.
    Load,
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// The corpus project (default: the `bench seed` project with the most
    /// codings).
    #[arg(long)]
    pub project: Option<i64>,
    /// The project holding the ~20,000-word transcript with ~1,000 codings
    /// (default: found among bench projects, else seeded now).
    #[arg(long)]
    pub page_project: Option<i64>,
    /// A project with ~100,000 codings for the export (default: found
    /// among bench projects, else seeded now).
    #[arg(long)]
    pub export_project: Option<i64>,
    /// What to measure.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "coding,page,excerpts,matrix,export,import,agreement"
    )]
    pub only: Vec<Scenario>,
    /// Concurrent clients creating codings.
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Codings to create (after a warm-up of two per client).
    #[arg(long, default_value_t = 3200)]
    pub requests: usize,
    /// Codings to create at a steady pace (one per client every
    /// `--pace-ms`).
    #[arg(long, default_value_t = 1280)]
    pub paced_requests: usize,
    /// The pace of each client in the steady run.
    #[arg(long, default_value_t = 1000)]
    pub pace_ms: u64,
    /// Sequential requests per page/list measurement.
    #[arg(long, default_value_t = 30)]
    pub samples: usize,
    /// Repetitions of each matrix request (after the first).
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
    /// Every measure for every column choice and roll-up (else every
    /// measure for groups, and references for the rest).
    #[arg(long)]
    pub matrix_full: bool,
    /// Transcripts to import.
    #[arg(long, default_value_t = 500)]
    pub import_files: usize,
    /// Words per imported transcript.
    #[arg(long, default_value_t = 6000)]
    pub import_words: usize,
    /// People reading pages of excerpts during the sustained load.
    #[arg(long, default_value_t = 4)]
    pub readers: usize,
    /// People downloading exports during the sustained load.
    #[arg(long, default_value_t = 2)]
    pub exporters: usize,
    /// How long the sustained load lasts, per server count.
    #[arg(long, default_value_t = 10.0)]
    pub load_minutes: f64,
    /// Server counts to run the sustained load on, one after the other.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub load_servers: Vec<usize>,
    /// Each reader's pace: one page of excerpts this often.
    #[arg(long, default_value_t = 1000)]
    pub read_ms: u64,
    /// Each exporter's pace: one export this often (seconds).
    #[arg(long, default_value_t = 30)]
    pub export_every_s: u64,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Keep what the run made (its codings and import projects).
    #[arg(long)]
    pub keep: bool,
}

/// The name of the API tokens a run makes (and removes).
const TOKEN_NAME: &str = "parley bench run";

/// One line of the report.
#[derive(Debug, Clone, Default)]
pub(super) struct Row {
    pub what: String,
    pub n: usize,
    /// p50, p95, p99, max in ms.
    pub latency: Option<[f64; 4]>,
    /// Requests per second.
    pub throughput: Option<f64>,
    pub notes: String,
    pub rss_mb: Option<f64>,
    pub server_cpu: f64,
    pub db_cpu: f64,
    pub budget: String,
    pub verdict: String,
}

/// What every measurement needs.
pub(super) struct Ctx {
    pub url: String,
    pub db: PgPool,
    pub client: Client,
    token: String,
    runner: UserId,
    email: String,
    password: String,
    pub args: RunArgs,
}

pub async fn run(url: &str, args: RunArgs) -> anyhow::Result<()> {
    let db = store::prepare(url, 4).await?;
    let machine = Machine::read(&db).await?;
    let runner = seed::ensure_user(&db, "bench-runner@parley.invalid", "Bench runner").await?;
    let (password, hash) = seed::random_password_hash().await?;
    store::users::set_password(&db, runner.id, &hash).await?;
    let (token, token_hash) = account::new_token();
    let token_id = store::tokens::insert(&db, runner.id, TOKEN_NAME, &token_hash).await?;
    let client = Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(1800))
        .build()?;
    let ctx = Ctx {
        url: url.to_owned(),
        db: db.clone(),
        client,
        token,
        runner: runner.id,
        email: runner.email.clone(),
        password,
        args: args.clone(),
    };
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut made_projects = Vec::new();
    let outcome = measure_all(&ctx, &mut rows, &mut notes, &mut made_projects).await;
    // Clean up whatever happened.
    if !args.keep {
        let gone = store::bench::remove_run_codings(&db).await?;
        if gone > 0 {
            eprintln!("removed the {gone} codings the run made");
        }
        for p in &made_projects {
            store::projects::delete(&db, *p).await?;
        }
    }
    store::tokens::delete(&db, runner.id, token_id).await.ok();
    store::bench::delete_tokens_named(&db, TOKEN_NAME).await?;
    let load_after = loadavg();
    outcome?;
    let report = markdown(&machine, &load_after, &notes, &rows);
    println!("{report}");
    if let Some(path) = &args.output {
        std::fs::write(path, &report)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

async fn measure_all(
    ctx: &Ctx,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
    made: &mut Vec<ProjectId>,
) -> anyhow::Result<()> {
    let wants = |s: Scenario| ctx.args.only.contains(&s);
    let needs = [
        Scenario::Coding,
        Scenario::Excerpts,
        Scenario::Matrix,
        Scenario::Load,
    ]
    .into_iter()
    .any(wants);
    let corpus = match ctx.args.project {
        Some(p) => Some(ProjectId(p)),
        None if needs => Some(largest_bench_project(&ctx.db).await?),
        // The page is also measured in the corpus, when there is one.
        None if wants(Scenario::Page) => largest_bench_project(&ctx.db).await.ok(),
        None => None,
    };
    if let Some(p) = corpus {
        join(ctx, p).await?;
        notes.push(describe(&ctx.db, "Corpus", p).await?);
    }
    for scenario in ctx.args.only.clone() {
        eprintln!("measuring {scenario:?} …");
        match scenario {
            Scenario::Coding => rows.extend(coding(ctx, corpus.expect("corpus")).await?),
            Scenario::Excerpts => rows.extend(excerpts(ctx, corpus.expect("corpus")).await?),
            Scenario::Matrix => rows.extend(matrix(ctx, corpus.expect("corpus")).await?),
            Scenario::Page => {
                let (p, d) = page_document(ctx).await?;
                join(ctx, p).await?;
                notes.push(describe(&ctx.db, "Transcript page", p).await?);
                rows.extend(page(ctx, p, d, "", true).await?);
                // The same in the big corpus, where per-project queries
                // (the codebook's counts, say) see a million codings.
                if let Some(c) = corpus.filter(|c| *c != p) {
                    for (kind, place, full) in [
                        ("interview", " in the corpus (interview)", true),
                        ("focus_group", " in the corpus (focus group)", false),
                    ] {
                        if let Some(d) = long_document(&ctx.db, c, kind).await? {
                            rows.extend(page(ctx, c, d, place, full).await?);
                        }
                    }
                }
            }
            Scenario::Export => {
                let p = export_project(ctx).await?;
                join(ctx, p).await?;
                notes.push(describe(&ctx.db, "Export", p).await?);
                rows.extend(export(ctx, p).await?);
            }
            Scenario::Import => {
                rows.extend(import(ctx, made).await?);
                rows.extend(at_the_limits(ctx, made).await?);
            }
            Scenario::Load => {
                rows.extend(super::load::sustained(ctx, corpus.expect("corpus")).await?)
            }
            Scenario::Agreement => {
                let p = agreement_project(ctx).await?;
                join(ctx, p).await?;
                notes.push(describe(&ctx.db, "Agreement", p).await?);
                rows.extend(agreement(ctx, p).await?);
            }
        }
    }
    Ok(())
}

/// Make the runner a coder of `project` (if not a member yet).
async fn join(ctx: &Ctx, project: ProjectId) -> anyhow::Result<()> {
    if store::members::get(&ctx.db, project, ctx.runner)
        .await?
        .is_none()
    {
        store::members::add(&ctx.db, project, ctx.runner, Role::Coder).await?;
    }
    Ok(())
}

async fn describe(db: &PgPool, what: &str, p: ProjectId) -> anyhow::Result<String> {
    let s = store::projects::stats(db, p).await?;
    let (name, _) = store::projects::name_and_description(db, p).await?;
    let words = store::bench::characters(db, p).await?;
    Ok(format!(
        "{what}: project {p} “{name}” — {} documents ({:.1} MB of text), {} participants, {} codes, {} codings",
        s.documents,
        words as f64 / 1e6,
        s.participants,
        s.codes,
        s.codings
    ))
}

async fn largest_bench_project(db: &PgPool) -> anyhow::Result<ProjectId> {
    let found = store::bench::largest_project(db, PROJECT_PREFIX).await?;
    found
        .map(ProjectId)
        .context("there is no bench project: run `parley bench seed` first (or pass --project)")
}

/// A transcript of at least 19,000 words with 800–1,250 codings, else a new
/// one-document project seeded for it.
async fn page_document(ctx: &Ctx) -> anyhow::Result<(ProjectId, i64)> {
    let found = store::bench::page_document(&ctx.db, ctx.args.page_project, PROJECT_PREFIX).await?;
    if let Some((p, d)) = found {
        return Ok((ProjectId(p), d));
    }
    if ctx.args.page_project.is_some() {
        bail!("--page-project has no transcript of 20,000 words with about 1,000 codings");
    }
    eprintln!("seeding a one-transcript project (20,000 words, 1,000 codings) …");
    let made = seed::seed(
        &ctx.db,
        &SeedArgs {
            docs: 1,
            codings: 1000,
            words: 20_000,
            seed: 42,
            coders: 4,
            email: None,
        },
    )
    .await?;
    eprintln!("{made}");
    let d = store::bench::first_document(&ctx.db, made.project).await?;
    Ok((made.project, d))
}

/// A bench project with 80,000–150,000 codings, else one seeded now (200
/// transcripts, 100,000 codings).
async fn export_project(ctx: &Ctx) -> anyhow::Result<ProjectId> {
    if let Some(p) = ctx.args.export_project {
        return Ok(ProjectId(p));
    }
    let found = store::bench::export_project(&ctx.db, PROJECT_PREFIX).await?;
    if let Some(p) = found {
        return Ok(ProjectId(p));
    }
    eprintln!("seeding an export project (200 transcripts, 100,000 codings) …");
    let made = seed::seed(
        &ctx.db,
        &SeedArgs {
            docs: 200,
            codings: 100_000,
            words: 6000,
            seed: 42,
            coders: 4,
            email: None,
        },
    )
    .await?;
    eprintln!("{made}");
    Ok(made.project)
}

/// A bench project of 200 transcripts double-coded by two coders, else one
/// seeded now (200 transcripts of ~6,000 words, 24,000 codings).
async fn agreement_project(ctx: &Ctx) -> anyhow::Result<ProjectId> {
    if let Some(p) = store::bench::agreement_project(&ctx.db, PROJECT_PREFIX).await? {
        return Ok(ProjectId(p));
    }
    eprintln!("seeding an agreement project (200 transcripts, 2 coders, 24,000 codings) …");
    let made = seed::seed(
        &ctx.db,
        &SeedArgs {
            docs: 200,
            codings: 24_000,
            words: 6000,
            seed: 42,
            coders: 2,
            email: None,
        },
    )
    .await?;
    eprintln!("{made}");
    Ok(made.project)
}

// ---- the server under test -------------------------------------------------

pub(super) struct Server {
    child: tokio::process::Child,
    pid: u32,
    base: String,
    log: PathBuf,
    peak_kb: Arc<AtomicU64>,
    stop_sampling: Arc<AtomicBool>,
}

impl Server {
    pub(super) async fn start(url: &str) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::env::temp_dir().join(format!("parley-bench-server-{port}.log"));
        let stderr = std::fs::File::create(&log)?;
        let child = tokio::process::Command::new(std::env::current_exe()?)
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("PARLEY_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start `parley serve`")?;
        let pid = child.id().context("the server exited at once")?;
        let mut server = Server {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            log,
            peak_kb: Arc::new(AtomicU64::new(0)),
            stop_sampling: Arc::new(AtomicBool::new(false)),
        };
        let client = Client::builder().no_proxy().build()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!(
                    "the server stopped ({status}); see {}",
                    server.log.display()
                );
            }
            if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                break;
            }
            if Instant::now() > deadline {
                bail!(
                    "the server did not answer in 60 s; see {}",
                    server.log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Sample the resident set, in case VmHWM cannot be reset.
        let (peak, stop, pid) = (
            server.peak_kb.clone(),
            server.stop_sampling.clone(),
            server.pid,
        );
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kb) = status_kb(pid, "VmRSS") {
                    peak.fetch_max(kb, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Ok(server)
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn rss_mb(&self) -> f64 {
        status_kb(self.pid, "VmRSS").unwrap_or(0) as f64 / 1024.0
    }

    /// Start a measurement window: the peak is reset, CPU noted.
    pub(super) fn probe(&self) -> Probe {
        let reset = std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok();
        self.peak_kb
            .store(status_kb(self.pid, "VmRSS").unwrap_or(0), Ordering::Relaxed);
        Probe {
            reset,
            cpu: cpu_seconds(self.pid),
            db_cpu: postgres_cpu_seconds(),
        }
    }

    /// `(peak RSS MB, server CPU s, PostgreSQL CPU s)` since `probe`.
    pub(super) fn since(&self, p: &Probe) -> (f64, f64, f64) {
        let sampled = self.peak_kb.load(Ordering::Relaxed);
        let hwm = if p.reset {
            status_kb(self.pid, "VmHWM").unwrap_or(0)
        } else {
            0
        };
        (
            sampled.max(hwm) as f64 / 1024.0,
            cpu_seconds(self.pid) - p.cpu,
            postgres_cpu_seconds() - p.db_cpu,
        )
    }

    pub(super) async fn stop(mut self) {
        self.stop_sampling.store(true, Ordering::Relaxed);
        self.child.start_kill().ok();
        self.child.wait().await.ok();
        std::fs::remove_file(&self.log).ok();
    }
}

pub(super) struct Probe {
    reset: bool,
    cpu: f64,
    db_cpu: f64,
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// utime + stime of a process, in seconds (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses.
    let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of the whole line.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// CPU seconds of every `postgres` process (the whole cluster: other
/// databases' work shows up here too).
pub(super) fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_seconds)
        .sum()
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ---- timing ----------------------------------------------------------------

/// Latencies of one measurement.
#[derive(Default)]
pub(super) struct Timing {
    pub samples: Vec<Duration>,
    pub statuses: BTreeMap<u16, usize>,
    pub bytes: usize,
}

impl Timing {
    pub(super) fn add(&mut self, took: Duration, status: StatusCode, bytes: usize) {
        self.samples.push(took);
        *self.statuses.entry(status.as_u16()).or_default() += 1;
        self.bytes = self.bytes.max(bytes);
    }

    /// Add another measurement's samples and statuses to this one.
    pub(super) fn absorb(&mut self, other: Timing) {
        self.samples.extend(other.samples);
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.bytes = self.bytes.max(other.bytes);
    }

    /// p50, p95, p99 and max in ms (nearest rank).
    pub(super) fn percentiles(&self) -> [f64; 4] {
        let mut s: Vec<f64> = self.samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        s.sort_by(f64::total_cmp);
        let at = |p: f64| -> f64 {
            if s.is_empty() {
                return 0.0;
            }
            let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
            s[rank.clamp(1, s.len()) - 1]
        };
        [
            at(50.0),
            at(95.0),
            at(99.0),
            s.last().copied().unwrap_or(0.0),
        ]
    }

    pub(super) fn statuses(&self) -> String {
        self.statuses
            .iter()
            .map(|(s, n)| format!("{n}×{s}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// GET `path` (`bearer`: with the run's token) `n` times in a row.
async fn repeat_get(
    ctx: &Ctx,
    client: &Client,
    url: &str,
    bearer: bool,
    n: usize,
) -> anyhow::Result<Timing> {
    let mut t = Timing::default();
    for _ in 0..n {
        let mut req = client.get(url);
        if bearer {
            req = req.bearer_auth(&ctx.token);
        }
        let started = Instant::now();
        let res = req.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        t.add(started.elapsed(), status, body.len());
        if !status.is_success() && status != StatusCode::NOT_MODIFIED {
            bail!(
                "GET {url}: {status}: {}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            );
        }
    }
    Ok(t)
}

pub(super) fn verdict(value_ms: f64, limit_ms: f64) -> String {
    if value_ms < limit_ms {
        "met".into()
    } else {
        format!(
            "missed by {:.0} ms ({:.1}× the budget)",
            value_ms - limit_ms,
            value_ms / limit_ms
        )
    }
}

fn row(what: impl Into<String>, t: &Timing, server: &Server, p: &Probe) -> Row {
    let (rss, cpu, db) = server.since(p);
    Row {
        what: what.into(),
        n: t.samples.len(),
        latency: Some(t.percentiles()),
        rss_mb: Some(rss),
        server_cpu: cpu,
        db_cpu: db,
        ..Row::default()
    }
}

// ---- the measurements ------------------------------------------------------

/// Each client is its own coder with its own API token (as 32 people
/// would be): first back to back (a closed loop: the server's capacity,
/// where waiting dominates), then at a steady pace of one coding per client
/// every `--pace-ms`.
/// Where new codings go: transcripts of 2,000+ characters (id, length) and
/// live codes.
async fn targets(db: &PgPool, project: ProjectId) -> anyhow::Result<(Vec<(i64, i32)>, Vec<i64>)> {
    Ok(store::bench::targets(db, project).await?)
}

/// A coding of 40–1,200 characters at a random place of a random
/// transcript (of `targets`), with a random code.
pub(super) fn random_coding(r: &mut Rng, docs: &[(i64, i32)], codes: &[i64]) -> serde_json::Value {
    let (doc, len) = docs[r.below(docs.len())];
    let start = r.below(len as usize - 1500);
    json!({
        "document_id": doc,
        "code_id": codes[r.below(codes.len())],
        "start": start,
        "end": start + r.between(40, 1200),
    })
}

async fn coding(ctx: &Ctx, project: ProjectId) -> anyhow::Result<Vec<Row>> {
    let (docs, codes) = targets(&ctx.db, project).await?;
    if docs.is_empty() || codes.is_empty() {
        bail!("project {project} has no transcripts of 2,000 characters or no codes");
    }
    let clients = ctx.args.clients.max(1);
    let mut tokens = Vec::with_capacity(clients);
    for k in 1..=clients {
        tokens.push(person(ctx, project, "client", k, Role::Coder).await?);
    }
    let server = Server::start(&ctx.url).await?;
    let url = server.url(&format!("/api/v1/projects/{project}/codings"));
    let body = |k: usize| random_coding(&mut Rng::derive(0xC0D1, 5, k as u64), &docs, &codes);
    // `n` requests numbered from `from`; `pace`: one per client that often.
    let run = |from: usize, n: usize, pace: Option<Duration>| {
        let next = Arc::new(AtomicUsize::new(0));
        let begin = tokio::time::Instant::now();
        let tasks: Vec<_> = tokens
            .iter()
            .enumerate()
            .map(|(c, token)| {
                let (next, client, url, token) =
                    (next.clone(), ctx.client.clone(), url.clone(), token.clone());
                async move {
                    let mut t = Timing::default();
                    let mut due = pace.map(|p| begin + p * c as u32 / clients as u32);
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n {
                            break;
                        }
                        if let (Some(at), Some(p)) = (due, pace) {
                            tokio::time::sleep_until(at).await;
                            due = Some((at + p).max(tokio::time::Instant::now()));
                        }
                        let b = body(from + k);
                        let started = Instant::now();
                        let res = client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&b)
                            .send()
                            .await?;
                        let status = res.status();
                        let bytes = res.bytes().await?;
                        t.add(started.elapsed(), status, bytes.len());
                    }
                    anyhow::Ok(t)
                }
            })
            .collect();
        futures_util::future::try_join_all(tasks)
    };
    run(10_000_000, clients * 2, None).await?;
    let mut rows = Vec::new();
    let pace = Duration::from_millis(ctx.args.pace_ms.max(1));
    for (what, from, n, pace) in [
        (
            format!("Create a coding: POST /api/v1/…/codings, {clients} coders back to back"),
            0,
            ctx.args.requests,
            None,
        ),
        (
            format!(
                "Create a coding: {clients} coders, each one coding every {} ms",
                pace.as_millis()
            ),
            5_000_000,
            ctx.args.paced_requests,
            Some(pace),
        ),
    ] {
        let p = server.probe();
        let started = Instant::now();
        let parts = run(from, n, pace).await?;
        let wall = started.elapsed();
        let mut t = Timing::default();
        for part in parts {
            t.absorb(part);
        }
        let mut r = row(what, &t, &server, &p);
        r.throughput = Some(t.samples.len() as f64 / wall.as_secs_f64());
        r.notes = t.statuses();
        r.budget = "p95 < 10 ms".into();
        r.verdict = verdict(t.percentiles()[1], 10.0);
        rows.push(r);
    }
    server.stop().await;
    Ok(rows)
}

/// The account `bench-{kind}-{k}@parley.invalid`, made a member of
/// `project` as `role` if it is not one yet, and a fresh API token of it.
/// (The run removes the codings of `bench-client-…` accounts afterwards.)
pub(super) async fn person(
    ctx: &Ctx,
    project: ProjectId,
    kind: &str,
    k: usize,
    role: Role,
) -> anyhow::Result<String> {
    let user = seed::ensure_user(
        &ctx.db,
        &format!("bench-{kind}-{k}@parley.invalid"),
        &format!("Bench {kind} {k}"),
    )
    .await?;
    if store::members::get(&ctx.db, project, user.id)
        .await?
        .is_none()
    {
        store::members::add(&ctx.db, project, user.id, role).await?;
    }
    let (token, hash) = account::new_token();
    store::tokens::insert(&ctx.db, user.id, TOKEN_NAME, &hash).await?;
    Ok(token)
}

/// A browser-like client signed in through the login form.
async fn signed_in(ctx: &Ctx, server: &Server) -> anyhow::Result<Client> {
    let browser = Client::builder()
        .no_proxy()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let res = browser
        .post(server.url("/login"))
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("email", ctx.email.as_str()),
            ("password", ctx.password.as_str()),
            ("next", "/projects"),
        ])
        .send()
        .await?;
    if res.status() != StatusCode::SEE_OTHER {
        bail!("signing in failed: {}", res.status());
    }
    Ok(browser)
}

/// The corpus's first transcript of at least 19,000 words of `kind`.
async fn long_document(db: &PgPool, project: ProjectId, kind: &str) -> anyhow::Result<Option<i64>> {
    Ok(store::bench::long_document(db, project, kind).await?)
}

/// The coding page of `doc` (and, `full`, its JSON and the poll).
async fn page(
    ctx: &Ctx,
    project: ProjectId,
    doc: i64,
    place: &str,
    full: bool,
) -> anyhow::Result<Vec<Row>> {
    let (turns, codings, speakers) = store::bench::document_counts(&ctx.db, doc).await?;
    let server = Server::start(&ctx.url).await?;
    let browser = signed_in(ctx, &server).await?;
    let n = ctx.args.samples;
    let page_url = server.url(&format!("/projects/{project}/documents/{doc}"));
    repeat_get(ctx, &browser, &page_url, false, 3).await?;
    let p = server.probe();
    let t = repeat_get(ctx, &browser, &page_url, false, n).await?;
    let mut r = row(
        format!(
            "Open a transcript page{place}: GET /projects/{{id}}/documents/{{doc}} (signed in)"
        ),
        &t,
        &server,
        &p,
    );
    // As a browser elsewhere gets it (through a proxy): a client on this
    // machine is answered uncompressed.
    let gz = browser
        .get(&page_url)
        .header("x-forwarded-for", "203.0.113.7")
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await?;
    let encoded = gz
        .headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .to_owned();
    let gz_bytes = gz.bytes().await?.len();
    r.notes = format!(
        "doc {doc}: {codings} codings, {turns} turns, {speakers} speakers; {} KB, {} KB {encoded}",
        t.bytes / 1024,
        gz_bytes / 1024
    );
    r.budget = "< 50 ms server time".into();
    r.verdict = verdict(r.latency.expect("timed")[1], 50.0);
    let mut rows = vec![r];
    if !full {
        server.stop().await;
        return Ok(rows);
    }

    let api = |path: String| server.url(&format!("/api/v1/projects/{project}{path}"));
    for (what, url) in [
        (
            format!("Same transcript as JSON{place}: GET /api/v1/…/documents/{{doc}}"),
            api(format!("/documents/{doc}")),
        ),
        (
            format!("Its codings{place}: GET /api/v1/…/documents/{{doc}}/codings"),
            api(format!("/documents/{doc}/codings")),
        ),
    ] {
        let p = server.probe();
        let t = repeat_get(ctx, &ctx.client, &url, true, n).await?;
        let mut r = row(what, &t, &server, &p);
        r.notes = format!("{} KB", t.bytes / 1024);
        rows.push(r);
    }
    // The page's poll when nothing changed: If-None-Match → 304.
    let codings_url = api(format!("/documents/{doc}/codings"));
    let etag = ctx
        .client
        .get(&codings_url)
        .bearer_auth(&ctx.token)
        .send()
        .await?
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let p = server.probe();
    let mut t = Timing::default();
    for _ in 0..n {
        let started = Instant::now();
        let res = ctx
            .client
            .get(&codings_url)
            .bearer_auth(&ctx.token)
            .header(IF_NONE_MATCH, &etag)
            .send()
            .await?;
        let status = res.status();
        let len = res.bytes().await?.len();
        t.add(started.elapsed(), status, len);
    }
    let mut r = row(
        format!("The page's 4-second poll, unchanged (If-None-Match){place}"),
        &t,
        &server,
        &p,
    );
    r.notes = t.statuses();
    rows.push(r);
    server.stop().await;
    Ok(rows)
}

async fn excerpts(ctx: &Ctx, project: ProjectId) -> anyhow::Result<Vec<Row>> {
    let counts = store::bench::codings_per_code(&ctx.db, project).await?;
    let theme = store::bench::first_theme(&ctx.db, project).await?;
    let (Some(top), Some(theme)) = (counts.first().copied(), theme) else {
        bail!("project {project} has no codings");
    };
    let median = counts[counts.len() / 2];
    let server = Server::start(&ctx.url).await?;
    let base = server.url(&format!("/api/v1/projects/{project}/codings"));
    let mut rows = Vec::new();
    for (what, query) in [
        (
            format!("List excerpts of the most used code ({} codings)", top.1),
            format!("?code_id={}&limit=100", top.0),
        ),
        (
            format!("List excerpts of a typical code ({} codings)", median.1),
            format!("?code_id={}&limit=100", median.0),
        ),
        (
            "List excerpts of a theme with its sub-codes".to_owned(),
            format!("?code_id={theme}&include_subcodes=true&limit=100"),
        ),
        (
            "List excerpts of the most used code, page 20".to_owned(),
            format!("?code_id={}&limit=100&offset=2000", top.0),
        ),
    ] {
        let url = format!("{base}{query}");
        repeat_get(ctx, &ctx.client, &url, true, 2).await?;
        let p = server.probe();
        let t = repeat_get(ctx, &ctx.client, &url, true, ctx.args.samples.min(20)).await?;
        let mut r = row(format!("{what}: GET …/codings{query}"), &t, &server, &p);
        r.notes = format!("{} KB", t.bytes / 1024);
        rows.push(r);
    }
    server.stop().await;
    Ok(rows)
}

/// Matrix requests: every measure by group, then each other column choice
/// and roll-up. The measure does not change the SQL (all are counted at
/// once), so `--matrix-full` is needed for the whole cross product. A
/// request slower than 5 s is not repeated.
async fn matrix(ctx: &Ctx, project: ProjectId) -> anyhow::Result<Vec<Row>> {
    const MEASURES: [&str; 5] = ["references", "cases", "cases_pct", "documents", "words"];
    let mut configs: Vec<(&str, bool, &str)> = Vec::new();
    for columns in ["group", "group,attr:locality"] {
        for rollup in [false, true] {
            for measure in MEASURES {
                let first = columns == "group" && !rollup;
                if ctx.args.matrix_full || first || measure == "references" {
                    configs.push((columns, rollup, measure));
                }
            }
        }
    }
    // With no kept copy, the first count attributes every coding (and the
    // server then keeps its copy in the database).
    store::bench::forget_matrix_copy(&ctx.db, project).await?;
    let server = Server::start(&ctx.url).await?;
    let mut rows = Vec::new();
    let path = format!("/api/v1/projects/{project}/matrix");
    let p = server.probe();
    let t = repeat_get(ctx, &ctx.client, &server.url(&path), true, 1).await?;
    let mut r = row(
        "Matrix, first count of a project no server has kept (attributes every coding)",
        &t,
        &server,
        &p,
    );
    r.notes = format!("{} KB", t.bytes / 1024);
    rows.push(r);
    let waited = Instant::now();
    while !store::bench::has_matrix_copy(&ctx.db, project).await? {
        if waited.elapsed() > Duration::from_secs(120) {
            bail!("the server did not keep a matrix copy within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    server.stop().await;
    // A restart: the new server starts from the kept copy.
    let server = Server::start(&ctx.url).await?;
    let base = server.url(&path);
    let p = server.probe();
    let t = repeat_get(ctx, &ctx.client, &base, true, 1).await?;
    let mut r = row(
        "Matrix, first request after a restart (from the kept copy)",
        &t,
        &server,
        &p,
    );
    within_300_ms(&mut r, &t);
    r.notes = format!("{} KB", t.bytes / 1024);
    rows.push(r);
    for (columns, rollup, measure) in configs {
        let url = format!(
            "{base}?columns={}&measure={measure}&rollup={rollup}",
            columns.replace(',', "%2C").replace(':', "%3A")
        );
        let p = server.probe();
        let mut t = repeat_get(ctx, &ctx.client, &url, true, 1).await?;
        if t.samples[0] < Duration::from_secs(5) {
            let more = repeat_get(ctx, &ctx.client, &url, true, ctx.args.repeat.max(1)).await?;
            t.samples.extend(more.samples);
        }
        let mut r = row(
            format!("Matrix: columns={columns} measure={measure} rollup={rollup}"),
            &t,
            &server,
            &p,
        );
        within_300_ms(&mut r, &t);
        eprintln!("  {}: {:.0} ms", r.what, t.percentiles()[0]);
        rows.push(r);
    }
    // While people code: the kept attributions are refreshed document by
    // document before each count.
    let (docs, codes) = targets(&ctx.db, project).await?;
    if !docs.is_empty() && !codes.is_empty() {
        let codings = server.url(&format!("/api/v1/projects/{project}/codings"));
        let matrix = format!("{base}?columns=group&measure=references");
        let p = server.probe();
        let mut t = Timing::default();
        let mut r = Rng::derive(0x3A7, 6, 0);
        for _ in 0..ctx.args.repeat.max(1) {
            for _ in 0..20 {
                let res = ctx
                    .client
                    .post(&codings)
                    .bearer_auth(&ctx.token)
                    .json(&random_coding(&mut r, &docs, &codes))
                    .send()
                    .await?;
                if !res.status().is_success() {
                    bail!("POST {codings}: {}", res.status());
                }
            }
            let more = repeat_get(ctx, &ctx.client, &matrix, true, 1).await?;
            t.samples.extend(more.samples);
            for (status, n) in more.statuses {
                *t.statuses.entry(status).or_default() += n;
            }
            t.bytes = more.bytes;
        }
        let mut row = row(
            "Matrix right after 20 new codings in 20 documents (columns=group, references)",
            &t,
            &server,
            &p,
        );
        within_300_ms(&mut row, &t);
        rows.push(row);
    }
    let browser = signed_in(ctx, &server).await?;
    let url = server.url(&format!("/projects/{project}/matrix"));
    let p = server.probe();
    let t = repeat_get(ctx, &browser, &url, false, 1).await?;
    let mut r = row(
        "Matrix page (HTML): GET /projects/{id}/matrix",
        &t,
        &server,
        &p,
    );
    within_300_ms(&mut r, &t);
    rows.push(r);
    server.stop().await;
    Ok(rows)
}

/// The agreement report for the two coders and the first 60 codes, at each
/// unit, without and with 1,000 bootstrap resamples.
async fn agreement(ctx: &Ctx, project: ProjectId) -> anyhow::Result<Vec<Row>> {
    let coders = store::bench::top_coders(&ctx.db, project).await?;
    if coders.len() < 2 {
        bail!("project {project} has fewer than two coders");
    }
    let codes: Vec<String> = store::codes::outline(&ctx.db, project)
        .await?
        .iter()
        .take(60)
        .map(|c| c.id.to_string())
        .collect();
    let server = Server::start(&ctx.url).await?;
    let base = server.url(&format!(
        "/api/v1/projects/{project}/agreement?coders={},{}&codes={}&seed=1",
        coders[0],
        coders[1],
        codes.join("%2C")
    ));
    let mut rows = Vec::new();
    for (unit, bootstrap, budget_ms) in [
        ("word", 0, 300.0),
        ("word", 1000, 2000.0),
        ("character", 1000, 2000.0),
        ("turn", 1000, 2000.0),
    ] {
        let url = format!("{base}&unit={unit}&bootstrap={bootstrap}");
        // One request warms the connection and the statement cache.
        repeat_get(ctx, &ctx.client, &url, true, 1).await?;
        let p = server.probe();
        let t = repeat_get(ctx, &ctx.client, &url, true, ctx.args.repeat.max(3)).await?;
        let mut r = row(
            format!(
                "Agreement: 2 coders, {} codes, unit={unit}, bootstrap={bootstrap}",
                codes.len()
            ),
            &t,
            &server,
            &p,
        );
        r.notes = format!("{} KB", t.bytes / 1024);
        r.budget = format!("< {budget_ms:.0} ms");
        r.verdict = verdict(t.percentiles()[0], budget_ms);
        eprintln!("  {}: {:.0} ms", r.what, t.percentiles()[0]);
        rows.push(r);
    }
    server.stop().await;
    Ok(rows)
}

/// The matrix's budget on a row: its weight, the budget and the verdict.
fn within_300_ms(r: &mut Row, t: &Timing) {
    r.notes = format!("{} KB", t.bytes / 1024);
    r.budget = "< 300 ms".into();
    r.verdict = verdict(t.percentiles()[0], 300.0);
}

async fn export(ctx: &Ctx, project: ProjectId) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (what, path, runs) in [
        (
            "Theme-table workbook: GET /api/v1/…/exports/theme-table.xlsx",
            "theme-table.xlsx",
            2,
        ),
        (
            "Excerpts CSV: GET /api/v1/…/exports/excerpts.csv",
            "excerpts.csv",
            1,
        ),
    ] {
        // A fresh server each time: the peak RSS is this export's alone.
        let server = Server::start(&ctx.url).await?;
        let idle = server.rss_mb();
        let url = server.url(&format!("/api/v1/projects/{project}/exports/{path}"));
        let p = server.probe();
        let t = repeat_get(ctx, &ctx.client, &url, true, runs).await?;
        let mut r = row(what, &t, &server, &p);
        r.notes = format!(
            "{:.1} MB file; server idle at {idle:.0} MB",
            t.bytes as f64 / 1e6
        );
        r.budget = "RSS < 200 MB (as for imports)".into();
        let rss = r.rss_mb.unwrap_or(0.0);
        r.verdict = if rss < 200.0 {
            "met".into()
        } else {
            format!("missed: {rss:.0} MB")
        };
        rows.push(r);
        server.stop().await;
    }
    Ok(rows)
}

async fn import(ctx: &Ctx, made: &mut Vec<ProjectId>) -> anyhow::Result<Vec<Row>> {
    let files = ctx.args.import_files.max(1);
    let plan = Arc::new(Plan::new(7, files, ctx.args.import_words, 0, 1));
    let texts: Vec<(String, Vec<u8>)> = {
        let plan = plan.clone();
        tokio::task::spawn_blocking(move || {
            (0..plan.docs.len())
                .map(|i| (plan.docs[i].filename.clone(), plan.text(i).into_bytes()))
                .collect()
        })
        .await?
    };
    let total_mb = texts.iter().map(|t| t.1.len()).sum::<usize>() as f64 / 1e6;
    let mut rows = Vec::new();
    // One request with every file (what the upload form sends), then
    // batches of 20 files, 4 requests at a time.
    for (per_request, parallel) in [(files, 1), (20, 4)] {
        let name = format!(
            "{PROJECT_PREFIX} import {} × {} words",
            files, ctx.args.import_words
        );
        let project = store::projects::insert(
            &ctx.db,
            ctx.runner,
            &ProjectName::parse(&name)?,
            "Made by `parley bench run`; removed afterwards.",
        )
        .await?;
        made.push(project.id);
        seed::insert_people(&ctx.db, project.id, &plan).await?;
        let server = Server::start(&ctx.url).await?;
        let idle = server.rss_mb();
        let url = server.url(&format!("/api/v1/projects/{}/documents", project.id));
        let batches: Vec<Vec<(String, Vec<u8>)>> =
            texts.chunks(per_request).map(<[_]>::to_vec).collect();
        let next = Arc::new(AtomicUsize::new(0));
        let batches = Arc::new(batches);
        let p = server.probe();
        let started = Instant::now();
        let tasks: Vec<_> = (0..parallel)
            .map(|_| {
                let (next, batches, client, url, token) = (
                    next.clone(),
                    batches.clone(),
                    ctx.client.clone(),
                    url.clone(),
                    ctx.token.clone(),
                );
                async move {
                    let mut t = Timing::default();
                    loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        let Some(batch) = batches.get(k) else {
                            break;
                        };
                        let mut form = reqwest::multipart::Form::new();
                        for (name, bytes) in batch {
                            form = form.part(
                                "file",
                                reqwest::multipart::Part::bytes(bytes.clone())
                                    .file_name(name.clone())
                                    .mime_str("text/plain")?,
                            );
                        }
                        let started = Instant::now();
                        let res = client
                            .post(&url)
                            .bearer_auth(&token)
                            .multipart(form)
                            .send()
                            .await?;
                        let status = res.status();
                        let body = res.bytes().await?;
                        t.add(started.elapsed(), status, body.len());
                        if status != StatusCode::CREATED {
                            bail!(
                                "upload: {status}: {}",
                                String::from_utf8_lossy(&body[..body.len().min(300)])
                            );
                        }
                    }
                    anyhow::Ok(t)
                }
            })
            .collect();
        let parts = futures_util::future::try_join_all(tasks).await?;
        let wall = started.elapsed();
        let mut t = Timing::default();
        for part in parts {
            t.samples.extend(part.samples);
            t.bytes = t.bytes.max(part.bytes);
            for (s, n) in part.statuses {
                *t.statuses.entry(s).or_default() += n;
            }
        }
        let stored = store::bench::document_count(&ctx.db, project.id).await?;
        let mut r = row(
            format!(
                "Import {files} transcripts of {} words: {} per request, {parallel} at a time",
                ctx.args.import_words, per_request
            ),
            &t,
            &server,
            &p,
        );
        let secs = wall.as_secs_f64();
        r.latency = None;
        r.throughput = Some(files as f64 / secs);
        r.notes = format!(
            "total {secs:.1} s for {total_mb:.0} MB; {stored} documents stored; \
             largest response {:.1} MB; server idle at {idle:.0} MB",
            t.bytes as f64 / 1e6
        );
        r.budget = "< 30 s; RSS < 200 MB".into();
        let rss = r.rss_mb.unwrap_or(0.0);
        r.verdict = match (secs < 30.0, rss < 200.0) {
            (true, true) => "met".into(),
            (time_ok, rss_ok) => {
                let mut v = Vec::new();
                if !time_ok {
                    v.push(format!("time missed by {:.1} s", secs - 30.0));
                }
                if !rss_ok {
                    v.push(format!("RSS missed by {:.0} MB", rss - 200.0));
                }
                v.join("; ")
            }
        };
        rows.push(r);
        server.stop().await;
    }
    Ok(rows)
}

/// Files at the upload limits (docs/SECURITY.md#limits), each imported on a
/// fresh server so the peak RSS is that import's alone: what a small file
/// may become is capped, and within the caps memory stays in the budget.
async fn at_the_limits(ctx: &Ctx, made: &mut Vec<ProjectId>) -> anyhow::Result<Vec<Row>> {
    use crate::domain::document::MAX_CHARS;
    use crate::formats::refi::read::{MAX_ELEMENTS, MAX_XML_BYTES};
    let flood = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="{PROJECT_PREFIX} element flood" origin="bench"><Description>{}</Description></Project>"#,
        "<X/>".repeat(MAX_ELEMENTS - 10)
    );
    let text_bytes = MAX_XML_BYTES - 4096;
    let big = format!(
        r#"<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="{PROJECT_PREFIX} largest XML" origin="bench"><Description>{}</Description></Project>"#,
        "word ".repeat(text_bytes / 5)
    );
    let paragraph = format!("<w:p><w:r><w:t>{}</w:t></w:r></w:p>", "word ".repeat(199));
    let docx_xml = format!(
        r#"<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{}</w:body></w:document>"#,
        paragraph.repeat(MAX_CHARS / 1000 - 5)
    );
    let cases: [(&str, &str, Vec<u8>); 3] = [
        (
            "Import a .qdpx of 499,990 elements (the element cap)",
            "qdpx",
            zip_one("project.qde", flood.as_bytes())?,
        ),
        (
            "Import a .qdpx of 32 MiB of XML (the size cap)",
            "qdpx",
            zip_one("project.qde", big.as_bytes())?,
        ),
        (
            "Import a .docx of ~2,000,000 characters (the document cap)",
            "docx",
            zip_one("word/document.xml", docx_xml.as_bytes())?,
        ),
    ];
    let mut rows = Vec::new();
    for (what, kind, bytes) in cases {
        let server = Server::start(&ctx.url).await?;
        let idle = server.rss_mb();
        let (url, name) = if kind == "qdpx" {
            (server.url("/api/v1/projects/import"), "limits.qdpx")
        } else {
            let project = store::projects::insert(
                &ctx.db,
                ctx.runner,
                &ProjectName::parse(&format!("{PROJECT_PREFIX} document at the cap"))?,
                "Made by `parley bench run`; removed afterwards.",
            )
            .await?;
            made.push(project.id);
            let url = server.url(&format!("/api/v1/projects/{}/documents", project.id));
            (url, "limits.docx")
        };
        let file_mb = bytes.len() as f64 / 1e6;
        let p = server.probe();
        let started = Instant::now();
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
        let res = ctx
            .client
            .post(&url)
            .bearer_auth(&ctx.token)
            .multipart(form)
            .send()
            .await?;
        let status = res.status();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let mut t = Timing::default();
        t.add(started.elapsed(), status, 0);
        if let Some(id) = body["project"]["id"].as_i64() {
            made.push(ProjectId(id));
        }
        let mut r = row(what, &t, &server, &p);
        r.notes = format!("{file_mb:.2} MB file, answered {status}; server idle at {idle:.0} MB");
        r.budget = "RSS < 200 MB".into();
        let rss = r.rss_mb.unwrap_or(0.0);
        r.verdict = if !status.is_success() {
            format!("failed: {status}")
        } else if rss < 200.0 {
            "met".into()
        } else {
            format!("missed: {rss:.0} MB")
        };
        rows.push(r);
        server.stop().await;
    }
    Ok(rows)
}

/// A zip archive holding one deflated entry.
fn zip_one(name: &str, bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    zip.start_file(name, zip::write::SimpleFileOptions::default())?;
    zip.write_all(bytes)?;
    Ok(zip.finish()?.into_inner())
}

// ---- the report ------------------------------------------------------------

struct Machine {
    cpu: String,
    cores: usize,
    memory_gib: f64,
    postgres: String,
    settings: String,
    load: String,
    when: String,
}

impl Machine {
    async fn read(db: &PgPool) -> anyhow::Result<Machine> {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".into());
        let memory_gib = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))
                    .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
            })
            .unwrap_or(0.0)
            / 1024.0
            / 1024.0;
        let postgres = store::bench::server_version(db).await?;
        let mut settings = Vec::new();
        for name in [
            "shared_buffers",
            "work_mem",
            "effective_cache_size",
            "max_parallel_workers_per_gather",
            "jit",
        ] {
            let v = store::bench::setting(db, name).await?;
            settings.push(format!("{name}={v}"));
        }
        let when = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Ok(Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_gib,
            postgres: postgres
                .split(" on ")
                .next()
                .unwrap_or(&postgres)
                .to_owned(),
            settings: settings.join(", "),
            load: loadavg(),
            when,
        })
    }
}

fn markdown(m: &Machine, load_after: &str, notes: &[String], rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "#### Run of {}\n", m.when);
    let _ = writeln!(
        out,
        "- Machine: {} × {}, {:.1} GiB memory; {} ({})",
        m.cores, m.cpu, m.memory_gib, m.postgres, m.settings
    );
    let _ = writeln!(
        out,
        "- Load average (1, 5, 15 min): {} before, {load_after} after",
        m.load
    );
    for n in notes {
        let _ = writeln!(out, "- {n}");
    }
    let _ = writeln!(
        out,
        "\n| Measurement | n | p50 ms | p95 ms | p99 ms | max ms | per s | server peak RSS MB | server CPU s | PostgreSQL CPU s | notes | budget | verdict |"
    );
    let _ = writeln!(out, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|---|");
    for r in rows {
        let [p50, p95, p99, max] = match r.latency {
            Some(l) => l.map(|v| format!("{v:.1}")),
            None => Default::default(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {p50} | {p95} | {p99} | {max} | {} | {} | {:.1} | {:.1} | {} | {} | {} |",
            r.what.replace('|', "\\|"),
            r.n,
            r.throughput.map_or(String::new(), |t| format!("{t:.1}")),
            r.rss_mb.map_or(String::new(), |v| format!("{v:.0}")),
            r.server_cpu,
            r.db_cpu,
            r.notes.replace('|', "\\|"),
            r.budget,
            r.verdict
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut t = Timing::default();
        for ms in 1..=100u64 {
            t.add(Duration::from_millis(ms), StatusCode::OK, 10);
        }
        assert_eq!(t.percentiles(), [50.0, 95.0, 99.0, 100.0]);
        assert_eq!(t.statuses(), "100×200");
        assert_eq!(verdict(5.0, 10.0), "met");
        assert!(verdict(30.0, 10.0).starts_with("missed by 20 ms"));
    }

    #[test]
    fn this_process_has_a_resident_set() {
        let me = std::process::id();
        assert!(status_kb(me, "VmRSS").unwrap() > 0);
        assert!(cpu_seconds(me) >= 0.0);
    }
}
