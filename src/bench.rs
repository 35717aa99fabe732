//! `parley bench`: a seeded synthetic corpus at research-team scale, and
//! measurements of a real server on it. See docs/PERFORMANCE.md.

use clap::{Args, Subcommand};

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load a synthetic corpus into a new project.
    Seed,
}

pub async fn run(_url: &str, _args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the benchmark is not written yet")
}
