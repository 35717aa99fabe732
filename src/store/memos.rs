//! Memos: the researcher's notes on the project, a document, a code or a
//! coding. Each lives on its object (one memo each); this module writes the
//! project's and documents' memos and lists them all together.

use crate::domain::code::PATH_SEPARATOR;
use crate::domain::ids::{DocumentId, ProjectId, UserId};
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

/// What a memo is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum MemoOn {
    Project,
    Document,
    Code,
    Coding,
}

/// One memo, with what it is about.
#[derive(Debug, Clone, Serialize)]
pub struct Memo {
    pub on: MemoOn,
    /// The memo's object: a document, code or coding id (the project's id
    /// for the project memo).
    pub id: i64,
    /// A short name for the object: the document title, code path, or
    /// coding's code and document.
    pub about: String,
    pub memo: String,
    pub author: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub written_at: Option<OffsetDateTime>,
    /// For a coding: its document and the coded text.
    pub document_id: Option<DocumentId>,
    pub excerpt: Option<String>,
    pub start: Option<i32>,
}

/// Every non-empty memo of the project: the project's first, then
/// documents', codes' and codings' memos, most recent first within each.
/// Coding memos only of `coder`'s codings, when given (blind coding).
pub async fn list(
    pool: &PgPool,
    project: ProjectId,
    coder: Option<UserId>,
) -> sqlx::Result<Vec<Memo>> {
    let rows = sqlx::query!(
        r#"
        with recursive paths as (
            select code_id, name as path from code
            where project_id = $1 and parent_id is null and deleted_at is null
          union all
            select c.code_id, paths.path || $2 || c.name
            from code c join paths on c.parent_id = paths.code_id
            where c.deleted_at is null
        )
        select 'project' as "on!: MemoOn", p.project_id as "id!", p.name as "about!", p.memo as "memo!",
               u.name as "author?", p.memo_at as written_at,
               null::bigint as "document_id?: DocumentId", null::text as excerpt, null::integer as start, 0 as "rank!"
        from project p left join app_user u on u.user_id = p.memo_by
        where p.project_id = $1 and p.memo <> ''
        union all
        select 'document', d.document_id, d.title, d.memo, u.name, d.memo_at,
               d.document_id, null, null, 1
        from document d left join app_user u on u.user_id = d.memo_by
        where d.project_id = $1 and d.memo <> ''
        union all
        select 'code', c.code_id, paths.path, c.memo, u.name, c.memo_at, null, null, null, 2
        from code c
        join paths on paths.code_id = c.code_id
        left join app_user u on u.user_id = c.memo_by
        where c.project_id = $1 and c.memo <> ''
        union all
        select 'coding', g.coding_id, c.name || ' · ' || d.title, g.memo, u.name, g.updated_at,
               g.document_id, left(substr(d.body, g.start_pos + 1, g.end_pos - g.start_pos), 400),
               g.start_pos, 3
        from coding g
        join code c on c.code_id = g.code_id and c.deleted_at is null
        join document d on d.document_id = g.document_id
        left join app_user u on u.user_id = g.coder_id
        where g.project_id = $1 and g.memo <> '' and ($3::bigint is null or g.coder_id = $3)
        order by "rank!", written_at desc nulls last, "id!"
        "#,
        project as ProjectId,
        PATH_SEPARATOR,
        coder as Option<UserId>
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Memo {
            on: r.on,
            id: r.id,
            about: r.about,
            memo: r.memo,
            author: r.author,
            written_at: r.written_at,
            document_id: r.document_id,
            excerpt: r.excerpt,
            start: r.start,
        })
        .collect())
}

pub async fn set_project(
    pool: &PgPool,
    project: ProjectId,
    user: UserId,
    memo: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update project set memo = $2, memo_by = $3, memo_at = now() where project_id = $1",
        project as ProjectId,
        memo,
        user as UserId
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// False when the document is not in the project.
pub async fn set_document(
    pool: &PgPool,
    project: ProjectId,
    document: DocumentId,
    user: UserId,
    memo: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update document set memo = $3, memo_by = $4, memo_at = now()
           where project_id = $1 and document_id = $2"#,
        project as ProjectId,
        document as DocumentId,
        memo,
        user as UserId
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Give an imported memo back the time it was written.
pub async fn restore_time(
    pool: &PgPool,
    on: MemoOn,
    id: i64,
    at: OffsetDateTime,
) -> sqlx::Result<()> {
    match on {
        MemoOn::Project => {
            sqlx::query!(
                "update project set memo_at = $2 where project_id = $1",
                id,
                at
            )
            .execute(pool)
            .await?;
        }
        MemoOn::Document => {
            sqlx::query!(
                "update document set memo_at = $2 where document_id = $1",
                id,
                at
            )
            .execute(pool)
            .await?;
        }
        MemoOn::Code => {
            sqlx::query!("update code set memo_at = $2 where code_id = $1", id, at)
                .execute(pool)
                .await?;
        }
        MemoOn::Coding => {}
    }
    Ok(())
}

pub async fn get_project(pool: &PgPool, project: ProjectId) -> sqlx::Result<String> {
    sqlx::query_scalar!(
        "select memo from project where project_id = $1",
        project as ProjectId
    )
    .fetch_one(pool)
    .await
}

pub async fn get_document(
    pool: &PgPool,
    project: ProjectId,
    document: DocumentId,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select memo from document where project_id = $1 and document_id = $2",
        project as ProjectId,
        document as DocumentId
    )
    .fetch_optional(pool)
    .await
}
