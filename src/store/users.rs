//! People who can sign in. E-mail is unique regardless of case
//! (`app_user_email_key`).

use crate::domain::account::{DisplayName, Email};
use crate::domain::ids::{ProjectId, UserId};
use serde::Serialize;
use sqlx::PgPool;

/// Constraint broken by a second account with the same e-mail.
pub const EMAIL_TAKEN: &str = "app_user_email_key";

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
}

/// A user with the stored password hash, only for sign-in.
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
    /// An administrator disabled the account.
    pub disabled: bool,
}

pub async fn insert(
    pool: &PgPool,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
    is_admin: bool,
) -> sqlx::Result<User> {
    sqlx::query_as!(
        User,
        r#"
        insert into app_user (email, name, password_hash, is_admin)
        values ($1, $2, $3, $4)
        returning user_id as "id: UserId", email, name, is_admin
        "#,
        email.as_str(),
        name.as_str(),
        password_hash,
        is_admin
    )
    .fetch_one(pool)
    .await
}

/// Create the first account, as admin, only while there is none. Two
/// visitors racing on the first-run page cannot both win: the insert and the
/// emptiness check are one statement under an advisory lock.
pub async fn insert_first(
    pool: &PgPool,
    email: &Email,
    name: &DisplayName,
    password_hash: &str,
) -> sqlx::Result<Option<User>> {
    let mut tx = pool.begin().await?;
    sqlx::query!("select pg_advisory_xact_lock(hashtext('parley.first_user'))")
        .execute(&mut *tx)
        .await?;
    let user = sqlx::query_as!(
        User,
        r#"
        insert into app_user (email, name, password_hash, is_admin)
        select $1, $2, $3, true
        where not exists (select 1 from app_user)
        returning user_id as "id: UserId", email, name, is_admin
        "#,
        email.as_str(),
        name.as_str(),
        password_hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(user)
}

pub async fn any_exist(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!(r#"select exists (select 1 from app_user) as "exists!""#)
        .fetch_one(pool)
        .await
}

/// An enabled account: a disabled one is no one, so its sessions and
/// tokens stop working at their next request.
pub async fn get(pool: &PgPool, id: UserId) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"
        select user_id as "id: UserId", email, name, is_admin
        from app_user
        where user_id = $1 and disabled_at is null
        "#,
        id as UserId
    )
    .fetch_optional(pool)
    .await
}

/// An account whether or not it is disabled (for the record of who coded
/// what; never for letting someone in).
pub async fn get_any(pool: &PgPool, id: UserId) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"select user_id as "id: UserId", email, name, is_admin from app_user where user_id = $1"#,
        id as UserId
    )
    .fetch_optional(pool)
    .await
}

pub async fn by_email(pool: &PgPool, email: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"
        select user_id as "id: UserId", email, name, is_admin
        from app_user
        where lower(email) = lower($1)
        "#,
        email.trim()
    )
    .fetch_optional(pool)
    .await
}

pub async fn credentials(pool: &PgPool, email: &str) -> sqlx::Result<Option<Credentials>> {
    let row = sqlx::query!(
        r#"
        select user_id as "id: UserId", email, name, is_admin, password_hash,
               disabled_at is not null as "disabled!"
        from app_user
        where lower(email) = lower($1)
        "#,
        email.trim()
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Credentials {
        user: User {
            id: r.id,
            email: r.email,
            name: r.name,
            is_admin: r.is_admin,
        },
        password_hash: r.password_hash,
        disabled: r.disabled,
    }))
}

pub async fn password_hash(pool: &PgPool, id: UserId) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select password_hash from app_user where user_id = $1",
        id as UserId
    )
    .fetch_optional(pool)
    .await
}

pub async fn set_password(pool: &PgPool, id: UserId, password_hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update app_user set password_hash = $2 where user_id = $1",
        id as UserId,
        password_hash
    )
    .execute(pool)
    .await?;
    Ok(())
}

/// The e-mail of the account standing for a coder of an imported file
/// (`guid`) in the project the import made: it cannot sign in, and it
/// belongs to that one import, so two people importing files that share a
/// coder's GUID never share an account.
pub fn placeholder_email(project: ProjectId, guid: &str) -> String {
    let guid: String = guid
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    format!("coder-{guid}@project-{project}.imported.invalid")
}

