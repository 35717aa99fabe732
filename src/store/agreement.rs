//! What intercoder agreement reads (the chosen coders' codings and the
//! documents' units) and what adjudication writes: the consensus account,
//! its codings and the record of decisions.

use crate::domain::ids::{CodeId, DocumentId, ProjectId, UserId};
use crate::store::codings::{self, NewCoding};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// One coding, as agreement needs it.
#[derive(Debug, Clone, Copy)]
pub struct Coded {
    pub document: DocumentId,
    pub code: CodeId,
    pub coder: UserId,
    pub start: i32,
    pub end: i32,
}

/// The live codes' codings by `coders` in `documents`.
pub async fn coded(
    pool: &PgPool,
    project: ProjectId,
    coders: &[UserId],
    documents: &[DocumentId],
) -> sqlx::Result<Vec<Coded>> {
    let coders: Vec<i64> = coders.iter().map(|c| c.0).collect();
    let documents: Vec<i64> = documents.iter().map(|d| d.0).collect();
    sqlx::query_as!(
        Coded,
        r#"
        select g.document_id as "document: DocumentId", g.code_id as "code: CodeId",
               g.coder_id as "coder: UserId", g.start_pos as start, g.end_pos as end
        from coding g
        join code c on c.code_id = g.code_id and c.deleted_at is null
        where g.project_id = $1 and g.coder_id = any($2) and g.document_id = any($3)
        "#,
        project as ProjectId,
        &coders,
        &documents
    )
    .fetch_all(pool)
    .await
}

/// A document's title and length in code points.
#[derive(Debug, Clone)]
pub struct Measured {
    pub id: DocumentId,
    pub title: String,
    pub chars: i32,
}

/// The project's documents (or those of `only`), by title.
pub async fn documents(
    pool: &PgPool,
    project: ProjectId,
    only: Option<&[DocumentId]>,
) -> sqlx::Result<Vec<Measured>> {
    let only: Option<Vec<i64>> = only.map(|d| d.iter().map(|d| d.0).collect());
    sqlx::query_as!(
        Measured,
        r#"
        select document_id as "id: DocumentId", title, char_count as chars
        from document
        where project_id = $1 and ($2::bigint[] is null or document_id = any($2))
        order by lower(title), document_id
        "#,
        project as ProjectId,
        only.as_deref()
    )
    .fetch_all(pool)
    .await
}

/// The documents' texts, for word units.
pub async fn bodies(
    pool: &PgPool,
    project: ProjectId,
    documents: &[DocumentId],
) -> sqlx::Result<Vec<(DocumentId, String)>> {
    let documents: Vec<i64> = documents.iter().map(|d| d.0).collect();
    let rows = sqlx::query!(
        r#"select document_id as "id: DocumentId", body from document
           where project_id = $1 and document_id = any($2)"#,
        project as ProjectId,
        &documents
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.body)).collect())
}

/// The turns of speakers who are not interviewers, by document and
/// position: the units of `unit=turn`.
pub async fn participant_turns(
    pool: &PgPool,
    project: ProjectId,
    documents: &[DocumentId],
) -> sqlx::Result<Vec<(DocumentId, i32, i32)>> {
    let documents: Vec<i64> = documents.iter().map(|d| d.0).collect();
    let rows = sqlx::query!(
        r#"
        select t.document_id as "document: DocumentId", t.start_pos, t.end_pos
        from turn t
        join document d on d.document_id = t.document_id
        left join speaker s on s.document_id = t.document_id and s.label = t.speaker
        where d.project_id = $1 and t.document_id = any($2)
          and t.speaker is not null and s.is_interviewer is not true
        order by t.document_id, t.start_pos
        "#,
        project as ProjectId,
        &documents
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.document, r.start_pos, r.end_pos))
        .collect())
}

/// The e-mail of a project's consensus account: it cannot sign in (no
/// password hash matches `!`), and it belongs to this project alone.
fn consensus_email(project: ProjectId) -> String {
    format!("consensus@project-{project}.parley.invalid")
}

