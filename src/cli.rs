//! The command line: the same binary serves, migrates, and manages accounts,
//! imports and exports. A door like the pages and the API: each command
//! parses its arguments, calls a use case, and says what happened.

use crate::config::{DbConfig, ServerConfig};
use crate::domain::account::{self, DisplayName, Email, NewPassword};
use crate::domain::ids::ProjectId;
use crate::service::documents::{Copies, Upload, UploadOptions, import_file, resolve_options};
use crate::service::transcripts::ImportOptions;
use crate::service::{self, exchange};
use crate::store;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sqlx::PgPool;
use std::path::Path;

#[derive(Debug, Parser)]
#[command(
    name = "parley",
    version,
    about = "Parley: qualitative coding of transcripts, in the browser"
)]
pub struct Cli {
    #[command(flatten)]
    pub db: DbConfig,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default): creates and migrates the database first.
    Serve(ServerConfig),
    /// Create the database if needed and apply migrations, then exit.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Import transcripts (.txt .md .docx .vtt .srt) into a project, one
    /// document per file. A file that cannot be read is reported and skipped.
    Import {
        /// The project's id (shown in its URL).
        #[arg(long)]
        project: i64,
        /// interview, focus_group or other (default: detected).
        #[arg(long)]
        kind: Option<String>,
        /// The participant (label or id) of one-to-one interviews.
        #[arg(long)]
        participant: Option<String>,
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
    /// Create a ready demo project (synthetic transcripts, participants, a
    /// codebook and codings), modelled on an evaluation of integrated
    /// mental-health services. Prints the project's id and address.
    Demo {
        /// The owner's e-mail (default: the first administrator).
        #[arg(long)]
        email: Option<String>,
    },
    /// Export a project as a REFI-QDA project (`--format qdpx`, for NVivo,
    /// ATLAS.ti, MAXQDA, QualCoder) or its codebook (`--format qdc`).
    Export {
        #[arg(long)]
        project: i64,
        #[arg(long, default_value = "qdpx")]
        format: String,
        /// Where to write the file.
        #[arg(short = 'o', long)]
        output: std::path::PathBuf,
    },
    /// Benchmarks at research-team scale: `parley bench seed` loads a
    /// synthetic corpus; `parley bench run` measures a real server on it.
    Bench(crate::bench::BenchArgs),
    /// Import a REFI-QDA project (.qdpx) as a new project, and print what
    /// was imported and what was not.
    ImportProject {
        file: std::path::PathBuf,
        /// The new project's owner (default: the first administrator).
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account. The password comes from PARLEY_PASSWORD, else a prompt.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the account an administrator.
        #[arg(long)]
        admin: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an account and print it (alone) on stdout.
    Create {
        #[arg(long)]
        email: String,
        /// A label to recognise the token by on the account page.
        #[arg(long, default_value = "command line")]
        name: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.db.database_url;
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServerConfig::parse_env()))
    {
        Command::Serve(config) => crate::app::serve(&url, config).await,
        Command::Migrate => {
            store::prepare(&url, 1).await?;
            eprintln!("database {} is up to date", store::redact(&url));
            Ok(())
        }
        Command::User(UserCommand::Add { email, name, admin }) => {
            add_user(&url, &email, &name, admin).await
        }
        Command::Import {
            project,
            kind,
            participant,
            files,
        } => import(&url, ProjectId(project), kind, participant, files).await,
        Command::Demo { email } => crate::demo::run(&url, email.as_deref()).await,
        Command::Export {
            project,
            format,
            output,
        } => export(&url, ProjectId(project), &format, &output).await,
        Command::Bench(args) => crate::bench::run(&url, args).await,
        Command::ImportProject { file, email } => {
            import_project(&url, &file, email.as_deref()).await
        }
        Command::Token(TokenCommand::Create { email, name }) => {
            create_token(&url, &email, &name).await
        }
    }
}

async fn add_user(url: &str, email: &str, name: &str, admin: bool) -> anyhow::Result<()> {
    let email = Email::parse(email)?;
    let name = DisplayName::parse(name)?;
    let password = NewPassword::parse(&read_password()?)?;
    let db = store::prepare(url, 1).await?;
    let hash = tokio::task::spawn_blocking(move || account::hash_password(&password)).await?;
    match store::users::insert(&db, &email, &name, &hash, admin).await {
        Ok(user) => {
            eprintln!(
                "created account {} for {} (id {})",
                user.email, user.name, user.id
            );
            Ok(())
        }
        Err(e) if store::violated_constraint(&e) == Some(store::users::EMAIL_TAKEN) => {
            bail!(
                "an account with the e-mail {} already exists",
                email.as_str()
            )
        }
        Err(e) => Err(e).context("cannot create the account"),
    }
}

