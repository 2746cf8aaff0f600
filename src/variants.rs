//! Variant-effect scoring: for each allele of each VCF record, predict a window of the
//! reference genome centred on the variant and the same window carrying the alternate allele,
//! and compare the two (Selene/Kipoi-style `diff`, `abs_diff`, `log_odds`, `log2_fc`).
//!
//! Window layout (model length `L`, 0-based variant start `p`, REF length `r`, ALT length
//! `a`): each allele is centred in its own window, with `(L - len) / 2` bases of left flank
//! and the rest on the right. For SNVs and MNVs the two windows cover the same bases. For an
//! insertion the alternate window has `a - r` fewer flanking bases (about half from each
//! side); for a deletion it reads `r - a` more. Both windows always have length `L`.

use std::io::{BufRead, Seek};

use serde::{Deserialize, Serialize};

use crate::encode::Window;
use crate::io::{AlleleKind, IndexedFasta, Variant};
use crate::model::{Model, PredictOptions};

/// How an allele's predictions are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// alt - ref.
    Diff,
    /// |alt - ref|.
    AbsDiff,
    /// logit(alt) - logit(ref), with both clipped to [1e-6, 1 - 1e-6] (for probabilities).
    LogOdds,
    /// log2((alt + pseudocount) / (ref + pseudocount)) (for non-negative outputs).
    Log2Fc,
}

impl Score {
    /// Every score, in the order the CLI lists them.
    pub const ALL: [Score; 4] = [Score::Diff, Score::AbsDiff, Score::LogOdds, Score::Log2Fc];

    /// The name the CLI, the JSON and the TSV use.
    pub fn name(self) -> &'static str {
        match self {
            Score::Diff => "diff",
            Score::AbsDiff => "abs_diff",
            Score::LogOdds => "log_odds",
            Score::Log2Fc => "log2_fc",
        }
    }

    /// How the score is computed, for file headers.
    pub fn description(self) -> &'static str {
        match self {
            Score::Diff => "alt - ref",
            Score::AbsDiff => "|alt - ref|",
            Score::LogOdds => "logit(alt) - logit(ref), both clipped to [1e-6, 1 - 1e-6]",
            Score::Log2Fc => "log2((alt + pseudocount) / (ref + pseudocount))",
        }
    }

    /// The score named `s`, or an error naming the four.
    pub fn parse(s: &str) -> Result<Score, crate::Error> {
        Score::ALL
            .into_iter()
            .find(|x| x.name() == s)
            .ok_or_else(|| {
                crate::Error::Invalid(format!(
                    "unknown score '{s}'; expected one of diff, abs_diff, log_odds, log2_fc"
                ))
            })
    }

    /// The score of one label from its reference and alternate predictions.
    pub fn apply(self, reference: f32, alt: f32, pseudocount: f32) -> f32 {
        const EPS: f32 = 1e-6;
        let logit = |p: f32| {
            let p = p.clamp(EPS, 1.0 - EPS);
            (p / (1.0 - p)).ln()
        };
        match self {
            Score::Diff => alt - reference,
            Score::AbsDiff => (alt - reference).abs(),
            Score::LogOdds => logit(alt) - logit(reference),
            Score::Log2Fc => ((alt + pseudocount) / (reference + pseudocount)).log2(),
        }
    }
}

/// Options for [`score_variants`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct VariantOptions {
    /// The scores computed, in this order.
    pub scores: Vec<Score>,
    /// Added to both predictions before `log2_fc`.
    pub pseudocount: f32,
    /// Batch size, strand averaging (`rc_average`) and the unknown-character policy.
    pub predict: PredictOptions,
    /// Keep each allele's reference and alternate window sequences in the result (for
    /// explaining them afterwards, as the www page's ref-vs-alt logos do).
    pub include_sequences: bool,
}

impl Default for VariantOptions {
    fn default() -> Self {
        VariantOptions {
            scores: vec![Score::Diff, Score::LogOdds],
            pseudocount: 1e-6,
            predict: PredictOptions::default(),
            include_sequences: false,
        }
    }
}

