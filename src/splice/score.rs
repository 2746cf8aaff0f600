//! Delta scores: CI-SpliceAI's rules for one allele, and the batching that runs them.
//!
//! For an allele at `pos` with REF of length `r`, distance `d` and the model's context of
//! 5,000 bases a side (`W = d + 5000`), cispliceai reads `2W + r` bases from `pos - W` (one
//! more if that is odd), masks everything outside the overlapping gene to N (unless
//! `outside`), puts ALT in place of REF, reverse-complements both for a minus-strand gene,
//! and compares the acceptor and donor probabilities of the `2d + r` (+1) positions around
//! the variant. Indels are aligned on ALT's track: a deletion's missing positions are zeros,
//! an insertion's extra positions collapse to their maximum. `DS_AG = max Δacceptor`,
//! `DS_AL = -min Δacceptor` (donors alike), and `DP_*` are their offsets from `pos`. With
//! `mask`, gains at annotated sites and losses elsewhere are zeroed. A variant outside every
//! gene is scored on both strands without a mask.
//!
//! Where cispliceai is wrong, seqlens is not: near a contig start the sequence is N-padded
//! and the gene mask and annotated sites stay where they are (cispliceai shifts them by the
//! padding), near a contig end the sequence is N-padded too (cispliceai scores a short
//! window, or fails), and a variant outside genes is really unmasked (cispliceai masks the
//! window's last `r` (+1) - 1 bases). Each allele reports how many bases were padded.
//!
//! The reference track depends only on the genome, the gene's mask and the strand, not on
//! the variant, so it is predicted once per gene over all the variants of a batch that fall
//! in it (one long input), instead of once per variant; only ALT needs one pass per allele.

use std::io::{BufRead, Seek};

use serde::{Deserialize, Serialize};

use super::genes::{Gene, GeneTable, Strand};
use crate::encode::{Alphabet, Window, reverse_complement};
use crate::io::{AlleleKind, IndexedFasta, Variant};
use crate::model::{Model, PredictOptions};

/// Bases of context the model needs on each side of a position (CI-SpliceAI's 10 kb / 2).
const FLANK: usize = 5000;

/// Alleles scored together: their reference tracks are shared.
const BLOCK: usize = 256;

/// Reference passes cover at most this many positions (longer clusters are split), so one
/// input stays a few MB of activations.
const REF_SEGMENT: i64 = 32_768;

/// Substitutions carried on one reference segment at a time: each keeps its cone's
/// activations while the graph runs, so this bounds the memory.
const MAX_SUBSTITUTIONS: usize = 24;

/// Two reference needs closer than this share one pass (the gap costs less than another
/// pass's context).
const REF_MERGE_GAP: i64 = 2 * FLANK as i64;

/// Options of [`score`] (cispliceai's `cis-vcf` options of the same names).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SpliceOptions {
    /// Positions scored on each side of the variant (cispliceai `--distance`, default 1000).
    pub distance: usize,
    /// Zero gains at annotated splice sites and losses elsewhere (`--mask`).
    pub mask: bool,
    /// Keep the bases outside the overlapping gene instead of masking them to N
    /// (`--outside`).
    pub outside: bool,
    /// Sequences per model run.
    pub batch_size: usize,
    /// Keep each gene's reference and alternate acceptor/donor tracks (for figures).
    pub include_tracks: bool,
}

impl Default for SpliceOptions {
    fn default() -> Self {
        SpliceOptions {
            distance: 1000,
            mask: false,
            outside: false,
            batch_size: 16,
            include_tracks: false,
        }
    }
}

/// Whether an allele could be scored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum Status {
    /// Scored.
    Ok,
    /// The genome holds these bases where the VCF says REF.
    RefMismatch(String),
    /// The reference FASTA has no such contig (with or without a `chr` prefix).
    UnknownContig,
    /// A symbolic or missing ALT (`<DEL>`, `*`, breakends).
    #[serde(rename = "symbolic_allele")]
    Symbolic,
    /// REF or ALT has characters other than A, C, G, T, N.
    InvalidAllele,
    /// REF reaches past the end of the contig, which has this length.
    BeyondContig(u64),
}

impl Status {
    /// The status as the VCF and the JSON write it.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::RefMismatch(_) => "ref_mismatch",
            Status::UnknownContig => "unknown_contig",
            Status::Symbolic => "symbolic_allele",
            Status::InvalidAllele => "invalid_allele",
            Status::BeyondContig(_) => "beyond_contig",
        }
    }
}

