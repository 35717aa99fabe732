//! Projects. Reads go through membership: a project is only ever fetched
//! together with the caller's role in it, so "not a member" and "does not
//! exist" are the same answer.

use crate::domain::ids::{ProjectId, UserId};
use crate::domain::participant::DEFAULT_GROUPS;
use crate::domain::project::{ProjectName, Role};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A project as one member sees it.
#[derive(Debug, Clone, Serialize)]
pub struct MemberProject {
    #[serde(flatten)]
    pub project: Project,
    /// The caller's role.
    pub role: Role,
    pub members: i64,
    pub settings: Settings,
}

/// How a project is coded: blind or open, and who settles disagreements.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Settings {
    /// Coders and viewers see only their own codings.
    pub blind: bool,
    /// A member (besides the owners) who may adjudicate.
    pub adjudicator: Option<UserId>,
    /// The account whose codings are the consensus set, once there is one.
    pub consensus: Option<UserId>,
}

/// Create a project with `owner` as its first owner and the default
/// stakeholder groups, in one transaction.
pub async fn insert(
    pool: &PgPool,
    owner: UserId,
    name: &ProjectName,
    description: &str,
) -> sqlx::Result<Project> {
    let mut tx = pool.begin().await?;
    let project = insert_marked(&mut tx, owner, name, description, false).await?;
    tx.commit().await?;
    Ok(project)
}

async fn insert_marked(
    tx: &mut PgConnection,
    owner: UserId,
    name: &ProjectName,
    description: &str,
    importing: bool,
) -> sqlx::Result<Project> {
    let project = sqlx::query_as!(
        Project,
        r#"
        insert into project (name, description, importing)
        values ($1, $2, $3)
        returning project_id as "id: ProjectId", name, description, created_at, updated_at
        "#,
        name.as_str(),
        description,
        importing
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "insert into project_member (project_id, user_id, role) values ($1, $2, 'owner')",
        project.id as ProjectId,
        owner as UserId
    )
    .execute(&mut *tx)
    .await?;
    let defaults: Vec<String> = DEFAULT_GROUPS.iter().map(|g| (*g).to_owned()).collect();
    sqlx::query!(
        r#"
        insert into stakeholder_group (project_id, name, position)
        select $1, name, position::integer
        from unnest($2::text[]) with ordinality as g (name, position)
        "#,
        project.id as ProjectId,
        &defaults
    )
    .execute(&mut *tx)
    .await?;
    Ok(project)
}

/// The projects `user` belongs to, newest activity first, and their count.
pub async fn list_for_member(
    pool: &PgPool,
    user: UserId,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<MemberProject>, i64)> {
    let rows = sqlx::query!(
        r#"
        select p.project_id as "id: ProjectId", p.name, p.description, p.created_at, p.updated_at,
               m.role as "role: Role",
               (select count(*) from project_member c where c.project_id = p.project_id) as "members!",
               p.blind, p.adjudicator_id as "adjudicator: UserId", p.consensus_id as "consensus: UserId",
               count(*) over () as "total!"
        from project_member m
        join project p using (project_id)
        where m.user_id = $1 and not p.importing
        order by p.updated_at desc, p.project_id desc
        limit $2 offset $3
        "#,
        user as UserId,
        limit,
        offset
    )
    .fetch_all(pool)
    .await?;
    let total = match rows.first() {
        Some(r) => r.total,
        // An offset past the end still reports the true total.
        None => count_for_member(pool, user).await?,
    };
    let items = rows
        .into_iter()
        .map(|r| MemberProject {
            project: Project {
                id: r.id,
                name: r.name,
                description: r.description,
                created_at: r.created_at,
                updated_at: r.updated_at,
            },
            role: r.role,
            members: r.members,
            settings: Settings {
                blind: r.blind,
                adjudicator: r.adjudicator,
                consensus: r.consensus,
            },
        })
        .collect();
    Ok((items, total))
}

async fn count_for_member(pool: &PgPool, user: UserId) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"
        select count(*) as "n!" from project_member m join project p using (project_id)
        where m.user_id = $1 and not p.importing
        "#,
        user as UserId
    )
    .fetch_one(pool)
    .await
}

/// The project and `user`'s role in it; `None` when either the project does
/// not exist or `user` is not a member (or a disabled account).
pub async fn get_for_member(
    pool: &PgPool,
    project: ProjectId,
    user: UserId,
) -> sqlx::Result<Option<MemberProject>> {
    Ok(access_by_user(pool, user, project)
        .await?
        .and_then(|(_, p)| p))
}

