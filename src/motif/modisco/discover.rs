//! The whole of TF-MoDISco-lite (`TFMoDISco`): seqlets, split by sign into metaclusters,
//! each clustered in two rounds into patterns, which are then split where spurious, merged
//! where alike, and filtered.

use super::affinity::{self, AffinityOptions};
use super::collapse::{self, CollapseOptions};
use super::leiden;
use super::pattern::{self, Pattern, PatternOptions};
use super::seqlets::{self, Extracted, Seqlet, SeqletOptions};
use super::tracks::TrackSet;
use crate::Error;

/// Every setting of motif discovery, modisco-lite's defaults.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscoverOptions {
    /// Seqlet calling.
    pub seqlets: SeqletOptions,
    /// Metacluster sizes.
    pub metaclusters: MetaclusterOptions,
    /// The similarity graph.
    pub affinity: AffinityOptions,
    /// Building patterns.
    pub patterns: PatternOptions,
    /// Merging, splitting and filtering patterns.
    pub collapse: CollapseOptions,
}

/// How many seqlets a metacluster needs, and takes.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct MetaclusterOptions {
    /// A metacluster of this many seqlets or fewer is skipped.
    pub min_size: usize,
    /// At most this many seqlets per metacluster (the first called).
    pub max_seqlets: usize,
}

impl Default for MetaclusterOptions {
    fn default() -> MetaclusterOptions {
        MetaclusterOptions {
            min_size: 100,
            max_seqlets: 20_000,
        }
    }
}

/// What motif discovery found.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// The seqlets called and their thresholds.
    pub extracted: Extracted,
    /// How many seqlets each metacluster clustered (positive, negative; 0 when skipped).
    pub metacluster_sizes: (usize, usize),
    /// The positive metacluster's patterns, most seqlets first.
    pub positive: Vec<Pattern>,
    /// The negative metacluster's.
    pub negative: Vec<Pattern>,
}

/// How many stages [`discover`] reports at most: seqlets, then per metacluster two rounds
/// of similarities and clustering, and merging.
pub const STAGES: usize = 11;

/// Motif discovery over `tracks`. `progress` is told each stage's name as it starts (at
/// most [`STAGES`] times); returning `false` cancels.
pub fn discover(
    tracks: &TrackSet,
    o: &DiscoverOptions,
    progress: &mut dyn FnMut(&str) -> bool,
) -> Result<Discovery, Error> {
    check(o)?;
    stage(progress, "seqlets")?;
    let attributions = tracks.attributions();
    let rows: Vec<&[f32]> = attributions.iter().map(Vec::as_slice).collect();
    let extracted = seqlets::extract_seqlets(&rows, &o.seqlets)?;
    let (pos, neg) = seqlets::metaclusters(
        &rows,
        &extracted,
        &o.seqlets,
        o.metaclusters.min_size,
        o.metaclusters.max_seqlets,
    );
    let sizes = (pos.len(), neg.len());
    let positive = if pos.is_empty() {
        Vec::new()
    } else {
        to_patterns(tracks, pos, 1.0, o, "positive", progress)?
    };
    let negative = if neg.is_empty() {
        Vec::new()
    } else {
        to_patterns(tracks, neg, -1.0, o, "negative", progress)?
    };
    Ok(Discovery {
        extracted,
        metacluster_sizes: sizes,
        positive,
        negative,
    })
}

/// Tells `progress` that stage `name` starts; an error if it cancels.
fn stage(progress: &mut dyn FnMut(&str) -> bool, name: &str) -> Result<(), Error> {
    if progress(name) {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "motif discovery cancelled at {name}"
        )))
    }
}

