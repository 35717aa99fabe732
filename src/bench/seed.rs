//! `parley bench seed`: write a [`Plan`] into a new project with `COPY`.
//!
//! Ids are reserved up front (under a short exclusive lock, so concurrent
//! writers cannot take them), which lets every row be streamed without
//! round trips; identity columns accept explicit values from `COPY`. A
//! thread writes the transcripts and codings while PostgreSQL loads the
//! previous batch. Everything after the project itself is one transaction:
//! a failed seed leaves nothing behind (the project is deleted).

use super::PROJECT_PREFIX;
use super::corpus::Plan;
use crate::domain::account::{self, DisplayName, Email, NewPassword};
use crate::domain::attribution::{self, TurnSpan};
use crate::domain::document::DocumentKind;
use crate::domain::ids::{ParticipantId, ProjectId, UserId};
use crate::domain::project::{ProjectName, Role};
use crate::domain::{speakers, turns};
use crate::store;
use crate::store::bench::{self, CopyBuf};
use crate::store::users::User;
use anyhow::{Context, bail};
use clap::Args;
use sqlx::{PgConnection, PgPool};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Args)]
pub struct SeedArgs {
    /// Transcripts to write.
    #[arg(long, default_value_t = 2000)]
    pub docs: usize,
    /// Codings in all, spread over the transcripts in proportion to length.
    #[arg(long, default_value_t = 1_000_000)]
    pub codings: usize,
    /// Typical words per transcript (exact below ten transcripts; else
    /// ±30 %, and one in a hundred has 20,000).
    #[arg(long, default_value_t = 6000)]
    pub words: usize,
    /// The seed: the same arguments and seed give the same corpus.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Coder accounts (2–4 of them code each transcript); made as needed.
    #[arg(long, default_value_t = 4)]
    pub coders: usize,
    /// The project owner's e-mail (created if missing; default: the first
    /// administrator, else a bench account).
    #[arg(long)]
    pub email: Option<String>,
}

/// What a seed made.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub project: ProjectId,
    pub name: String,
    pub documents: usize,
    pub participants: usize,
    pub codes: usize,
    pub turns: usize,
    pub speakers: usize,
    pub codings: usize,
    pub parts: usize,
    pub words: usize,
    pub bytes: usize,
    pub coders: usize,
    pub loaded: Duration,
    pub vacuumed: Duration,
}

impl fmt::Display for Seeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Seeded project {} “{}” in {:.1} s (+ {:.1} s VACUUM ANALYZE):",
            self.project,
            self.name,
            self.loaded.as_secs_f64(),
            self.vacuumed.as_secs_f64()
        )?;
        writeln!(
            f,
            "  {} documents ({} words, {:.1} MB of text), {} turns, {} speakers",
            self.documents,
            self.words,
            self.bytes as f64 / 1e6,
            self.turns,
            self.speakers
        )?;
        writeln!(
            f,
            "  {} participants, {} codes, {} codings by {} coders ({} coding parts)",
            self.participants, self.codes, self.codings, self.coders, self.parts
        )?;
        write!(
            f,
            "  {:.0} codings/s; open it at /projects/{}",
            self.codings as f64 / self.loaded.as_secs_f64().max(1e-9),
            self.project
        )
    }
}

pub async fn seed(db: &PgPool, a: &SeedArgs) -> anyhow::Result<Seeded> {
    if a.docs == 0 || a.words < 50 {
        bail!("--docs must be at least 1 and --words at least 50");
    }
    if !(1..=8).contains(&a.coders) {
        bail!("--coders must be between 1 and 8");
    }
    let started = Instant::now();
    let owner = owner(db, a.email.as_deref()).await?;
    let mut coders = Vec::with_capacity(a.coders);
    for k in 1..=a.coders {
        let user = ensure_user(
            db,
            &format!("bench-coder-{k}@parley.invalid"),
            &format!("Bench coder {k}"),
        )
        .await?;
        coders.push(user.id);
    }
    let name = format!(
        "{PROJECT_PREFIX} {} documents, {} codings (seed {})",
        a.docs, a.codings, a.seed
    );
    let project = store::projects::insert(
        db,
        owner.id,
        &ProjectName::parse(&name)?,
        "A synthetic corpus made by `parley bench seed` (docs/PERFORMANCE.md).",
    )
    .await?;
    let plan = Arc::new(Plan::new(a.seed, a.docs, a.words, a.codings, a.coders));
    let filled = async {
        for c in &coders {
            if *c != owner.id {
                store::members::add(db, project.id, *c, Role::Coder).await?;
            }
        }
        fill(db, project.id, owner.id, &coders, plan).await
    }
    .await;
    match filled {
        Ok(mut s) => {
            s.name = name;
            s.loaded = started.elapsed();
            let t = Instant::now();
            vacuum(db).await?;
            s.vacuumed = t.elapsed();
            Ok(s)
        }
        Err(e) => {
            store::projects::delete(db, project.id).await.ok();
            Err(e.context("the seed failed, so its project was removed"))
        }
    }
}