/// Whether an allele could be scored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "detail")]
pub enum Status {
    /// Scored.
    Ok,
    /// The REF column differs from the genome, which holds these bases.
    RefMismatch(String),
    /// The reference FASTA has no such contig.
    UnknownContig,
    /// A symbolic, missing or non-sequence ALT (`<DEL>`, `*`, `.`), left unscored.
    #[serde(rename = "symbolic_allele")]
    Symbolic,
    /// REF or ALT is longer than the model's input.
    #[serde(rename = "allele_too_long")]
    TooLong(usize),
    /// REF or ALT has letters other than A, C, G, T, N (IUPAC ambiguity codes).
    InvalidAllele,
    /// REF reaches past the end of the contig, which has this length.
    BeyondContig(u64),
}

impl Status {
    /// The status as the JSON and the TSV write it.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::RefMismatch(_) => "ref_mismatch",
            Status::UnknownContig => "unknown_contig",
            Status::Symbolic => "symbolic_allele",
            Status::TooLong(_) => "allele_too_long",
            Status::InvalidAllele => "invalid_allele",
            Status::BeyondContig(_) => "beyond_contig",
        }
    }

    /// A sentence for logs and tables.
    pub fn message(&self, v: &Variant) -> String {
        match self {
            Status::Ok => String::new(),
            Status::RefMismatch(g) => format!(
                "line {}: REF {} at {}:{} does not match the reference genome ({g})",
                v.line, v.reference, v.chrom, v.pos
            ),
            Status::UnknownContig => format!(
                "line {}: contig '{}' is not in the reference genome",
                v.line, v.chrom
            ),
            Status::Symbolic => format!("line {}: symbolic or missing ALT allele", v.line),
            Status::TooLong(l) => format!(
                "line {}: allele longer than the model's {l}-bp input",
                v.line
            ),
            Status::InvalidAllele => format!(
                "line {}: REF {} or ALT has letters other than A, C, G, T, N (IUPAC codes are \
                 not scored)",
                v.line, v.reference
            ),
            Status::BeyondContig(len) => format!(
                "line {}: REF {} at {}:{} reaches past the end of the contig ({len} bases)",
                v.line, v.reference, v.chrom, v.pos
            ),
        }
    }
}

/// One ALT allele of one VCF record (multi-allelic records are split), with its predictions
/// and scores when `status` is `Ok`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlleleEffect {
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
    /// Predictions for the reference and alternate windows, one per label (empty unless ok).
    pub ref_pred: Vec<f32>,
    /// Predictions for the alternate window, one per label (empty unless ok).
    pub alt_pred: Vec<f32>,
    /// `[score][label]`, in the order of `VariantOptions::scores` (empty unless ok).
    pub scores: Vec<Vec<f32>>,
    /// The reference and alternate windows, when asked for (`include_sequences`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub windows: Option<[String; 2]>,
    /// Where the reference and the alternate allele start in their windows (0-based), with
    /// `windows`: a figure of the two windows marks the variant there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allele_at: Option<[usize; 2]>,
}

/// The reference and alternate windows for one allele, or why there are none.
pub fn allele_windows<R: BufRead + Seek>(
    genome: &mut IndexedFasta<R>,
    v: &Variant,
    alt: &str,
    length: usize,
) -> Result<Result<(Window, Window), Status>, crate::Error> {
    let Some(contig_len) = genome.length(&v.chrom) else {
        return Ok(Err(Status::UnknownContig));
    };
    match (AlleleKind::of(alt), AlleleKind::of(&v.reference)) {
        (AlleleKind::Symbolic, _) | (_, AlleleKind::Symbolic) => return Ok(Err(Status::Symbolic)),
        (AlleleKind::Ambiguous, _) | (_, AlleleKind::Ambiguous) => {
            return Ok(Err(Status::InvalidAllele));
        }
        _ => {}
    }
    let (r, a) = (v.reference.len(), alt.len());
    if v.pos == 0 || v.pos - 1 + r as u64 > contig_len {
        return Ok(Err(Status::BeyondContig(contig_len)));
    }
    if r > length || a > length {
        return Ok(Err(Status::TooLong(length)));
    }
    let p = v.pos as i64 - 1;
    let found = genome.fetch(&v.chrom, p, p + r as i64)?;
    if !found.eq_ignore_ascii_case(v.reference.as_bytes()) {
        return Ok(Err(Status::RefMismatch(
            String::from_utf8_lossy(&found).into_owned(),
        )));
    }
    let left_r = ((length - r) / 2) as i64;
    let ref_seq = genome.fetch(&v.chrom, p - left_r, p - left_r + length as i64)?;
    let left_a = (length - a) / 2;
    let right_a = length - a - left_a;
    let mut alt_seq = genome.fetch(&v.chrom, p - left_a as i64, p)?;
    alt_seq.extend_from_slice(alt.as_bytes());
    let after = p + r as i64;
    alt_seq.extend(genome.fetch(&v.chrom, after, after + right_a as i64)?);
    let name = format!(
        "{}:{}:{}>{alt}",
        v.id.as_deref().unwrap_or(&v.chrom),
        v.pos,
        v.reference
    );
    let window = |suffix: &str, start: i64, seq: Vec<u8>| Window {
        id: format!("{name}:{suffix}"),
        chrom: v.chrom.clone(),
        start,
        end: start + length as i64,
        seq,
    };
    Ok(Ok((
        window("ref", p - left_r, ref_seq),
        window("alt", p - left_a as i64, alt_seq),
    )))
}

