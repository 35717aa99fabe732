//! What a search reads (documents' text and turns with who speaks them),
//! the stems PostgreSQL's text search gives words, and the batches that
//! "code all hits" writes.

use crate::domain::ids::{CodeId, CodingId, DocumentId, GroupId, ProjectId, UserId};
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use time::OffsetDateTime;

/// The text search configuration whose stems and common words a search
/// uses.
pub const CONFIG: &str = "english";

/// A document to search.
#[derive(Debug, Clone)]
pub struct Text {
    pub id: DocumentId,
    pub title: String,
    pub body: String,
}

/// A turn and who speaks it.
#[derive(Debug, Clone)]
pub struct SpokenTurn {
    pub document: DocumentId,
    /// 1-based, as the pages number turns.
    pub turn_no: i32,
    pub start: i32,
    pub end: i32,
    pub label: Option<String>,
    pub interviewer: bool,
    pub participant: Option<String>,
    pub group_id: Option<GroupId>,
    pub group: Option<String>,
}

/// The documents of a project (or those of `only`), by title.
pub async fn texts(
    pool: &PgPool,
    project: ProjectId,
    only: Option<&[DocumentId]>,
) -> sqlx::Result<Vec<Text>> {
    let ids: Option<Vec<i64>> = only.map(|ds| ds.iter().map(|d| d.0).collect());
    sqlx::query_as!(
        Text,
        r#"
        select document_id as "id: DocumentId", title, body
        from document
        where project_id = $1 and ($2::bigint[] is null or document_id = any($2))
        order by lower(title), document_id
        "#,
        project as ProjectId,
        ids.as_deref()
    )
    .fetch_all(pool)
    .await
}

/// The turns of a project's documents (or those of `only`), in order, with
/// their speakers' mapping.
pub async fn turns(
    pool: &PgPool,
    project: ProjectId,
    only: Option<&[DocumentId]>,
) -> sqlx::Result<Vec<SpokenTurn>> {
    let ids: Option<Vec<i64>> = only.map(|ds| ds.iter().map(|d| d.0).collect());
    sqlx::query_as!(
        SpokenTurn,
        r#"
        select t.document_id as "document: DocumentId", t.turn_no, t.start_pos as start,
               t.end_pos as end, t.speaker as label,
               coalesce(s.is_interviewer, false) as "interviewer!",
               p.label as "participant?", g.group_id as "group_id?: GroupId",
               g.name as "group?"
        from turn t
        join document d on d.document_id = t.document_id
        left join speaker s on s.document_id = t.document_id and s.label = t.speaker
        left join participant p on p.participant_id = s.participant_id
        left join stakeholder_group g on g.group_id = p.group_id
        where d.project_id = $1 and ($2::bigint[] is null or t.document_id = any($2))
        order by t.document_id, t.turn_no
        "#,
        project as ProjectId,
        ids.as_deref()
    )
    .fetch_all(pool)
    .await
}

/// Each word's stem under [`CONFIG`] (`None` for a common word that text
/// search ignores), in one round trip.
pub async fn stems(
    pool: &PgPool,
    words: &[String],
) -> sqlx::Result<HashMap<String, Option<String>>> {
    if words.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query!(
        r#"
        select w as "word!", (tsvector_to_array(to_tsvector('english'::regconfig, w)))[1] as stem
        from unnest($1::text[]) as w
        "#,
        words
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.word, r.stem)).collect())
}

/// The ranges of `documents` a coder has already coded with `code`.
pub async fn coded(
    pool: &PgPool,
    project: ProjectId,
    code: CodeId,
    coder: UserId,
    documents: &[DocumentId],
) -> sqlx::Result<Vec<(DocumentId, i32, i32)>> {
    let ids: Vec<i64> = documents.iter().map(|d| d.0).collect();
    let rows = sqlx::query!(
        r#"
        select document_id as "document: DocumentId", start_pos, end_pos from coding
        where project_id = $1 and code_id = $2 and coder_id = $3 and document_id = any($4)
        "#,
        project as ProjectId,
        code as CodeId,
        coder as UserId,
        &ids
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.document, r.start_pos, r.end_pos))
        .collect())
}

/// A batch about to be written.
#[derive(Debug, Clone)]
pub struct NewBatch<'a> {
    pub coder: UserId,
    pub code: CodeId,
    pub query: &'a str,
    pub exact: bool,
    pub extent: &'a str,
}

/// Record a batch; its codings are added after, then [`finish_batch`].
pub async fn start_batch(
    conn: &mut PgConnection,
    project: ProjectId,
    batch: &NewBatch<'_>,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"
        insert into coding_batch (project_id, coder_id, code_id, query, exact, extent, created)
        values ($1, $2, $3, $4, $5, $6, 0)
        returning batch_id
        "#,
        project as ProjectId,
        batch.coder as UserId,
        batch.code as CodeId,
        batch.query,
        batch.exact,
        batch.extent
    )
    .fetch_one(conn)
    .await
}

/// Mark the batch's codings as its own.
pub async fn finish_batch(
    conn: &mut PgConnection,
    project: ProjectId,
    batch: i64,
    codings: &[CodingId],
) -> sqlx::Result<()> {
    let ids: Vec<i64> = codings.iter().map(|c| c.0).collect();
    sqlx::query!(
        r#"
        with marked as (
            update coding set batch_id = $2
            where project_id = $1 and coding_id = any($3)
            returning 1
        )
        update coding_batch set created = (select count(*) from marked)::integer
        where project_id = $1 and batch_id = $2
        "#,
        project as ProjectId,
        batch,
        &ids
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A batch as it stands.
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: i64,
    pub coder: UserId,
    pub code: CodeId,
    pub query: String,
    pub created: i32,
    pub created_at: OffsetDateTime,
    pub undone_at: Option<OffsetDateTime>,
    /// Its codings that still exist.
    pub remaining: i64,
}

pub async fn batch(pool: &PgPool, project: ProjectId, id: i64) -> sqlx::Result<Option<Batch>> {
    sqlx::query_as!(
        Batch,
        r#"
        select b.batch_id as id, b.coder_id as "coder: UserId", b.code_id as "code: CodeId",
               b.query, b.created, b.created_at, b.undone_at,
               (select count(*) from coding c where c.batch_id = b.batch_id) as "remaining!"
        from coding_batch b
        where b.project_id = $1 and b.batch_id = $2
        "#,
        project as ProjectId,
        id
    )
    .fetch_optional(pool)
    .await
}

/// Remove every coding of the batch that still exists, in one statement;
/// answers how many went. A batch is undone once.
pub async fn undo_batch(pool: &PgPool, project: ProjectId, id: i64) -> sqlx::Result<Option<i64>> {
    let mut tx = pool.begin().await?;
    let open = sqlx::query_scalar!(
        r#"
        update coding_batch set undone_at = now()
        where project_id = $1 and batch_id = $2 and undone_at is null
        returning batch_id
        "#,
        project as ProjectId,
        id
    )
    .fetch_optional(&mut *tx)
    .await?;
    if open.is_none() {
        return Ok(None);
    }
    let gone = sqlx::query!(
        "delete from coding where project_id = $1 and batch_id = $2",
        project as ProjectId,
        id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(gone.rows_affected() as i64))
}
