//! The codebook: a tree of codes per project, its trash, merges and imports.
//!
//! Deleting moves a code and its sub-codes to the trash (they share one
//! `deleted_at`, which is how a restore knows what went together); their
//! codings stay in place, hidden, and come back with them. Merging moves
//! codings for good and removes the merged code. Every change bumps
//! `version`, so an edit made from an old copy can be refused.

use crate::domain::code::{self, Colour, PATH_SEPARATOR};
use crate::domain::ids::{CodeId, ProjectId, UserId};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};
use std::collections::HashMap;
use time::OffsetDateTime;

/// Two live siblings with the same name.
pub const NAME_TAKEN: &str = "code_sibling_name_key";
/// Two live codes with the same shortcut key.
pub const SHORTCUT_TAKEN: &str = "code_shortcut_key";
/// A shortcut that is not one character (a letter whose lower case is two
/// code points, such as `İ`, gets past the form's check).
pub const SHORTCUT_ONE_CHAR: &str = "code_shortcut_one_char";

/// Why a codebook change was refused (besides a database failure).
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("no such code in this project")]
    NotFound,
    #[error("the parent code is not in this project's codebook")]
    NoSuchParent,
    #[error("a code cannot move under itself or one of its own sub-codes")]
    Cycle,
    #[error("a code cannot be merged into itself or one of its own sub-codes")]
    MergeIntoOwnBranch,
    /// The change would put a code below [`code::MAX_LEVELS`] levels.
    #[error(
        "a codebook has at most {} levels; this would put a code deeper",
        code::MAX_LEVELS
    )]
    TooDeep,
    /// The change was made from version `expected`, but the code is now at
    /// `current`: someone else changed it meanwhile.
    #[error(
        "someone else changed this code meanwhile (you edited version {expected}, it is now at version {current}); reload to see their change"
    )]
    Stale { expected: i32, current: i32 },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

pub type Result<T, E = CodeError> = std::result::Result<T, E>;

/// A live code, as the tree lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Code {
    pub id: CodeId,
    pub parent_id: Option<CodeId>,
    pub name: String,
    /// `Parent / Child`, from the top of the tree.
    pub path: String,
    /// 0 for a top-level code.
    pub depth: i32,
    pub colour: Colour,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub shortcut: Option<String>,
    pub position: i32,
    pub memo: String,
    pub version: i32,
    /// Codings of this code alone (not of its sub-codes).
    pub codings: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// Fields of a new code; `colour: None` takes the next palette colour.
#[derive(Debug, Clone, Default)]
pub struct NewCode {
    pub parent: Option<CodeId>,
    pub name: String,
    pub colour: Option<Colour>,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub shortcut: Option<String>,
}

/// Changes to a code; `None` leaves a field as it is. `parent:
/// Some(None)` moves it to the top level; `position` is 1-based among its
/// (new) siblings.
#[derive(Debug, Clone, Default)]
pub struct CodeChanges {
    pub name: Option<String>,
    pub colour: Option<Colour>,
    pub definition: Option<String>,
    pub inclusion: Option<String>,
    pub exclusion: Option<String>,
    pub example: Option<String>,
    pub shortcut: Option<Option<String>>,
    pub memo: Option<String>,
    pub parent: Option<Option<CodeId>>,
    pub position: Option<i32>,
    /// The version the change was made from, if the caller knows it.
    pub version: Option<i32>,
}

impl CodeChanges {
    fn moves(&self) -> bool {
        self.parent.is_some() || self.position.is_some()
    }
}

/// The project's live codes in tree order (each parent before its children,
/// siblings by position), with their paths and coding counts (of `coder`
/// alone, when given).
pub async fn tree(
    pool: &PgPool,
    project: ProjectId,
    coder: Option<UserId>,
) -> sqlx::Result<Vec<Code>> {
    let (mut tree, counts) = tokio::try_join!(outline(pool, project), async {
        sqlx::query!(
            r#"
            select code_id, count(*) as "n!"
            from coding
            where project_id = $1 and ($2::bigint is null or coder_id = $2)
            group by code_id
            "#,
            project as ProjectId,
            coder as Option<UserId>
        )
        .fetch_all(pool)
        .await
    })?;
    let counts: std::collections::HashMap<i64, i64> =
        counts.into_iter().map(|r| (r.code_id, r.n)).collect();
    for code in &mut tree {
        code.codings = counts.get(&code.id.0).copied().unwrap_or(0);
    }
    Ok(tree)
}