/// Remove the placeholder accounts of an import that failed or was
/// abandoned (its project is gone, so they hold nothing).
pub async fn delete_placeholders(
    conn: &mut sqlx::PgConnection,
    project: ProjectId,
) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        r#"delete from app_user
           where lower(email) like '%@project-' || $1::bigint::text || '.imported.invalid'
             and password_hash = '!'"#,
        project as ProjectId
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// The e-mail of the first administrator, if there is one.
pub async fn first_admin_email(pool: &PgPool) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select email from app_user where is_admin order by user_id limit 1")
        .fetch_optional(pool)
        .await
}

/// An account as administrators see it.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub is_admin: bool,
    pub disabled: bool,
    /// It has a password (an account made by an administrator has none
    /// until its set-password link is used).
    pub has_password: bool,
    pub projects: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
}

/// Every account people sign in to (not the placeholders that stand for an
/// imported file's coders or a project's consensus set), by name.
pub async fn accounts(pool: &PgPool) -> sqlx::Result<Vec<Account>> {
    accounts_where(pool, None).await
}

/// One account as [`accounts`] lists it.
pub async fn account(pool: &PgPool, id: UserId) -> sqlx::Result<Option<Account>> {
    Ok(accounts_where(pool, Some(id)).await?.pop())
}

async fn accounts_where(pool: &PgPool, only: Option<UserId>) -> sqlx::Result<Vec<Account>> {
    sqlx::query_as!(
        Account,
        r#"
        select u.user_id as "id: UserId", u.email, u.name, u.is_admin,
               u.disabled_at is not null as "disabled!",
               u.password_hash <> '!' as "has_password!",
               (select count(*) from project_member m where m.user_id = u.user_id) as "projects!",
               u.created_at
        from app_user u
        where u.email not like '%.invalid' and ($1::bigint is null or u.user_id = $1)
        order by lower(u.name), u.user_id
        "#,
        only as Option<UserId>
    )
    .fetch_all(pool)
    .await
}

/// Disable or enable an account; false when there is no such account.
pub async fn set_disabled(pool: &PgPool, id: UserId, disabled: bool) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        r#"update app_user
           set disabled_at = case when $2 then coalesce(disabled_at, now()) end
           where user_id = $1 and email not like '%.invalid'"#,
        id as UserId,
        disabled
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Store a set-password link (its hash) for `user`, valid for `hours`.
pub async fn insert_link(
    pool: &PgPool,
    user: UserId,
    by: UserId,
    hash: &[u8],
    hours: i32,
) -> sqlx::Result<time::OffsetDateTime> {
    sqlx::query_scalar!(
        r#"insert into password_link (token_hash, user_id, created_by, expires_at)
           values ($1, $2, $3, now() + make_interval(hours => $4))
           returning expires_at"#,
        hash,
        user as UserId,
        by as UserId,
        hours
    )
    .fetch_one(pool)
    .await
}

/// The enabled account a set-password link is for, while it is unused and
/// unexpired.
pub async fn link_holder(pool: &PgPool, hash: &[u8]) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"
        select u.user_id as "id: UserId", u.email, u.name, u.is_admin
        from password_link l join app_user u using (user_id)
        where l.token_hash = $1 and l.used_at is null and l.expires_at > now()
          and u.disabled_at is null
        "#,
        hash
    )
    .fetch_optional(pool)
    .await
}

/// Use a set-password link: in one transaction, mark it used (once: a
/// second use finds it used) and set the account's password. Answers the
/// account, or `None` when the link is used, expired or unknown.
pub async fn use_link(
    pool: &PgPool,
    hash: &[u8],
    password_hash: &str,
) -> sqlx::Result<Option<User>> {
    let mut tx = pool.begin().await?;
    let user = sqlx::query_scalar!(
        r#"update password_link set used_at = now()
           where token_hash = $1 and used_at is null and expires_at > now()
           returning user_id as "id: UserId""#,
        hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(user) = user else {
        return Ok(None);
    };
    let found = sqlx::query_as!(
        User,
        r#"update app_user set password_hash = $2
           where user_id = $1 and disabled_at is null
           returning user_id as "id: UserId", email, name, is_admin"#,
        user as UserId,
        password_hash
    )
    .fetch_optional(&mut *tx)
    .await?;
    if found.is_some() {
        tx.commit().await?;
    }
    Ok(found)
}
