//! Settings, read once from the command line and environment. Nothing else in
//! the crate reads environment variables.

use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The default database: the local PostgreSQL server, database `parley`.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/parley";

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct DbConfig {
    /// PostgreSQL connection URL. The database is created if it does not exist.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

/// How the web server runs.
#[derive(Debug, Clone, Args)]
pub struct ServerConfig {
    /// Address and port to listen on.
    #[arg(long, env = "PARLEY_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,

    /// The address people use to reach Parley, e.g. https://parley.example.org.
    /// When it starts with https://, session cookies are marked Secure, and
    /// its origin is trusted for form posts (set it behind a reverse proxy).
    #[arg(long, env = "PARLEY_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Largest request body accepted, in MiB (uploads included).
    #[arg(long, env = "PARLEY_MAX_UPLOAD_MIB", default_value_t = 50)]
    pub max_upload_mib: usize,

    /// Folder of the static assets (CSS, JS). Defaults to `static/` in the
    /// working directory, else the one beside the sources.
    #[arg(long, env = "PARLEY_STATIC_DIR")]
    pub static_dir: Option<PathBuf>,

    /// Most excerpts one export file holds (an Excel sheet holds 1,048,576
    /// rows); larger exports are refused with advice to narrow them.
    #[arg(long, env = "PARLEY_MAX_EXPORT_EXCERPTS", default_value_t = 1_000_000,
          value_parser = clap::value_parser!(i64).range(1..=1_048_575))]
    pub max_export_excerpts: i64,

    /// Most database connections the server holds.
    #[arg(long, env = "PARLEY_DB_POOL", default_value_t = 16)]
    pub db_pool: u32,
}

impl ServerConfig {
    /// Session cookies get `Secure` when Parley is served over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    pub fn static_dir(&self) -> PathBuf {
        if let Some(dir) = &self.static_dir {
            return dir.clone();
        }
        let local = PathBuf::from("static");
        if local.is_dir() {
            local
        } else {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/static"))
        }
    }

    pub fn max_body_bytes(&self) -> usize {
        self.max_upload_mib.saturating_mul(1024 * 1024)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: ([127, 0, 0, 1], 3000).into(),
            public_url: None,
            max_upload_mib: 50,
            static_dir: None,
            max_export_excerpts: 1_000_000,
            db_pool: 16,
        }
    }
}