/// Refuses settings the pipeline cannot run with, naming them (the seqlet caller checks its
/// own).
fn check(o: &DiscoverOptions) -> Result<(), Error> {
    let (a, p, c) = (&o.affinity, &o.patterns, &o.collapse);
    let share = |v: f64| v > 0.0 && v <= 1.0;
    // Also false for NaN.
    let positive = |v: f64| v > 0.0;
    let problems = [
        (a.n_neighbors == 0, "affinity.nNeighbors must be at least 1"),
        (a.topn == 0, "affinity.topn must be at least 1"),
        (
            a.min_k == 0 || a.min_k > a.max_k,
            "affinity.minK must be from 1 to affinity.maxK",
        ),
        (a.max_gap == 0, "affinity.maxGap must be at least 1"),
        // Gapped k-mer keys are base-5 numbers of up to maxLen digits in 64 bits.
        (
            a.max_len == 0 || a.max_len > 26,
            "affinity.maxLen must be from 1 to 26",
        ),
        (a.max_entries == 0, "affinity.maxEntries must be at least 1"),
        (
            !share(a.min_overlap),
            "affinity.minOverlap must be in (0, 1]",
        ),
        (
            !positive(a.perplexity),
            "affinity.perplexity must be above 0",
        ),
        (
            !a.correlation_threshold.is_finite(),
            "affinity.correlationThreshold must be finite",
        ),
        (
            !share(p.min_overlap),
            "patterns.minOverlap must be in (0, 1]",
        ),
        (
            !(0.0..=1.0).contains(&p.frac_support_to_trim_to),
            "patterns.fracSupportToTrimTo must be in [0, 1]",
        ),
        (
            p.trim_to_window_size == 0,
            "patterns.trimToWindowSize must be at least 1",
        ),
        (
            !positive(c.subcluster_perplexity),
            "collapse.subclusterPerplexity must be above 0",
        ),
        (
            c.max_seqlets_subsample == 0,
            "collapse.maxSeqletsSubsample must be at least 1",
        ),
        (
            c.min_ic_windowsize == 0,
            "collapse.minIcWindowsize must be at least 1",
        ),
        (
            !positive(c.ppm_pseudocount),
            "collapse.ppmPseudocount must be above 0",
        ),
        (c.leiden_runs == 0, "collapse.leidenRuns must be at least 1"),
        (
            o.metaclusters.max_seqlets == 0,
            "metaclusters.maxSeqlets must be at least 1",
        ),
    ];
    match problems.iter().find(|(bad, _)| *bad) {
        Some((_, what)) => Err(Error::Invalid(format!("motif discovery: {what}"))),
        None => Ok(()),
    }
}

/// One metacluster's patterns (modisco-lite's `seqlets_to_patterns`).
fn to_patterns(
    tracks: &TrackSet,
    seqlets: Vec<Seqlet>,
    sign: f32,
    o: &DiscoverOptions,
    name: &str,
    progress: &mut dyn FnMut(&str) -> bool,
) -> Result<Vec<Pattern>, Error> {
    let background = pattern::background(tracks, &seqlets);
    let keys: Vec<f32> = seqlets
        .iter()
        .map(|s| pattern::strength(tracks, s))
        .collect();
    let mut order: Vec<usize> = (0..seqlets.len()).collect();
    order.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
    let mut seqlets: Vec<Seqlet> = order.iter().map(|&i| seqlets[i]).collect();
    let mut patterns = Vec::new();
    for round in 0..2 {
        if seqlets.is_empty() {
            return Ok(Vec::new());
        }
        stage(
            progress,
            &format!(
                "{name} metacluster, round {}: similarities of {} seqlets",
                round + 1,
                seqlets.len()
            ),
        )?;
        let coarse = affinity::coarse(tracks, &seqlets, sign, &o.affinity);
        let fine = affinity::fine(tracks, &seqlets, &coarse.index, o.affinity.min_overlap);
        let (kept, index, sims) = if round == 0 {
            let (kept, index, sims) =
                affinity::filter_by_correlation(&coarse, &fine, o.affinity.correlation_threshold);
            (
                kept.iter().map(|&i| seqlets[i]).collect::<Vec<_>>(),
                index,
                sims,
            )
        } else {
            (seqlets.clone(), coarse.index, fine)
        };
        if kept.is_empty() {
            return Ok(Vec::new());
        }
        stage(
            progress,
            &format!("{name} metacluster, round {}: clustering", round + 1),
        )?;
        let graph = affinity::density_adaptation(&index, &sims, o.affinity.perplexity);
        let clusters = leiden::cluster(&graph, o.collapse.leiden_runs);
        patterns = pattern::from_clusters(tracks, &kept, &clusters, sign, &background, &o.patterns);
        // The next round's seqlets: each once (by track and positions), where it first
        // appears, as the last pattern holding it aligned it.
        let mut slot = std::collections::HashMap::new();
        seqlets = Vec::new();
        for s in patterns.iter().flat_map(|p| &p.seqlets) {
            match slot.get(&(s.track, s.start, s.end)) {
                Some(&i) => seqlets[i] = *s,
                None => {
                    slot.insert((s.track, s.start, s.end), seqlets.len());
                    seqlets.push(*s);
                }
            }
        }
    }
    stage(
        progress,
        &format!("{name} metacluster: merging {} patterns", patterns.len()),
    )?;
    let mut merged =
        collapse::detect_spurious_merging(tracks, patterns, &o.patterns, &o.collapse, &background);
    merged.sort_by_key(|p| std::cmp::Reverse(p.seqlets.len()));
    Ok(merged
        .into_iter()
        .filter(|p| collapse::passes(p, &o.collapse, &background))
        .filter_map(|p| p.expanded(tracks, 0, 0))
        .collect())
}

