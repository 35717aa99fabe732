//! The benchmark's bulk loading and look-ups (`parley bench`): ids
//! reserved by the block, rows written with `COPY`, and the queries that
//! find its projects and report on them. Nothing else uses these.

use crate::domain::ids::ProjectId;
use anyhow::Context;
use sqlx::{PgConnection, PgPool};
use std::fmt;

/// Reserve `n` consecutive ids of each table's identity column; answers the
/// first of each.
pub async fn reserve(db: &PgPool, wanted: &[(&str, &str, usize)]) -> anyhow::Result<Vec<i64>> {
    let mut tx = db.begin().await?;
    // Every table the seed fills with reserved ids, whichever it needs now.
    sqlx::query!("lock table participant, code, document, coding in exclusive mode")
        .execute(&mut *tx)
        .await?;
    let mut firsts = Vec::with_capacity(wanted.len());
    for (table, column, n) in wanted {
        let first = sqlx::query_scalar!(
            r#"select nextval(pg_get_serial_sequence($1, $2)) as "id!""#,
            table,
            column
        )
        .fetch_one(&mut *tx)
        .await?;
        if *n > 1 {
            sqlx::query!(
                "select setval(pg_get_serial_sequence($1, $2), $3)",
                table,
                column,
                first + *n as i64 - 1
            )
            .fetch_one(&mut *tx)
            .await?;
        }
        firsts.push(first);
    }
    tx.commit().await?;
    Ok(firsts)
}

/// Rows in PostgreSQL's COPY text format.
#[derive(Default)]
pub struct CopyBuf {
    pub data: Vec<u8>,
    pub rows: usize,
    fresh: bool,
}

impl CopyBuf {
    fn sep(&mut self) {
        if !self.fresh {
            self.data.push(b'\t');
        }
        self.fresh = false;
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for b in s.bytes() {
            match b {
                b'\\' => self.data.extend_from_slice(b"\\\\"),
                b'\t' => self.data.extend_from_slice(b"\\t"),
                b'\n' => self.data.extend_from_slice(b"\\n"),
                b'\r' => self.data.extend_from_slice(b"\\r"),
                _ => self.data.push(b),
            }
        }
        self
    }

    pub fn num(&mut self, n: impl fmt::Display) -> &mut Self {
        self.sep();
        use std::io::Write;
        write!(self.data, "{n}").expect("writing to a Vec");
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.data.extend_from_slice(b"\\N");
        self
    }

    pub fn opt(&mut self, n: Option<impl fmt::Display>) -> &mut Self {
        match n {
            Some(n) => self.num(n),
            None => self.null(),
        }
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn flag(&mut self, b: bool) -> &mut Self {
        self.sep();
        self.data.push(if b { b't' } else { b'f' });
        self
    }

    pub fn end(&mut self) {
        self.data.push(b'\n');
        self.rows += 1;
        self.fresh = true;
    }

    pub fn new() -> CopyBuf {
        CopyBuf {
            fresh: true,
            ..CopyBuf::default()
        }
    }
}

pub async fn copy(conn: &mut PgConnection, statement: &str, buf: &CopyBuf) -> anyhow::Result<()> {
    if buf.rows == 0 {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    if let Err(e) = copy.send(buf.data.as_slice()).await {
        copy.abort("send failed").await.ok();
        return Err(e.into());
    }
    copy.finish()
        .await
        .with_context(|| statement.split(" from").next().unwrap_or("").to_owned())?;
    Ok(())
}

pub const COPY_DOCUMENT: &str = "copy document (document_id, project_id, title, kind, held_on, \
    attributes, original_filename, source_format, body, char_count, created_by) from stdin";
pub const COPY_TURN: &str =
    "copy turn (document_id, turn_no, speaker, start_pos, end_pos, time_ms) from stdin";
pub const COPY_SPEAKER: &str =
    "copy speaker (project_id, document_id, label, participant_id, is_interviewer) from stdin";
pub const COPY_CODING: &str = "copy coding (coding_id, project_id, document_id, code_id, coder_id, \
    start_pos, end_pos, memo, starred) from stdin";
pub const COPY_PART: &str = "copy coding_part (coding_id, label, first_pos, words) from stdin";

/// The project's stakeholder groups, in order.
pub async fn group_ids(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        "select group_id from stakeholder_group where project_id = $1 order by position, group_id",
        project.0
    )
    .fetch_all(conn)
    .await
}

/// VACUUM ANALYZE what the seed wrote: fresh statistics and a visibility
/// map, as autovacuum would leave a project that has been in use a while.
pub async fn vacuum(db: &PgPool) -> sqlx::Result<()> {
    // VACUUM cannot be described as a prepared statement, so this one
    // statement is not compile-checked.
    sqlx::query(
        "vacuum (analyze) document, turn, speaker, participant, code, coding, coding_part, \
         project_member, app_user",
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Remove the codings a benchmark run made (its runner's and clients').
pub async fn remove_run_codings(db: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "delete from coding where coder_id in (select user_id from app_user
         where email = 'bench-runner@parley.invalid'
            or email like 'bench-client-%@parley.invalid')",
    )
    .execute(db)
    .await?
    .rows_affected())
}

pub async fn delete_tokens_named(db: &PgPool, name: &str) -> sqlx::Result<()> {
    sqlx::query!("delete from api_token where name = $1", name)
        .execute(db)
        .await?;
    Ok(())
}

/// Characters of text in the project's documents.
pub async fn characters(db: &PgPool, project: ProjectId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select coalesce(sum(char_count), 0)::bigint as "n!" from document where project_id = $1"#,
        project.0
    )
    .fetch_one(db)
    .await
}

