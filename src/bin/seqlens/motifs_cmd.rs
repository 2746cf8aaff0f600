//! `seqlens motifs`: motifs from a MEME file compared with a motif database (TOMTOM), and the
//! database shared with `seqlens seqlets --annotate`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use seqlens::motif::{jaspar, meme, tomtom};

#[derive(Args)]
pub struct MotifsArgs {
    /// Motifs to compare (MEME file), such as discovered patterns.
    #[arg(long, short)]
    query: PathBuf,
    /// The database to compare with (MEME file); default: the bundled JASPAR 2024 CORE
    /// vertebrates.
    #[arg(long)]
    motifs: Option<PathBuf>,
    /// How many database motifs to list per query, best first.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    top: u64,
    /// Output TSV (default: stdout): query, rank, motif_id, motif_name, p_value, e_value,
    /// q_value, strand, offset, overlap.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

/// The motif database: a user's MEME file, or the bundled JASPAR.
pub fn database(path: Option<&Path>) -> Result<Cow<'static, tomtom::Database>> {
    let Some(p) = path else {
        return Ok(Cow::Borrowed(jaspar::database()?));
    };
    let name = p.display().to_string();
    let text = std::fs::read_to_string(p).with_context(|| name.clone())?;
    let motifs = meme::read(&text, &name)?;
    if motifs.len() < 25 {
        eprintln!(
            "warning: the database has {} motifs; TOMTOM's p-values use its columns as the background, so they are unreliable below 25 (memelite's limit)",
            motifs.len()
        );
    }
    Ok(Cow::Owned(tomtom::Database::new(
        motifs,
        tomtom::TomtomOptions::default(),
    )?))
}

pub fn motifs(a: &MotifsArgs) -> Result<()> {
    let name = a.query.display().to_string();
    let text = std::fs::read_to_string(&a.query).with_context(|| name.clone())?;
    let queries = meme::read(&text, &name)?;
    let db = database(a.motifs.as_deref())?;
    let mut out = String::from(
        "query\trank\tmotif_id\tmotif_name\tp_value\te_value\tq_value\tstrand\toffset\toverlap\n",
    );
    for q in &queries {
        let label = q.label();
        let found = db.matches(&q.columns, &format!("{label} in {name}"), a.top as usize)?;
        for (rank, m) in found.iter().enumerate() {
            out.push_str(&format!(
                "{label}\t{}\t{}\t{}\t{:.3e}\t{:.3e}\t{:.3e}\t{}\t{}\t{}\n",
                rank + 1,
                m.id,
                m.name,
                m.p_value,
                m.e_value,
                m.q_value,
                m.strand,
                m.offset,
                m.overlap
            ));
        }
    }
    crate::emit(
        a.out.as_deref(),
        &out,
        &format!("the matches of {} motifs", queries.len()),
    )
}
