//! `--regions` and `--shard` (for `predict` and `variants`), and `seqlens merge`, which joins
//! the shards' outputs.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::io::{self, Interval};
use seqlens::shard::{self, Shard};

/// Limiting a job to regions and splitting it into shards.
#[derive(Args)]
pub struct ShardArgs {
    /// Only these regions: chrom:start-end[,chrom:start-end...] (1-based, inclusive, as
    /// samtools writes them), a whole contig as chrom, or a BED file of them.
    #[arg(long)]
    pub regions: Option<String>,
    /// Run shard I of N (1-based): a contiguous part of the job, in whole chunks of work, so
    /// that `seqlens merge` of all N outputs in order equals the unsharded run's output.
    #[arg(long)]
    pub shard: Option<String>,
}

impl ShardArgs {
    /// The regions, or `None` for everything.
    pub fn regions(&self) -> Result<Option<Vec<Interval>>> {
        let Some(r) = &self.regions else {
            return Ok(None);
        };
        let regions = if std::path::Path::new(r).is_file() {
            io::read_bed(File::open(r).with_context(|| r.clone())?, r)?
        } else {
            shard::parse_regions(r)?
        };
        if regions.is_empty() {
            anyhow::bail!("--regions {r}: no regions");
        }
        Ok(Some(regions))
    }

    /// The shard, or the whole job.
    pub fn shard(&self) -> Result<Shard> {
        Ok(match &self.shard {
            Some(s) => s.parse()?,
            None => Shard::ALL,
        })
    }
}

#[derive(Args)]
pub struct MergeArgs {
    /// The shards' outputs (TSV tables or VCFs, plain or gzip), in shard order: 1/N first.
    #[arg(required = true)]
    parts: Vec<PathBuf>,
    /// Output file (.vcf.gz is bgzip-compressed). Default: stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// With --out FILE.vcf.gz: also write its tabix index.
    #[arg(long)]
    index: bool,
}

pub fn merge(a: &MergeArgs) -> Result<()> {
    let mut parts = Vec::with_capacity(a.parts.len());
    for p in &a.parts {
        let name = p.display().to_string();
        let bytes = std::fs::read(p).with_context(|| name.clone())?;
        parts.push((name, bytes));
    }
    let merged = shard::merge(&parts)?;
    let vcf = merged.starts_with(b"##fileformat=VCF");
    match &a.out {
        Some(out) if vcf => {
            let index = seqlens::output::write_vcf_file(out, &merged, a.index)?;
            eprintln!("wrote {} shards to {}", parts.len(), out.display());
            if let Some(i) = index {
                eprintln!("wrote its index to {}", i.display());
            }
            Ok(())
        }
        _ if a.index => anyhow::bail!("--index indexes a merged VCF: give --out FILE.vcf.gz"),
        out => crate::emit(
            out.as_deref(),
            &String::from_utf8_lossy(&merged),
            &format!("{} shards", parts.len()),
        ),
    }
}
