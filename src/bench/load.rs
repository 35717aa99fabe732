//! `parley bench run --only load`: a team working for minutes on end.
//!
//! Coders create codings at a steady pace, readers page through a code's
//! excerpts, exporters download files, all at once and for
//! `--load-minutes`, against one server and then against several
//! (`--load-servers 1,2`: each its own `parley serve` process on the same
//! database, people shared out among them as a reverse proxy would). Each
//! person is their own account with their own API token. Every failed
//! request (a status of 400 or more, or no answer) counts as an error.

use super::Rng;
use super::run::{Ctx, Probe, Row, Server, Timing, person, postgres_cpu_seconds, verdict};
use crate::domain::ids::ProjectId;
use crate::domain::project::Role;
use crate::store;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What one person does, and how their requests are named in the report.
#[derive(Debug, Clone, Copy)]
enum Person {
    /// One new coding every `--pace-ms`.
    Coder,
    /// One page of 100 excerpts of a code every `--read-ms`, page after
    /// page, then the next code.
    Reader,
    /// One export every `--export-every-s`: a code's excerpts as XLSX, then
    /// the theme table of 100 transcripts as XLSX, in turn (the whole
    /// corpus's theme table is a 100 MB workbook of a million excerpts,
    /// measured on its own by the export scenario at a tenth of the size).
    Exporter,
}

const CODE: &str = "create a coding (POST …/codings)";
const PAGE: &str = "a page of a code's excerpts (GET …/codings?code_id=…&limit=100&offset=…)";
const CODE_XLSX: &str = "export a code's excerpts (GET …/exports/excerpts.xlsx?code_id=…)";
const THEME_XLSX: &str =
    "export the theme table of 100 transcripts (GET …/exports/theme-table.xlsx?documents=…)";

/// Latencies per operation, the first refusal of each, and requests that
/// got no answer.
#[derive(Default)]
struct Tally {
    ops: BTreeMap<&'static str, Timing>,
    refused: BTreeMap<&'static str, String>,
    failed: usize,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        for (op, t) in other.ops {
            self.ops.entry(op).or_default().absorb(t);
        }
        for (op, why) in other.refused {
            self.refused.entry(op).or_insert(why);
        }
        self.failed += other.failed;
    }
}

/// The whole scenario: one run per entry of `--load-servers`.
pub(super) async fn sustained(ctx: &Ctx, project: ProjectId) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for &servers in &ctx.args.load_servers {
        rows.extend(run(ctx, project, servers.max(1)).await?);
    }
    Ok(rows)
}

