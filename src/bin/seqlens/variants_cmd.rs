//! `seqlens variants`: variant-effect scores for a VCF against an indexed reference FASTA.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::io::{self, IndexedFasta};
use seqlens::model::PredictOptions;
use seqlens::output::Format;
use seqlens::variants::{self, Score, Status, VariantOptions};

use crate::progress;

#[derive(Args)]
pub struct VariantsArgs {
    /// ONNX model (fixed input length).
    #[arg(long, short)]
    model: PathBuf,
    /// VCF (plain, gzip or bgzf); multi-allelic records are split into one row per ALT.
    #[arg(long)]
    vcf: PathBuf,
    /// Reference FASTA (uses GENOME.fai, or indexes the file in memory).
    #[arg(long)]
    genome: PathBuf,
    /// Scores, comma-separated: diff, abs_diff, log_odds, log2_fc.
    #[arg(long, value_delimiter = ',', default_value = "diff,log_odds")]
    scores: Vec<String>,
    /// Pseudocount added to both predictions for log2_fc.
    #[arg(long, default_value_t = 1e-6)]
    pseudocount: f32,
    /// Average each prediction over both strands.
    #[arg(long)]
    rc_average: bool,
    /// Sequences per model run.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Output: .vcf for the input VCF with the scores as INFO fields (SEQLENS_STATUS and
    /// SEQLENS_<SCORE>_<label>, one value per ALT), .vcf.gz for it bgzip-compressed, .json
    /// for JSON, anything else for TSV. Default: TSV on stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// With --out FILE.vcf.gz: also write its tabix index (FILE.vcf.gz.tbi) for bcftools and
    /// IGV.
    #[arg(long)]
    index: bool,
    #[command(flatten)]
    backend: crate::BackendArg,
    /// --regions (variants whose POS is in them) and --shard.
    #[command(flatten)]
    shard: crate::shard_cmd::ShardArgs,
}

pub fn variants(a: &VariantsArgs) -> Result<()> {
    let model = crate::load_model(&a.model, &Default::default(), Some(a.backend.backend))?;
    let scores = a
        .scores
        .iter()
        .map(|s| Score::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let opts = VariantOptions {
        scores: scores.clone(),
        pseudocount: a.pseudocount,
        predict: PredictOptions {
            rc_average: a.rc_average,
            batch_size: a.batch_size,
            ..Default::default()
        },
        include_sequences: false,
    };
    let name = a.vcf.display().to_string();
    let as_vcf = a.out.as_deref().is_some_and(seqlens::output::is_vcf_path);
    if a.index && !as_vcf {
        anyhow::bail!("--index indexes a VCF output: give --out FILE.vcf.gz");
    }
    if let (true, Some(out)) = (as_vcf, a.out.as_deref()) {
        seqlens::output::check_vcf_output(out, a.index)?;
    }
    let mut file = io::read_vcf_file(File::open(&a.vcf).with_context(|| name.clone())?, &name)?;
    // Regions first, then the shard: a run of whole chunks of what is left, as the unsharded
    // run would score them.
    let mut keep: Vec<bool> = match a.shard.regions()? {
        Some(r) => file
            .variants
            .iter()
            .map(|v| seqlens::shard::contains(&r, &v.chrom, v.pos.saturating_sub(1)))
            .collect(),
        None => vec![true; file.variants.len()],
    };
    retain(&mut file, &keep);
    let chunks = variants::chunks(&file.variants);
    let taken = a.shard.shard()?.chunks(chunks.len());
    let records = if taken.is_empty() {
        0..0
    } else {
        chunks[taken.start].start..chunks[taken.end - 1].end
    };
    keep = (0..file.variants.len())
        .map(|i| records.contains(&i))
        .collect();
    retain(&mut file, &keep);
    let vcf = &file.variants;
    let mut genome = IndexedFasta::open(&a.genome)?;
    let total: usize = vcf.iter().map(|v| v.alts.len().max(1)).sum();
    let bar = progress::bar(total as u64, "scoring variants");
    let rows = variants::score_variants(&model, vcf, &mut genome, &opts, &mut |done, _| {
        bar.set_position(done as u64);
        true
    })
    .with_context(|| format!("{name} against {}", a.genome.display()))?;
    bar.finish_and_clear();
    for r in rows.iter().filter(|r| r.status != Status::Ok) {
        let v = vcf
            .iter()
            .find(|v| v.line == r.line)
            .expect("row from a record");
        eprintln!("warning: {name}: {}", r.status.message(v));
    }
    let labels = &model.metadata().labels;
    let ok = rows.iter().filter(|r| r.status == Status::Ok).count();
    if let (true, Some(out)) = (as_vcf, a.out.as_deref()) {
        let mut text = Vec::new();
        variants::write_vcf(&mut text, &file, &rows, labels, &scores)?;
        let index = seqlens::output::write_vcf_file(out, &text, a.index)?;
        eprintln!(
            "wrote {} alleles ({ok} scored) to {}",
            rows.len(),
            out.display()
        );
        if let Some(i) = index {
            eprintln!("wrote its index to {}", i.display());
        }
        return Ok(());
    }
    let text = match a.out.as_deref().map(Format::for_path) {
        Some(Format::Json) => variants::to_json(&rows, labels, &scores),
        _ => variants::to_tsv(&rows, labels, &scores),
    };
    crate::emit(
        a.out.as_deref(),
        &text,
        &format!("{} alleles ({ok} scored)", rows.len()),
    )
}

/// Keeps the records of `file` whose entry in `keep` is true.
fn retain(file: &mut io::VcfFile, keep: &[bool]) {
    let mut k = keep.iter();
    file.variants.retain(|_| *k.next().unwrap_or(&false));
    let mut k = keep.iter();
    file.lines.retain(|_| *k.next().unwrap_or(&false));
}