/// The tree as [`tree`] gives it but without counting codings (`codings`
/// is 0): for pages that only need names, paths and colours. Counting
/// scans every coding of the project — ~65 ms at a million codings.
pub async fn outline(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Code>> {
    sqlx::query_as!(
        Code,
        r#"
        with recursive tree as (
            select code_id, name as path, 0 as depth, array[position::bigint, code_id] as sort_key
            from code
            where project_id = $1 and parent_id is null and deleted_at is null
          union all
            select c.code_id, tree.path || $2 || c.name, tree.depth + 1,
                   tree.sort_key || array[c.position::bigint, c.code_id]
            from code c
            join tree on c.parent_id = tree.code_id
            where c.deleted_at is null
        )
        select c.code_id as "id: CodeId", c.parent_id as "parent_id: CodeId", c.name,
               tree.path as "path!", tree.depth as "depth!", c.colour as "colour: Colour",
               c.definition, c.inclusion, c.exclusion, c.example, c.shortcut, c.position,
               c.memo, c.version, 0::bigint as "codings!", c.updated_at
        from tree
        join code c using (code_id)
        order by tree.sort_key
        "#,
        project as ProjectId,
        PATH_SEPARATOR
    )
    .fetch_all(pool)
    .await
}

/// One live code, with its path and how many codings it has.
pub async fn get(pool: &PgPool, project: ProjectId, id: CodeId) -> sqlx::Result<Option<Code>> {
    // Its path from the outline; its count alone (counting every code's
    // codings, as `tree` does, scans the whole project's).
    let (outline, codings) = tokio::try_join!(
        outline(pool, project),
        sqlx::query_scalar!(
            r#"select count(*) as "n!" from coding where project_id = $1 and code_id = $2"#,
            project as ProjectId,
            id as CodeId
        )
        .fetch_one(pool)
    )?;
    Ok(outline
        .into_iter()
        .find(|c| c.id == id)
        .map(|code| Code { codings, ..code }))
}

/// `id` and every live code below it, from a tree as [`tree`] lists it.
pub fn branch(tree: &[Code], id: CodeId) -> Vec<CodeId> {
    branch_in(&children(tree), id)
}

/// Each code's live sub-codes, from a tree as [`tree`] lists it: build it
/// once to take many branches.
pub fn children<'a>(tree: impl IntoIterator<Item = &'a Code>) -> HashMap<CodeId, Vec<CodeId>> {
    let mut children: HashMap<CodeId, Vec<CodeId>> = HashMap::new();
    for c in tree {
        if let Some(p) = c.parent_id {
            children.entry(p).or_default().push(c.id);
        }
    }
    children
}

/// `id` and every code below it, by [`children`].
pub fn branch_in(children: &HashMap<CodeId, Vec<CodeId>>, id: CodeId) -> Vec<CodeId> {
    let mut out = vec![id];
    let mut i = 0;
    while i < out.len() {
        if let Some(below) = children.get(&out[i]) {
            out.extend(below);
        }
        i += 1;
    }
    out
}

/// Is `code` in the project's codebook and not in the trash?
pub async fn is_live(
    conn: &mut PgConnection,
    project: ProjectId,
    code: CodeId,
) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from code where project_id = $1 and code_id = $2
                            and deleted_at is null) as "live!""#,
        project as ProjectId,
        code as CodeId
    )
    .fetch_one(conn)
    .await
}

/// Create a code at the end of its siblings.
pub async fn insert(
    pool: &PgPool,
    project: ProjectId,
    user: UserId,
    new: &NewCode,
) -> Result<CodeId> {
    let mut tx = pool.begin().await?;
    let id = insert_in(&mut tx, project, user, new).await?;
    tx.commit().await?;
    Ok(id)
}

