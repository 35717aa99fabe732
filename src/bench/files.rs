//! `parley bench corpus`: write a [`Plan`]'s transcripts (and its codings,
//! as CSV) to a folder, so that another tool can be measured on exactly the
//! files Parley imports in `parley bench run`.

use super::corpus::Plan;
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CorpusArgs {
    /// The folder to write into (created; must be empty or new).
    #[arg(long)]
    pub out: PathBuf,
    /// Transcripts to write.
    #[arg(long, default_value_t = 500)]
    pub docs: usize,
    /// Typical words per transcript (exact below ten transcripts).
    #[arg(long, default_value_t = 6000)]
    pub words: usize,
    /// Codings in all (written to codings.csv; 0 for none).
    #[arg(long, default_value_t = 0)]
    pub codings: usize,
    /// The seed (7 is the corpus `parley bench run` imports).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// Writes `NNNN-name.txt` per transcript and, with `--codings`,
/// `codings.csv` (file, code path, coder, start, end as code points and as
/// UTF-16 units, and the coded text). Returns the number of files written.
pub fn write(a: &CorpusArgs) -> anyhow::Result<usize> {
    if a.docs == 0 || a.words < 50 {
        bail!("--docs must be at least 1 and --words at least 50");
    }
    if a.out.exists()
        && std::fs::read_dir(&a.out)
            .with_context(|| format!("reading {}", a.out.display()))?
            .next()
            .is_some()
    {
        bail!("{} is not empty", a.out.display());
    }
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let plan = Plan::new(a.seed, a.docs, a.words, a.codings, 1);
    let mut csv = (a.codings > 0)
        .then(|| csv::Writer::from_path(a.out.join("codings.csv")))
        .transpose()?;
    if let Some(w) = csv.as_mut() {
        w.write_record([
            "file",
            "code",
            "coder",
            "start",
            "end",
            "start_utf16",
            "end_utf16",
            "text",
        ])?;
    }
    for (i, spec) in plan.docs.iter().enumerate() {
        let text = plan.text(i);
        std::fs::write(a.out.join(&spec.filename), &text)?;
        let Some(w) = csv.as_mut() else { continue };
        let chars: Vec<char> = text.chars().collect();
        let utf16 = |n: usize| chars[..n].iter().map(|c| c.len_utf16()).sum::<usize>();
        for m in plan.codings(i, &text) {
            let code = plan.path(m.code);
            let quote: String = chars[m.start..m.end].iter().collect();
            w.write_record([
                spec.filename.as_str(),
                code.as_str(),
                &format!("coder{}", m.coder + 1),
                &m.start.to_string(),
                &m.end.to_string(),
                &utf16(m.start).to_string(),
                &utf16(m.end).to_string(),
                &quote,
            ])?;
        }
    }
    if let Some(mut w) = csv {
        w.flush()?;
    }
    Ok(plan.docs.len())
}