/// How many alleles are predicted together (2 windows each).
const CHUNK: usize = 1024;

/// How [`score_variants`] cuts `variants` into the record ranges it predicts together:
/// whole records, about [`CHUNK`] alleles each (a record with more is a chunk of its own).
/// A shard of a job is a run of these (`shard`), so it batches as the whole job does.
pub fn chunks(variants: &[Variant]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut alleles) = (0, 0);
    for (i, v) in variants.iter().enumerate() {
        let n = v.alts.len().max(1);
        if alleles > 0 && alleles + n > CHUNK {
            out.push(start..i);
            (start, alleles) = (i, 0);
        }
        alleles += n;
    }
    if start < variants.len() {
        out.push(start..variants.len());
    }
    out
}

/// Scores every ALT allele of `variants` against `genome`. `progress(done, total)` counts
/// alleles; returning `false` cancels. An allele that cannot be scored (REF mismatch,
/// unknown contig, symbolic ALT) gets a row with its status; if no allele at all is on a
/// contig the genome has, that is an error, since the files do not belong together.
/// Blocking (native only; the browser awaits [`score_variants_async`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn score_variants<R: BufRead + Seek>(
    model: &Model,
    variants: &[Variant],
    genome: &mut IndexedFasta<R>,
    opts: &VariantOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<AlleleEffect>, crate::Error> {
    crate::blocking::block_on(score_variants_async(
        model, variants, genome, opts, progress,
    ))
}

