//! Labelled training data, read through `io`: FASTA with labels in the header or in a TSV
//! beside it, a pair of positive and negative FASTA files, or BED intervals with label
//! columns plus an indexed reference.

use std::collections::HashMap;
use std::io::{BufRead, Seek};

use rand::seq::SliceRandom;

use crate::io::{self, IndexedFasta, SeqRecord};
use crate::nn::Rng;

/// Sequences with one row of targets each (`targets` is row-major `[len, labels]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Each sequence's name.
    pub ids: Vec<String>,
    /// The bases.
    pub seqs: Vec<Vec<u8>>,
    /// The contig of each sequence, for chromosome splits (BED data).
    pub chroms: Vec<Option<String>>,
    /// One name per target column.
    pub labels: Vec<String>,
    /// Row-major `[sequences, labels]`.
    pub targets: Vec<f32>,
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
    pub fn from_tsv<R: std::io::Read>(
        records: Vec<SeqRecord>,
        tsv: R,
        tsv_name: &str,
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
        let labels: Vec<String> = header.split('\t').skip(1).map(str::to_string).collect();
        if labels.is_empty() {
            return Err(bad(
                tsv_name,
                "line 1".into(),
                "expected a header: id<TAB>label1<TAB>label2...",
            ));
        }
        let mut table: HashMap<String, Vec<f32>> = HashMap::new();
        for (n, line) in lines {
            let f: Vec<&str> = line.split('\t').collect();
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
            table.insert(f[0].to_string(), vals);
        }
        let mut d = Dataset {
            labels,
            ..Default::default()
        };
        for r in records {
            let vals = table
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
    /// Each interval is re-centred to `length` on the reference.
    pub fn from_bed<R: BufRead + Seek>(
        bed_text: &str,
        bed_name: &str,
        genome: &mut IndexedFasta<R>,
        length: usize,
    ) -> Result<Dataset, crate::Error> {
        let mut d = Dataset::default();
        let mut header: Option<Vec<String>> = None;
        for (n, line) in bed_text.lines().enumerate() {
            let n = n + 1;
            if line.trim().is_empty() || line.starts_with("track") || line.starts_with("browser") {
                continue;
            }
            if let Some(h) = line.strip_prefix('#') {
                header = Some(h.split('\t').map(str::to_string).collect());
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
            let name = match rest.first() {
                Some(s) if s.parse::<f32>().is_err() => {
                    rest = &rest[1..];
                    s.to_string()
                }
                _ => format!("{}:{}-{}", iv.chrom, iv.start, iv.end),
            };
            let vals: Result<Vec<f32>, _> = rest.iter().map(|v| v.trim().parse::<f32>()).collect();
            let vals = vals.map_err(|_| {
                bad(
                    bed_name,
                    format!("line {n}"),
                    format!("expected numeric label columns, found {rest:?}"),
                )
            })?;
            let center = (iv.start + iv.end) as i64 / 2;
            let start = center - length as i64 / 2;
            let seq = genome.fetch(&iv.chrom, start, start + length as i64)?;
            d.push(name, seq, Some(iv.chrom.clone()), &vals, bed_name)?;
        }
        let k = d.width();
        d.labels = match header {
            Some(h) if h.len() >= k => h[h.len() - k..].to_vec(),
            _ => (0..k).map(|i| format!("label_{i}")).collect(),
        };
        Ok(d)
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

/// How to hold out validation and test data.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Split {
    /// Random fractions (seeded).
    Random {
        /// Fraction held out for validation.
        valid: f32,
        /// Fraction held out for testing.
        test: f32,
    },
    /// Whole chromosomes (BED data): the rest trains.
    Chromosomes {
        /// Chromosomes held out for validation.
        valid: Vec<String>,
        /// Chromosomes held out for testing.
        test: Vec<String>,
    },
}

/// Train, validation and test row indices.
pub fn split(d: &Dataset, how: &Split, rng: &mut Rng) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    match how {
        Split::Random { valid, test } => {
            let mut idx: Vec<usize> = (0..d.len()).collect();
            idx.shuffle(rng);
            let nv = (d.len() as f32 * valid).round() as usize;
            let nt = (d.len() as f32 * test).round() as usize;
            let valid_idx = idx[..nv].to_vec();
            let test_idx = idx[nv..nv + nt].to_vec();
            (idx[nv + nt..].to_vec(), valid_idx, test_idx)
        }
        Split::Chromosomes { valid, test } => {
            let (mut tr, mut va, mut te) = (vec![], vec![], vec![]);
            for (i, c) in d.chroms.iter().enumerate() {
                match c {
                    Some(c) if valid.contains(c) => va.push(i),
                    Some(c) if test.contains(c) => te.push(i),
                    _ => tr.push(i),
                }
            }
            (tr, va, te)
        }
    }
}

/// `k` folds: fold `f` validates on every `k`-th row of a seeded shuffle starting at `f`.
pub fn kfold(n: usize, k: usize, fold: usize, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    let (mut train, mut valid) = (vec![], vec![]);
    for (j, i) in idx.into_iter().enumerate() {
        if j % k == fold {
            valid.push(i)
        } else {
            train.push(i)
        }
    }
    (train, valid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::rng;

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
        )
        .unwrap();
        assert_eq!(
            (d.labels.clone(), d.row(0).to_vec()),
            (vec!["ctcf".to_string(), "gata".to_string()], vec![1.0, 0.5])
        );
        let err =
            Dataset::from_tsv(vec![rec("c", "AC", None)], tsv.as_bytes(), "y.tsv").unwrap_err();
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

    #[test]
    fn splits_partition_the_rows() {
        let mut d = Dataset::from_pos_neg(
            (0..10).map(|i| rec(&i.to_string(), "A", None)).collect(),
            vec![],
            "y",
        );
        let (tr, va, te) = split(
            &d,
            &Split::Random {
                valid: 0.2,
                test: 0.1,
            },
            &mut rng(1),
        );
        assert_eq!((tr.len(), va.len(), te.len()), (7, 2, 1));
        let mut all: Vec<usize> = tr.iter().chain(&va).chain(&te).copied().collect();
        all.sort();
        assert_eq!(all, (0..10).collect::<Vec<_>>());
        d.chroms = (0..10).map(|i| Some(format!("chr{}", i % 3))).collect();
        let (tr, va, te) = split(
            &d,
            &Split::Chromosomes {
                valid: vec!["chr1".into()],
                test: vec!["chr2".into()],
            },
            &mut rng(1),
        );
        assert_eq!((tr.len(), va.len(), te.len()), (4, 3, 3));
        let (a, b) = kfold(10, 5, 0, &mut rng(3));
        assert_eq!((a.len(), b.len()), (8, 2));
    }
}