/// The reference and alternate probabilities around a variant, for figures: position `i`
/// is genome position `start + i` (1-based); ALT is aligned to REF as the scores are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tracks {
    /// The genome position of the first value (1-based).
    pub start: u64,
    /// Acceptor probabilities with the reference allele.
    pub ref_acceptor: Vec<f32>,
    /// Donor probabilities with the reference allele.
    pub ref_donor: Vec<f32>,
    /// Acceptor probabilities with the alternate allele.
    pub alt_acceptor: Vec<f32>,
    /// Donor probabilities with the alternate allele.
    pub alt_donor: Vec<f32>,
}

/// One allele's effect in one gene (or, outside genes, on one strand: `gene` is `+`/`-`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    /// The gene (or the strand, outside genes).
    pub gene: String,
    /// The strand scored.
    pub strand: Strand,
    /// Delta score of an acceptor gain (0 to 1).
    pub ds_ag: f32,
    /// Delta score of an acceptor loss.
    pub ds_al: f32,
    /// Delta score of a donor gain.
    pub ds_dg: f32,
    /// Delta score of a donor loss.
    pub ds_dl: f32,
    /// Where the acceptor gain is, relative to the variant (bases).
    pub dp_ag: i64,
    /// Where the acceptor loss is, relative to the variant.
    pub dp_al: i64,
    /// Where the donor gain is, relative to the variant.
    pub dp_dg: i64,
    /// Where the donor loss is, relative to the variant.
    pub dp_dl: i64,
    /// The probabilities around the variant, when asked for (figures).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tracks: Option<Tracks>,
}

impl Annotation {
    /// The largest of the four delta scores.
    pub fn max_score(&self) -> f32 {
        self.ds_ag.max(self.ds_al).max(self.ds_dg).max(self.ds_dl)
    }
}

/// One ALT allele of one VCF record, with its annotations when `status` is `Ok`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlleleScore {
    /// The contig.
    pub chrom: String,
    /// 1-based, as in the VCF.
    pub pos: u64,
    /// The ID column.
    pub id: Option<String>,
    /// The REF allele.
    #[serde(rename = "ref")]
    pub reference: String,
    /// This ALT allele.
    pub alt: String,
    /// The VCF line, for messages.
    pub line: usize,
    /// Whether it was scored, and why not.
    #[serde(flatten)]
    pub status: Status,
    /// N bases added before the contig's start and after its end.
    pub padded: [usize; 2],
    /// One per overlapping gene in table order, or per strand outside genes.
    pub annotations: Vec<Annotation>,
}

impl AlleleScore {
    /// The annotation with the highest delta score (the first on ties), as cispliceai
    /// reports by default.
    pub fn most_significant(&self) -> Option<&Annotation> {
        let mut best: Option<&Annotation> = None;
        for a in &self.annotations {
            if best.is_none_or(|b| a.max_score() > b.max_score()) {
                best = Some(a);
            }
        }
        best
    }

    /// A sentence for logs and tables (empty when ok).
    pub fn message(&self) -> String {
        let at = format!(
            "line {}: {}:{} {}>{}",
            self.line, self.chrom, self.pos, self.reference, self.alt
        );
        match &self.status {
            Status::Ok if self.padded != [0, 0] => format!(
                "{at}: the window reaches past the contig ({} bases before its start, {} after its end), read as N",
                self.padded[0], self.padded[1]
            ),
            Status::Ok => String::new(),
            Status::RefMismatch(g) => {
                format!("{at}: REF does not match the reference genome, which has {g}")
            }
            Status::UnknownContig => format!(
                "{at}: contig '{}' is not in the reference genome",
                self.chrom
            ),
            Status::Symbolic => format!("{at}: symbolic or missing ALT allele, not scored"),
            Status::InvalidAllele => {
                format!("{at}: REF or ALT has characters other than A, C, G, T, N")
            }
            Status::BeyondContig(len) => {
                format!("{at}: REF reaches past the end of the contig ({len} bases)")
            }
        }
    }
}

/// What masks and orients one reference track: the strand, and the gene bounds outside
/// which bases are N (`None`: no mask). Alleles with the same key share reference passes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct TrackKey {
    contig: String,
    minus: bool,
    /// 0-based half-open: bases outside are N.
    keep: Option<(i64, i64)>,
}

