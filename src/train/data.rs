//! Labelled training data, read through `io`: FASTA with labels in the header or in a TSV
//! beside it, a pair of positive and negative FASTA files, or BED intervals with label
//! columns plus an indexed reference.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, Seek};

use rand::seq::SliceRandom;

use crate::io::{self, IndexedFasta, SeqRecord};

/// Sequences with one row of targets each (`targets` is row-major `[len, labels]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Each sequence's name.
    pub ids: Vec<String>,
    /// The bases.
    pub seqs: Vec<Vec<u8>>,
    /// The contig of each sequence, for chromosome splits (BED data).
    pub chroms: Vec<Option<String>>,
    /// An explicit group of each sequence (a TSV column or BED names): a split keeps a
    /// group's sequences together. Empty, or one entry per sequence.
    pub groups: Vec<Option<String>>,
    /// One name per target column.
    pub labels: Vec<String>,
    /// Row-major `[sequences, labels]`.
    pub targets: Vec<f32>,
}

/// One BED row as training data reads it.
struct BedRow {
    line: usize,
    chrom: String,
    start: u64,
    end: u64,
    /// The 4th column where it is not a number, else `chrom:start-end`.
    name: String,
    /// The row's group (its name), when grouping by name.
    group: Option<String>,
    /// Numeric columns after the coordinates and name.
    values: Vec<f32>,
}

impl BedRow {
    /// The start of the input window of `length` centred on the interval.
    fn window(&self, length: usize) -> i64 {
        (self.start + self.end) as i64 / 2 - length as i64 / 2
    }
}

struct BedRows {
    rows: Vec<BedRow>,
    /// The last `#` line's columns.
    header: Option<Vec<String>>,
}

/// Parses BED text for training (see [`Dataset::from_bed`]).
fn bed_rows(bed_text: &str, bed_name: &str, group_by_name: bool) -> Result<BedRows, io::Error> {
    let mut out = BedRows {
        rows: Vec::new(),
        header: None,
    };
    for (n, line) in bed_text.lines().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() || line.starts_with("track") || line.starts_with("browser") {
            continue;
        }
        if let Some(h) = line.strip_prefix('#') {
            out.header = Some(h.split('\t').map(str::to_string).collect());
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let iv = io::read_bed(
            format!("{}\n", f[..3.min(f.len())].join("\t")).as_bytes(),
            bed_name,
        )
        .map_err(|e| bad(bed_name, format!("line {n}"), e))?;
        let iv = iv
            .first()
            .ok_or_else(|| bad(bed_name, format!("line {n}"), "expected chrom, start, end"))?;
        let mut rest = &f[3..];
        let mut group = None;
        let name = match rest.first() {
            Some(s) if s.parse::<f32>().is_err() => {
                rest = &rest[1..];
                if group_by_name {
                    group = Some(s.to_string());
                }
                s.to_string()
            }
            _ if group_by_name => {
                return Err(bad(
                    bed_name,
                    format!("line {n}"),
                    "grouping by BED name, but the row has no name column (4th, non-numeric)",
                ));
            }
            _ => format!("{}:{}-{}", iv.chrom, iv.start, iv.end),
        };
        let values: Result<Vec<f32>, _> = rest.iter().map(|v| v.trim().parse::<f32>()).collect();
        let values = values.map_err(|_| {
            bad(
                bed_name,
                format!("line {n}"),
                format!("expected numeric label columns, found {rest:?}"),
            )
        })?;
        out.rows.push(BedRow {
            line: n,
            chrom: iv.chrom.clone(),
            start: iv.start,
            end: iv.end,
            name,
            group,
            values,
        });
    }
    Ok(out)
}

fn bad(file: &str, location: String, message: impl ToString) -> io::Error {
    io::Error::Parse {
        file: file.to_string(),
        location,
        message: message.to_string(),
    }
}