/// The project's consensus account, made (and added as a coder) the first
/// time; the project row is locked, so two first decisions make one.
pub async fn consensus(conn: &mut PgConnection, project: ProjectId) -> sqlx::Result<UserId> {
    let existing = sqlx::query_scalar!(
        r#"select consensus_id as "id: UserId" from project where project_id = $1 for update"#,
        project as ProjectId
    )
    .fetch_one(&mut *conn)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let id = sqlx::query_scalar!(
        r#"insert into app_user (email, name, password_hash) values ($1, 'Consensus', '!')
           returning user_id as "id: UserId""#,
        consensus_email(project)
    )
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query!(
        r#"insert into project_member (project_id, user_id, role) values ($1, $2, 'coder')
           on conflict do nothing"#,
        project as ProjectId,
        id as UserId
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "update project set consensus_id = $2 where project_id = $1",
        project as ProjectId,
        id as UserId
    )
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A decision about one disagreement (or agreement) between two coders.
#[derive(Debug, Clone)]
pub struct Decision {
    pub document: DocumentId,
    pub code: CodeId,
    pub coders: (UserId, UserId),
    /// The stretch it settles, `[start, end)`.
    pub extent: (i32, i32),
    pub decision: &'static str,
    /// The consensus codings it leaves in the stretch.
    pub keep: Vec<(i32, i32)>,
}

/// Settle stretches: the consensus codings of each decision's code inside
/// its stretch are replaced by its `keep`, and each decision is recorded —
/// all in one transaction. Answers how many consensus codings were written,
/// and the consensus account's id.
pub async fn decide(
    pool: &PgPool,
    project: ProjectId,
    by: UserId,
    decisions: &[Decision],
) -> sqlx::Result<(usize, UserId)> {
    let mut tx = pool.begin().await?;
    let consensus = consensus(&mut tx, project).await?;
    let mut written = 0;
    for d in decisions {
        written += settle(&mut tx, project, consensus, by, d).await?;
    }
    tx.commit().await?;
    Ok((written, consensus))
}

async fn settle(
    conn: &mut PgConnection,
    project: ProjectId,
    consensus: UserId,
    by: UserId,
    d: &Decision,
) -> sqlx::Result<usize> {
    sqlx::query!(
        r#"delete from coding
           where project_id = $1 and document_id = $2 and code_id = $3 and coder_id = $4
             and start_pos >= $5 and end_pos <= $6"#,
        project as ProjectId,
        d.document as DocumentId,
        d.code as CodeId,
        consensus as UserId,
        d.extent.0,
        d.extent.1
    )
    .execute(&mut *conn)
    .await?;
    let mut written = 0;
    for &(start, end) in &d.keep {
        let new = NewCoding {
            document: d.document,
            code: d.code,
            start,
            end,
            memo: String::new(),
        };
        if codings::add_in(conn, project, consensus, &new)
            .await?
            .is_some()
        {
            written += 1;
        }
    }
    sqlx::query!(
        r#"insert into adjudication (project_id, document_id, code_id, coder_a, coder_b,
                                     start_pos, end_pos, decision, decided_by)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)"#,
        project as ProjectId,
        d.document as DocumentId,
        d.code as CodeId,
        d.coders.0 as UserId,
        d.coders.1 as UserId,
        d.extent.0,
        d.extent.1,
        d.decision,
        by as UserId
    )
    .execute(&mut *conn)
    .await?;
    Ok(written)
}

/// A recorded decision, as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Recorded {
    pub id: i64,
    pub document_id: DocumentId,
    pub document_title: String,
    pub code_id: CodeId,
    pub code_name: String,
    pub coder_a: UserId,
    pub coder_b: UserId,
    pub start: i32,
    pub end: i32,
    pub decision: String,
    pub decided_by: Option<UserId>,
    pub decided_by_name: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub decided_at: OffsetDateTime,
}

/// The project's decisions, newest first (of one document, when given).
pub async fn decisions(
    pool: &PgPool,
    project: ProjectId,
    document: Option<DocumentId>,
    limit: i64,
) -> sqlx::Result<Vec<Recorded>> {
    sqlx::query_as!(
        Recorded,
        r#"
        select a.adjudication_id as id, a.document_id as "document_id: DocumentId",
               d.title as document_title, a.code_id as "code_id: CodeId", c.name as code_name,
               a.coder_a as "coder_a: UserId", a.coder_b as "coder_b: UserId",
               a.start_pos as start, a.end_pos as end, a.decision,
               a.decided_by as "decided_by: UserId", u.name as "decided_by_name?",
               a.decided_at
        from adjudication a
        join document d on d.document_id = a.document_id
        join code c on c.code_id = a.code_id
        left join app_user u on u.user_id = a.decided_by
        where a.project_id = $1 and ($2::bigint is null or a.document_id = $2)
        order by a.decided_at desc, a.adjudication_id desc
        limit $3
        "#,
        project as ProjectId,
        document as Option<DocumentId>,
        limit
    )
    .fetch_all(pool)
    .await
}

/// The stretches already decided between two coders:
/// `(document, code, start, end)`.
pub async fn decided(
    pool: &PgPool,
    project: ProjectId,
    (a, b): (UserId, UserId),
) -> sqlx::Result<std::collections::HashSet<(DocumentId, CodeId, i32, i32)>> {
    let rows = sqlx::query!(
        r#"select document_id as "document: DocumentId", code_id as "code: CodeId",
                  start_pos, end_pos
           from adjudication where project_id = $1 and coder_a = $2 and coder_b = $3"#,
        project as ProjectId,
        a as UserId,
        b as UserId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.document, r.code, r.start_pos, r.end_pos))
        .collect())
}