/// Switch blind coding and choose the adjudicator (`None`: owners alone).
pub async fn set_settings(
    pool: &PgPool,
    project: ProjectId,
    blind: bool,
    adjudicator: Option<UserId>,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update project set blind = $2, adjudicator_id = $3, updated_at = now() where project_id = $1",
        project as ProjectId,
        blind,
        adjudicator as Option<UserId>
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Rename and/or re-describe; fields left `None` keep their value.
pub async fn update(
    pool: &PgPool,
    project: ProjectId,
    name: Option<&ProjectName>,
    description: Option<&str>,
) -> sqlx::Result<Project> {
    sqlx::query_as!(
        Project,
        r#"
        update project
        set name = coalesce($2, name),
            description = coalesce($3, description),
            updated_at = now()
        where project_id = $1
        returning project_id as "id: ProjectId", name, description, created_at, updated_at
        "#,
        project as ProjectId,
        name.map(ProjectName::as_str),
        description
    )
    .fetch_one(pool)
    .await
}

/// Delete a project and everything in it (members cascade).
pub async fn delete(pool: &PgPool, project: ProjectId) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from project where project_id = $1",
        project as ProjectId
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Whether a project exists (for the CLI, which acts as an administrator).
pub async fn exists(pool: &PgPool, project: ProjectId) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from project where project_id = $1) as "exists!""#,
        project as ProjectId
    )
    .fetch_one(pool)
    .await
}

/// How far a project has come: what its overview page counts.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Stats {
    pub documents: i64,
    pub participants: i64,
    pub codes: i64,
    pub codings: i64,
    pub memos: i64,
}

pub async fn stats(pool: &PgPool, project: ProjectId) -> sqlx::Result<Stats> {
    sqlx::query_as!(
        Stats,
        r#"
        select (select count(*) from document where project_id = $1) as "documents!",
               (select count(*) from participant where project_id = $1) as "participants!",
               (select count(*) from code where project_id = $1 and deleted_at is null) as "codes!",
               (select count(*) from coding g join code c using (code_id)
                where g.project_id = $1 and c.deleted_at is null) as "codings!",
               (select count(*) from document where project_id = $1 and memo <> '')
             + (select count(*) from code where project_id = $1 and memo <> '' and deleted_at is null)
             + (select count(*) from coding where project_id = $1 and memo <> '') as "memos!"
        "#,
        project as ProjectId
    )
    .fetch_one(pool)
    .await
}

/// A project's name and description (for exports; callers have checked
/// membership).
pub async fn name_and_description(
    pool: &PgPool,
    project: ProjectId,
) -> sqlx::Result<(String, String)> {
    let row = sqlx::query!(
        "select name, description from project where project_id = $1",
        project as ProjectId
    )
    .fetch_one(pool)
    .await?;
    Ok((row.name, row.description))
}

/// The advisory-lock key of a project import (namespaced so that it cannot
/// meet another lock).
fn import_lock_key(project: ProjectId) -> i64 {
    (0x5041_5254_i64 << 32) | (project.0 & 0xffff_ffff)
}

/// Held by the server filling an imported project: a session advisory lock
/// on a connection of its own. If the server dies, PostgreSQL ends the
/// session and frees the lock, which is how a half-made import is told
/// from one still running.
pub struct ImportGuard {
    conn: Option<PgConnection>,
    key: i64,
}

impl ImportGuard {
    /// Create a project for an import: invisible to everyone until
    /// [`finish_import`], and locked before anyone can see the row, so a
    /// sweep never takes a fresh import for an abandoned one.
    pub async fn create(
        pool: &PgPool,
        owner: UserId,
        name: &ProjectName,
        description: &str,
    ) -> sqlx::Result<(Project, ImportGuard)> {
        let mut conn = pool.acquire().await?.detach();
        let mut tx = sqlx::Connection::begin(&mut conn).await?;
        let project = insert_marked(&mut tx, owner, name, description, true).await?;
        // A session lock taken inside the transaction outlives its commit.
        let key = import_lock_key(project.id);
        sqlx::query!("select pg_advisory_lock($1)", key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((
            project,
            ImportGuard {
                conn: Some(conn),
                key,
            },
        ))
    }

    /// Free the lock, then close its connection. (Closing alone frees it
    /// too, but only once the server process behind the connection has
    /// exited, a moment after `close` returns.)
    pub async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let _ = sqlx::query_scalar!("select pg_advisory_unlock($1)", self.key)
                .fetch_one(&mut conn)
                .await;
            let _ = sqlx::Connection::close(conn).await;
        }
    }
}