/// The owner: `email` (created when missing), else the first administrator,
/// else a bench account.
pub async fn owner(db: &PgPool, email: Option<&str>) -> anyhow::Result<User> {
    if let Some(email) = email {
        return ensure_user(db, email, "Bench owner").await;
    }
    let first_admin = store::users::first_admin_email(db).await?;
    match first_admin {
        Some(email) => ensure_user(db, &email, "Bench owner").await,
        None => ensure_user(db, "bench-owner@parley.invalid", "Bench owner").await,
    }
}

/// The account with `email`, made (with a random password nobody knows)
/// when there is none.
pub async fn ensure_user(db: &PgPool, email: &str, name: &str) -> anyhow::Result<User> {
    if let Some(user) = store::users::by_email(db, email).await? {
        return Ok(user);
    }
    let hash = random_password_hash().await?.1;
    store::users::insert(
        db,
        &Email::parse(email)?,
        &DisplayName::parse(name)?,
        &hash,
        false,
    )
    .await
    .with_context(|| format!("cannot create the account {email}"))
}

/// A fresh random password and its stored hash.
pub async fn random_password_hash() -> anyhow::Result<(String, String)> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    let password: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let parsed = NewPassword::parse(&password)?;
    let hash = tokio::task::spawn_blocking(move || account::hash_password(&parsed)).await?;
    Ok((password, hash))
}

/// A batch of documents with everything that belongs to them.
struct Batch {
    documents: CopyBuf,
    turns: CopyBuf,
    speakers: CopyBuf,
    codings: CopyBuf,
    parts: CopyBuf,
    words: usize,
    bytes: usize,
}

/// The ids a batch needs.
#[derive(Clone)]
struct Ids {
    project: i64,
    owner: i64,
    coders: Vec<i64>,
    first_participant: i64,
    first_code: i64,
    first_document: i64,
    first_coding: i64,
}

/// Participants of the plan, as `(id, label)` for speaker mapping.
fn participant_labels(plan: &Plan, first: i64) -> Vec<(ParticipantId, String)> {
    plan.people
        .iter()
        .enumerate()
        .map(|(i, p)| (ParticipantId(first + i as i64), p.label.clone()))
        .collect()
}

/// Insert the plan's participants into `project` (groups by position);
/// answers the first id.
pub async fn insert_people(db: &PgPool, project: ProjectId, plan: &Plan) -> anyhow::Result<i64> {
    let first =
        bench::reserve(db, &[("participant", "participant_id", plan.people.len())]).await?[0];
    let mut conn = db.acquire().await?;
    copy_people(&mut conn, project, plan, first).await?;
    Ok(first)
}

async fn copy_people(
    conn: &mut PgConnection,
    project: ProjectId,
    plan: &Plan,
    first: i64,
) -> anyhow::Result<()> {
    let groups = bench::group_ids(conn, project).await?;
    if groups.len() < 3 {
        bail!("project {project} does not have the three default groups");
    }
    let mut buf = CopyBuf::new();
    for (i, p) in plan.people.iter().enumerate() {
        let attributes = serde_json::json!({"locality": p.locality, "age_band": p.age_band});
        buf.num(first + i as i64)
            .num(project.0)
            .text(&p.label)
            .num(groups[p.group])
            .text(&attributes.to_string())
            .end();
    }
    bench::copy(
        conn,
        "copy participant (participant_id, project_id, label, group_id, attributes) from stdin",
        &buf,
    )
    .await
}

