//! API tokens. Only hashes are stored (see the migration); a token is shown
//! once, when it is made.

use super::users::User;
use crate::domain::ids::{TokenId, UserId};
use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;

#[derive(Debug, Clone, Serialize)]
pub struct Token {
    pub id: TokenId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

pub async fn insert(pool: &PgPool, user: UserId, name: &str, hash: &[u8]) -> sqlx::Result<TokenId> {
    sqlx::query_scalar!(
        r#"
        insert into api_token (user_id, name, token_hash)
        values ($1, $2, $3)
        returning api_token_id as "id: TokenId"
        "#,
        user as UserId,
        name,
        hash
    )
    .fetch_one(pool)
    .await
}

/// Insert a token unless the account made `max` in the last hour
/// (revoked ones are gone and do not count); answers its id, or `None` at
/// the limit. Counted and written under a lock per account.
pub async fn insert_limited(
    pool: &PgPool,
    user: UserId,
    name: &str,
    hash: &[u8],
    max: i64,
) -> sqlx::Result<Option<TokenId>> {
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('tokens:' || $1::bigint::text, 0))",
        user as UserId
    )
    .execute(&mut *tx)
    .await?;
    let id = sqlx::query_scalar!(
        r#"
        insert into api_token (user_id, name, token_hash)
        select $1, $2, $3
        where (select count(*) from api_token
               where user_id = $1 and created_at > now() - interval '1 hour') < $4
        returning api_token_id as "id: TokenId"
        "#,
        user as UserId,
        name,
        hash,
        max
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn list(pool: &PgPool, user: UserId) -> sqlx::Result<Vec<Token>> {
    sqlx::query_as!(
        Token,
        r#"
        select api_token_id as "id: TokenId", name, created_at, last_used_at
        from api_token
        where user_id = $1
        order by created_at desc
        "#,
        user as UserId
    )
    .fetch_all(pool)
    .await
}

/// Revoke one of the user's tokens. False when it is not theirs or is gone.
pub async fn delete(pool: &PgPool, user: UserId, id: TokenId) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "delete from api_token where user_id = $1 and api_token_id = $2",
        user as UserId,
        id as TokenId
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// The user a token belongs to; notes when it was last used.
pub async fn user_for(pool: &PgPool, hash: &[u8]) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"
        -- "Last used" to the minute: writing it on every request would make
        -- every request of a script that shares one token queue on its row.
        with token as (
            select api_token_id, user_id, last_used_at from api_token where token_hash = $1
        ),
        touched as (
            update api_token t set last_used_at = now()
            from token
            where t.api_token_id = token.api_token_id
              and (token.last_used_at is null or token.last_used_at < now() - interval '1 minute')
        )
        select u.user_id as "id: UserId", u.email, u.name, u.is_admin
        from token
        join app_user u using (user_id)
        where u.disabled_at is null
        "#,
        hash
    )
    .fetch_optional(pool)
    .await
}
