//! `seqlens design`: edit each sequence one base at a time toward a goal for the model's
//! outputs (tangermeme's greedy_substitution and beam_substitution).

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::design::{self, DesignOptions, Goal, Scoring};
use seqlens::io;
use seqlens::model::PredictOptions;

#[derive(Args)]
pub struct DesignArgs {
    /// ONNX model.
    #[arg(long, short)]
    model: PathBuf,
    /// Sequences to design from (FASTA/FASTQ), fitted to the model's length.
    #[arg(long, short)]
    fasta: PathBuf,
    /// Output labels the goal is about, comma-separated; default: all of them.
    #[arg(long, value_delimiter = ',')]
    labels: Vec<String>,
    /// `max` or `min` (the labels' mean), or one target value per output of the model,
    /// comma-separated (mean squared error over the chosen labels).
    #[arg(long, default_value = "max")]
    goal: Goal,
    /// Edit budget: the most substitutions (rounds) per sequence.
    #[arg(long, default_value_t = 10)]
    edits: usize,
    /// Sequences kept per round (beam search); 1 is greedy.
    #[arg(long, default_value_t = 1)]
    beam: usize,
    /// Designs written per sequence, best first (at most --beam).
    #[arg(long, default_value_t = 1)]
    keep: usize,
    /// Stop after a round that improves the loss by no more than this.
    #[arg(long, default_value_t = 1e-3)]
    tol: f64,
    /// The positions that may change, START-END (0-based, half-open, in the model's window);
    /// default: all.
    #[arg(long)]
    region: Option<String>,
    /// How each round's substitutions are scored: auto (fast ISM where the seqlens engine
    /// imports the model), fast (fast ISM), or ism (every mutant predicted whole on the
    /// selected backend; any model).
    #[arg(long, default_value = "auto")]
    scoring: Scoring,
    /// Output TSV (default: stdout): id, rank (0: the original), loss, edits, substitutions,
    /// one column per label, sequence.
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    backend: crate::BackendArg,
}

pub fn design(a: &DesignArgs) -> Result<()> {
    let region = a
        .region
        .as_deref()
        .map(|r| crate::parse_region(r, "--region"))
        .transpose()?;
    let model = crate::load_model(&a.model, &Default::default(), Some(a.backend.backend))?;
    let outputs = model
        .metadata()
        .label_indices(&a.labels)
        .map_err(|e| anyhow::anyhow!("--labels: {e}"))?;
    let opts = DesignOptions {
        goal: a.goal.clone(),
        outputs,
        edits: a.edits,
        beam: a.beam,
        keep: a.keep,
        tol: a.tol,
        region,
        scoring: a.scoring,
        ..Default::default()
    };
    let name = a.fasta.display().to_string();
    let records = io::read_sequences(File::open(&a.fasta).with_context(|| name.clone())?, &name)?;
    let windows = model.windows(&records, &PredictOptions::default())?;
    let bar = crate::progress::bar(windows.len() as u64, "designing");
    let mut designs = Vec::with_capacity(windows.len());
    for w in &windows {
        let d = seqlens::blocking::block_on(design::design(&model, w, &opts, &mut |_, _| true))
            .with_context(|| format!("{name}: '{}'", w.id))?;
        eprintln!(
            "{}: loss {:.6} -> {:.6} in {} rounds ({})",
            d.id, d.original_loss, d.designs[0].loss, d.rounds, d.scoring
        );
        designs.push(d);
        bar.inc(1);
    }
    bar.finish_and_clear();
    crate::emit(
        a.out.as_deref(),
        &design::to_tsv(&designs),
        &format!("the designs of {} sequences", designs.len()),
    )
}