impl Dataset {
    /// Sequences held.
    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.seqs.is_empty()
    }

    /// The targets of sequence `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        let k = self.labels.len();
        &self.targets[i * k..(i + 1) * k]
    }

    /// The rows at `idx`, in that order.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let k = self.labels.len();
        Dataset {
            ids: idx.iter().map(|&i| self.ids[i].clone()).collect(),
            seqs: idx.iter().map(|&i| self.seqs[i].clone()).collect(),
            chroms: idx.iter().map(|&i| self.chroms[i].clone()).collect(),
            groups: if self.groups.is_empty() {
                Vec::new()
            } else {
                idx.iter().map(|&i| self.groups[i].clone()).collect()
            },
            labels: self.labels.clone(),
            targets: idx
                .iter()
                .flat_map(|&i| self.targets[i * k..(i + 1) * k].to_vec())
                .collect(),
        }
    }

    /// FASTA records whose descriptions hold the targets: `>id 1 0 1` (whitespace or comma
    /// separated numbers), with `labels` naming the columns (default `label_0..`).
    pub fn from_headers(
        records: Vec<SeqRecord>,
        labels: Option<Vec<String>>,
        file: &str,
    ) -> Result<Dataset, io::Error> {
        let mut d = Dataset::default();
        for (i, r) in records.into_iter().enumerate() {
            let desc = r.description.clone().unwrap_or_default();
            let vals: Result<Vec<f32>, _> = desc
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .map(str::parse::<f32>)
                .collect();
            let vals = vals.map_err(|_| {
                bad(
                    file,
                    format!("record {} ('{}')", i + 1, r.id),
                    format!("expected numeric labels after the name, found {desc:?}"),
                )
            })?;
            d.push(r.id, r.seq, None, &vals, file)?;
        }
        d.labels = labels.unwrap_or_else(|| (0..d.width()).map(|i| format!("label_{i}")).collect());
        d.check_width(file)?;
        Ok(d)
    }

    /// FASTA records and a TSV of targets: a header `id<TAB>label...`, then one row per id.
    /// `group_column` names a column that holds each sequence's group instead of a target.
    pub fn from_tsv<R: std::io::Read>(
        records: Vec<SeqRecord>,
        tsv: R,
        tsv_name: &str,
        group_column: Option<&str>,
    ) -> Result<Dataset, io::Error> {
        let text = {
            let mut s = String::new();
            std::io::Read::read_to_string(
                &mut io::decompress(tsv).map_err(|e| bad(tsv_name, "read".into(), e))?,
                &mut s,
            )
            .map_err(|e| bad(tsv_name, "read".into(), e))?;
            s
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, header) = lines
            .next()
            .ok_or_else(|| bad(tsv_name, "line 1".into(), "empty label table"))?;
        let mut labels: Vec<String> = header.split('\t').skip(1).map(str::to_string).collect();
        // The group column's index among the fields after the id.
        let group_at = match group_column {
            Some(g) => {
                let at = labels.iter().position(|l| l == g).ok_or_else(|| {
                    bad(
                        tsv_name,
                        "line 1".into(),
                        format!(
                            "no column named '{g}' (the group column); the header has {labels:?}"
                        ),
                    )
                })?;
                labels.remove(at);
                Some(at)
            }
            None => None,
        };
        if labels.is_empty() {
            return Err(bad(
                tsv_name,
                "line 1".into(),
                "expected a header: id<TAB>label1<TAB>label2...",
            ));
        }
        let mut table: HashMap<String, (Vec<f32>, Option<String>)> = HashMap::new();
        for (n, line) in lines {
            let mut f: Vec<&str> = line.split('\t').collect();
            let group = match group_at {
                Some(at) if at + 1 < f.len() => Some(f.remove(at + 1).trim().to_string()),
                Some(_) => {
                    return Err(bad(
                        tsv_name,
                        format!("line {}", n + 1),
                        format!("no value in the group column, found {line:?}"),
                    ));
                }
                None => None,
            };
            let vals: Result<Vec<f32>, _> =
                f[1..].iter().map(|v| v.trim().parse::<f32>()).collect();
            let vals = vals.map_err(|_| {
                bad(
                    tsv_name,
                    format!("line {}", n + 1),
                    format!("expected numbers, found {line:?}"),
                )
            })?;
            if vals.len() != labels.len() {
                return Err(bad(
                    tsv_name,
                    format!("line {}", n + 1),
                    format!("{} values for {} labels", vals.len(), labels.len()),
                ));
            }
            table.insert(f[0].to_string(), (vals, group));
        }
        let mut d = Dataset {
            labels,
            ..Default::default()
        };
        for r in records {
            let (vals, group) = table
                .get(&r.id)
                .ok_or_else(|| {
                    bad(
                        tsv_name,
                        "ids".into(),
                        format!("no labels for sequence '{}'", r.id),
                    )
                })?
                .clone();
            d.push(r.id, r.seq, None, &vals, tsv_name)?;
            if group_at.is_some() {
                d.groups.push(group);
            }
        }
        Ok(d)
    }

    /// Positives labelled 1 and negatives 0 under one label.
    pub fn from_pos_neg(pos: Vec<SeqRecord>, neg: Vec<SeqRecord>, label: &str) -> Dataset {
        let mut d = Dataset {
            labels: vec![label.to_string()],
            ..Default::default()
        };
        for (recs, y) in [(pos, 1.0), (neg, 0.0)] {
            for r in recs {
                d.ids.push(r.id);
                d.seqs.push(r.seq);
                d.chroms.push(None);
                d.targets.push(y);
            }
        }
        d
    }

    /// BED rows `chrom start end [name] value...`: numeric columns after the coordinates are
    /// targets (a non-numeric 4th column is the name). A `#` header line names the labels.
    /// Each interval is re-centred to `length` on the reference. With `group_by_name`, rows
    /// that share a name form a group that a split keeps together.
    pub fn from_bed<R: BufRead + Seek>(
        bed_text: &str,
        bed_name: &str,
        genome: &mut IndexedFasta<R>,
        length: usize,
        group_by_name: bool,
    ) -> Result<Dataset, crate::Error> {
        let mut d = Dataset::default();
        let rows = bed_rows(bed_text, bed_name, group_by_name)?;
        for row in &rows.rows {
            let seq = genome.fetch(
                &row.chrom,
                row.window(length),
                row.window(length) + length as i64,
            )?;
            d.push_row(row, seq, &row.values, bed_name)?;
        }
        let k = d.width();
        d.labels = match rows.header {
            Some(h) if h.len() >= k => h[h.len() - k..].to_vec(),
            _ => (0..k).map(|i| format!("label_{i}")).collect(),
        };
        Ok(d)
    }

    /// BED rows `chrom start end [name]` whose targets are the values of `signals` (one
    /// track each, e.g. the reads on each strand) at each of `positions` bases, starting
    /// `offset` bases into the input window of `length` centred on the interval: a profile
    /// model's targets, laid out as its output (track by track). Columns are named
    /// `<track>_<position>`, after `track_names`. Rows must not carry label columns.
    #[allow(clippy::too_many_arguments)]
    pub fn from_bed_signal<R: BufRead + Seek>(
        bed_text: &str,
        bed_name: &str,
        genome: &mut IndexedFasta<R>,
        length: usize,
        (offset, positions): (usize, usize),
        signals: &mut [io::Signal],
        track_names: &[String],
        group_by_name: bool,
    ) -> Result<Dataset, crate::Error> {
        if track_names.len() != signals.len() {
            return Err(crate::Error::Invalid(format!(
                "{} track names for {} signal tracks",
                track_names.len(),
                signals.len()
            )));
        }
        if offset + positions > length {
            return Err(crate::Error::Invalid(format!(
                "{positions} target positions from {offset} do not fit the input length {length}"
            )));
        }
        let mut d = Dataset::default();
        let rows = bed_rows(bed_text, bed_name, group_by_name)?;
        let mut targets = Vec::with_capacity(signals.len() * positions);
        for row in &rows.rows {
            if !row.values.is_empty() {
                return Err(bad(
                    bed_name,
                    format!("line {}", row.line),
                    "label columns are not read with signal tracks; the targets are the tracks' values",
                )
                .into());
            }
            let from = row.window(length);
            let seq = genome.fetch(&row.chrom, from, from + length as i64)?;
            targets.clear();
            let at = from + offset as i64;
            for s in signals.iter_mut() {
                targets.extend(s.values(&row.chrom, at, at + positions as i64)?);
            }
            d.push_row(row, seq, &targets, bed_name)?;
        }
        // A track without values on any interval's contig names its contigs otherwise
        // (`chr1` against `1`): refused rather than read as no reads anywhere.
        for s in signals.iter() {
            if !rows.rows.is_empty() && !rows.rows.iter().any(|r| s.knows(&r.chrom)) {
                return Err(crate::Error::Invalid(format!(
                    "{}: none of {bed_name}'s contigs (such as '{}') has values in the track \
                     (its contigs: {})",
                    s.name(),
                    rows.rows[0].chrom,
                    s.some_contigs()
                )));
            }
        }
        d.labels = track_names
            .iter()
            .flat_map(|t| (0..positions).map(move |j| format!("{t}_{j}")))
            .collect();
        Ok(d)
    }

    fn push_row(
        &mut self,
        row: &BedRow,
        seq: Vec<u8>,
        values: &[f32],
        file: &str,
    ) -> Result<(), io::Error> {
        if let Some(g) = &row.group {
            self.groups.push(Some(g.clone()));
        }
        self.push(row.name.clone(), seq, Some(row.chrom.clone()), values, file)
    }

    fn width(&self) -> usize {
        if self.seqs.is_empty() {
            0
        } else {
            self.targets.len() / self.seqs.len()
        }
    }

    fn push(
        &mut self,
        id: String,
        seq: Vec<u8>,
        chrom: Option<String>,
        vals: &[f32],
        file: &str,
    ) -> Result<(), io::Error> {
        if !self.seqs.is_empty() && vals.len() != self.width() {
            return Err(bad(
                file,
                format!("sequence '{id}'"),
                format!(
                    "{} labels, but earlier sequences have {}",
                    vals.len(),
                    self.width()
                ),
            ));
        }
        if vals.is_empty() {
            return Err(bad(file, format!("sequence '{id}'"), "no labels"));
        }
        self.ids.push(id);
        self.seqs.push(seq);
        self.chroms.push(chrom);
        self.targets.extend_from_slice(vals);
        Ok(())
    }

    fn check_width(&self, file: &str) -> Result<(), io::Error> {
        if self.labels.len() != self.width() {
            return Err(bad(
                file,
                "labels".into(),
                format!(
                    "{} label names for {} values per sequence",
                    self.labels.len(),
                    self.width()
                ),
            ));
        }
        Ok(())
    }
}