/// One (allele, area) pair to score.
struct Job<'g> {
    allele: usize,
    area: Area<'g>,
    key: TrackKey,
    /// 0-based genome position of the first scored position (index 0 of the delta).
    first: i64,
    /// Scored positions (`2d + r`, +1 if that window length is odd).
    positions: usize,
    /// How ALT is predicted: its own window (index among this block's windows), or as a
    /// substitution on the reference segment (same-length alleles on the CPU engine).
    alt: Alt,
    /// 0-based genome position of the allele, and its ALT bases (upper case).
    at: i64,
    bases: Vec<u8>,
}

enum Alt {
    Window(usize),
    Substitution,
}

enum Area<'g> {
    Gene(&'g Gene),
    Intergenic(Strand),
}

impl Area<'_> {
    fn strand(&self) -> Strand {
        match self {
            Area::Gene(g) => g.strand,
            Area::Intergenic(s) => *s,
        }
    }
}

/// A prepared allele: its status, and its window when it can be scored.
struct Prepared {
    status: Status,
    padded: [usize; 2],
}

/// `seq` with bases outside `keep` (window coordinates `start..`) set to N.
fn masked(seq: &[u8], start: i64, keep: Option<(i64, i64)>) -> Vec<u8> {
    let mut out = seq.to_vec();
    if let Some((a, b)) = keep {
        for (i, v) in out.iter_mut().enumerate() {
            let p = start + i as i64;
            if p < a || p >= b {
                *v = b'N';
            }
        }
    }
    out
}

/// The genome's name for `chrom`: as given, or with the `chr` prefix added or removed.
fn contig_name<R: BufRead + Seek>(genome: &IndexedFasta<R>, chrom: &str) -> Option<String> {
    if genome.length(chrom).is_some() {
        return Some(chrom.to_string());
    }
    let other = match chrom.strip_prefix("chr") {
        Some(bare) => bare.to_string(),
        None => format!("chr{chrom}"),
    };
    genome.length(&other).map(|_| other)
}

/// Scores every ALT allele of `variants` (cispliceai's rules, see the module docs), with a
/// CI-SpliceAI-like `model`: a profile model with classes (neither, acceptor, donor) and
/// 5,000 bases of context on each side. `progress(done, total)` counts alleles; returning
/// `false` cancels. Blocking (native only; the browser awaits [`score_async`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn score<R: BufRead + Seek>(
    model: &Model,
    variants: &[Variant],
    genome: &mut IndexedFasta<R>,
    genes: &GeneTable,
    opts: &SpliceOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<AlleleScore>, crate::Error> {
    crate::blocking::block_on(score_async(model, variants, genome, genes, opts, progress))
}

/// Checks that `model` is a splice model seqlens can score with: a DNA profile of three
/// classes with 5,000 bases of context on each side.
fn check_model(model: &Model) -> Result<(), crate::Error> {
    let bad = |why: String| {
        crate::Error::Invalid(format!(
            "splice scoring needs a CI-SpliceAI-like model (a DNA profile of neither/acceptor/donor with 5,000 bases of context on each side); {why}"
        ))
    };
    let (offset, context) = model.profile().map_err(|e| bad(e.to_string()))?;
    if (offset, context) != (FLANK, 2 * FLANK) {
        return Err(bad(format!(
            "this one has offset {offset} and context {context}"
        )));
    }
    let m = model.metadata();
    if m.alphabet != Alphabet::Dna {
        return Err(bad(format!("this one reads {}", m.alphabet)));
    }
    if m.labels.len() != 3 {
        return Err(bad(format!("this one has {} classes", m.labels.len())));
    }
    if m.length.is_some() {
        return Err(bad("this one takes a fixed length only".into()));
    }
    Ok(())
}

