//! All SQL lives here, one file per aggregate. Functions take the pool (or a
//! transaction) and typed ids; every query on project data filters by
//! `project_id`. Errors are plain `sqlx::Error`; the web layer decides what
//! they mean to a user.

pub mod agreement;
pub mod bench;
pub mod codes;
pub mod codings;
pub mod documents;
pub mod groups;
pub mod matrix;
pub mod members;
pub mod memos;
pub mod participants;
pub mod projects;
pub mod search;
pub mod sessions;
pub mod surveys;
pub mod throttle;
pub mod tokens;
pub mod users;

use anyhow::Context;
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// The embedded migrations (`migrations/`), run at start-up.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

/// Create the database named by `url` if it does not exist yet.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    let exists = sqlx::Postgres::database_exists(url)
        .await
        .with_context(|| format!("cannot reach PostgreSQL at {}", redact(url)))?;
    if !exists {
        sqlx::Postgres::create_database(url)
            .await
            .with_context(|| format!("cannot create the database {}", redact(url)))?;
        tracing::info!(database = %redact(url), "created the database");
    }
    Ok(())
}

/// No statement runs longer than this: a runaway query gives its
/// connection back instead of holding it for everyone else.
pub const STATEMENT_TIMEOUT: &str = "60s";

/// How long a pooled connection may sit idle before it is checked with a
/// round trip on its next use.
const CHECK_IDLE_AFTER: Duration = Duration::from_secs(10);

/// A pool for the server. Acquiring a connection gives up after a few
/// seconds, so a database outage turns into a quick 503 rather than requests
/// that hang; the pool reconnects by itself when the database returns.
pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    connect_with(url, max_connections, &[]).await
}

async fn connect_with(
    url: &str,
    max_connections: u32,
    settings: &[(&str, &str)],
) -> anyhow::Result<PgPool> {
    // JIT compilation costs about a second on the matrix query and gains
    // nothing on queries this size; plain execution is faster.
    let options = PgConnectOptions::from_str(url)
        .with_context(|| format!("cannot read the database URL {}", redact(url)))?
        .options([("jit", "off")])
        .options(settings.iter().copied());
    PgPoolOptions::new()
        .max_connections(max_connections.max(1))
        .min_connections(0)
        .acquire_timeout(Duration::from_secs(3))
        // sqlx checks every connection with a round trip before handing it
        // out, which doubled the round trips of every request. A connection
        // that was in use moments ago is alive (and one that broke mid-query
        // is closed when it is released); only one idle for a while — after
        // a quiet night, a database restart — is checked first.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > CHECK_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
        .with_context(|| format!("cannot connect to {}", redact(url)))
}

/// Create (if missing), connect and migrate: what every command needs first.
pub async fn prepare(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    create_database_if_missing(url).await?;
    let pool = connect(url, max_connections).await?;
    MIGRATOR
        .run(&pool)
        .await
        .context("cannot apply the database migrations")?;
    Ok(pool)
}

/// Migrate, then open the server's pool, whose statements stop after
/// [`STATEMENT_TIMEOUT`] (commands such as the benchmark's seeding and
/// migrations themselves may run longer).
pub async fn prepare_server(url: &str, max_connections: u32) -> anyhow::Result<PgPool> {
    prepare(url, 1).await?.close().await;
    connect_with(
        url,
        max_connections,
        &[("statement_timeout", STATEMENT_TIMEOUT)],
    )
    .await
}

/// Does this error mean the database is out of reach (rather than a bug)?
///
/// Every failure to get or keep a connection counts: the pool timed out or
/// closed, the socket or TLS failed, the connection's worker died, or
/// PostgreSQL said so itself — connection exceptions (class 08), a refused
/// login (class 28), too many connections or other exhausted resources
/// (class 53), a database not accepting connections (55000), shutting down
/// or starting up (57P01–57P05).
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    matches!(
        err,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    ) || matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|c| {
        c.starts_with("08")
            || c.starts_with("28")
            || c.starts_with("53")
            || c == "55000"
            || c.starts_with("57P")
    }))
}

/// Was a statement stopped by [`STATEMENT_TIMEOUT`]?
pub fn is_timeout(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("57014"))
}

/// Did PostgreSQL refuse a text value it cannot store (a NUL character, in
/// text or as `\u0000` in JSON)? Such text reaches it only through values
/// that are passed along unparsed, such as filters.
pub fn is_unstorable_text(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")))
}

/// The name of the constraint a database error broke, if any.
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) => db.constraint(),
        _ => None,
    }
}

/// A connection URL with its password hidden, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Send `payload` on `channel` (delivered to every listener when this
/// statement commits) and answer how many connections of this database
/// named `listeners` there are as it is sent.
pub async fn announce(
    pool: &PgPool,
    channel: &str,
    payload: &str,
    listeners: &str,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"
        select (select count(*) from pg_stat_activity
                where datname = current_database() and application_name = $3) as "n!"
        from (select pg_notify($1, $2)) as sent
        "#,
        channel,
        payload,
        listeners
    )
    .fetch_one(pool)
    .await
}

/// Answers when the database does; used by `/healthz`.
pub async fn ping(pool: &PgPool) -> sqlx::Result<()> {
    sqlx::query_scalar!("select 1 as \"one!\"")
        .fetch_one(pool)
        .await?;
    Ok(())
}

/// Analyse the tables of Parley's schema that changed enough since their
/// last analysis: by autovacuum's default rule (50 rows and a tenth of the
/// table), as autovacuum would, but at once; or by 1,000 rows, at most once
/// a minute. Parley's rows belong to projects and its queries ask for one
/// project's: a new project is a small part of a big table, which the tenth
/// would not see, and without statistics of it the planner takes its rows
/// for absent and picks plans that read all of them. Answers the tables
/// analysed.
pub async fn analyze_changed(pool: &PgPool) -> sqlx::Result<Vec<String>> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_stat_user_tables
         where schemaname = current_schema()
           and (n_mod_since_analyze > 50 + 0.1 * n_live_tup
                or (n_mod_since_analyze > 1000
                    and coalesce(greatest(last_analyze, last_autoanalyze), '-infinity')
                        < now() - interval '1 minute'))
         order by relname",
    )
    .fetch_all(pool)
    .await?;
    for table in &tables {
        // A name from the catalog, quoted as an identifier: no injection.
        let quoted = format!("\"{}\"", table.replace('"', "\"\""));
        sqlx::query(sqlx::AssertSqlSafe(format!("analyze {quoted}")))
            .execute(pool)
            .await?;
    }
    Ok(tables)
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("postgres:///db"), "postgres:///db");
    }
}