async fn insert_in(
    conn: &mut PgConnection,
    project: ProjectId,
    user: UserId,
    new: &NewCode,
) -> Result<CodeId> {
    if let Some(parent) = new.parent {
        if !is_live(conn, project, parent).await? {
            return Err(CodeError::NoSuchParent);
        }
        if level_of(conn, project, parent).await? + 1 >= code::MAX_LEVELS as i32 {
            return Err(CodeError::TooDeep);
        }
    }
    let colour = match &new.colour {
        Some(c) => c.clone(),
        None => {
            let n = sqlx::query_scalar!(
                r#"select count(*) as "n!" from code where project_id = $1"#,
                project as ProjectId
            )
            .fetch_one(&mut *conn)
            .await?;
            code::palette_colour(n as usize)
        }
    };
    let id = sqlx::query_scalar!(
        r#"
        insert into code (project_id, parent_id, name, colour, definition, inclusion, exclusion,
                          example, shortcut, position, created_by)
        values ($1, $2, $3, $4, $5, $6, $7, $8, $9,
                (select coalesce(max(position), 0) + 1 from code
                 where project_id = $1 and parent_id is not distinct from $2),
                $10)
        returning code_id as "id: CodeId"
        "#,
        project as ProjectId,
        new.parent as Option<CodeId>,
        new.name,
        colour as Colour,
        new.definition,
        new.inclusion,
        new.exclusion,
        new.example,
        new.shortcut,
        user as UserId
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Apply `changes`; answers the new version.
pub async fn update(
    pool: &PgPool,
    project: ProjectId,
    id: CodeId,
    user: UserId,
    changes: &CodeChanges,
) -> Result<i32> {
    let mut tx = pool.begin().await?;
    let current = sqlx::query!(
        r#"select parent_id as "parent_id: CodeId", version from code
           where project_id = $1 and code_id = $2 and deleted_at is null
           for update"#,
        project as ProjectId,
        id as CodeId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(CodeError::NotFound)?;
    if let Some(expected) = changes.version
        && expected != current.version
    {
        return Err(CodeError::Stale {
            expected,
            current: current.version,
        });
    }
    let parent = changes.parent.unwrap_or(current.parent_id);
    if changes.moves() {
        if let Some(p) = parent {
            let below = descendants(&mut tx, project, id).await?;
            if p == id || below.contains(&p) {
                return Err(CodeError::Cycle);
            }
            // Its deepest sub-code lands `height - 1` levels below it.
            let deepest =
                level_of(&mut tx, project, p).await? + height_of(&mut tx, project, id).await?;
            if deepest >= code::MAX_LEVELS as i32 {
                return Err(CodeError::TooDeep);
            }
        }
        place(&mut tx, project, id, parent, changes.position).await?;
    }
    let memo_changed = changes.memo.is_some();
    let version = sqlx::query_scalar!(
        r#"
        update code set
            name = coalesce($3, name),
            colour = coalesce($4, colour),
            definition = coalesce($5, definition),
            inclusion = coalesce($6, inclusion),
            exclusion = coalesce($7, exclusion),
            example = coalesce($8, example),
            shortcut = case when $9 then $10 else shortcut end,
            memo = coalesce($11, memo),
            memo_by = case when $12 then $13 else memo_by end,
            memo_at = case when $12 then now() else memo_at end,
            version = version + 1,
            updated_at = now()
        where project_id = $1 and code_id = $2
        returning version
        "#,
        project as ProjectId,
        id as CodeId,
        changes.name,
        changes.colour.as_ref().map(Colour::as_str),
        changes.definition,
        changes.inclusion,
        changes.exclusion,
        changes.example,
        changes.shortcut.is_some(),
        changes.shortcut.clone().flatten(),
        changes.memo,
        memo_changed,
        user as UserId
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(version)
}

/// How many ancestors `id` has (a top-level code: 0). The walk up stops
/// past [`code::MAX_LEVELS`], which is deep enough to refuse anything.
async fn level_of(conn: &mut PgConnection, project: ProjectId, id: CodeId) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"
        with recursive up as (
            select parent_id, 0 as level from code where project_id = $1 and code_id = $2
          union all
            select c.parent_id, up.level + 1 from code c
            join up on c.project_id = $1 and c.code_id = up.parent_id
            where up.level <= $3
        )
        select coalesce(max(level), 0) as "level!" from up
        "#,
        project as ProjectId,
        id as CodeId,
        code::MAX_LEVELS as i32
    )
    .fetch_one(conn)
    .await
}

/// How many levels `id`'s branch has, itself included (a code without
/// sub-codes: 1), counting live sub-codes and those in the trash (a
/// restore brings them back), up to a little past [`code::MAX_LEVELS`].
async fn height_of(conn: &mut PgConnection, project: ProjectId, id: CodeId) -> sqlx::Result<i32> {
    sqlx::query_scalar!(
        r#"
        with recursive down as (
            select code_id, 1 as levels from code where project_id = $1 and code_id = $2
          union all
            select c.code_id, down.levels + 1 from code c
            join down on c.project_id = $1 and c.parent_id = down.code_id
            where down.levels <= $3
        )
        select coalesce(max(levels), 1) as "levels!" from down
        "#,
        project as ProjectId,
        id as CodeId,
        code::MAX_LEVELS as i32
    )
    .fetch_one(conn)
    .await
}

/// Live codes below `id` (not `id` itself).
async fn descendants(
    conn: &mut PgConnection,
    project: ProjectId,
    id: CodeId,
) -> sqlx::Result<Vec<CodeId>> {
    sqlx::query_scalar!(
        r#"
        with recursive below as (
            select code_id from code where project_id = $1 and parent_id = $2
          union
            select c.code_id from code c join below b on c.parent_id = b.code_id
        )
        select code_id as "id!: CodeId" from below
        "#,
        project as ProjectId,
        id as CodeId
    )
    .fetch_all(conn)
    .await
}

/// Put `id` under `parent` at 1-based `position` (default: last), and
/// renumber its new siblings.
async fn place(
    conn: &mut PgConnection,
    project: ProjectId,
    id: CodeId,
    parent: Option<CodeId>,
    position: Option<i32>,
) -> Result<()> {
    if let Some(p) = parent
        && !is_live(conn, project, p).await?
    {
        return Err(CodeError::NoSuchParent);
    }
    let mut siblings: Vec<i64> = sqlx::query_scalar!(
        r#"
        select code_id from code
        where project_id = $1 and parent_id is not distinct from $2 and deleted_at is null
          and code_id <> $3
        order by position, code_id
        "#,
        project as ProjectId,
        parent as Option<CodeId>,
        id as CodeId
    )
    .fetch_all(&mut *conn)
    .await?;
    let at = position
        .map(|p| (p.max(1) as usize - 1).min(siblings.len()))
        .unwrap_or(siblings.len());
    siblings.insert(at, id.0);
    // The parent changes first, in its own statement, so the unique sibling
    // name index is checked against the new siblings.
    sqlx::query!(
        "update code set parent_id = $3 where project_id = $1 and code_id = $2",
        project as ProjectId,
        id as CodeId,
        parent as Option<CodeId>
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        r#"
        update code c
        set position = o.position::integer
        from unnest($2::bigint[]) with ordinality as o (code_id, position)
        where c.project_id = $1 and c.code_id = o.code_id
        "#,
        project as ProjectId,
        &siblings
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// How much a delete takes with it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Footprint {
    /// The code and its sub-codes.
    pub codes: i64,
    pub codings: i64,
}

/// What deleting `id` would move to the trash.
pub async fn footprint(pool: &PgPool, project: ProjectId, id: CodeId) -> Result<Footprint> {
    let tree = tree(pool, project, None).await?;
    if !tree.iter().any(|c| c.id == id) {
        return Err(CodeError::NotFound);
    }
    let branch = branch(&tree, id);
    let codings = tree
        .iter()
        .filter(|c| branch.contains(&c.id))
        .map(|c| c.codings)
        .sum();
    Ok(Footprint {
        codes: branch.len() as i64,
        codings,
    })
}

/// Move `id` and its sub-codes to the trash, with their codings.
pub async fn trash(
    pool: &PgPool,
    project: ProjectId,
    id: CodeId,
    user: UserId,
) -> Result<Footprint> {
    let footprint = footprint(pool, project, id).await?;
    let mut tx = pool.begin().await?;
    let mut ids = descendants(&mut tx, project, id).await?;
    ids.push(id);
    let raw: Vec<i64> = ids.iter().map(|c| c.0).collect();
    let moved = sqlx::query!(
        r#"
        update code set deleted_at = now(), deleted_by = $3, version = version + 1, updated_at = now()
        where project_id = $1 and code_id = any($2) and deleted_at is null
        "#,
        project as ProjectId,
        &raw,
        user as UserId
    )
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        return Err(CodeError::NotFound);
    }
    tx.commit().await?;
    Ok(footprint)
}

/// A code the user deleted (its sub-codes went with it).
#[derive(Debug, Clone, Serialize)]
pub struct Trashed {
    pub id: CodeId,
    pub name: String,
    pub colour: Colour,
    /// Where it was: the parent's path, if it had one.
    pub parent_path: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub deleted_at: OffsetDateTime,
    pub deleted_by: Option<String>,
    pub codes: i64,
    pub codings: i64,
}

/// The trash, most recent first: each code a user deleted, with what went
/// with it.
pub async fn trash_list(pool: &PgPool, project: ProjectId) -> sqlx::Result<Vec<Trashed>> {
    let live = tree(pool, project, None).await?;
    let rows = sqlx::query!(
        r#"
        with recursive roots as (
            select c.code_id, c.deleted_at
            from code c
            left join code p on p.code_id = c.parent_id
            where c.project_id = $1 and c.deleted_at is not null
              and (p.code_id is null or p.deleted_at is distinct from c.deleted_at)
        ),
        batch as (
            select code_id as root, code_id, deleted_at from roots
          union all
            select b.root, c.code_id, c.deleted_at
            from code c join batch b on c.parent_id = b.code_id and c.deleted_at = b.deleted_at
        )
        select r.code_id as "id!: CodeId", c.name, c.colour as "colour: Colour",
               c.parent_id as "parent_id: CodeId", c.deleted_at as "deleted_at!",
               u.name as "deleted_by?",
               (select count(*) from batch b where b.root = r.code_id) as "codes!",
               (select count(*) from coding g join batch b on g.code_id = b.code_id
                where b.root = r.code_id) as "codings!"
        from roots r
        join code c on c.code_id = r.code_id
        left join app_user u on u.user_id = c.deleted_by
        order by c.deleted_at desc, c.name
        "#,
        project as ProjectId
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Trashed {
            id: r.id,
            name: r.name,
            colour: r.colour,
            parent_path: r
                .parent_id
                .and_then(|p| live.iter().find(|c| c.id == p))
                .map(|c| c.path.clone()),
            deleted_at: r.deleted_at,
            deleted_by: r.deleted_by,
            codes: r.codes,
            codings: r.codings,
        })
        .collect())
}

/// What a restore did, so the user can be told.
#[derive(Debug, Clone, Serialize)]
pub struct Restored {
    pub id: CodeId,
    /// The name it came back under (changed when a live sibling took it).
    pub name: String,
    pub codes: i64,
    pub codings: i64,
    /// Its parent is gone or in the trash, so it is back at the top level.
    pub moved_to_top: bool,
    /// Shortcut keys dropped because live codes use them now.
    pub shortcuts_dropped: i64,
}

/// Bring back a deleted code with the sub-codes and codings that went with it.
pub async fn restore(
    pool: &PgPool,
    project: ProjectId,
    id: CodeId,
    user: UserId,
) -> Result<Restored> {
    let trashed = trash_list(pool, project).await?;
    let item = trashed
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(CodeError::NotFound)?;
    let mut tx = pool.begin().await?;
    let row = sqlx::query!(
        r#"
        select c.parent_id as "parent_id: CodeId", c.deleted_at as "deleted_at!",
               (p.code_id is null or p.deleted_at is not null) as "orphan!"
        from code c left join code p on p.code_id = c.parent_id
        where c.project_id = $1 and c.code_id = $2 and c.deleted_at is not null
        for update of c
        "#,
        project as ProjectId,
        id as CodeId
    )
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(CodeError::NotFound)?;
    let parent = if row.orphan { None } else { row.parent_id };
    let moved_to_top = row.parent_id.is_some() && parent.is_none();

    // A free name among the new siblings: "Name", else "Name (restored)",
    // "Name (restored 2)", ...
    let taken: Vec<String> = sqlx::query_scalar!(
        r#"select lower(name) as "n!" from code
           where project_id = $1 and parent_id is not distinct from $2 and deleted_at is null"#,
        project as ProjectId,
        parent as Option<CodeId>
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut name = item.name.clone();
    let mut n = 1;
    while taken.contains(&name.to_lowercase()) {
        name = if n == 1 {
            format!("{} (restored)", item.name)
        } else {
            format!("{} (restored {n})", item.name)
        };
        n += 1;
    }

    let batch: Vec<i64> = sqlx::query_scalar!(
        r#"
        with recursive batch as (
            select code_id, deleted_at from code where project_id = $1 and code_id = $2
          union all
            select c.code_id, c.deleted_at from code c
            join batch b on c.parent_id = b.code_id and c.deleted_at = b.deleted_at
        )
        select code_id as "id!" from batch
        "#,
        project as ProjectId,
        id as CodeId
    )
    .fetch_all(&mut *tx)
    .await?;
    let dropped = sqlx::query!(
        r#"
        update code c set shortcut = null
        where c.code_id = any($2) and c.shortcut is not null
          and exists (select 1 from code o where o.project_id = $1 and o.deleted_at is null
                      and o.shortcut = c.shortcut)
        "#,
        project as ProjectId,
        &batch
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    sqlx::query!(
        r#"
        update code set name = $3, parent_id = $4,
               position = (select coalesce(max(position), 0) + 1 from code
                           where project_id = $1 and parent_id is not distinct from $4
                             and deleted_at is null)
        where project_id = $1 and code_id = $2
        "#,
        project as ProjectId,
        id as CodeId,
        name,
        parent as Option<CodeId>
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"update code set deleted_at = null, deleted_by = null, version = version + 1,
                  updated_at = now(), created_by = coalesce(created_by, $3)
           where project_id = $1 and code_id = any($2)"#,
        project as ProjectId,
        &batch,
        user as UserId
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Restored {
        id,
        name,
        codes: item.codes,
        codings: item.codings,
        moved_to_top,
        shortcuts_dropped: dropped as i64,
    })
}

/// Delete every code in the trash, and its codings, for good. Answers how
/// many codes and codings went.
pub async fn empty_trash(pool: &PgPool, project: ProjectId) -> sqlx::Result<Footprint> {
    let mut tx = pool.begin().await?;
    let codings = sqlx::query_scalar!(
        r#"
        with gone as (
            delete from coding g using code c
            where g.code_id = c.code_id and c.project_id = $1 and c.deleted_at is not null
            returning 1
        )
        select count(*) as "n!" from gone
        "#,
        project as ProjectId
    )
    .fetch_one(&mut *tx)
    .await?;
    let codes = sqlx::query!(
        "delete from code where project_id = $1 and deleted_at is not null",
        project as ProjectId
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Footprint {
        codes: codes as i64,
        codings,
    })
}

/// Merge `from` into `into`: its codings move to `into`, its sub-codes move
/// under `into` (a sub-code whose name `into` already has below it is merged
/// into that one, and so on down), its memo is appended to `into`'s, and
/// its definition fields fill those `into` leaves empty. Then `from` is
/// removed. Nothing is counted twice and no coding is dropped.
pub async fn merge(
    pool: &PgPool,
    project: ProjectId,
    from: CodeId,
    into: CodeId,
    user: UserId,
) -> Result<()> {
    if from == into {
        return Err(CodeError::MergeIntoOwnBranch);
    }
    let mut tx = pool.begin().await?;
    // Lock both codes, then both branches, in one order: a coding being
    // added to any code of them right now either lands before (and is
    // moved) or waits and then fails on the foreign key of a code that is
    // gone — it is never written after its code's codings were moved, to
    // be deleted with its code. (Locking the two codes also keeps new
    // sub-codes from appearing under them meanwhile.)
    let locked = lock_live(&mut tx, project, &[from.0, into.0]).await?;
    if locked.len() != 2 {
        return Err(CodeError::NotFound);
    }
    let below = descendants(&mut tx, project, from).await?;
    if below.contains(&into) {
        return Err(CodeError::MergeIntoOwnBranch);
    }
    // `from`'s sub-codes move under `into`, one level below it.
    let deepest =
        level_of(&mut tx, project, into).await? + height_of(&mut tx, project, from).await? - 1;
    if deepest >= code::MAX_LEVELS as i32 {
        return Err(CodeError::TooDeep);
    }
    let mut branches: Vec<i64> = below.iter().map(|c| c.0).collect();
    branches.extend(
        descendants(&mut tx, project, into)
            .await?
            .iter()
            .map(|c| c.0),
    );
    lock_live(&mut tx, project, &branches).await?;
    // Codes are deleted once everything below them has been merged, so a
    // parent's delete never cascades to a sub-code still waiting its turn
    // (and to that sub-code's codings).
    let mut merged = Vec::new();
    let mut work = vec![(from, into)];
    while let Some((from, into)) = work.pop() {
        move_codings(&mut tx, project, from, into).await?;
        work.extend(move_children(&mut tx, project, from, into).await?);
        take_fields(&mut tx, project, from, into, user).await?;
        merged.push(from);
    }
    // Children were merged after their parents: delete them first.
    for from in merged.into_iter().rev() {
        sqlx::query!(
            "delete from code where project_id = $1 and code_id = $2",
            project as ProjectId,
            from as CodeId
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Move `from`'s codings to `into`. A coding that the same coder already
/// made on the same range with `into` is not counted twice: its memo and
/// star join that one.
async fn move_codings(
    tx: &mut PgConnection,
    project: ProjectId,
    from: CodeId,
    into: CodeId,
) -> sqlx::Result<()> {
    // A coding that the same coder already made on the same range with
    // `into` is not counted twice: its memo and star join that one.
    sqlx::query!(
        r#"
        update coding t set
            memo = case when f.memo = '' or f.memo = t.memo then t.memo
                        when t.memo = '' then f.memo
                        else t.memo || E'\n\n' || f.memo end,
            starred = t.starred or f.starred,
            updated_at = now()
        from coding f
        where f.project_id = $1 and f.code_id = $2 and t.project_id = $1 and t.code_id = $3
          and t.document_id = f.document_id and t.coder_id = f.coder_id
          and t.start_pos = f.start_pos and t.end_pos = f.end_pos
        "#,
        project as ProjectId,
        from as CodeId,
        into as CodeId
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        r#"
        delete from coding f using coding t
        where f.project_id = $1 and f.code_id = $2 and t.project_id = $1 and t.code_id = $3
          and t.document_id = f.document_id and t.coder_id = f.coder_id
          and t.start_pos = f.start_pos and t.end_pos = f.end_pos
        "#,
        project as ProjectId,
        from as CodeId,
        into as CodeId
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "update coding set code_id = $3, updated_at = now() where project_id = $1 and code_id = $2",
        project as ProjectId,
        from as CodeId,
        into as CodeId
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Put `from`'s live sub-codes under `into`, except those whose name a
/// sub-code of `into` already has: answers those pairs, to merge next.
/// Sub-codes in the trash stay in the trash, now under `into`.
async fn move_children(
    tx: &mut PgConnection,
    project: ProjectId,
    from: CodeId,
    into: CodeId,
) -> Result<Vec<(CodeId, CodeId)>> {
    let children = sqlx::query!(
        r#"
        select c.code_id as "id: CodeId",
               (select t.code_id from code t
                where t.project_id = $1 and t.parent_id = $3 and t.deleted_at is null
                  and t.code_id <> $2 and lower(t.name) = lower(c.name)) as "twin: CodeId"
        from code c
        where c.project_id = $1 and c.parent_id = $2 and c.deleted_at is null
        order by c.position
        "#,
        project as ProjectId,
        from as CodeId,
        into as CodeId
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut twins = Vec::new();
    for child in children {
        match child.twin {
            Some(twin) => twins.push((child.id, twin)),
            None => place(&mut *tx, project, child.id, Some(into), None).await?,
        }
    }
    // Deleted sub-codes stay in the trash, now under `into`.
    sqlx::query!(
        "update code set parent_id = $3
         where project_id = $1 and parent_id = $2 and deleted_at is not null",
        project as ProjectId,
        from as CodeId,
        into as CodeId
    )
    .execute(&mut *tx)
    .await?;
    Ok(twins)
}

/// `into` takes the fields it lacks from `from`, and `from`'s memo.
async fn take_fields(
    tx: &mut PgConnection,
    project: ProjectId,
    from: CodeId,
    into: CodeId,
    user: UserId,
) -> sqlx::Result<()> {
    sqlx::query!(
        r#"
        update code t set
            definition = case when t.definition = '' then f.definition else t.definition end,
            inclusion = case when t.inclusion = '' then f.inclusion else t.inclusion end,
            exclusion = case when t.exclusion = '' then f.exclusion else t.exclusion end,
            example = case when t.example = '' then f.example else t.example end,
            memo = case when f.memo = '' then t.memo
                        when t.memo = '' then f.memo
                        else t.memo || E'\n\n' || 'Merged from ' || f.name || E':\n' || f.memo end,
            memo_by = case when f.memo = '' then t.memo_by else $4 end,
            memo_at = case when f.memo = '' then t.memo_at else now() end,
            version = t.version + 1,
            updated_at = now()
        from code f
        where t.project_id = $1 and t.code_id = $3 and f.code_id = $2
        "#,
        project as ProjectId,
        from as CodeId,
        into as CodeId,
        user as UserId
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Lock the live codes among `ids` for update, in id order; answers them.
async fn lock_live(
    conn: &mut PgConnection,
    project: ProjectId,
    ids: &[i64],
) -> sqlx::Result<Vec<CodeId>> {
    sqlx::query_scalar!(
        r#"select code_id as "id: CodeId" from code
           where project_id = $1 and code_id = any($2) and deleted_at is null
           order by code_id for update"#,
        project as ProjectId,
        ids
    )
    .fetch_all(conn)
    .await
}

/// One code of a whole codebook written at once ([`insert_tree`]): its
/// parent is an earlier row.
#[derive(Debug, Clone, Default)]
pub struct TreeRow {
    pub parent: Option<usize>,
    pub name: String,
    pub colour: Option<Colour>,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub memo: String,
    /// When the memo was written (now, when not known).
    pub memo_at: Option<OffsetDateTime>,
    pub shortcut: Option<String>,
}

/// Write a whole codebook under the project's top level in one statement
/// (ids reserved first, so parents and sub-codes go in together); answers
/// the new ids in the rows' order. Siblings keep the rows' order; codes
/// without a colour take the palette's next ones.
pub async fn insert_tree(
    pool: &PgPool,
    project: ProjectId,
    user: UserId,
    rows: &[TreeRow],
) -> Result<Vec<CodeId>> {
    if rows
        .iter()
        .enumerate()
        .any(|(i, r)| r.parent.is_some_and(|p| p >= i))
    {
        return Err(CodeError::NoSuchParent);
    }
    let mut tx = pool.begin().await?;
    let ids: Vec<i64> = sqlx::query_scalar!(
        r#"select nextval(pg_get_serial_sequence('code', 'code_id')) as "id!"
           from generate_series(1, $1::integer)"#,
        rows.len() as i32
    )
    .fetch_all(&mut *tx)
    .await?;
    let existing = sqlx::query!(
        r#"select count(*) as "codes!",
                  coalesce(max(position) filter (where parent_id is null and deleted_at is null), 0)
                    as "last_top!"
           from code where project_id = $1"#,
        project as ProjectId
    )
    .fetch_one(&mut *tx)
    .await?;
    let mut next_position: HashMap<Option<usize>, i32> = HashMap::new();
    next_position.insert(None, existing.last_top);
    let mut positions = Vec::with_capacity(rows.len());
    for r in rows {
        let p = next_position.entry(r.parent).or_insert(0);
        *p += 1;
        positions.push(*p);
    }
    let parents: Vec<Option<i64>> = rows.iter().map(|r| r.parent.map(|p| ids[p])).collect();
    let colours: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            r.colour
                .clone()
                .unwrap_or_else(|| code::palette_colour(existing.codes as usize + i))
                .as_str()
                .to_owned()
        })
        .collect();
    let text = |f: fn(&TreeRow) -> &String| rows.iter().map(f).cloned().collect::<Vec<String>>();
    sqlx::query!(
        r#"
        insert into code (code_id, project_id, parent_id, name, colour, definition, inclusion,
                          exclusion, example, position, memo, memo_by, memo_at, created_by,
                          shortcut)
        overriding system value
        select r.id, $1, r.parent, r.name, r.colour, r.definition, r.inclusion, r.exclusion,
               r.example, r.position, r.memo,
               case when r.memo <> '' then $12::bigint end,
               case when r.memo <> '' then coalesce(r.memo_at, now()) end, $12, r.shortcut
        from unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
                    $8::text[], $9::text[], $10::integer[], $11::text[], $13::text[],
                    $14::timestamptz[])
             as r (id, parent, name, colour, definition, inclusion, exclusion, example,
                   position, memo, shortcut, memo_at)
        "#,
        project as ProjectId,
        &ids,
        &parents as &[Option<i64>],
        &text(|r| &r.name),
        &colours,
        &text(|r| &r.definition),
        &text(|r| &r.inclusion),
        &text(|r| &r.exclusion),
        &text(|r| &r.example),
        &positions,
        &text(|r| &r.memo),
        user as UserId,
        &rows.iter().map(|r| r.shortcut.clone()).collect::<Vec<_>>() as &[Option<String>],
        &rows.iter().map(|r| r.memo_at).collect::<Vec<_>>() as &[Option<OffsetDateTime>]
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ids.into_iter().map(CodeId).collect())
}

/// One code of a codebook being imported, by path.
#[derive(Debug, Clone)]
pub struct ImportedCode {
    pub path: Vec<String>,
    pub definition: String,
    pub inclusion: String,
    pub exclusion: String,
    pub example: String,
    pub colour: Option<Colour>,
    pub shortcut: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ImportOutcome {
    pub created: usize,
    pub updated: usize,
}

/// Add a codebook to the project in one transaction: paths that exist are
/// updated with the file's non-empty fields; the rest (and any parents
/// they imply) are created.
pub async fn import(
    pool: &PgPool,
    project: ProjectId,
    user: UserId,
    codes: &[ImportedCode],
) -> Result<ImportOutcome> {
    if codes.iter().any(|c| c.path.len() > code::MAX_LEVELS) {
        return Err(CodeError::TooDeep);
    }
    let mut tx = pool.begin().await?;
    let mut outcome = ImportOutcome::default();
    for item in codes {
        let mut parent: Option<CodeId> = None;
        for (depth, name) in item.path.iter().enumerate() {
            let leaf = depth + 1 == item.path.len();
            let existing = sqlx::query_scalar!(
                r#"select code_id as "id: CodeId" from code
                   where project_id = $1 and parent_id is not distinct from $2
                     and lower(name) = lower($3) and deleted_at is null"#,
                project as ProjectId,
                parent as Option<CodeId>,
                name
            )
            .fetch_optional(&mut *tx)
            .await?;
            parent = Some(match (existing, leaf) {
                (Some(id), false) => id,
                (Some(id), true) => {
                    let blank = |s: &str| (!s.is_empty()).then(|| s.to_owned());
                    sqlx::query!(
                        r#"
                        update code set
                            definition = coalesce($3, definition),
                            inclusion = coalesce($4, inclusion),
                            exclusion = coalesce($5, exclusion),
                            example = coalesce($6, example),
                            colour = coalesce($7, colour),
                            shortcut = coalesce($8, shortcut),
                            version = version + 1,
                            updated_at = now()
                        where project_id = $1 and code_id = $2
                        "#,
                        project as ProjectId,
                        id as CodeId,
                        blank(&item.definition),
                        blank(&item.inclusion),
                        blank(&item.exclusion),
                        blank(&item.example),
                        item.colour.as_ref().map(Colour::as_str),
                        item.shortcut
                    )
                    .execute(&mut *tx)
                    .await?;
                    outcome.updated += 1;
                    id
                }
                (None, _) => {
                    let new = if leaf {
                        NewCode {
                            parent,
                            name: name.clone(),
                            colour: item.colour.clone(),
                            definition: item.definition.clone(),
                            inclusion: item.inclusion.clone(),
                            exclusion: item.exclusion.clone(),
                            example: item.example.clone(),
                            shortcut: item.shortcut.clone(),
                        }
                    } else {
                        NewCode {
                            parent,
                            name: name.clone(),
                            ..NewCode::default()
                        }
                    };
                    outcome.created += 1;
                    insert_in(&mut tx, project, user, &new).await?
                }
            });
        }
    }
    tx.commit().await?;
    Ok(outcome)
}