/// Make an imported project visible: the import is complete.
pub async fn finish_import(pool: &PgPool, project: ProjectId) -> sqlx::Result<()> {
    sqlx::query!(
        "update project set importing = false where project_id = $1",
        project as ProjectId
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Remove projects left half-imported by a server that died midway (their
/// import lock is free). Returns how many were removed.
/// Remove a project whose import failed, with the placeholder accounts
/// the import made for its coders.
pub async fn delete_failed_import(pool: &PgPool, project: ProjectId) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "delete from project where project_id = $1",
        project as ProjectId
    )
    .execute(&mut *tx)
    .await?;
    super::users::delete_placeholders(&mut tx, project).await?;
    tx.commit().await
}

pub async fn remove_abandoned_imports(pool: &PgPool) -> sqlx::Result<u64> {
    let pending =
        sqlx::query_scalar!(r#"select project_id as "id: ProjectId" from project where importing"#)
            .fetch_all(pool)
            .await?;
    if pending.is_empty() {
        return Ok(0);
    }
    let mut conn = pool.acquire().await?;
    let mut removed = 0;
    for project in pending {
        let key = import_lock_key(project);
        let free = sqlx::query_scalar!(r#"select pg_try_advisory_lock($1) as "free!""#, key)
            .fetch_one(&mut *conn)
            .await?;
        if !free {
            continue; // still being imported
        }
        let gone = sqlx::query!(
            "delete from project where project_id = $1 and importing",
            project as ProjectId
        )
        .execute(&mut *conn)
        .await;
        if gone.is_ok() {
            super::users::delete_placeholders(&mut conn, project).await?;
        }
        sqlx::query_scalar!("select pg_advisory_unlock($1)", key)
            .fetch_one(&mut *conn)
            .await?;
        removed += gone?.rows_affected();
    }
    Ok(removed)
}

/// Who is asking and what they may do in one project, read together.
struct AccessRow {
    user_id: UserId,
    email: String,
    user_name: String,
    is_admin: bool,
    project_id: Option<ProjectId>,
    name: Option<String>,
    description: Option<String>,
    created_at: Option<OffsetDateTime>,
    updated_at: Option<OffsetDateTime>,
    role: Option<Role>,
    members: Option<i64>,
    blind: Option<bool>,
    adjudicator: Option<UserId>,
    consensus: Option<UserId>,
}

impl AccessRow {
    fn split(self) -> (crate::store::users::User, Option<MemberProject>) {
        let user = crate::store::users::User {
            id: self.user_id,
            email: self.email,
            name: self.user_name,
            is_admin: self.is_admin,
        };
        let project = match (
            self.project_id,
            self.name,
            self.description,
            self.created_at,
            self.updated_at,
            self.role,
        ) {
            (
                Some(id),
                Some(name),
                Some(description),
                Some(created_at),
                Some(updated_at),
                Some(role),
            ) => Some(MemberProject {
                project: Project {
                    id,
                    name,
                    description,
                    created_at,
                    updated_at,
                },
                role,
                members: self.members.unwrap_or(0),
                settings: Settings {
                    blind: self.blind.unwrap_or(false),
                    adjudicator: self.adjudicator,
                    consensus: self.consensus,
                },
            }),
            _ => None,
        };
        (user, project)
    }
}

/// The enabled account an API token belongs to and its membership of
/// `project`, in one round trip (noting, to the minute, that the token was
/// used). `None`: no such token, or a disabled account.
pub async fn access_by_token(
    pool: &PgPool,
    hash: &[u8],
    project: ProjectId,
) -> sqlx::Result<Option<(crate::store::users::User, Option<MemberProject>)>> {
    let row = sqlx::query_as!(
        AccessRow,
        r#"
        with token as (
            select api_token_id, user_id, last_used_at from api_token where token_hash = $1
        ),
        touched as (
            update api_token t set last_used_at = now()
            from token
            where t.api_token_id = token.api_token_id
              and (token.last_used_at is null or token.last_used_at < now() - interval '1 minute')
        )
        select u.user_id as "user_id!: UserId", u.email as "email!", u.name as "user_name!",
               u.is_admin as "is_admin!",
               p.project_id as "project_id?: ProjectId", p.name as "name?",
               p.description as "description?", p.created_at as "created_at?",
               p.updated_at as "updated_at?", m.role as "role?: Role",
               (select count(*) from project_member c where c.project_id = p.project_id) as "members?",
               p.blind as "blind?", p.adjudicator_id as "adjudicator?: UserId",
               p.consensus_id as "consensus?: UserId"
        from token
        join app_user u on u.user_id = token.user_id and u.disabled_at is null
        left join project_member m on m.user_id = u.user_id and m.project_id = $2
        left join project p on p.project_id = m.project_id and not p.importing
        "#,
        hash,
        project as ProjectId
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(AccessRow::split))
}

/// The enabled account `user` and its membership of `project`, in one
/// round trip. `None`: no such account, or a disabled one.
pub async fn access_by_user(
    pool: &PgPool,
    user: UserId,
    project: ProjectId,
) -> sqlx::Result<Option<(crate::store::users::User, Option<MemberProject>)>> {
    let row = sqlx::query_as!(
        AccessRow,
        r#"
        select u.user_id as "user_id!: UserId", u.email as "email!", u.name as "user_name!",
               u.is_admin as "is_admin!",
               p.project_id as "project_id?: ProjectId", p.name as "name?",
               p.description as "description?", p.created_at as "created_at?",
               p.updated_at as "updated_at?", m.role as "role?: Role",
               (select count(*) from project_member c where c.project_id = p.project_id) as "members?",
               p.blind as "blind?", p.adjudicator_id as "adjudicator?: UserId",
               p.consensus_id as "consensus?: UserId"
        from app_user u
        left join project_member m on m.user_id = u.user_id and m.project_id = $2
        left join project p on p.project_id = m.project_id and not p.importing
        where u.user_id = $1 and u.disabled_at is null
        "#,
        user as UserId,
        project as ProjectId
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(AccessRow::split))
}