/// How validation and test data are held out of the training data.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Split {
    /// Random fractions of the groups (see [`groups`]), drawn with the split seed.
    Random {
        /// Fraction held out for validation.
        valid: f32,
        /// Fraction held out for testing.
        test: f32,
        /// Keep each class's share the same in every part (class targets only).
        #[serde(default)]
        stratify: bool,
    },
    /// Whole chromosomes (BED data): the rest trains.
    Chromosomes {
        /// Chromosomes held out for validation.
        valid: Vec<String>,
        /// Chromosomes held out for testing.
        test: Vec<String>,
    },
}

/// Rows that must stay in one part of a split, each listed in row order: identical sequences
/// (case-insensitive) always, and rows sharing an explicit group. Without this a duplicated
/// sequence can train and test at once, and the test score is inflated.
pub fn groups(d: &Dataset) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..d.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    // Each sequence (and group) maps to its first row; every row joins that row's set.
    let mut first_seq: HashMap<Cow<[u8]>, usize> = HashMap::new();
    let mut first_group: HashMap<&str, usize> = HashMap::new();
    for i in 0..d.len() {
        let by_seq = *first_seq.entry(seq_key(&d.seqs[i])).or_insert(i);
        let by_group = d
            .groups
            .get(i)
            .and_then(Option::as_deref)
            .map(|g| *first_group.entry(g).or_insert(i));
        for j in std::iter::once(by_seq).chain(by_group) {
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut index: HashMap<usize, usize> = HashMap::new();
    let mut out: Vec<Vec<usize>> = Vec::new();
    for i in 0..d.len() {
        let r = root(&mut parent, i);
        let k = *index.entry(r).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[k].push(i);
    }
    out
}

/// Each group's stratum: its most common row of targets, which must be class targets (0/1).
fn strata(d: &Dataset, groups: &[Vec<usize>]) -> Result<Vec<Vec<bool>>, String> {
    if let Some(i) = d.targets.iter().position(|&v| v != 0.0 && v != 1.0) {
        let k = d.labels.len().max(1);
        return Err(format!(
            "a stratified split needs class targets (0 or 1), but label '{}' of sequence '{}' is {}",
            d.labels.get(i % k).map_or("?", String::as_str),
            d.ids[i / k],
            d.targets[i]
        ));
    }
    Ok(groups
        .iter()
        .map(|rows| {
            let mut counts: Vec<(Vec<bool>, usize)> = Vec::new();
            for &r in rows {
                let key: Vec<bool> = d.row(r).iter().map(|&v| v == 1.0).collect();
                match counts.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => counts.push((key, 1)),
                }
            }
            // The first of the most common keeps ties deterministic.
            let best = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
            counts
                .into_iter()
                .find(|(_, n)| *n == best)
                .map(|(k, _)| k)
                .unwrap_or_default()
        })
        .collect())
}

