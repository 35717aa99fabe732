//! Sign-in throttling: failed attempts per e-mail address within a window.
//! Kept in PostgreSQL so every app server sees the same count.

use sqlx::PgPool;

/// Failed sign-ins allowed per address within [`WINDOW_MINUTES`].
pub const MAX_FAILURES: i64 = 5;
/// How far back failures count.
pub const WINDOW_MINUTES: i32 = 15;

/// Recent failures for this address (older rows are pruned on the way).
pub async fn recent_failures(pool: &PgPool, email: &str) -> sqlx::Result<i64> {
    sqlx::query!(
        "delete from login_failure where failed_at < now() - make_interval(mins => $1)",
        WINDOW_MINUTES
    )
    .execute(pool)
    .await?;
    sqlx::query_scalar!(
        r#"
        select count(*) as "n!"
        from login_failure
        where lower(email) = lower($1)
          and failed_at >= now() - make_interval(mins => $2)
        "#,
        email.trim(),
        WINDOW_MINUTES
    )
    .fetch_one(pool)
    .await
}

pub async fn record_failure(pool: &PgPool, email: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into login_failure (email) values ($1)",
        email.trim()
    )
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn clear(pool: &PgPool, email: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from login_failure where lower(email) = lower($1)",
        email.trim()
    )
    .execute(pool)
    .await?;
    Ok(())
}