async fn fill(
    db: &PgPool,
    project: ProjectId,
    owner: UserId,
    coders: &[UserId],
    plan: Arc<Plan>,
) -> anyhow::Result<Seeded> {
    let planned_codings: usize = plan.docs.iter().map(|d| d.codings).sum();
    let firsts = bench::reserve(
        db,
        &[
            ("participant", "participant_id", plan.people.len()),
            ("code", "code_id", plan.codes.len()),
            ("document", "document_id", plan.docs.len()),
            ("coding", "coding_id", planned_codings),
        ],
    )
    .await?;
    let ids = Ids {
        project: project.0,
        owner: owner.0,
        coders: coders.iter().map(|c| c.0).collect(),
        first_participant: firsts[0],
        first_code: firsts[1],
        first_document: firsts[2],
        first_coding: firsts[3],
    };
    let mut tx = db.begin().await?;
    copy_people(&mut tx, project, &plan, ids.first_participant).await?;
    let mut codes = CopyBuf::new();
    for (i, c) in plan.codes.iter().enumerate() {
        codes
            .num(ids.first_code + i as i64)
            .num(ids.project)
            .opt(c.parent.map(|p| ids.first_code + p as i64))
            .text(&c.name)
            .text(&c.colour)
            .text(&c.definition)
            .num(c.position)
            .num(ids.owner)
            .end();
    }
    bench::copy(
        &mut tx,
        "copy code (code_id, project_id, parent_id, name, colour, definition, position, \
         created_by) from stdin",
        &codes,
    )
    .await?;

    // The writer thread runs ahead of the database by a couple of batches.
    let (send, mut receive) = tokio::sync::mpsc::channel::<Batch>(2);
    let writer = {
        let plan = plan.clone();
        let ids = ids.clone();
        std::thread::spawn(move || {
            let people = participant_labels(&plan, ids.first_participant);
            let mut next_coding = ids.first_coding;
            let per_batch = 20;
            let mut i = 0;
            while i < plan.docs.len() {
                let upto = (i + per_batch).min(plan.docs.len());
                let batch = write_batch(&plan, &ids, &people, i..upto, &mut next_coding);
                if send.blocking_send(batch).is_err() {
                    return;
                }
                i = upto;
            }
        })
    };
    let mut made = Seeded {
        project,
        name: String::new(),
        documents: plan.docs.len(),
        participants: plan.people.len(),
        codes: plan.codes.len(),
        turns: 0,
        speakers: 0,
        codings: 0,
        parts: 0,
        words: 0,
        bytes: 0,
        coders: coders.len(),
        loaded: Duration::ZERO,
        vacuumed: Duration::ZERO,
    };
    let started = Instant::now();
    let mut done_docs = 0;
    let mut reported = 0;
    while let Some(b) = receive.recv().await {
        bench::copy(&mut tx, bench::COPY_DOCUMENT, &b.documents).await?;
        bench::copy(&mut tx, bench::COPY_TURN, &b.turns).await?;
        bench::copy(&mut tx, bench::COPY_SPEAKER, &b.speakers).await?;
        bench::copy(&mut tx, bench::COPY_CODING, &b.codings).await?;
        bench::copy(&mut tx, bench::COPY_PART, &b.parts).await?;
        done_docs += b.documents.rows;
        made.turns += b.turns.rows;
        made.speakers += b.speakers.rows;
        made.codings += b.codings.rows;
        made.parts += b.parts.rows;
        made.words += b.words;
        made.bytes += b.bytes;
        if done_docs * 10 / plan.docs.len() > reported {
            reported = done_docs * 10 / plan.docs.len();
            eprintln!(
                "  {done_docs}/{} documents, {} codings ({:.1} s)",
                plan.docs.len(),
                made.codings,
                started.elapsed().as_secs_f64()
            );
        }
    }
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("the corpus writer panicked"))?;
    tx.commit().await?;
    Ok(made)
}

fn kind_name(kind: DocumentKind) -> &'static str {
    match kind {
        DocumentKind::Interview => "interview",
        DocumentKind::FocusGroup => "focus_group",
        DocumentKind::Other => "other",
    }
}

