//! The command line: the same binary serves, migrates, and manages accounts.
//! Each command calls the same `store` and `domain` functions as the web.

use crate::config::{DbConfig, ServerConfig};
use crate::domain::account::{self, DisplayName, Email, NewPassword};
use crate::store;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

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
            let email = Email::parse(&email)?;
            let name = DisplayName::parse(&name)?;
            let password = NewPassword::parse(&read_password()?)?;
            let db = store::prepare(&url, 1).await?;
            let hash =
                tokio::task::spawn_blocking(move || account::hash_password(&password)).await?;
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
        Command::Token(TokenCommand::Create { email, name }) => {
            let name = account::token_name(&name)?;
            let db = store::prepare(&url, 1).await?;
            let user = store::users::by_email(&db, &email)
                .await?
                .with_context(|| format!("no account has the e-mail {email}"))?;
            let (token, hash) = account::new_token();
            store::tokens::insert(&db, user.id, &name, &hash).await?;
            println!("{token}");
            Ok(())
        }
    }
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
