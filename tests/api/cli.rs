use sqlx::PgPool;
use std::process::{Command, Output, Stdio};

/// The URL of the test's own database, for the `parley` binary.
pub fn url_of(pool: &PgPool) -> String {
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

/// An account (Ann) and her project "Study", made in the store.
async fn study(pool: &PgPool) -> parley::store::projects::Project {
    let owner = parley::store::users::insert(
        pool,
        &parley::domain::account::Email::parse("ann@example.org").unwrap(),
        &parley::domain::account::DisplayName::parse("Ann").unwrap(),
        "x",
        false,
    )
    .await
    .unwrap();
    let name = parley::domain::project::ProjectName::parse("Study").unwrap();
    parley::store::projects::insert(pool, owner.id, &name, "")
        .await
        .unwrap()
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
    let project = study(&pool).await;
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

/// One number from the test database.
async fn count(pool: &PgPool, sql: &'static str, project: i64) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .bind(project)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// References of `code` per value of `column` (an expression over the
/// speaking participant `p` and their group `g`): codings overlapping a
/// participant's turn, each counted once per column value.
async fn references(pool: &PgPool, project: i64, code: &str, column: &str) -> Vec<(String, i64)> {
    let sql = format!(
        r#"
        select {column} as col, count(distinct c.coding_id) as n
        from coding c
        join code k on k.code_id = c.code_id
        join turn t on t.document_id = c.document_id
                   and t.start_pos < c.end_pos and c.start_pos < t.end_pos
        join speaker s on s.document_id = t.document_id and s.label = t.speaker
        join participant p on p.participant_id = s.participant_id
        join stakeholder_group g on g.group_id = p.group_id
        where c.project_id = $1 and k.name = $2
        group by 1
        "#
    );
    sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql))
        .bind(project)
        .bind(code)
        .fetch_all(pool)
        .await
        .unwrap()
}

fn cell(rows: &[(String, i64)], column: &str) -> i64 {
    rows.iter()
        .find(|(c, _)| c == column)
        .map_or(0, |(_, n)| *n)
}

#[sqlx::test]
async fn demo_creates_a_ready_project_for_the_first_admin(pool: PgPool) {
    let url = url_of(&pool);

    let nobody = parley(&url, &["demo"], None);
    assert_eq!(nobody.status.code(), Some(1), "{}", stderr(&nobody));
    assert!(
        stderr(&nobody).contains("parley user add") && !stderr(&nobody).contains("panicked"),
        "{}",
        stderr(&nobody)
    );

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
    let unknown = parley(&url, &["demo", "--email", "bo@example.org"], None);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no account"),
        "{}",
        stderr(&unknown)
    );

    let out = parley(&url, &["demo"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let projects: Vec<(i64, String)> =
        sqlx::query_as("select project_id, name from project order by project_id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let [(project, name)] = projects.as_slice() else {
        panic!("{projects:?}")
    };
    let project = *project;
    assert_eq!(name, parley::demo::NAME);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(&format!("/projects/{project}")), "{stdout}");

    let n = |sql| count(&pool, sql, project);
    assert_eq!(
        n("select count(*) from document where project_id = $1").await,
        12
    );
    assert_eq!(
        n("select count(*) from document where project_id = $1 and kind = 'focus_group'").await,
        2
    );
    assert_eq!(
        n("select count(*) from participant where project_id = $1").await,
        16
    );
    assert_eq!(
        n("select count(*) from code where project_id = $1").await,
        15
    );
    assert!(n("select count(*) from coding where project_id = $1").await > 100);
    // The staff survey in two waves, with its two scales.
    assert_eq!(
        n("select count(*) from survey where project_id = $1").await,
        1
    );
    assert_eq!(
        n("select count(*) from scale c join survey s using (survey_id) where s.project_id = $1")
            .await,
        2
    );
    assert_eq!(
        n(
            "select count(distinct wave) from survey_response r join survey s using (survey_id)
           where s.project_id = $1"
        )
        .await,
        2
    );
    // Every speaker is the interviewer or a participant, and everyone speaks.
    assert_eq!(
        n("select count(*) from speaker
           where project_id = $1 and participant_id is null and not is_interviewer")
        .await,
        0
    );
    assert_eq!(
        n("select count(*) from participant p where project_id = $1
           and not exists (select 1 from speaker s where s.participant_id = p.participant_id)")
        .await,
        0
    );
    assert_eq!(
        n(
            "select count(*) from turn t join document d using (document_id)
           where d.project_id = $1 and t.speaker is null"
        )
        .await,
        0
    );
    // Every coding covers some text, inside a participant's turn.
    assert_eq!(
        n(
            "select count(*) from coding c join document d using (document_id)
           where c.project_id = $1
             and btrim(substr(d.body, c.start_pos + 1, c.end_pos - c.start_pos)) = ''"
        )
        .await,
        0
    );
    assert_eq!(
        n("select count(*) from coding c where c.project_id = $1 and not exists (
             select 1 from turn t join speaker s on s.document_id = t.document_id and s.label = t.speaker
             where t.document_id = c.document_id and s.participant_id is not null
               and t.start_pos <= c.start_pos and c.end_pos <= t.end_pos)")
        .await,
        0
    );
    assert!(n("select count(*) from coding where project_id = $1 and starred").await >= 4);
    assert!(
        n(
            "select (select count(*) from document where project_id = $1 and memo <> '')
                + (select count(*) from code where project_id = $1 and memo <> '')
                + (select count(*) from project where project_id = $1 and memo <> '')"
        )
        .await
            >= 4
    );

    // The matrix has a story to tell.
    let sanctuary = references(&pool, project, "Sanctuary", "g.name").await;
    assert!(
        cell(&sanctuary, "Service user") > cell(&sanctuary, "Staff"),
        "{sanctuary:?}"
    );
    let carers = references(&pool, project, "Carer focus", "g.name").await;
    assert!(
        cell(&carers, "Carer") > cell(&carers, "Service user"),
        "{carers:?}"
    );
    let roles = references(&pool, project, "Role clarity", "g.name").await;
    assert!(
        cell(&roles, "Staff") > cell(&roles, "Carer") + cell(&roles, "Service user"),
        "{roles:?}"
    );
    let privacy = references(
        &pool,
        project,
        "Lack of privacy",
        "p.attributes->>'locality'",
    )
    .await;
    assert!(
        cell(&privacy, "Northvale") > cell(&privacy, "Riverside") + cell(&privacy, "Eastmoor"),
        "{privacy:?}"
    );

    // A second run makes a second project, for the owner named by e-mail.
    let again = parley(&url, &["demo", "--email", "ANN@example.org"], None);
    assert!(again.status.success(), "{}", stderr(&again));
    let names: Vec<String> = sqlx::query_scalar("select name from project order by project_id")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(
        names,
        [
            parley::demo::NAME.to_owned(),
            format!("{} (2)", parley::demo::NAME)
        ]
    );
}

#[sqlx::test]
async fn a_database_failure_is_printed_with_its_cause(pool: PgPool) {
    let url = url_of(&pool);
    let project = study(&pool).await;
    // A database that answers but fails the query: the codebook's table is
    // gone (as after a botched restore).
    sqlx::query("alter table code rename to code_elsewhere")
        .execute(&pool)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("codebook.qdc");
    let id = project.id.to_string();
    let out = parley(
        &url,
        &[
            "export",
            "--project",
            &id,
            "--format",
            "qdc",
            "-o",
            out_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("internal error") && err.contains("relation \"code\" does not exist"),
        "the cause is printed: {err}"
    );
}