/// One discovered pattern as reports show it (modisco-lite's `pos_patterns.pattern_0`
/// naming), with its best database matches.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatternReport {
    /// `pos_patterns.pattern_N` or `neg_patterns.pattern_N`.
    pub name: String,
    /// How many seqlets it holds.
    pub seqlets: usize,
    /// The position probability matrix, `[A, C, G, T]` per position.
    pub sequence: Vec<[f64; 4]>,
    /// The mean contributions (the contribution weight matrix).
    pub contrib: Vec<[f64; 4]>,
    /// The mean hypothetical contributions.
    pub hypothetical: Vec<[f64; 4]>,
    /// The positions compared with the database (`start..end`): from the first to the last
    /// whose summed absolute contribution reaches 0.3 of the largest, as modisco-lite's
    /// report trims them.
    pub trimmed: (usize, usize),
    /// Where each seqlet lies: (sequence index, start, end, reverse strand).
    pub positions: Vec<(usize, usize, usize, bool)>,
    /// The best database motifs for the trimmed probability matrix (TOMTOM), best first.
    pub matches: Vec<crate::motif::MotifMatch>,
}

/// The report of a discovery: every pattern, positive metacluster first, each with its `top`
/// best matches in `db`.
pub fn report(
    d: &Discovery,
    db: &crate::motif::tomtom::Database,
    top: usize,
) -> Result<Vec<PatternReport>, Error> {
    let all = [("pos", &d.positive), ("neg", &d.negative)];
    let mut out = Vec::new();
    for (sign, patterns) in all {
        for (i, p) in patterns.iter().enumerate() {
            let name = format!("{sign}_patterns.pattern_{i}");
            let contrib = p.contrib();
            let score: Vec<f64> = contrib
                .iter()
                .map(|r| r.iter().map(|v| v.abs()).sum())
                .collect();
            let cut = score.iter().copied().fold(f64::NEG_INFINITY, f64::max) * 0.3;
            let first = score.iter().position(|&s| s >= cut).unwrap_or(0);
            let last = score.iter().rposition(|&s| s >= cut).unwrap_or(0);
            let sequence = p.sequence();
            let matches = db.matches(&sequence[first..=last], &name, top)?;
            out.push(PatternReport {
                name,
                seqlets: p.seqlets.len(),
                hypothetical: p.hypothetical(),
                contrib,
                sequence,
                trimmed: (first, last + 1),
                positions: p
                    .seqlets
                    .iter()
                    .map(|s| (s.track, s.start, s.end, s.revcomp))
                    .collect(),
                matches,
            });
        }
    }
    Ok(out)
}
