//! `seqlens marginalize`: the effect of motifs substituted into background sequences
//! (tangermeme's marginalize, and its space with two or more motifs).

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::io;
use seqlens::model::PredictOptions;
use seqlens::perturb;

#[derive(Args)]
pub struct MarginalizeArgs {
    /// ONNX model.
    #[arg(long, short)]
    model: PathBuf,
    /// Background sequences (FASTA/FASTQ), fitted to the model's length.
    #[arg(long, short)]
    fasta: PathBuf,
    /// A motif to substitute (N keeps the background's base); repeat for an arrangement.
    #[arg(long, required = true)]
    motif: Vec<String>,
    /// With several motifs: the gaps between consecutive motifs to try, as START-END
    /// (inclusive) or a comma-separated list; every motif pair gets the same gap.
    #[arg(long)]
    spacing: Option<String>,
    /// Where the first motif starts (0-based); default: the arrangement is centred.
    #[arg(long)]
    start: Option<usize>,
    /// Use this many dinucleotide shuffles of each record as the backgrounds instead of the
    /// records themselves.
    #[arg(long)]
    shuffles: Option<usize>,
    /// Seed for the shuffles.
    #[arg(long, default_value_t = 0, requires = "shuffles")]
    seed: u64,
    /// Output TSV (default: stdout): id, spacing, label, before, after, effect.
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    backend: crate::BackendArg,
}

pub fn marginalize(a: &MarginalizeArgs) -> Result<()> {
    let model = crate::load_model(&a.model, &Default::default(), Some(a.backend.backend))?;
    let name = a.fasta.display().to_string();
    let mut backgrounds =
        io::read_sequences(File::open(&a.fasta).with_context(|| name.clone())?, &name)?;
    if let Some(n) = a.shuffles {
        backgrounds = perturb::shuffled_backgrounds(&backgrounds, n, a.seed)?;
    }
    let motifs: Vec<Vec<u8>> = a.motif.iter().map(|m| m.as_bytes().to_vec()).collect();
    let gaps = a.spacing.as_deref().map(parse_gaps).transpose()?;
    let spacings = perturb::arrangements(motifs.len(), gaps.as_deref())
        .map_err(|e| anyhow::anyhow!("{e} (--motif, --spacing: e.g. --spacing 0-20)"))?;
    let p = seqlens::blocking::block_on(perturb::space(
        &model,
        &backgrounds,
        &motifs,
        &spacings,
        a.start,
        &PredictOptions::default(),
    ))
    .with_context(|| a.model.display().to_string())?;
    let text = perturb::to_tsv(&p);
    crate::emit(
        a.out.as_deref(),
        &text,
        &format!("the effects on {} backgrounds", p.ids.len()),
    )?;
    // The mean effect per label (and spacing) over the backgrounds, for a first look.
    let mean = p.mean_effect();
    for (j, gaps) in p.spacings.iter().enumerate() {
        let cells: Vec<String> = p
            .labels
            .iter()
            .enumerate()
            .map(|(c, l)| format!("{l} {:+.4}", mean[j * p.labels.len() + c]))
            .collect();
        let at = if gaps.is_empty() {
            String::new()
        } else {
            format!(" at spacing {}", gaps[0])
        };
        eprintln!(
            "mean effect over {} backgrounds{at}: {}",
            p.ids.len(),
            cells.join(", ")
        );
    }
    Ok(())
}

/// `START-END` (inclusive) or `A,B,C`.
fn parse_gaps(s: &str) -> Result<Vec<usize>> {
    let num = |v: &str| {
        v.trim()
            .parse::<usize>()
            .with_context(|| format!("--spacing '{s}': '{v}' is not a non-negative integer"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            anyhow::ensure!(a <= b, "--spacing '{s}': START must not exceed END");
            Ok((a..=b).collect())
        }
        None => s.split(',').map(num).collect(),
    }
}
