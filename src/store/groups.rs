//! Stakeholder groups, ordered per project. Names are unique per project
//! regardless of case (`stakeholder_group_name_key`).

use crate::domain::ids::{GroupId, ProjectId};
use serde::Serialize;
use sqlx::PgPool;

pub const NAME_TAKEN: &str = "stakeholder_group_name_key";
/// A group still used by participants cannot be deleted.
pub const IN_USE: &str = "participant_group_fkey";

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub position: i32,
    pub participants: i64,
}

pub async fn list(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Group>> {
    sqlx::query_as!(
        Group,
        r#"
        select g.group_id as "id: GroupId", g.name, g.position,
               (select count(*) from participant p where p.group_id = g.group_id) as "participants!"
        from stakeholder_group g
        where g.project_id = $1
        order by g.position, g.group_id
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await
}

pub async fn insert(pool: &PgPool, project: ProjectId, name: &str) -> sqlx::Result<GroupId> {
    sqlx::query_scalar!(
        r#"
        insert into stakeholder_group (project_id, name, position)
        select $1, $2, coalesce(max(position), 0) + 1
        from stakeholder_group
        where project_id = $1
        returning group_id as "id: GroupId"
        "#,
        project as ProjectId,
        name
    )
    .fetch_one(pool)
    .await
}

/// Rename; false when the group is not in the project.
pub async fn rename(
    pool: &PgPool,
    project: ProjectId,
    group: GroupId,
    name: &str,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update stakeholder_group set name = $3 where project_id = $1 and group_id = $2",
        project as ProjectId,
        group as GroupId,
        name
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Move a group to `position` (1-based) among the project's groups, shifting
/// the others; false when the group is not in the project.
pub async fn move_to(
    pool: &PgPool,
    project: ProjectId,
    group: GroupId,
    position: i32,
) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let mut ids: Vec<GroupId> = sqlx::query_scalar!(
        r#"
        select group_id as "id: GroupId"
        from stakeholder_group
        where project_id = $1
        order by position, group_id
        for update
        "#,
        project as ProjectId
    )
    .fetch_all(&mut *tx)
    .await?;
    let Some(from) = ids.iter().position(|g| *g == group) else {
        return Ok(false);
    };
    let moved = ids.remove(from);
    let to = (position.max(1) as usize - 1).min(ids.len());
    ids.insert(to, moved);
    let raw: Vec<i64> = ids.iter().map(|g| g.0).collect();
    sqlx::query!(
        r#"
        update stakeholder_group g
        set position = o.position::integer
        from unnest($2::bigint[]) with ordinality as o (group_id, position)
        where g.project_id = $1 and g.group_id = o.group_id
        "#,
        project as ProjectId,
        &raw
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Delete an unused group; fails on [`IN_USE`] while participants are in it.
pub async fn delete(pool: &PgPool, project: ProjectId, group: GroupId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from stakeholder_group where project_id = $1 and group_id = $2",
        project as ProjectId,
        group as GroupId
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}