/// The part (an index into `fractions`) of every row. Groups are shuffled with `seed`, then,
/// stratum by stratum, each group joins the part furthest below its share of the stratum's
/// rows, so every part gets its fraction of every class (up to one group) and a part with
/// fraction 0 gets nothing.
fn assign(d: &Dataset, fractions: &[f64], stratify: bool, seed: u64) -> Result<Vec<usize>, String> {
    let mut gs = groups(d);
    gs.shuffle(&mut crate::nn::rng(seed));
    let mut keyed: Vec<(Vec<bool>, Vec<usize>)> = if stratify {
        strata(d, &gs)?.into_iter().zip(gs).collect()
    } else {
        gs.into_iter().map(|g| (Vec::new(), g)).collect()
    };
    // Stable: the shuffled order holds within a stratum.
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut part = vec![0; d.len()];
    for stratum in keyed.chunk_by(|a, b| a.0 == b.0) {
        let rows: usize = stratum.iter().map(|(_, g)| g.len()).sum();
        let mut have = vec![0usize; fractions.len()];
        for (_, g) in stratum {
            let deficit = |p: usize| fractions[p] * rows as f64 - have[p] as f64;
            let p = (1..fractions.len()).fold(
                0,
                |best, p| {
                    if deficit(p) > deficit(best) { p } else { best }
                },
            );
            have[p] += g.len();
            for &r in g {
                part[r] = p;
            }
        }
    }
    Ok(part)
}

