//! `seqlens motifs`: motifs from a MEME file, or discovered in an attribution table
//! (TF-MoDISco-lite), compared with a motif database (TOMTOM); and the database shared with
//! `seqlens seqlets --annotate`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use seqlens::motif::{jaspar, meme, tomtom};

#[derive(Args)]
#[command(group = clap::ArgGroup::new("input").required(true).args(["query", "attributions"]))]
pub struct MotifsArgs {
    /// Motifs to compare (MEME file).
    #[arg(long, short)]
    query: Option<PathBuf>,
    /// Discover motifs (TF-MoDISco-lite, modisco-lite 3.0's defaults) in an attribution table
    /// of hypothetical contributions from `seqlens attribute --method deeplift-shap`, and
    /// compare each pattern (trimmed to 0.3 of its largest contribution) with the database.
    #[arg(long, short)]
    attributions: Option<PathBuf>,
    /// With --attributions: also write the patterns' probability matrices as a MEME file.
    #[arg(long)]
    meme: Option<PathBuf>,
    /// With --attributions: also write the patterns in full (matrices, seqlets, matches) as
    /// JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// With --attributions: also write one SVG per pattern into this directory
    /// (`pos_patterns.pattern_0.svg`, ...): the logo of its contributions over the span
    /// compared with the database, above the information-content logo of its best match,
    /// aligned as TOMTOM aligned them.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// With --svg: the logos' colours, classic (logomaker's) or colorblind (Okabe-Ito).
    /// [default: classic]
    #[arg(long)]
    palette: Option<seqlens::plot::Palette>,
    /// With --attributions: the seqlet caller's window (modisco-lite's sliding_window_size).
    /// [default: 21]
    #[arg(long)]
    window: Option<usize>,
    /// With --attributions: positions added on each side of a seqlet.
    /// [default: 10]
    #[arg(long)]
    flank: Option<usize>,
    /// With --attributions: a metacluster needs more seqlets than this to be clustered.
    /// [default: 100]
    #[arg(long)]
    min_metacluster_size: Option<usize>,
    /// With --attributions: the fewest seqlets a reported pattern holds.
    /// [default: 20]
    #[arg(long)]
    min_pattern_size: Option<usize>,
    /// The database to compare with (MEME file); default: the bundled JASPAR 2024 CORE
    /// vertebrates.
    #[arg(long)]
    motifs: Option<PathBuf>,
    /// How many database motifs to list per query, best first.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    top: u64,
    /// Output TSV (default: stdout): query (the pattern's name when discovering), rank,
    /// motif_id, motif_name, p_value, e_value, q_value, strand, offset, overlap; discovering,
    /// also seqlets after the query.
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
    let Some(query) = &a.query else {
        return discover(a);
    };
    let discovery_only = [
        ("--meme", a.meme.is_some()),
        ("--json", a.json.is_some()),
        ("--svg", a.svg.is_some()),
        ("--palette", a.palette.is_some()),
        ("--window", a.window.is_some()),
        ("--flank", a.flank.is_some()),
        ("--min-metacluster-size", a.min_metacluster_size.is_some()),
        ("--min-pattern-size", a.min_pattern_size.is_some()),
    ];
    if let Some((flag, _)) = discovery_only.iter().find(|f| f.1) {
        anyhow::bail!("{flag} is for discovering motifs (--attributions), not for --query");
    }
    let name = query.display().to_string();
    let text = std::fs::read_to_string(query).with_context(|| name.clone())?;
    let queries = meme::read(&text, &name)?;
    let db = database(a.motifs.as_deref())?;
    let mut out = String::from(
        "query\trank\tmotif_id\tmotif_name\tp_value\te_value\tq_value\tstrand\toffset\toverlap\n",
    );
    for q in &queries {
        let label = q.label();
        let found = db.matches(&q.columns, &format!("{label} in {name}"), a.top as usize)?;
        for (rank, m) in found.iter().enumerate() {
            out.push_str(&format!("{label}\t{}\n", match_columns(rank, m)));
        }
    }
    crate::emit(
        a.out.as_deref(),
        &out,
        &format!("the matches of {} motifs", queries.len()),
    )
}

