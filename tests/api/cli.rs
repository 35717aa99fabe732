use sqlx::PgPool;
use std::process::{Command, Output, Stdio};

/// The URL of the test's own database, for the `parley` binary.
fn url_of(pool: &PgPool) -> String {
    let o = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        o.get_username(),
        o.get_host(),
        o.get_port(),
        o.get_database().unwrap()
    )
}

fn parley(url: &str, args: &[&str], password: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_parley"));
    cmd.args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .env_remove("PARLEY_PASSWORD")
        .stdin(Stdio::null());
    if let Some(p) = password {
        cmd.env("PARLEY_PASSWORD", p);
    }
    cmd.output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[sqlx::test]
async fn user_add_creates_accounts_and_refuses_duplicates(pool: PgPool) {
    let url = url_of(&pool);
    let out = parley(
        &url,
        &[
            "user",
            "add",
            "--email",
            "ann@example.org",
            "--name",
            "Ann",
            "--admin",
        ],
        Some("correct horse battery"),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let admin =
        sqlx::query_scalar!("select is_admin from app_user where email = 'ann@example.org'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(admin);

    let again = parley(
        &url,
        &["user", "add", "--email", "Ann@Example.org", "--name", "Ann"],
        Some("correct horse battery"),
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );

    let short = parley(
        &url,
        &["user", "add", "--email", "bo@example.org", "--name", "Bo"],
        Some("short"),
    );
    assert!(!short.status.success());
    assert!(
        stderr(&short).contains("at least 10 characters"),
        "{}",
        stderr(&short)
    );

    let no_password = parley(
        &url,
        &["user", "add", "--email", "cy@example.org", "--name", "Cy"],
        None,
    );
    assert!(!no_password.status.success());
    assert!(
        stderr(&no_password).contains("PARLEY_PASSWORD"),
        "{}",
        stderr(&no_password)
    );
}

#[sqlx::test]
async fn token_create_prints_the_token_alone(pool: PgPool) {
    let url = url_of(&pool);
    let out = parley(
        &url,
        &["user", "add", "--email", "ann@example.org", "--name", "Ann"],
        Some("correct horse battery"),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = parley(
        &url,
        &["token", "create", "--email", "ann@example.org"],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.trim_end_matches('\n');
    assert!(
        token.starts_with("parley_") && !token.contains(char::is_whitespace),
        "{stdout:?}"
    );
    let hash = parley::domain::account::token_hash(token);
    let owner = sqlx::query_scalar!(
        "select u.email from api_token t join app_user u using (user_id) where t.token_hash = $1",
        hash
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(owner, "ann@example.org");

    let unknown = parley(
        &url,
        &["token", "create", "--email", "nobody@example.org"],
        None,
    );
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no account"),
        "{}",
        stderr(&unknown)
    );
}

#[sqlx::test]
async fn migrate_creates_a_database_that_does_not_exist(pool: PgPool) {
    let name = format!("parley_cli_{}", std::process::id());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database if exists {name}"
    )))
    .execute(&pool)
    .await
    .unwrap();
    let base = url_of(&pool);
    let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);

    let out = parley(&url, &["migrate"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let other = sqlx::PgPool::connect(&url).await.unwrap();
    let tables = sqlx::query_scalar!(
        r#"select count(*) as "n!" from information_schema.tables where table_name = 'project'"#
    )
    .fetch_one(&other)
    .await
    .unwrap();
    assert_eq!(tables, 1, "migrations ran");
    other.close().await;
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database {name}")))
        .execute(&pool)
        .await
        .unwrap();
}

#[test]
fn an_unreachable_database_is_a_clear_error() {
    let out = parley("postgres://postgres@127.0.0.1:1/parley", &["migrate"], None);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot reach PostgreSQL"),
        "{}",
        stderr(&out)
    );
}

#[sqlx::test]
async fn import_reports_each_file_and_fails_when_one_is_bad(pool: PgPool) {
    let url = url_of(&pool);
    let owner = parley::store::users::insert(
        &pool,
        &parley::domain::account::Email::parse("ann@example.org").unwrap(),
        &parley::domain::account::DisplayName::parse("Ann").unwrap(),
        "x",
        false,
    )
    .await
    .unwrap();
    let name = parley::domain::project::ProjectName::parse("Study").unwrap();
    let project = parley::store::projects::insert(&pool, owner.id, &name, "")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("north-03.txt");
    let bad = dir.path().join("scan.pdf");
    std::fs::write(&good, "Interviewer: Hello\nP07: Hi 🙂").unwrap();
    std::fs::write(&bad, "%PDF-1.4").unwrap();

    let id = project.id.to_string();
    let out = parley(
        &url,
        &[
            "import",
            "--project",
            &id,
            good.to_str().unwrap(),
            bad.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("✓ north-03.txt") && err.contains("2 turns"),
        "{err}"
    );
    assert!(err.contains("✗ scan.pdf"), "{err}");
    let titles: Vec<String> = sqlx::query_scalar!("select title from document")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(titles, ["north-03"]);

    let missing = parley(
        &url,
        &["import", "--project", "999999", good.to_str().unwrap()],
        None,
    );
    assert!(
        stderr(&missing).contains("no project"),
        "{}",
        stderr(&missing)
    );
}