fn check_fraction(name: &str, f: f32) -> Result<(), String> {
    if (0.0..1.0).contains(&f) {
        Ok(())
    } else {
        Err(format!(
            "the {name} fraction {f} must be at least 0 and below 1"
        ))
    }
}

/// Train, validation and test row indices.
pub type Parts = (Vec<usize>, Vec<usize>, Vec<usize>);

/// Train, validation and test row indices (each ascending). A random split draws from `seed`
/// alone, so training seeds can vary while the test set stays the same.
pub fn split(d: &Dataset, how: &Split, seed: u64) -> Result<Parts, String> {
    let (mut tr, mut va, mut te) = (vec![], vec![], vec![]);
    match how {
        Split::Random {
            valid,
            test,
            stratify,
        } => {
            check_fraction("validation", *valid)?;
            check_fraction("test", *test)?;
            if valid + test >= 1.0 {
                return Err(format!(
                    "the validation and test fractions ({valid} + {test}) leave nothing to train on"
                ));
            }
            let fractions = [1.0 - (*valid + *test) as f64, *valid as f64, *test as f64];
            for (i, p) in assign(d, &fractions, *stratify, seed)?
                .into_iter()
                .enumerate()
            {
                [&mut tr, &mut va, &mut te][p].push(i);
            }
        }
        Split::Chromosomes { valid, test } => {
            if d.chroms.iter().all(Option::is_none) {
                return Err(
                    "a chromosome split needs BED data (--bed with --genome); these sequences have no chromosome"
                        .into(),
                );
            }
            for (i, c) in d.chroms.iter().enumerate() {
                match c {
                    Some(c) if valid.contains(c) => va.push(i),
                    Some(c) if test.contains(c) => te.push(i),
                    _ => tr.push(i),
                }
            }
        }
    }
    Ok((tr, va, te))
}

/// Fold `fold` of `k`: (training rows, validation rows). Groups never straddle folds, and a
/// stratified split gives each fold its share of every class.
pub fn kfold(
    d: &Dataset,
    k: usize,
    fold: usize,
    stratify: bool,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), String> {
    if k < 2 || fold >= k {
        return Err(format!(
            "fold {fold} of {k}: k-fold needs k >= 2 and fold < k"
        ));
    }
    let parts = assign(d, &vec![1.0 / k as f64; k], stratify, seed)?;
    Ok((0..d.len()).partition(|&i| parts[i] != fold))
}

