//! Sign-in throttling: failed attempts per e-mail address within a window.
//! Kept in PostgreSQL so every app server sees the same count.

use sqlx::PgPool;

/// Failed sign-ins allowed per address within [`WINDOW_MINUTES`].
pub const MAX_FAILURES: i64 = 5;
/// How far back failures count.
pub const WINDOW_MINUTES: i32 = 15;

/// Take one of the address's guesses: when fewer than [`MAX_FAILURES`]
/// attempts failed within the window, record this attempt as failed (a
/// correct password then [`clear`]s it) and answer `true`; otherwise
/// answer `false` and record nothing. Check and record are one step under
/// a lock per address, so simultaneous guesses cannot all see the same
/// count and slip through together.
pub async fn take_guess(pool: &PgPool, email: &str) -> sqlx::Result<bool> {
    let email = email.trim();
    let mut tx = pool.begin().await?;
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('sign-in:' || lower($1), 0))",
        email
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "delete from login_failure
         where lower(email) = lower($1) and failed_at < now() - make_interval(mins => $2)",
        email,
        WINDOW_MINUTES
    )
    .execute(&mut *tx)
    .await?;
    let taken = sqlx::query!(
        r#"
        insert into login_failure (email)
        select $1
        where (select count(*) from login_failure
               where lower(email) = lower($1)
                 and failed_at >= now() - make_interval(mins => $2)) < $3
        "#,
        email,
        WINDOW_MINUTES,
        MAX_FAILURES
    )
    .execute(&mut *tx)
    .await?
    .rows_affected()
        == 1;
    tx.commit().await?;
    Ok(taken)
}

/// Forget old failures of every address (the server calls this now and then).
pub async fn prune(pool: &PgPool) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "delete from login_failure where failed_at < now() - make_interval(mins => $1)",
        WINDOW_MINUTES
    )
    .execute(pool)
    .await?
    .rows_affected())
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
