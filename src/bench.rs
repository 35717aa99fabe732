//! `parley bench`: a seeded synthetic corpus at research-team scale, and
//! measurements of a real server on it. See docs/PERFORMANCE.md.
//!
//! - `parley bench seed` writes a deterministic corpus into a new project:
//!   transcripts with speaker turns, participants in the default groups and
//!   a few localities, a three-level codebook and codings over several
//!   coders. Rows go straight into the tables with `COPY`, computed the way
//!   the import and coding code computes them (turns by
//!   [`crate::domain::turns::parse`], speakers by
//!   [`crate::domain::speakers::auto_map`], coding parts by
//!   [`crate::domain::attribution::parts`]).
//! - `parley bench run` starts `parley serve` as a child process, drives it
//!   over HTTP and prints latencies, throughput and the server's peak RSS,
//!   also as Markdown for docs/PERFORMANCE.md.
//!
//! Run them against a scratch database: the seed reserves ids under a short
//! table lock, and the run adds (and afterwards removes) its own codings and
//! import projects.

mod corpus;
mod files;
mod load;
mod run;
pub mod seed;

use clap::{Args, Subcommand};

pub use files::CorpusArgs;
pub use run::RunArgs;
pub use seed::SeedArgs;

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Load a synthetic corpus into a new project (fast: COPY, no HTTP).
    Seed(SeedArgs),
    /// Start a server as a child process and measure it over HTTP.
    Run(RunArgs),
    /// Write the synthetic transcripts (and codings as CSV) to a folder, to
    /// measure another tool on the same files.
    Corpus(CorpusArgs),
}

pub async fn run(url: &str, args: BenchArgs) -> anyhow::Result<()> {
    match args.command {
        BenchCommand::Seed(a) => {
            let db = crate::store::prepare(url, 2).await?;
            let made = seed::seed(&db, &a).await?;
            println!("{made}");
            Ok(())
        }
        BenchCommand::Run(a) => run::run(url, a).await,
        BenchCommand::Corpus(a) => {
            let n = tokio::task::spawn_blocking(move || files::write(&a)).await??;
            println!("Wrote {n} transcripts");
            Ok(())
        }
    }
}

/// SplitMix64: a tiny, fast, seedable generator — enough for synthetic
/// data, and the same numbers on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// An independent stream for item `n` of stream `salt`, so each
    /// document comes out the same however the work is split.
    pub fn derive(seed: u64, salt: u64, n: u64) -> Rng {
        let mut r = Rng(seed ^ salt.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        r.0 ^= r.next_u64() ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given (cumulative) weights.
    pub fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = cumulative.last().copied().unwrap_or(0.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len() - 1)
    }
}

/// Running sums of weights, for [`Rng::weighted`].
pub fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut sum = 0.0;
    weights
        .into_iter()
        .map(|w| {
            sum += w;
            sum
        })
        .collect()
}

/// Name of the projects `bench seed` makes (`bench run` finds them by it).
pub const PROJECT_PREFIX: &str = "Bench:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(42).next_u64()).collect();
        assert!(a.iter().all(|x| *x == a[0]));
        let mut r = Rng::new(7);
        let mut counts = [0usize; 4];
        for _ in 0..40_000 {
            counts[r.below(4)] += 1;
        }
        assert!(
            counts.iter().all(|&c| (9_000..11_000).contains(&c)),
            "{counts:?}"
        );
        let cum = cumulative([1.0, 0.0, 3.0]);
        let mut hits = [0usize; 3];
        for _ in 0..4_000 {
            hits[r.weighted(&cum)] += 1;
        }
        assert_eq!(hits[1], 0);
        assert!(hits[2] > hits[0] * 2);
        assert_ne!(
            Rng::derive(1, 2, 3).next_u64(),
            Rng::derive(1, 2, 4).next_u64()
        );
    }
}