async fn export(url: &str, project: ProjectId, format: &str, output: &Path) -> anyhow::Result<()> {
    let db = store::prepare(url, 2).await?;
    if !store::projects::exists(&db, project).await? {
        bail!("there is no project {project}");
    }
    let bytes = match format {
        "qdpx" => exchange::qdpx_bytes(&db, project).await.map_err(said)?,
        "qdc" => exchange::qdc_text(&db, project)
            .await
            .map_err(said)?
            .into_bytes(),
        other => bail!("--format must be qdpx or qdc (not {other})"),
    };
    std::fs::write(output, &bytes).with_context(|| format!("cannot write {}", output.display()))?;
    eprintln!("wrote {} ({} bytes)", output.display(), bytes.len());
    Ok(())
}

async fn import_project(url: &str, file: &Path, email: Option<&str>) -> anyhow::Result<()> {
    let db = store::prepare(url, 2).await?;
    let owner = crate::demo::owner(&db, email).await?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let (id, report) = exchange::import_bytes(&db, owner.id, bytes)
        .await
        .map_err(said)
        .with_context(|| file.display().to_string())?;
    println!(
        "imported project {id}: {} documents, {} codes, {} codings, {} participants, {} memos",
        report.documents, report.codes, report.codings, report.participants, report.memos
    );
    for line in report.positions.iter().chain(&report.adjusted) {
        println!("  {line}");
    }
    for line in &report.not_imported {
        println!("  not imported: {line}");
    }
    println!("open it at /projects/{id}");
    Ok(())
}

async fn create_token(url: &str, email: &str, name: &str) -> anyhow::Result<()> {
    let name = account::token_name(name)?;
    let db = store::prepare(url, 1).await?;
    let user = store::users::by_email(&db, email)
        .await?
        .with_context(|| format!("no account has the e-mail {email}"))?;
    let (token, hash) = account::new_token();
    store::tokens::insert(&db, user.id, &name, &hash).await?;
    println!("{token}");
    Ok(())
}

impl ServerConfig {
    /// The server settings from the environment alone (bare `parley`).
    fn parse_env() -> ServerConfig {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            config: ServerConfig,
        }
        Only::parse_from(["parley"]).config
    }
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var("PARLEY_PASSWORD") {
        return Ok(p);
    }
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        bail!("set PARLEY_PASSWORD, or run this in a terminal to be asked for the password");
    }
    let first = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again =
        rpassword::prompt_password("Password again: ").context("cannot read the password")?;
    if first != again {
        bail!("the two passwords differ");
    }
    Ok(first)
}

/// `parley import`: each file in turn, with a progress bar on stderr and one
/// line per file; fails (exit 1) when any file was not imported.
async fn import(
    url: &str,
    project: ProjectId,
    kind: Option<String>,
    participant: Option<String>,
    files: Vec<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let db = store::prepare(url, 2).await?;
    if !store::projects::exists(&db, project).await? {
        bail!("there is no project {project}");
    }
    let options = UploadOptions {
        kind,
        participant,
        ..Default::default()
    };
    let options = resolve_options(&db, project, &options)
        .await
        .map_err(said)?;
    let total = files.len();
    let mut failed = 0;
    for (i, path) in files.iter().enumerate() {
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let outcome = import_path(&db, project, path, &name, &options).await;
        let done = i + 1;
        let bar = progress_bar(done, total);
        match outcome {
            Ok(msg) => eprintln!("[{bar}] {done}/{total} ✓ {name}: {msg}"),
            Err(msg) => {
                failed += 1;
                eprintln!("[{bar}] {done}/{total} ✗ {name}: {msg}");
            }
        }
    }
    eprintln!("{} of {total} files imported", total - failed);
    if failed > 0 {
        bail!("{failed} file(s) were not imported");
    }
    Ok(())
}

/// Import one file; says what it became, or why not.
async fn import_path(
    db: &PgPool,
    project: ProjectId,
    path: &Path,
    name: &str,
    options: &ImportOptions,
) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let file = Upload {
        filename: name.to_owned(),
        bytes,
    };
    match import_file(db, project, None, file, options, Copies::Allow).await {
        Ok(Ok(d)) => Ok(format!(
            "document {}, {} turns, {} speakers",
            d.id, d.turns, d.speakers
        )),
        Ok(Err(e)) => Err(e.error),
        Err(e) => Err(format!("cannot store it: {:#}", said(e))),
    }
}

/// `[██████░░░…]`: `done` of `total`, 24 cells wide.
fn progress_bar(done: usize, total: usize) -> String {
    let filled = done * 24 / total.max(1);
    format!("{}{}", "█".repeat(filled), "░".repeat(24 - filled))
}

/// A use case's error as the command line says it: what the user can fix
/// in words, and a failure with its whole cause (the database's own message,
/// say), where a web page would only show a request id.
fn said(e: service::Error) -> anyhow::Error {
    match e {
        service::Error::Internal(cause) => cause.context("internal error"),
        service::Error::Unavailable(cause) => {
            cause.context("the database is not answering; is PostgreSQL running?")
        }
        other => anyhow::anyhow!("{other}"),
    }
}