/// [`score`] on the model's selected backend, awaiting GPU readbacks.
pub async fn score_async<R: BufRead + Seek>(
    model: &Model,
    variants: &[Variant],
    genome: &mut IndexedFasta<R>,
    genes: &GeneTable,
    opts: &SpliceOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<AlleleScore>, crate::Error> {
    check_model(model)?;
    if opts.distance == 0 {
        return Err(crate::Error::Invalid(
            "the distance must be at least 1".into(),
        ));
    }
    let alleles: Vec<(&Variant, &str)> = variants
        .iter()
        .flat_map(|v| v.alleles().into_iter().map(move |a| (v, a)))
        .collect();
    let total = alleles.len();
    let mut out = Vec::with_capacity(total);
    for block in alleles.chunks(BLOCK) {
        let done = out.len();
        let mut report = |d: usize, t: usize| progress(done + d * block.len() / t.max(1), total);
        out.extend(score_block(model, block, genome, genes, opts, &mut report).await?);
        if !progress(out.len(), total) {
            return Err(crate::Error::Invalid("cancelled".into()));
        }
    }
    if !out.is_empty() && out.iter().all(|a| a.status == Status::UnknownContig) {
        let mut vcf: Vec<&str> = variants.iter().map(|v| v.chrom.as_str()).collect();
        vcf.dedup();
        let names: Vec<String> = genome.contigs().into_iter().take(10).map(|c| c.0).collect();
        return Err(crate::Error::Invalid(format!(
            "none of the VCF's contigs ({}) are in the reference genome ({}); is this the right reference?",
            vcf.iter().take(10).copied().collect::<Vec<_>>().join(", "),
            names.join(", ")
        )));
    }
    Ok(out)
}

async fn score_block<R: BufRead + Seek>(
    model: &Model,
    block: &[(&Variant, &str)],
    genome: &mut IndexedFasta<R>,
    genes: &GeneTable,
    opts: &SpliceOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<AlleleScore>, crate::Error> {
    let d = opts.distance as i64;
    let w = d + FLANK as i64;
    // Same-length alleles change no position's coordinates, so on the engine their ALT is
    // computed from the reference segment's values, over the substitution's cone only.
    let substitute = model.runs_substitutions();
    let mut prepared = Vec::with_capacity(block.len());
    let mut jobs: Vec<Job> = Vec::new();
    let mut windows: Vec<Window> = Vec::new();
    for (i, &(v, alt)) in block.iter().enumerate() {
        let mut p = Prepared {
            status: Status::Ok,
            padded: [0, 0],
        };
        let contig = contig_name(genome, &v.chrom);
        let kinds = [AlleleKind::of(alt), AlleleKind::of(&v.reference)];
        let contig_len = contig.as_ref().and_then(|c| genome.length(c));
        if kinds[0] == AlleleKind::Symbolic {
            p.status = Status::Symbolic;
        } else if kinds != [AlleleKind::Bases; 2] {
            p.status = Status::InvalidAllele;
        } else if contig.is_none() {
            p.status = Status::UnknownContig;
        } else if let Some(l) =
            contig_len.filter(|&l| v.pos == 0 || v.pos - 1 + v.reference.len() as u64 > l)
        {
            p.status = Status::BeyondContig(l);
        }
        let Some(contig) = contig.filter(|_| p.status == Status::Ok) else {
            prepared.push(p);
            continue;
        };
        let r = v.reference.len() as i64;
        // cispliceai: 2W + len(REF) bases from pos - W (1-based), made even
        let mut len = 2 * w + r;
        len += len % 2;
        let start = v.pos as i64 - 1 - w;
        let seq = genome.fetch(&contig, start, start + len)?;
        let contig_len = genome.length(&contig).unwrap_or(0) as i64;
        p.padded = [
            (-start).max(0) as usize,
            (start + len - contig_len).max(0) as usize,
        ];
        let at = &seq[w as usize..(w + r) as usize];
        if !at.eq_ignore_ascii_case(v.reference.as_bytes()) {
            p.status = Status::RefMismatch(String::from_utf8_lossy(at).to_ascii_uppercase());
            prepared.push(p);
            continue;
        }
        let overlapping = genes.overlapping(&v.chrom, v.pos);
        let areas: Vec<Area> = if overlapping.is_empty() {
            vec![
                Area::Intergenic(Strand::Plus),
                Area::Intergenic(Strand::Minus),
            ]
        } else {
            overlapping.into_iter().map(Area::Gene).collect()
        };
        for area in areas {
            let keep = match (&area, opts.outside) {
                (Area::Gene(g), false) => Some((g.start as i64 - 1, g.end as i64 - 1)),
                _ => None,
            };
            let minus = area.strand() == Strand::Minus;
            let key = TrackKey {
                contig: contig.clone(),
                minus,
                keep,
            };
            let bases: Vec<u8> = alt.bytes().map(|b| b.to_ascii_uppercase()).collect();
            let alt_source = if substitute && bases.len() == v.reference.len() {
                Alt::Substitution
            } else {
                let mut x = masked(&seq, start, keep);
                x.splice(w as usize..(w + r) as usize, bases.iter().copied());
                if minus {
                    x = reverse_complement(&x, Alphabet::Dna)?;
                }
                windows.push(Window {
                    id: format!("{}:{}:{}>{alt}", v.chrom, v.pos, v.reference),
                    chrom: contig.clone(),
                    start,
                    end: start + x.len() as i64,
                    seq: x,
                });
                Alt::Window(windows.len() - 1)
            };
            jobs.push(Job {
                allele: i,
                area,
                key,
                first: start + FLANK as i64,
                positions: (len - 2 * FLANK as i64) as usize,
                alt: alt_source,
                at: v.pos as i64 - 1,
                bases,
            });
        }
        prepared.push(p);
    }

    // Reference passes: per track key, the jobs' positions grouped into segments (a job
    // always lies inside one segment), each predicted as one long input.
    let mut needs: Vec<usize> = (0..jobs.len()).collect();
    needs.sort_by(|&x, &y| (&jobs[x].key, jobs[x].first).cmp(&(&jobs[y].key, jobs[y].first)));
    // (key, first position, end, window index, substitutions), and each job's segment
    let mut segments: Vec<(&TrackKey, i64, i64, usize, usize)> = Vec::new();
    let mut segment_of = vec![0usize; jobs.len()];
    for &ji in &needs {
        let j = &jobs[ji];
        let (a, b) = (j.first, j.first + j.positions as i64);
        let sub = usize::from(matches!(j.alt, Alt::Substitution));
        match segments.last_mut() {
            Some(last)
                if *last.0 == j.key
                    && a <= last.2 + REF_MERGE_GAP
                    && b - last.1 <= REF_SEGMENT
                    && last.4 + sub <= MAX_SUBSTITUTIONS =>
            {
                last.2 = last.2.max(b);
                last.4 += sub;
            }
            _ => segments.push((&j.key, a, b, 0, sub)),
        }
        segment_of[ji] = segments.len() - 1;
    }
    // A segment with substitutions is predicted with them (below); the others batch with
    // the ALT windows.
    let mut substituted: Vec<Window> = Vec::new();
    for seg in &mut segments {
        let (key, s, e) = (seg.0, seg.1, seg.2);
        let (from, to) = (s - FLANK as i64, e + FLANK as i64);
        let mut x = masked(&genome.fetch(&key.contig, from, to)?, from, key.keep);
        if key.minus {
            x = reverse_complement(&x, Alphabet::Dna)?;
        }
        let window = Window {
            id: format!("reference {}:{}-{}", key.contig, s + 1, e),
            chrom: key.contig.clone(),
            start: from,
            end: to,
            seq: x,
        };
        if seg.4 > 0 {
            substituted.push(window);
            seg.3 = substituted.len() - 1;
        } else {
            windows.push(window);
            seg.3 = windows.len() - 1;
        }
    }

    // One model run over every window, longest first so equal lengths batch together.
    let mut order: Vec<usize> = (0..windows.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(windows[i].seq.len()));
    let sorted: Vec<Window> = order.iter().map(|&i| windows[i].clone()).collect();
    drop(windows);
    let popts = PredictOptions {
        batch_size: opts.batch_size.max(1),
        ..Default::default()
    };
    let profiles = model
        .predict_profiles_async(&sorted, &popts, progress)
        .await?;
    let mut tracks: Vec<Option<crate::model::Track>> = vec![None; sorted.len()];
    for (t, &i) in profiles.tracks.into_iter().zip(&order) {
        tracks[i] = Some(t);
    }
    // Acceptor and donor rows in genome order (a minus-strand window was
    // reverse-complemented, so its positions run backwards).
    let genome_order = |t: &crate::model::Track, minus: bool| -> (Vec<f32>, Vec<f32>) {
        let (mut acc, mut don) = (t.class(1).to_vec(), t.class(2).to_vec());
        if minus {
            acc.reverse();
            don.reverse();
        }
        (acc, don)
    };
    let predicted = |i: usize| tracks[i].as_ref().expect("every window was predicted");
    let mut references: Vec<(Vec<f32>, Vec<f32>)> = Vec::with_capacity(segments.len());
    // each substitution job's ALT rows, in genome order
    let mut substitutions: Vec<Option<(Vec<f32>, Vec<f32>)>> = vec![None; jobs.len()];
    for (k, &(key, s, e, wi, subs)) in segments.iter().enumerate() {
        if subs == 0 {
            references.push(genome_order(predicted(wi), key.minus));
            continue;
        }
        let window = &substituted[wi];
        let (from, to) = (window.start, window.end);
        let members: Vec<usize> = (0..jobs.len())
            .filter(|&ji| segment_of[ji] == k && matches!(jobs[ji].alt, Alt::Substitution))
            .collect();
        let subs: Vec<(usize, Vec<u8>, (usize, usize))> = members
            .iter()
            .map(|&ji| {
                let j = &jobs[ji];
                let n = j.bases.len() as i64;
                let (lo, hi) = (j.first - s, j.first - s + j.positions as i64);
                Ok(if key.minus {
                    // positions mirror in the reverse-complemented window
                    (
                        (to - j.at - n) as usize,
                        reverse_complement(&j.bases, Alphabet::Dna)?,
                        ((e - s - hi) as usize, (e - s - lo) as usize),
                    )
                } else {
                    (
                        (j.at - from) as usize,
                        j.bases.clone(),
                        (lo as usize, hi as usize),
                    )
                })
            })
            .collect::<Result<_, crate::Error>>()?;
        let (reference, edited) = model
            .predict_substitutions(window, &subs, &popts)?
            .expect("substitutions are planned only on the engine");
        references.push(genome_order(&reference, key.minus));
        for (&ji, values) in members.iter().zip(edited) {
            let positions = jobs[ji].positions;
            let t = crate::model::Track {
                id: String::new(),
                chrom: String::new(),
                start: 0,
                positions,
                values,
            };
            substitutions[ji] = Some(genome_order(&t, key.minus));
        }
    }

    let mut by_allele: Vec<Vec<Annotation>> = vec![Vec::new(); block.len()];
    for (ji, j) in jobs.iter().enumerate() {
        let (v, alt) = block[j.allele];
        let (alt_acc, alt_don) = match j.alt {
            Alt::Window(i) => genome_order(predicted(i), j.key.minus),
            Alt::Substitution => substitutions[ji]
                .take()
                .expect("predicted with its segment"),
        };
        let k = segment_of[ji];
        let lo = (j.first - segments[k].1) as usize;
        let hi = lo + j.positions;
        let ref_acc = references[k].0[lo..hi].to_vec();
        let ref_don = references[k].1[lo..hi].to_vec();
        let (r, a) = (v.reference.len(), alt.len());
        let alt_acc = align(alt_acc, d as usize, r, a);
        let alt_don = align(alt_don, d as usize, r, a);
        let mut dacc: Vec<f32> = alt_acc.iter().zip(&ref_acc).map(|(x, y)| x - y).collect();
        let mut ddon: Vec<f32> = alt_don.iter().zip(&ref_don).map(|(x, y)| x - y).collect();
        if opts.mask {
            let (acceptors, donors): (&[u64], &[u64]) = match &j.area {
                Area::Gene(g) => (g.acceptors(), g.donors()),
                Area::Intergenic(_) => (&[], &[]),
            };
            mask_deltas(&mut dacc, acceptors, j.first);
            mask_deltas(&mut ddon, donors, j.first);
        }
        let (ds_ag, dp_ag) = arg_best(&dacc, 1.0);
        let (ds_al, dp_al) = arg_best(&dacc, -1.0);
        let (ds_dg, dp_dg) = arg_best(&ddon, 1.0);
        let (ds_dl, dp_dl) = arg_best(&ddon, -1.0);
        let name = match &j.area {
            Area::Gene(g) => g.id.clone(),
            Area::Intergenic(s) => s.symbol().to_string(),
        };
        by_allele[j.allele].push(Annotation {
            gene: name,
            strand: j.area.strand(),
            ds_ag,
            ds_al,
            ds_dg,
            ds_dl,
            dp_ag: dp_ag as i64 - d,
            dp_al: dp_al as i64 - d,
            dp_dg: dp_dg as i64 - d,
            dp_dl: dp_dl as i64 - d,
            tracks: opts.include_tracks.then(|| Tracks {
                start: (j.first + 1) as u64,
                ref_acceptor: ref_acc,
                ref_donor: ref_don,
                alt_acceptor: alt_acc,
                alt_donor: alt_don,
            }),
        });
    }
    Ok(block
        .iter()
        .zip(prepared)
        .zip(by_allele)
        .map(|((&(v, alt), p), annotations)| AlleleScore {
            chrom: v.chrom.clone(),
            pos: v.pos,
            id: v.id.clone(),
            reference: v.reference.clone(),
            alt: alt.to_string(),
            line: v.line,
            status: p.status,
            padded: p.padded,
            annotations,
        })
        .collect())
}

/// ALT's track aligned to REF's positions, as cispliceai aligns indels: after the first
/// `d` positions, a deletion's `r - a` missing positions are zeros, and an insertion's
/// `a - r + 1` positions from `d` on collapse to their maximum.
fn align(alt: Vec<f32>, d: usize, r: usize, a: usize) -> Vec<f32> {
    use std::cmp::Ordering;
    match r.cmp(&a) {
        Ordering::Equal => alt,
        Ordering::Greater => {
            let mut out = alt[..d].to_vec();
            out.resize(d + (r - a), 0.0);
            out.extend_from_slice(&alt[d..]);
            out
        }
        Ordering::Less => {
            let span = a - r + 1;
            let mut out = alt[..d].to_vec();
            out.push(
                alt[d..d + span]
                    .iter()
                    .copied()
                    .fold(f32::NEG_INFINITY, f32::max),
            );
            out.extend_from_slice(&alt[d + span..]);
            out
        }
    }
}

/// cispliceai's `--mask`: at annotated sites gains become 0, elsewhere losses do. `first`
/// is the 0-based genome position of index 0; `sites` are 1-based.
fn mask_deltas(delta: &mut [f32], sites: &[u64], first: i64) {
    let mut at_site = vec![false; delta.len()];
    for &s in sites {
        let i = s as i64 - 1 - first;
        if (0..delta.len() as i64).contains(&i) {
            at_site[i as usize] = true;
        }
    }
    for (v, &site) in delta.iter_mut().zip(&at_site) {
        let loss = *v < 0.0;
        if loss != site {
            *v = 0.0;
        }
    }
}

/// The largest `sign * delta` and its first index, as `np.max` and `np.argmax` give them
/// (a loss is cispliceai's `-np.min(delta)`, the largest `-delta`).
fn arg_best(delta: &[f32], sign: f32) -> (f32, usize) {
    let mut best = (f32::NEG_INFINITY, 0);
    for (i, &v) in delta.iter().enumerate() {
        let s = sign * v;
        if s > best.0 {
            best = (s, i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indels_align_as_cispliceai() {
        // deletion of 2 (r 3, a 1), d = 2: zeros after the first two positions
        assert_eq!(
            align(vec![1., 2., 3., 4.], 2, 3, 1),
            [1., 2., 0., 0., 3., 4.]
        );
        // insertion of 2 (r 1, a 3), d = 1: positions 1..4 collapse to their max
        assert_eq!(
            align(vec![1., 5., 2., 7., 3., 4.], 1, 1, 3),
            [1., 7., 3., 4.]
        );
        assert_eq!(align(vec![1., 2.], 1, 2, 2), [1., 2.]);
    }

    #[test]
    fn mask_keeps_losses_at_sites_and_gains_elsewhere() {
        let mut d = vec![0.5, -0.5, 0.5, -0.5];
        // the site is 1-based genome position 12; first (0-based) = 10 -> index 1
        mask_deltas(&mut d, &[12, 99], 10);
        assert_eq!(d, [0.5, -0.5, 0.5, 0.0]);
    }

    #[test]
    fn scores_and_positions_take_the_first_extreme() {
        let d = [0.1, -0.3, 0.4, 0.4, -0.3];
        assert_eq!(arg_best(&d, 1.0), (0.4, 2));
        assert_eq!(arg_best(&d, -1.0), (0.3, 1));
        // all zeros: -0.0 as -np.min gives, at index 0
        let (s, i) = arg_best(&[0.0, 0.0], -1.0);
        assert_eq!((s.to_string(), i), ("-0".to_string(), 0));
    }
}