/// [`score_variants`] on the model's selected backend, awaiting GPU readbacks.
pub async fn score_variants_async<R: BufRead + Seek>(
    model: &Model,
    variants: &[Variant],
    genome: &mut IndexedFasta<R>,
    opts: &VariantOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Vec<AlleleEffect>, crate::Error> {
    let length = model.metadata().length.ok_or_else(|| {
        crate::Error::Invalid(
            "variant scoring needs a fixed input length: the model does not declare one (set \
             seqlens.length)"
                .into(),
        )
    })?;
    let alleles_of = |v: &'_ Variant| v.alts.len().max(1);
    let total: usize = variants.iter().map(alleles_of).sum();
    let mut rows = Vec::with_capacity(total);
    for records in chunks(variants) {
        let chunk: Vec<(&Variant, &str)> = variants[records]
            .iter()
            .flat_map(|v| v.alleles().into_iter().map(move |a| (v, a)))
            .collect();
        let mut windows = Vec::new();
        let mut statuses = Vec::with_capacity(chunk.len());
        let mut sequences = Vec::with_capacity(chunk.len());
        for &(v, alt) in &chunk {
            let s = match allele_windows(genome, v, alt, length)? {
                Ok((r, a)) => {
                    let text = |w: &Window| String::from_utf8_lossy(&w.seq).into_owned();
                    // the allele starts at the variant's position in both windows
                    let at = |w: &Window| (v.pos as i64 - 1 - w.start) as usize;
                    sequences.push(
                        opts.include_sequences
                            .then(|| ([text(&r), text(&a)], [at(&r), at(&a)])),
                    );
                    windows.push(r);
                    windows.push(a);
                    Status::Ok
                }
                Err(s) => {
                    sequences.push(None);
                    s
                }
            };
            statuses.push(s);
        }
        let done = rows.len();
        let mut report = |d: usize, _| progress(done + d / 2, total);
        let preds = model
            .predict_windows_async(windows, &opts.predict, &mut report)
            .await?;
        let mut next = 0;
        for ((&(v, alt), status), seqs) in chunk.iter().zip(statuses).zip(sequences) {
            let (ref_pred, alt_pred, scores) = if status == Status::Ok {
                let r = preds.row(next).to_vec();
                let a = preds.row(next + 1).to_vec();
                next += 2;
                let s = opts
                    .scores
                    .iter()
                    .map(|sc| {
                        r.iter()
                            .zip(&a)
                            .map(|(&r, &a)| sc.apply(r, a, opts.pseudocount))
                            .collect()
                    })
                    .collect();
                (r, a, s)
            } else {
                Default::default()
            };
            let (windows, allele_at) = seqs.map_or((None, None), |(w, at)| (Some(w), Some(at)));
            rows.push(AlleleEffect {
                chrom: v.chrom.clone(),
                pos: v.pos,
                id: v.id.clone(),
                reference: v.reference.clone(),
                alt: alt.to_string(),
                line: v.line,
                status,
                ref_pred,
                alt_pred,
                scores,
                windows,
                allele_at,
            });
        }
        if !progress(rows.len(), total) {
            return Err(crate::Error::Invalid("cancelled".into()));
        }
    }
    if !rows.is_empty() && rows.iter().all(|r| r.status == Status::UnknownContig) {
        let mut vcf: Vec<&str> = variants.iter().map(|v| v.chrom.as_str()).collect();
        vcf.dedup();
        let genome_names: Vec<String> = genome.contigs().into_iter().map(|c| c.0).collect();
        return Err(crate::Error::Invalid(format!(
            "none of the VCF's contigs ({}) are in the reference genome ({}); is this the \
             right reference?",
            vcf.iter().take(10).copied().collect::<Vec<_>>().join(", "),
            genome_names
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(rows)
}

/// The effects as TSV: one row per allele; per label, the two predictions and each score.
pub fn to_tsv(rows: &[AlleleEffect], labels: &[String], scores: &[Score]) -> String {
    let mut out = String::from("chrom\tpos\tid\tref\talt\tstatus");
    for l in labels {
        out.push_str(&format!("\t{l}:ref\t{l}:alt"));
        for s in scores {
            out.push_str(&format!("\t{l}:{}", s.name()));
        }
    }
    out.push('\n');
    for r in rows {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            r.chrom,
            r.pos,
            r.id.as_deref().unwrap_or("."),
            r.reference,
            r.alt,
            r.status.name()
        ));
        for i in 0..labels.len() {
            if r.status == Status::Ok {
                out.push_str(&format!("\t{}\t{}", r.ref_pred[i], r.alt_pred[i]));
                for s in &r.scores {
                    out.push_str(&format!("\t{}", s[i]));
                }
            } else {
                out.push_str(&"\t".repeat(2 + scores.len()));
            }
        }
        out.push('\n');
    }
    out
}

/// The effects as JSON: `{labels, scores, variants: [...]}`.
pub fn to_json(rows: &[AlleleEffect], labels: &[String], scores: &[Score]) -> String {
    serde_json::json!({ "labels": labels, "scores": scores, "variants": rows }).to_string()
}

/// The INFO key of the status of each allele in [`write_vcf`]'s output.
pub const STATUS_KEY: &str = "SEQLENS_STATUS";

/// The INFO key of `score` for `label` in [`write_vcf`]'s output: `SEQLENS_<SCORE>_<label>`,
/// with each character a key cannot hold (VCF 4.3 allows letters, digits, `_` and `.`)
/// written as `_`.
pub fn info_key(score: Score, label: &str) -> String {
    let label: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("SEQLENS_{}_{label}", score.name().to_ascii_uppercase())
}

/// Writes `vcf` with the effects `rows` (one per ALT allele, in record order, as
/// [`score_variants`] returns them) added as INFO fields, through noodles' VCF writer:
/// [`STATUS_KEY`] (Number=A, String: ok, ref_mismatch, ...) and one Float field per score and
/// label ([`info_key`]; Number=A, missing for an allele that was not scored). Fields of those
/// names in the input are replaced; every other column is kept. A record without an ALT
/// allele gets no fields.
pub fn write_vcf(
    out: &mut dyn std::io::Write,
    vcf: &crate::io::VcfFile,
    rows: &[AlleleEffect],
    labels: &[String],
    scores: &[Score],
) -> Result<(), crate::Error> {
    use noodles::vcf::header::record::value::{
        Map,
        map::{
            Info,
            info::{Number, Type},
        },
    };
    use noodles::vcf::variant::io::Write as _;
    use noodles::vcf::variant::record_buf::info::field::{Value, value::Array};

    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        crate::Error::Invalid(format!("writing the scored VCF: {what}: {e}"))
    };
    let mut text = vcf.header.join("\n");
    text.push('\n');
    let mut header: noodles::vcf::Header = text.parse().map_err(|e| invalid("its header", &e))?;
    // One key per (score, label); two labels that differ only in the characters a key
    // cannot hold would share one, and their values would be lost.
    let mut keys: Vec<(Score, usize, String)> = Vec::new();
    for &s in scores {
        for (i, l) in labels.iter().enumerate() {
            let key = info_key(s, l);
            if let Some((_, j, _)) = keys.iter().find(|(_, _, k)| *k == key) {
                return Err(crate::Error::Invalid(format!(
                    "labels '{}' and '{l}' both become the VCF INFO key {key}; rename one \
                     (seqlens.labels)",
                    labels[*j]
                )));
            }
            keys.push((s, i, key));
        }
    }
    let infos = header.infos_mut();
    infos.insert(
        STATUS_KEY.into(),
        Map::<Info>::new(
            Number::A,
            Type::String,
            "seqlens: whether the ALT allele was scored (ok, ref_mismatch, unknown_contig, \
             symbolic_allele, allele_too_long, invalid_allele, beyond_contig)",
        ),
    );
    for (s, i, key) in &keys {
        infos.insert(
            key.as_str().into(),
            Map::<Info>::new(
                Number::A,
                Type::Float,
                format!(
                    "seqlens {} of {} ({})",
                    s.name(),
                    labels[*i],
                    s.description()
                ),
            ),
        );
    }
    for line in &vcf.lines {
        text.push_str(line);
        text.push('\n');
    }
    let mut reader = noodles::vcf::io::Reader::new(text.as_bytes());
    reader
        .read_header()
        .map_err(|e| invalid("its header", &e))?;
    let mut writer = noodles::vcf::io::Writer::new(out);
    writer
        .write_header(&header)
        .map_err(|e| invalid("the header", &e))?;
    let mut next = 0;
    for (record, v) in reader.record_bufs(&header).zip(&vcf.variants) {
        let mut record = record.map_err(|e| invalid(&format!("line {}", v.line), &e))?;
        let n = v.alts.len().max(1);
        let alleles = rows.get(next..next + n).unwrap_or_default();
        if alleles.len() != n || alleles.iter().any(|a| a.line != v.line) {
            return Err(crate::Error::Invalid(format!(
                "writing the scored VCF: line {} has {n} ALT alleles but the scores do not \
                 follow the records",
                v.line
            )));
        }
        next += n;
        if !v.alts.is_empty() {
            let info = record.info_mut();
            let status = alleles
                .iter()
                .map(|a| Some(a.status.name().to_string()))
                .collect();
            info.insert(STATUS_KEY.into(), Some(Value::Array(Array::String(status))));
            for (s, l, key) in &keys {
                let k = scores.iter().position(|x| x == s).unwrap_or(0);
                let values = alleles
                    .iter()
                    .map(|a| a.scores.get(k).and_then(|row| row.get(*l)).copied())
                    .collect();
                info.insert(key.clone(), Some(Value::Array(Array::Float(values))));
            }
        }
        writer
            .write_variant_record(&header, &record)
            .map_err(|e| invalid(&format!("line {}", v.line), &e))?;
    }
    Ok(())
}