fn write_batch(
    plan: &Plan,
    ids: &Ids,
    people: &[(ParticipantId, String)],
    docs: std::ops::Range<usize>,
    next_coding: &mut i64,
) -> Batch {
    let mut b = Batch {
        documents: CopyBuf::new(),
        turns: CopyBuf::new(),
        speakers: CopyBuf::new(),
        codings: CopyBuf::new(),
        parts: CopyBuf::new(),
        words: 0,
        bytes: 0,
    };
    for i in docs {
        let spec = &plan.docs[i];
        let doc_id = ids.first_document + i as i64;
        let text = plan.text(i);
        // Byte offset of every code point, and of the end.
        let mut offsets: Vec<usize> = text.char_indices().map(|(o, _)| o).collect();
        let char_count = offsets.len();
        offsets.push(text.len());
        b.words += attribution::word_count(&text);
        b.bytes += text.len();
        let attributes = serde_json::json!({"wave": spec.wave.to_string()});
        b.documents
            .num(doc_id)
            .num(ids.project)
            .text(&spec.title)
            .text(kind_name(spec.kind))
            .num(spec.held_on)
            .text(&attributes.to_string())
            .text(&spec.filename)
            .text("txt")
            .text(&text)
            .num(char_count)
            .num(ids.owner)
            .end();

        // Turns and speakers exactly as an import of the file makes them.
        let turns = turns::parse(&text);
        let mut labels: Vec<String> = Vec::new();
        for (n, t) in turns.iter().enumerate() {
            b.turns
                .num(doc_id)
                .num(n + 1)
                .opt_text(t.speaker.as_deref())
                .num(t.start)
                .num(t.end)
                .opt(t.time_ms)
                .end();
            if let Some(s) = t.speaker.as_ref().filter(|s| !labels.contains(s)) {
                labels.push(s.clone());
            }
        }
        for m in speakers::auto_map(&labels, people, None) {
            b.speakers
                .num(ids.project)
                .num(doc_id)
                .text(&m.label)
                .opt(m.participant.map(|p| p.0))
                .flag(m.interviewer)
                .end();
        }

        // Codings, and their parts as `store::codings::write_parts` makes
        // them: the turns the range meets and one window of text covering
        // the range and those turns' openings.
        let spans: Vec<TurnSpan> = turns
            .iter()
            .map(|t| TurnSpan {
                speaker: t.speaker.as_deref(),
                start: t.start,
                end: t.end,
            })
            .collect();
        for m in plan.codings(i, &text) {
            let id = *next_coding;
            *next_coding += 1;
            b.codings
                .num(id)
                .num(ids.project)
                .num(doc_id)
                .num(ids.first_code + m.code as i64)
                .num(ids.coders[m.coder])
                .num(m.start)
                .num(m.end)
                .text(m.memo)
                .flag(m.starred)
                .end();
            let from = spans.partition_point(|t| t.end <= m.start);
            let upto = from + spans[from..].partition_point(|t| t.start < m.end);
            let met = &spans[from..upto];
            let window_start = met.first().map_or(m.start, |t| t.start.min(m.start));
            let window_end = met
                .last()
                .map_or(m.end, |t| m.end.max(t.start + attribution::OPENING))
                .min(char_count);
            let window = &text[offsets[window_start]..offsets[window_end]];
            for p in attribution::parts(window, window_start, m.start, m.end, met) {
                b.parts
                    .num(id)
                    .text(p.label.as_deref().unwrap_or(""))
                    .num(p.first)
                    .num(p.words)
                    .end();
            }
        }
    }
    b
}

/// VACUUM ANALYZE what the seed wrote: fresh statistics and a visibility
/// map, as autovacuum would leave a project that has been in use a while.
pub async fn vacuum(db: &PgPool) -> anyhow::Result<()> {
    Ok(bench::vacuum(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_is_escaped() {
        let mut b = CopyBuf::new();
        b.num(1).text("a\tb\\c\nd").null().flag(true).end();
        b.num(2).opt(None::<i32>).end();
        assert_eq!(
            String::from_utf8(b.data).unwrap(),
            "1\ta\\tb\\\\c\\nd\t\\N\tt\n2\t\\N\n"
        );
        assert_eq!(b.rows, 2);
    }

    #[test]
    fn parts_match_a_whole_text_window() {
        // The narrow window gives what the whole text gives.
        let plan = Plan::new(9, 1, 1500, 200, 2);
        let ids = Ids {
            project: 1,
            owner: 1,
            coders: vec![1, 2],
            first_participant: 1,
            first_code: 1,
            first_document: 1,
            first_coding: 1,
        };
        let people = participant_labels(&plan, 1);
        let mut next = 1;
        let b = write_batch(&plan, &ids, &people, 0..1, &mut next);
        assert_eq!(b.codings.rows, 200);
        let text = plan.text(0);
        let turns = turns::parse(&text);
        let spans: Vec<TurnSpan> = turns
            .iter()
            .map(|t| TurnSpan {
                speaker: t.speaker.as_deref(),
                start: t.start,
                end: t.end,
            })
            .collect();
        let mut expected = CopyBuf::new();
        for (k, m) in plan.codings(0, &text).iter().enumerate() {
            for p in attribution::parts(&text, 0, m.start, m.end, &spans) {
                expected
                    .num(k + 1)
                    .text(p.label.as_deref().unwrap_or(""))
                    .num(p.first)
                    .num(p.words)
                    .end();
            }
        }
        assert_eq!(
            String::from_utf8(b.parts.data).unwrap(),
            String::from_utf8(expected.data).unwrap()
        );
    }
}
