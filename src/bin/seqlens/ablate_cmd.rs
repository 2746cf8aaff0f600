//! `seqlens ablate`: the effect of shuffling a region of each sequence away (tangermeme's
//! ablate).

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::io;
use seqlens::model::PredictOptions;
use seqlens::perturb::{self, Shuffle};

#[derive(Args)]
pub struct AblateArgs {
    /// ONNX model.
    #[arg(long, short)]
    model: PathBuf,
    /// Sequences (FASTA/FASTQ), fitted to the model's length.
    #[arg(long, short)]
    fasta: PathBuf,
    /// The positions to shuffle, START-END (0-based, half-open, in the model's window).
    #[arg(long)]
    region: String,
    /// Shuffles of the region per sequence.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    shuffles: u64,
    /// Keep the region's dinucleotide counts (tangermeme's dinucleotide_shuffle) instead of
    /// permuting its bases (its default shuffle).
    #[arg(long)]
    dinucleotide: bool,
    /// Seed for the shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output TSV (default: stdout): id, shuffle, label, before, after, effect.
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    backend: crate::BackendArg,
}

pub fn ablate(a: &AblateArgs) -> Result<()> {
    let region = crate::parse_region(&a.region, "--region")?;
    let model = crate::load_model(&a.model, &Default::default(), Some(a.backend.backend))?;
    let name = a.fasta.display().to_string();
    let records = io::read_sequences(File::open(&a.fasta).with_context(|| name.clone())?, &name)?;
    let how = if a.dinucleotide {
        Shuffle::Dinucleotides
    } else {
        Shuffle::Bases
    };
    let result = seqlens::blocking::block_on(perturb::ablate(
        &model,
        &records,
        region,
        a.shuffles as usize,
        how,
        a.seed,
        &PredictOptions::default(),
    ))
    .with_context(|| name.clone())?;
    crate::emit(
        a.out.as_deref(),
        &perturb::ablation_tsv(&result),
        &format!(
            "the effects of {} shuffles of {} sequences",
            result.shuffles,
            result.ids.len()
        ),
    )?;
    let mean = result.mean_effect();
    let cells: Vec<String> = result
        .labels
        .iter()
        .zip(&mean)
        .map(|(l, m)| format!("{l} {m:+.4}"))
        .collect();
    eprintln!(
        "mean effect over {} sequences: {}",
        result.ids.len(),
        cells.join(", ")
    );
    Ok(())
}
