//! Project membership. The one rule kept here: a project always has at least
//! one owner. Changes that would break it are refused under a row lock on
//! the project, so two owners demoting each other at once cannot both win.

use crate::domain::ids::{ProjectId, UserId};
use crate::domain::project::Role;
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;

/// Constraint broken by adding someone who is already a member.
pub const ALREADY_MEMBER: &str = "project_member_pkey";

#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub added_at: OffsetDateTime,
}

/// What a membership change came to.
#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Done,
    NotMember,
    /// Refused: it would leave the project without an owner.
    LastOwner,
}

pub async fn list(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as!(
        Member,
        r#"
        select m.user_id as "user_id: UserId", u.email, u.name, m.role as "role: Role", m.added_at
        from project_member m
        join app_user u using (user_id)
        where m.project_id = $1
        order by m.role desc, lower(u.name), m.user_id
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await
}

pub async fn get(pool: &PgPool, project: ProjectId, user: UserId) -> sqlx::Result<Option<Member>> {
    sqlx::query_as!(
        Member,
        r#"
        select m.user_id as "user_id: UserId", u.email, u.name, m.role as "role: Role", m.added_at
        from project_member m
        join app_user u using (user_id)
        where m.project_id = $1 and m.user_id = $2
        "#,
        project as ProjectId,
        user as UserId
    )
    .fetch_optional(pool)
    .await
}

/// Add a user; fails on [`ALREADY_MEMBER`] when they are one.
pub async fn add(pool: &PgPool, project: ProjectId, user: UserId, role: Role) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into project_member (project_id, user_id, role) values ($1, $2, $3)",
        project as ProjectId,
        user as UserId,
        role as Role
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// Lock the project row and tell how many owners it has besides `user`.
async fn other_owners(
    conn: &mut PgConnection,
    project: ProjectId,
    user: UserId,
) -> sqlx::Result<i64> {
    sqlx::query!(
        "select 1 as one from project where project_id = $1 for update",
        project as ProjectId
    )
    .fetch_optional(&mut *conn)
    .await?;
    sqlx::query_scalar!(
        r#"
        select count(*) as "n!"
        from project_member
        where project_id = $1 and role = 'owner' and user_id <> $2
        "#,
        project as ProjectId,
        user as UserId
    )
    .fetch_one(&mut *conn)
    .await
}

pub async fn set_role(
    pool: &PgPool,
    project: ProjectId,
    user: UserId,
    role: Role,
) -> sqlx::Result<Change> {
    let mut tx = pool.begin().await?;
    let others = other_owners(&mut tx, project, user).await?;
    match current_role(&mut tx, project, user).await? {
        None => return Ok(Change::NotMember),
        Some(Role::Owner) if role != Role::Owner && others == 0 => return Ok(Change::LastOwner),
        Some(_) => {}
    }
    sqlx::query!(
        "update project_member set role = $3 where project_id = $1 and user_id = $2",
        project as ProjectId,
        user as UserId,
        role as Role
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Change::Done)
}

async fn current_role(
    conn: &mut PgConnection,
    project: ProjectId,
    user: UserId,
) -> sqlx::Result<Option<Role>> {
    sqlx::query_scalar!(
        r#"select role as "role: Role" from project_member where project_id = $1 and user_id = $2"#,
        project as ProjectId,
        user as UserId
    )
    .fetch_optional(conn)
    .await
}

pub async fn remove(pool: &PgPool, project: ProjectId, user: UserId) -> sqlx::Result<Change> {
    let mut tx = pool.begin().await?;
    let others = other_owners(&mut tx, project, user).await?;
    match current_role(&mut tx, project, user).await? {
        None => return Ok(Change::NotMember),
        Some(Role::Owner) if others == 0 => return Ok(Change::LastOwner),
        Some(_) => {}
    }
    sqlx::query!(
        "delete from project_member where project_id = $1 and user_id = $2",
        project as ProjectId,
        user as UserId
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Change::Done)
}
