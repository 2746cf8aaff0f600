//! `seqlens seqlets`: seqlets called on an attribution table (tangermeme's recursive seqlet
//! algorithm), as a TSV.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::attrib::{
    SeqletOptions, annotate_seqlets, read_tsv, recursive_seqlets, seqlet_rows, seqlets_tsv,
};

#[derive(Args)]
pub struct SeqletsArgs {
    /// An attribution table from `seqlens attribute` (TSV): the score column is what is
    /// called on (the observed bases' contributions).
    #[arg(long, short)]
    attributions: PathBuf,
    /// The p-value that every inner span of a seqlet must stay below.
    #[arg(long, default_value_t = 0.01)]
    threshold: f64,
    /// The shortest seqlet (and shortest inner span tested).
    #[arg(long, default_value_t = 4)]
    min_len: usize,
    /// The longest seqlet.
    #[arg(long, default_value_t = 25)]
    max_len: usize,
    /// Positions added on each side of every seqlet after calling.
    #[arg(long, default_value_t = 0)]
    flank: usize,
    /// Histogram bins of the null.
    #[arg(long, default_value_t = 1000)]
    bins: usize,
    /// Call negative seqlets instead (on the negated scores; attributions stay negative).
    #[arg(long)]
    negative: bool,
    /// Name each seqlet's best motifs (TOMTOM on its bases, as tangermeme's annotate_seqlets)
    /// in the bundled JASPAR 2024 CORE vertebrates, or in --motifs.
    #[arg(long)]
    annotate: bool,
    /// A MEME motif file to annotate with instead of the bundled JASPAR (implies --annotate).
    #[arg(long)]
    motifs: Option<PathBuf>,
    /// How many motifs to name per seqlet, best first.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    top: u64,
    /// Output TSV (default: stdout): id, chrom, start, end, attribution, p_value, sequence,
    /// by p-value; annotated, also motif_id, motif_name, motif_p, motif_q, motif_strand.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn seqlets(a: &SeqletsArgs) -> Result<()> {
    let name = a.attributions.display().to_string();
    let text = std::fs::read_to_string(&a.attributions).with_context(|| name.clone())?;
    let tracks = read_tsv(&text, &name)?;
    let scores: Vec<&[f32]> = tracks.iter().map(|t| t.scores.as_slice()).collect();
    let opts = SeqletOptions {
        threshold: a.threshold,
        min_len: a.min_len,
        max_len: a.max_len,
        flank: a.flank,
        bins: a.bins,
        negative: a.negative,
    };
    let found = recursive_seqlets(&scores, &opts).with_context(|| name.clone())?;
    let mut rows = seqlet_rows(&tracks, &found);
    let annotate = a.annotate || a.motifs.is_some();
    if annotate {
        let db = crate::motifs_cmd::database(a.motifs.as_deref())?;
        annotate_seqlets(&mut rows, &db, a.top as usize).with_context(|| name.clone())?;
    } else if a.top != 1 {
        anyhow::bail!("--top names motifs: it needs --annotate or --motifs");
    }
    let text = seqlets_tsv(&rows, annotate);
    crate::emit(
        a.out.as_deref(),
        &text,
        &format!("{} seqlets from {} sequences", found.len(), tracks.len()),
    )
}