/// The bench project (name starting with `prefix`) with the most codings.
pub async fn largest_project(db: &PgPool, prefix: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select p.project_id from project p
         where p.name like $1 || '%'
         order by (select count(*) from coding g where g.project_id = p.project_id) desc,
                  p.project_id desc
         limit 1",
        prefix
    )
    .fetch_optional(db)
    .await
}

/// `(project, document)`: a transcript of 100,000+ characters with
/// 800–1,250 codings, in `project` or else in a bench project.
pub async fn page_document(
    db: &PgPool,
    project: Option<i64>,
    prefix: &str,
) -> sqlx::Result<Option<(i64, i64)>> {
    let found = sqlx::query!(
        "select d.project_id, d.document_id from document d
         join project p using (project_id)
         where ($1::bigint is null and p.name like $2 || '%' or p.project_id = $1)
           and d.char_count > 100000
           and (select count(*) from coding g where g.document_id = d.document_id)
               between 800 and 1250
         order by d.document_id desc limit 1",
        project,
        prefix
    )
    .fetch_optional(db)
    .await?;
    Ok(found.map(|r| (r.project_id, r.document_id)))
}

pub async fn first_document(db: &PgPool, project: ProjectId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        "select document_id from document where project_id = $1 order by 1 limit 1",
        project.0
    )
    .fetch_one(db)
    .await
}

/// A bench project with 80,000–150,000 codings.
pub async fn export_project(db: &PgPool, prefix: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select p.project_id from project p
         where p.name like $1 || '%'
           and (select count(*) from coding g where g.project_id = p.project_id)
               between 80000 and 150000
         order by p.project_id desc limit 1",
        prefix
    )
    .fetch_optional(db)
    .await
}

/// A bench project of 150–250 transcripts coded by exactly two coders
/// (the agreement measurement's), newest first.
pub async fn agreement_project(db: &PgPool, prefix: &str) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select p.project_id from project p
         where p.name like $1 || '%'
           and (select count(*) from document d where d.project_id = p.project_id)
               between 150 and 250
           and (select count(distinct coder_id) from coding g where g.project_id = p.project_id) = 2
         order by p.project_id desc limit 1",
        prefix
    )
    .fetch_optional(db)
    .await
}

/// The two coders with the most codings in a project.
pub async fn top_coders(db: &PgPool, project: ProjectId) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"select coder_id as "coder!" from coding where project_id = $1
           group by coder_id order by count(*) desc, coder_id limit 2"#,
        project.0
    )
    .fetch_all(db)
    .await
}

/// Transcripts of 2,000+ characters `(id, length)` and live codes.
pub async fn targets(db: &PgPool, project: ProjectId) -> sqlx::Result<(Vec<(i64, i32)>, Vec<i64>)> {
    let docs = sqlx::query!(
        "select document_id, char_count from document where project_id = $1 and char_count > 2000
         order by document_id",
        project.0
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.document_id, r.char_count))
    .collect();
    let codes = sqlx::query_scalar!(
        "select code_id from code where project_id = $1 and deleted_at is null order by code_id",
        project.0
    )
    .fetch_all(db)
    .await?;
    Ok((docs, codes))
}

/// The project's first transcript of 100,000+ characters of `kind`.
pub async fn long_document(
    db: &PgPool,
    project: ProjectId,
    kind: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select document_id from document
         where project_id = $1 and char_count > 100000 and kind::text = $2
         order by document_id limit 1",
        project.0,
        kind
    )
    .fetch_optional(db)
    .await
}

/// `(turns, codings, speakers)` of a document.
pub async fn document_counts(db: &PgPool, doc: i64) -> sqlx::Result<(i64, i64, i64)> {
    let r = sqlx::query!(
        r#"select (select count(*) from turn where document_id = $1) as "turns!",
                  (select count(*) from coding where document_id = $1) as "codings!",
                  (select count(*) from speaker where document_id = $1) as "speakers!""#,
        doc
    )
    .fetch_one(db)
    .await?;
    Ok((r.turns, r.codings, r.speakers))
}

/// `(code, codings)`, the most used first.
pub async fn codings_per_code(db: &PgPool, project: ProjectId) -> sqlx::Result<Vec<(i64, i64)>> {
    Ok(sqlx::query!(
        r#"select code_id, count(*) as "n!" from coding where project_id = $1 group by code_id
           order by 2 desc, 1"#,
        project.0
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.code_id, r.n))
    .collect())
}

/// The first live top-level code.
pub async fn first_theme(db: &PgPool, project: ProjectId) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!(
        "select code_id from code where project_id = $1 and parent_id is null
         and deleted_at is null order by position limit 1",
        project.0
    )
    .fetch_optional(db)
    .await
}

pub async fn document_count(db: &PgPool, project: ProjectId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from document where project_id = $1"#,
        project.0
    )
    .fetch_one(db)
    .await
}

pub async fn server_version(db: &PgPool) -> sqlx::Result<String> {
    sqlx::query_scalar!(r#"select version() as "v!""#)
        .fetch_one(db)
        .await
}

/// A PostgreSQL setting's current value.
pub async fn setting(db: &PgPool, name: &str) -> sqlx::Result<String> {
    sqlx::query_scalar!(r#"select current_setting($1) as "v!""#, name)
        .fetch_one(db)
        .await
}

/// Drop a project's kept matrix copy, so the next count starts afresh.
pub async fn forget_matrix_copy(db: &PgPool, project: ProjectId) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from matrix_copy where project_id = $1",
        project as ProjectId
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Whether a matrix copy of the project is kept.
pub async fn has_matrix_copy(db: &PgPool, project: ProjectId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from matrix_copy where project_id = $1) as "kept!""#,
        project as ProjectId
    )
    .fetch_one(db)
    .await
}
