//! Building and running the server: the shared state, the listener, and a
//! graceful shutdown. Tests use [`App::build`] on port 0 to drive the real app.

use crate::config::ServerConfig;
use crate::store;
use crate::store::sessions::PgSessionStore;
use axum::extract::FromRef;
use axum::serve::ListenerExt;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// What every handler can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<ServerConfig>,
    /// The share of the server heavy requests may take.
    pub heavy: Arc<crate::http::heavy::Gate>,
    /// Every coding's attribution, kept for the matrix.
    pub attributions: Arc<crate::service::analysis::Attributions>,
    /// Who API tokens belong to, kept for a short while.
    pub askers: Arc<crate::http::askers::Askers>,
    /// Documents' text and turns, kept once read.
    pub texts: Arc<crate::service::texts::Texts>,
}

/// A bound, ready-to-run server.
pub struct App {
    listener: tokio::net::TcpListener,
    state: AppState,
}

impl App {
    /// Bind the listener; the database pool is already migrated.
    pub async fn build(db: PgPool, config: ServerConfig) -> anyhow::Result<App> {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        Ok(App {
            listener,
            state: AppState {
                heavy: Arc::new(crate::http::heavy::Gate::new(
                    db.options().get_max_connections(),
                )),
                db,
                config: Arc::new(config),
                attributions: Arc::default(),
                askers: Arc::default(),
                texts: Arc::default(),
            },
        })
    }

    /// What this server keeps of who asks (to see when it listens).
    pub fn askers(&self) -> Arc<crate::http::askers::Askers> {
        self.state.askers.clone()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serve until SIGTERM or Ctrl-C, then finish the requests in flight.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serve until `stop` completes.
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let sweeper = tokio::spawn(sweep(
            PgSessionStore::new(self.state.db.clone()),
            self.state.db.clone(),
        ));
        let warmer = {
            let (attributions, db) = (self.state.attributions.clone(), self.state.db.clone());
            tokio::spawn(async move { attributions.warm(&db).await })
        };
        let statistics = tokio::spawn(keep_statistics(self.state.db.clone()));
        let listening = {
            let (askers, db) = (self.state.askers.clone(), self.state.db.clone());
            tokio::spawn(async move { askers.listen(db).await })
        };
        let router = crate::router::router(self.state);
        // The peer's address says whether a client is on this machine
        // (http::nearby).
        let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        // Every answer goes out as soon as it is written: with Nagle's
        // algorithm on, the last piece of a streamed file waited for the
        // client's delayed acknowledgement (~40 ms) whenever the piece
        // before it was still unacknowledged.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY: {e}");
            }
        });
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(stop)
            .await;
        sweeper.abort();
        warmer.abort();
        statistics.abort();
        listening.abort();
        served?;
        Ok(())
    }
}

/// At start and then once an hour: remove expired sessions, old rows of
/// the matrix change log and of failed sign-ins, and projects left half-imported by a server that
/// died during the import.
async fn sweep(sessions: PgSessionStore, db: PgPool) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every.tick().await;
        if let Err(e) = sessions.delete_expired().await {
            tracing::warn!(error = %e, "could not remove expired sessions");
        }
        if let Err(e) = crate::store::matrix::prune_changes(&db).await {
            tracing::warn!(error = %e, "could not prune the matrix change log");
        }
        if let Err(e) = crate::store::throttle::prune(&db).await {
            tracing::warn!(error = %e, "could not prune old failed sign-ins");
        }
        match crate::store::projects::remove_abandoned_imports(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(projects = n, "removed projects left by interrupted imports"),
            Err(e) => tracing::warn!(error = %e, "could not look for interrupted imports"),
        }
    }
}

/// How soon a table that changed enough is analysed.
const STATISTICS_EVERY: Duration = Duration::from_secs(5);

/// Every few seconds, analyse the tables that changed enough
/// (`store::analyze_changed`). Autovacuum analyses a table once a tenth of
/// it changed, once a minute at best (its default naptime), and not at all
/// where it is off. Meanwhile the planner takes what was just written for
/// absent: right after an import or a burst of coding, it answered a new
/// project's document (40 codings) by reading all 4,000 of the project's
/// codings.
///
/// Several servers may each analyse a table at about the same time; that
/// costs a little work, never a wrong answer.
async fn keep_statistics(db: PgPool) {
    let mut every = tokio::time::interval(STATISTICS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match crate::store::analyze_changed(&db).await {
            Ok(tables) if tables.is_empty() => {}
            Ok(tables) => tracing::debug!(?tables, "analysed"),
            Err(e) => tracing::warn!(error = %e, "could not analyse changed tables"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// `parley serve`: create and migrate the database, then serve.
pub async fn serve(database_url: &str, config: ServerConfig) -> anyhow::Result<()> {
    let db = store::prepare_server(database_url, config.db_pool).await?;
    let app = App::build(db, config).await?;
    let addr = app.local_addr();
    tracing::info!(%addr, "Parley is listening");
    println!("Parley is running: open http://{addr}/ (Ctrl-C stops it)");
    app.run_until_stopped().await
}