/// How many rows of `other` have a sequence (case-insensitive) that `d` also holds: leakage
/// between separately given training and test files.
pub fn shared_sequences(d: &Dataset, other: &Dataset) -> usize {
    let seen: std::collections::HashSet<Cow<[u8]>> = d.seqs.iter().map(|s| seq_key(s)).collect();
    other
        .seqs
        .iter()
        .filter(|s| seen.contains(&seq_key(s)))
        .count()
}

/// A sequence as splits compare it: upper case, borrowed where it already is (so a data set
/// in upper case is not copied).
fn seq_key(s: &[u8]) -> Cow<'_, [u8]> {
    if s.iter().any(u8::is_ascii_lowercase) {
        Cow::Owned(s.to_ascii_uppercase())
    } else {
        Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, seq: &str, desc: Option<&str>) -> SeqRecord {
        SeqRecord {
            id: id.into(),
            description: desc.map(str::to_string),
            seq: seq.as_bytes().to_vec(),
        }
    }

    #[test]
    fn labels_from_headers_tsv_and_pos_neg() {
        let d = Dataset::from_headers(
            vec![rec("a", "AC", Some("1 0")), rec("b", "GT", Some("0,1"))],
            None,
            "x.fa",
        )
        .unwrap();
        assert_eq!(d.labels, ["label_0", "label_1"]);
        assert_eq!(d.row(1), [0.0, 1.0]);
        let err =
            Dataset::from_headers(vec![rec("a", "AC", Some("yes"))], None, "x.fa").unwrap_err();
        assert!(err.to_string().contains("record 1 ('a')"), "{err}");

        let tsv = "id\tctcf\tgata\nb\t0\t1\na\t1\t0.5\n";
        let d = Dataset::from_tsv(
            vec![rec("a", "AC", None), rec("b", "GT", None)],
            tsv.as_bytes(),
            "y.tsv",
            None,
        )
        .unwrap();
        assert_eq!(
            (d.labels.clone(), d.row(0).to_vec()),
            (vec!["ctcf".to_string(), "gata".to_string()], vec![1.0, 0.5])
        );
        let err = Dataset::from_tsv(vec![rec("c", "AC", None)], tsv.as_bytes(), "y.tsv", None)
            .unwrap_err();
        assert!(
            err.to_string().contains("no labels for sequence 'c'"),
            "{err}"
        );

        let d = Dataset::from_pos_neg(
            vec![rec("p", "A", None)],
            vec![rec("n", "C", None)],
            "bound",
        );
        assert_eq!(d.targets, [1.0, 0.0]);
    }

    fn numbered(n: usize, label: impl Fn(usize) -> f32) -> Dataset {
        let mut d = Dataset {
            labels: vec!["y".into()],
            ..Default::default()
        };
        for i in 0..n {
            // Distinct sequences: the index in base 4.
            let seq = (0..8).map(|k| b"ACGT"[(i >> (2 * k)) & 3]).collect();
            d.push(i.to_string(), seq, None, &[label(i)], "t").unwrap();
        }
        d
    }

    fn random(valid: f32, test: f32, stratify: bool) -> Split {
        Split::Random {
            valid,
            test,
            stratify,
        }
    }

    #[test]
    fn splits_partition_the_rows() {
        let mut d = numbered(10, |_| 1.0);
        let (tr, va, te) = split(&d, &random(0.2, 0.1, false), 1).unwrap();
        assert_eq!((tr.len(), va.len(), te.len()), (7, 2, 1));
        let mut all: Vec<usize> = tr.iter().chain(&va).chain(&te).copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        // The same seed gives the same split; another seed another one.
        assert_eq!(split(&d, &random(0.2, 0.1, false), 1).unwrap().2, te);
        let others: Vec<_> = (2..6)
            .map(|s| split(&d, &random(0.2, 0.1, false), s).unwrap().2)
            .collect();
        assert!(others.iter().any(|t| *t != te), "{others:?}");
        d.chroms = (0..10).map(|i| Some(format!("chr{}", i % 3))).collect();
        let how = Split::Chromosomes {
            valid: vec!["chr1".into()],
            test: vec!["chr2".into()],
        };
        let (tr, va, te) = split(&d, &how, 1).unwrap();
        assert_eq!((tr.len(), va.len(), te.len()), (4, 3, 3));
        let err = split(&numbered(4, |_| 1.0), &how, 1).unwrap_err();
        assert!(err.contains("needs BED data"), "{err}");
        let err = split(&d, &random(0.5, 0.5, false), 1).unwrap_err();
        assert!(err.contains("leave nothing to train on"), "{err}");
        let (a, b) = kfold(&d, 5, 0, false, 3).unwrap();
        assert_eq!((a.len(), b.len()), (8, 2));
    }

    #[test]
    fn identical_sequences_and_explicit_groups_stay_together() {
        // 60 rows: rows i and i + 30 share a sequence (in other cases); rows 0..10 also share
        // the explicit group "g".
        let mut d = numbered(30, |i| (i % 2) as f32);
        let copy = d.clone();
        for i in 0..30 {
            let seq = copy.seqs[i].to_ascii_lowercase();
            d.push(format!("dup{i}"), seq, None, copy.row(i), "t")
                .unwrap();
        }
        d.groups = (0..60).map(|i| (i < 10).then(|| "g".to_string())).collect();
        let gs = groups(&d);
        assert_eq!(gs.len(), 21, "{gs:?}");
        for seed in 0..20 {
            let (tr, va, te) = split(&d, &random(0.2, 0.2, false), seed).unwrap();
            let part = |i: usize| [&tr, &va, &te].iter().position(|p| p.contains(&i)).unwrap();
            for i in 0..30 {
                assert_eq!(part(i), part(i + 30), "seed {seed}, row {i}");
            }
            assert!((0..10).all(|i| part(i) == part(0)), "seed {seed}");
            for fold in 0..3 {
                let (_, v) = kfold(&d, 3, fold, false, seed).unwrap();
                assert!(v.iter().all(|&i| v.contains(&((i + 30) % 60))), "{v:?}");
            }
        }
    }

    #[test]
    fn a_stratified_split_keeps_each_class_share() {
        // 100 rows, 20 positive: every part gets a fifth of each class.
        let d = numbered(100, |i| (i % 5 == 0) as u8 as f32);
        for seed in 0..10 {
            let (tr, va, te) = split(&d, &random(0.2, 0.1, true), seed).unwrap();
            let pos = |p: &[usize]| p.iter().filter(|&&i| d.row(i)[0] == 1.0).count();
            assert_eq!((va.len(), pos(&va)), (20, 4), "seed {seed}");
            assert_eq!((te.len(), pos(&te)), (10, 2), "seed {seed}");
            assert_eq!((tr.len(), pos(&tr)), (70, 14), "seed {seed}");
            let (_, v) = kfold(&d, 4, seed as usize % 4, true, seed).unwrap();
            assert_eq!((v.len(), pos(&v)), (25, 5), "seed {seed}");
        }
        let reg = numbered(10, |i| i as f32 / 3.0);
        let err = split(&reg, &random(0.2, 0.1, true), 1).unwrap_err();
        assert!(
            err.contains("needs class targets") && err.contains("sequence '1'"),
            "{err}"
        );
    }

    #[test]
    fn a_tsv_group_column_is_a_group_not_a_label() {
        let tsv = "id\tctcf\tdonor\na\t1\tp1\nb\t0\tp2\n";
        let d = Dataset::from_tsv(
            vec![rec("a", "AC", None), rec("b", "GT", None)],
            tsv.as_bytes(),
            "y.tsv",
            Some("donor"),
        )
        .unwrap();
        assert_eq!(d.labels, ["ctcf"]);
        assert_eq!(d.groups, [Some("p1".to_string()), Some("p2".to_string())]);
        let err = Dataset::from_tsv(vec![], tsv.as_bytes(), "y.tsv", Some("batch")).unwrap_err();
        assert!(err.to_string().contains("no column named 'batch'"), "{err}");
    }

    #[test]
    fn shared_sequences_counts_leaks_between_files() {
        let a = numbered(10, |_| 0.0);
        let mut b = numbered(3, |_| 0.0);
        b.seqs[0] = b"TTTTTTTT".to_vec();
        assert_eq!(shared_sequences(&a, &b), 2);
    }
}