fn discover(a: &MotifsArgs) -> Result<()> {
    use seqlens::motif::{Motif, modisco};
    if a.palette.is_some() && a.svg.is_none() {
        anyhow::bail!("--palette colours the --svg logos; give --svg DIR too");
    }
    let path = a.attributions.as_deref().unwrap_or(Path::new(""));
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| name.clone())?;
    let tables = seqlens::attrib::read_tsv(&text, &name)?;
    let tracks = modisco::TrackSet::from_table(&tables, &name)?;
    let db = database(a.motifs.as_deref())?;
    let mut o = modisco::DiscoverOptions::default();
    o.seqlets.window = a.window.unwrap_or(o.seqlets.window);
    o.seqlets.flank = a.flank.unwrap_or(o.seqlets.flank);
    o.metaclusters.min_size = a.min_metacluster_size.unwrap_or(o.metaclusters.min_size);
    o.collapse.final_min_cluster_size = a
        .min_pattern_size
        .unwrap_or(o.collapse.final_min_cluster_size);
    let found = modisco::discover(&tracks, &o, &mut |stage| {
        eprintln!("motifs: {stage}");
        true
    })
    .with_context(|| name.clone())?;
    eprintln!(
        "motifs: {} seqlets; metaclusters of {} positive and {} negative",
        found.extracted.seqlets.len(),
        found.metacluster_sizes.0,
        found.metacluster_sizes.1
    );
    let report = modisco::report(&found, &db, a.top as usize)?;
    let mut out = String::from(
        "query\tseqlets\trank\tmotif_id\tmotif_name\tp_value\te_value\tq_value\tstrand\toffset\toverlap\n",
    );
    for p in &report {
        if p.matches.is_empty() {
            out.push_str(&format!("{}\t{}\t\t\t\t\t\t\t\t\t\n", p.name, p.seqlets));
        }
        for (rank, m) in p.matches.iter().enumerate() {
            out.push_str(&format!(
                "{}\t{}\t{}\n",
                p.name,
                p.seqlets,
                match_columns(rank, m)
            ));
        }
    }
    if let Some(meme) = &a.meme {
        let motifs: Vec<Motif> = report
            .iter()
            .map(|p| Motif {
                id: p.name.clone(),
                name: String::new(),
                columns: p.sequence.clone(),
            })
            .collect();
        let sites: Vec<usize> = report.iter().map(|p| p.seqlets).collect();
        crate::emit(
            Some(meme),
            &seqlens::motif::meme::write(&motifs, Some(&sites)),
            &format!("{} patterns (MEME)", motifs.len()),
        )?;
    }
    if let Some(dir) = &a.svg {
        write_logos(dir, &report, &db, a.palette.unwrap_or_default())?;
    }
    if let Some(json) = &a.json {
        let text = serde_json::to_string(&report)?;
        crate::emit(
            Some(json),
            &text,
            &format!("{} patterns (JSON)", report.len()),
        )?;
    }
    crate::emit(
        a.out.as_deref(),
        &out,
        &format!("the database matches of {} patterns", report.len()),
    )
}

/// Each pattern's figure (`plot::pattern`, with its best match) as `dir/NAME.svg`.
fn write_logos(
    dir: &Path,
    report: &[seqlens::motif::modisco::PatternReport],
    db: &tomtom::Database,
    palette: seqlens::plot::Palette,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let opts = seqlens::plot::PlotOptions {
        palette,
        ..Default::default()
    };
    for p in report {
        let matched = p
            .matches
            .first()
            .and_then(|m| db.motif(&m.id).map(|motif| (m, motif)));
        let svg = seqlens::plot::pattern(p, matched, &opts).map_err(anyhow::Error::msg)?;
        let path = dir.join(format!("{}.svg", p.name));
        seqlens::output::write_atomic(&path, svg.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    eprintln!("wrote {} pattern logos to {}", report.len(), dir.display());
    Ok(())
}

/// A match's columns: rank, motif_id, motif_name, p_value, e_value, q_value, strand, offset,
/// overlap.
fn match_columns(rank: usize, m: &seqlens::motif::MotifMatch) -> String {
    format!(
        "{}\t{}\t{}\t{:.3e}\t{:.3e}\t{:.3e}\t{}\t{}\t{}",
        rank + 1,
        m.id,
        m.name,
        m.p_value,
        m.e_value,
        m.q_value,
        m.strand,
        m.offset,
        m.overlap
    )
}