async fn run(ctx: &Ctx, project: ProjectId, n_servers: usize) -> anyhow::Result<Vec<Row>> {
    let (docs, codes) = store::bench::targets(&ctx.db, project).await?;
    let counts = store::bench::codings_per_code(&ctx.db, project).await?;
    if docs.is_empty() || codes.is_empty() || counts.is_empty() {
        bail!("project {project} has no transcripts of 2,000 characters, no codes or no codings");
    }
    let a = &ctx.args;
    let mut people = Vec::new();
    // Coders are the `bench-client-…` accounts, whose codings the run
    // removes afterwards.
    for k in 1..=a.clients {
        people.push((
            Person::Coder,
            person(ctx, project, "client", k, Role::Coder).await?,
        ));
    }
    for k in 1..=a.readers {
        people.push((
            Person::Reader,
            person(ctx, project, "reader", k, Role::Viewer).await?,
        ));
    }
    for k in 1..=a.exporters {
        people.push((
            Person::Exporter,
            person(ctx, project, "exporter", k, Role::Viewer).await?,
        ));
    }
    let mut servers = Vec::with_capacity(n_servers);
    for _ in 0..n_servers {
        servers.push(Server::start(&ctx.url).await?);
    }
    let base = |i: usize| servers[i % n_servers].url(&format!("/api/v1/projects/{project}"));
    let probes: Vec<Probe> = servers.iter().map(Server::probe).collect();
    let db_cpu = postgres_cpu_seconds();
    let length = Duration::from_secs_f64(a.load_minutes * 60.0);
    let begin = tokio::time::Instant::now();
    let end = begin + length;
    let pace = Duration::from_millis(a.pace_ms.max(1));
    let read = Duration::from_millis(a.read_ms.max(1));
    let export = Duration::from_secs(a.export_every_s.max(1));
    eprintln!(
        "{} coders, {} readers, {} exporters on {n_servers} server(s) for {:.1} min …",
        a.clients, a.readers, a.exporters, a.load_minutes
    );
    let tasks: Vec<_> = people
        .into_iter()
        .enumerate()
        .map(|(i, (kind, token))| {
            let (client, base) = (ctx.client.clone(), base(i));
            let (docs, codes, counts) = (&docs, &codes, &counts);
            async move {
                let mut rng = Rng::derive(0x10AD, n_servers as u64, i as u64);
                let mut tally = Tally::default();
                let every = match kind {
                    Person::Coder => pace,
                    Person::Reader => read,
                    Person::Exporter => export,
                };
                // Spread the first requests over one period.
                let mut due = begin + every.mul_f64(rng.unit());
                let mut reading: Option<(i64, i64, i64)> = None; // code, count, offset
                let mut turn = 0usize;
                while due < end {
                    tokio::time::sleep_until(due).await;
                    due = (due + every).max(tokio::time::Instant::now());
                    let (op, request) = match kind {
                        Person::Coder => (
                            CODE,
                            client
                                .post(format!("{base}/codings"))
                                .json(&super::run::random_coding(&mut rng, docs, codes)),
                        ),
                        Person::Reader => {
                            let (code, n, offset) = match reading {
                                Some((c, n, o)) if o + 100 < n.min(2_000) => (c, n, o + 100),
                                _ => {
                                    let (c, n) = counts[rng.below(counts.len())];
                                    (c, n, 0)
                                }
                            };
                            reading = Some((code, n, offset));
                            (
                                PAGE,
                                client.get(format!(
                                    "{base}/codings?code_id={code}&limit=100&offset={offset}"
                                )),
                            )
                        }
                        Person::Exporter => {
                            turn += 1;
                            if turn % 2 == 1 {
                                let (code, _) = counts[rng.below(counts.len())];
                                (
                                    CODE_XLSX,
                                    client.get(format!(
                                        "{base}/exports/excerpts.xlsx?code_id={code}"
                                    )),
                                )
                            } else {
                                let some: Vec<String> = (0..100)
                                    .map(|_| docs[rng.below(docs.len())].0.to_string())
                                    .collect();
                                (
                                    THEME_XLSX,
                                    client.get(format!(
                                        "{base}/exports/theme-table.xlsx?documents={}",
                                        some.join(",")
                                    )),
                                )
                            }
                        }
                    };
                    let started = Instant::now();
                    match request.bearer_auth(&token).send().await {
                        Ok(res) => {
                            let status = res.status();
                            match res.bytes().await {
                                Ok(body) => {
                                    tally.ops.entry(op).or_default().add(
                                        started.elapsed(),
                                        status,
                                        body.len(),
                                    );
                                    if status.as_u16() >= 400 {
                                        tally.refused.entry(op).or_insert_with(|| {
                                            let b = &body[..body.len().min(200)];
                                            format!("{status}: {}", String::from_utf8_lossy(b))
                                        });
                                    }
                                }
                                Err(_) => tally.failed += 1,
                            }
                        }
                        Err(_) => tally.failed += 1,
                    }
                }
                tally
            }
        })
        .collect();
    let mut tally = Tally::default();
    for t in futures_util::future::join_all(tasks).await {
        tally.merge(t);
    }
    let wall = begin.elapsed().as_secs_f64();
    let db_cpu = postgres_cpu_seconds() - db_cpu;
    let used: Vec<(f64, f64, f64)> = servers
        .iter()
        .zip(&probes)
        .map(|(s, p)| s.since(p))
        .collect();
    for s in servers {
        s.stop().await;
    }
    let peak = used.iter().map(|u| u.0).fold(0.0, f64::max);
    let cpu: f64 = used.iter().map(|u| u.1).sum();
    let each = used
        .iter()
        .map(|u| format!("{:.0} MB, {:.0} CPU s", u.0, u.1))
        .collect::<Vec<_>>()
        .join("; ");
    let who = format!(
        "{} min, {} server{}, {} coders + {} readers + {} exporters",
        (a.load_minutes * 10.0).round() / 10.0,
        n_servers,
        if n_servers == 1 { "" } else { "s" },
        a.clients,
        a.readers,
        a.exporters
    );
    let mut rows = Vec::new();
    for (op, t) in &tally.ops {
        let errors: usize = t
            .statuses
            .iter()
            .filter(|(s, _)| **s >= 400)
            .map(|(_, n)| n)
            .sum();
        let mut r = Row {
            what: format!("Sustained load ({who}): {op}"),
            n: t.samples.len(),
            latency: Some(t.percentiles()),
            throughput: Some(t.samples.len() as f64 / wall),
            notes: match tally.refused.get(op) {
                Some(why) => format!("{}; {errors} errors, the first {why}", t.statuses()),
                None => format!("{}; {errors} errors", t.statuses()),
            },
            ..Row::default()
        };
        if *op == CODE {
            r.budget = "p95 < 10 ms, no errors".into();
            r.verdict = if errors > 0 {
                format!("missed: {errors} errors")
            } else {
                verdict(t.percentiles()[1], 10.0)
            };
        } else {
            r.budget = "no errors".into();
            r.verdict = if errors > 0 {
                format!("missed: {errors} errors")
            } else {
                "met".into()
            };
        }
        rows.push(r);
    }
    rows.push(Row {
        what: format!("Sustained load ({who}): the whole run"),
        n: tally.ops.values().map(|t| t.samples.len()).sum::<usize>() + tally.failed,
        rss_mb: Some(peak),
        server_cpu: cpu,
        db_cpu,
        notes: format!(
            "{} requests without an answer; per server: {each}; PostgreSQL {:.0} % of one core",
            tally.failed,
            db_cpu / wall * 100.0
        ),
        budget: "no errors".into(),
        verdict: if tally.failed > 0 {
            format!("missed: {} requests without an answer", tally.failed)
        } else {
            "met".into()
        },
        ..Row::default()
    });
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn tallies_add_up_and_keep_the_first_refusal() {
        let mut a = Tally::default();
        a.ops
            .entry(CODE)
            .or_default()
            .add(Duration::from_millis(2), StatusCode::CREATED, 10);
        a.refused.insert(PAGE, "first".into());
        let mut b = Tally::default();
        let t = b.ops.entry(CODE).or_default();
        t.add(Duration::from_millis(4), StatusCode::CREATED, 30);
        t.add(Duration::from_millis(6), StatusCode::CONFLICT, 5);
        b.ops
            .entry(PAGE)
            .or_default()
            .add(Duration::from_millis(9), StatusCode::BAD_REQUEST, 1);
        b.refused.insert(PAGE, "second".into());
        b.failed = 2;
        a.merge(b);
        let code = &a.ops[CODE];
        assert_eq!(code.samples.len(), 3);
        assert_eq!(code.statuses(), "2×201, 1×409");
        assert_eq!(code.bytes, 30);
        assert_eq!(a.ops[PAGE].samples.len(), 1);
        assert_eq!(a.refused[PAGE], "first");
        assert_eq!(a.failed, 2);
    }
}
