//! `seqlens splice`: CI-SpliceAI delta scores for a VCF against an indexed reference FASTA.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use seqlens::io::{self, IndexedFasta};
use seqlens::model::Model;
use seqlens::splice::{self, GeneTable, SpliceOptions, Status};

use crate::progress;

/// The bundled CI-SpliceAI model and gene tables (CC BY 4.0; see
/// examples/models/cispliceai/LICENSE.md), built into the binary so `seqlens splice` works
/// from any directory.
const MODEL: &[u8] = include_bytes!("../../../examples/models/cispliceai/cispliceai.onnx");
const GRCH37: &[u8] = include_bytes!("../../../examples/models/cispliceai/genes_grch37.tsv.gz");
const GRCH38: &[u8] = include_bytes!("../../../examples/models/cispliceai/genes_grch38.tsv.gz");

#[derive(Args)]
pub struct SpliceArgs {
    /// VCF (plain, gzip or bgzf). Multi-allelic records are scored per ALT.
    #[arg(long)]
    vcf: PathBuf,
    /// Reference FASTA of the VCF's build (uses GENOME.fai, or indexes the file in memory).
    /// Contig names may differ from the VCF's by a `chr` prefix.
    #[arg(long)]
    genome: PathBuf,
    /// Genes: the bundled `grch38` or `grch37` table (GENCODE genes with all annotated
    /// junctions, from cispliceai), or a file: a cispliceai CSV, a GTF, or a seqlens table.
    #[arg(long, short = 'a', default_value = "grch38")]
    annotation: String,
    /// Positions scored on each side of the variant.
    #[arg(long, short, default_value_t = 1000)]
    distance: usize,
    /// Zero gains at annotated splice sites and losses elsewhere.
    #[arg(long, short = 'M')]
    mask: bool,
    /// Keep the bases outside the overlapping gene (by default they are masked to N).
    #[arg(long)]
    outside: bool,
    /// Report every overlapping gene, not only the most significant.
    #[arg(long)]
    all: bool,
    /// A CI-SpliceAI-like ONNX model instead of the bundled CI-SpliceAI.
    #[arg(long, short)]
    model: Option<PathBuf>,
    /// Windows per model run.
    #[arg(long, default_value_t = 16)]
    batch_size: usize,
    /// Output: .tsv for a table, .json for JSON, anything else for VCF with the CISpliceAI
    /// INFO field. Default: VCF on stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
    #[command(flatten)]
    backend: crate::BackendArg,
}

fn genes(arg: &str) -> Result<GeneTable> {
    Ok(match arg {
        "grch38" => GeneTable::read(GRCH38, "bundled grch38 genes")?,
        "grch37" => GeneTable::read(GRCH37, "bundled grch37 genes")?,
        path => {
            let f = File::open(path).with_context(|| {
                format!("{path} (the --annotation is grch37, grch38 or a file)")
            })?;
            GeneTable::read(f, path)?
        }
    })
}

fn model(path: Option<&Path>, backend: seqlens::model::Backend) -> Result<Model> {
    let (bytes, name) = match path {
        Some(p) => (seqlens::onnx::read_model_file(p)?, p.display().to_string()),
        None => (MODEL.to_vec(), "bundled CI-SpliceAI".to_string()),
    };
    let model = Model::from_bytes(&bytes)
        .and_then(|m| m.with_backend(backend))
        .with_context(|| name.clone())?;
    crate::report_backend(&model);
    Ok(model)
}

pub fn splice(a: &SpliceArgs) -> Result<()> {
    let genes = genes(&a.annotation)?;
    let model = model(a.model.as_deref(), a.backend.backend)?;
    let opts = SpliceOptions {
        distance: a.distance,
        mask: a.mask,
        outside: a.outside,
        batch_size: a.batch_size,
        include_tracks: false,
    };
    if a.distance == 0 {
        bail!("--distance must be at least 1");
    }
    let name = a.vcf.display().to_string();
    let vcf = io::read_vcf_file(File::open(&a.vcf).with_context(|| name.clone())?, &name)?;
    let mut genome = IndexedFasta::open(&a.genome)?;
    let total: usize = vcf.variants.iter().map(|v| v.alts.len().max(1)).sum();
    let bar = progress::bar(total as u64, "scoring splice variants");
    let scores = splice::score(
        &model,
        &vcf.variants,
        &mut genome,
        &genes,
        &opts,
        &mut |done, _| {
            bar.set_position(done as u64);
            true
        },
    )
    .with_context(|| format!("{name} against {}", a.genome.display()))?;
    bar.finish_and_clear();
    for s in &scores {
        let m = s.message();
        if !m.is_empty() {
            let kind = if s.status == Status::Ok {
                "note"
            } else {
                "warning"
            };
            eprintln!("{kind}: {name}: {m}");
        }
    }
    let ext = a
        .out
        .as_deref()
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let text = match ext.as_deref() {
        Some("tsv") => splice::to_tsv(&scores, a.all),
        Some("json") => splice::to_json(&scores, &opts),
        Some("gz") | Some("bgz") => {
            bail!("compressed output is not supported; write .vcf and compress it with bgzip")
        }
        _ => {
            let mut buf = Vec::new();
            splice::write_vcf(&mut buf, &vcf, &scores, &opts, a.all)?;
            String::from_utf8(buf).context("VCF output")?
        }
    };
    let ok = scores.iter().filter(|s| s.status == Status::Ok).count();
    crate::emit(
        a.out.as_deref(),
        &text,
        &format!("{} alleles ({ok} scored)", scores.len()),
    )
}
