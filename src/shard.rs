//! Splitting one job into shards for a cluster, and limiting it to regions.
//!
//! A job's work units (windows for `predict`, VCF records for `variants`) are cut into
//! chunks exactly as a single run cuts them, and shard `I` of `N` takes a contiguous run of
//! whole chunks. A batch's numbers can depend on what else is in it (a GEMM's blocking
//! follows its size), so a shard must never batch differently from the single run:
//! concatenating the shards' outputs in order (`seqlens merge`) then gives the single run's,
//! byte for byte. Every unit is in exactly one shard; a shard may be empty when there are
//! fewer chunks than shards.

use std::ops::Range;
use std::str::FromStr;

use crate::io::Interval;

/// Shard `index` (1-based) of `count`, as `--shard I/N` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1 to `count`.
    pub index: usize,
    /// How many shards the job is split into.
    pub count: usize,
}

impl FromStr for Shard {
    type Err = crate::Error;

    fn from_str(s: &str) -> Result<Shard, crate::Error> {
        let bad = || {
            crate::Error::Invalid(format!(
                "shard '{s}': expected I/N with 1 <= I <= N (the first of four is 1/4)"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The whole job as one shard.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    /// Which of `chunks` chunks this shard takes: a contiguous run, as even as whole chunks
    /// allow.
    pub fn chunks(&self, chunks: usize) -> Range<usize> {
        chunks * (self.index - 1) / self.count..chunks * self.index / self.count
    }

    /// Which of `total` units this shard takes when a single run cuts them into chunks of
    /// `chunk` from the first.
    pub fn units(&self, total: usize, chunk: usize) -> Range<usize> {
        let r = self.chunks(total.div_ceil(chunk.max(1)));
        (r.start * chunk).min(total)..(r.end * chunk).min(total)
    }
}

/// Regions as `chrom:start-end[,chrom:start-end...]`, 1-based and inclusive as samtools and
/// IGV write them (`chr1:1-1000` is the first thousand bases), or a whole contig as `chrom`.
/// Returned as 0-based half-open intervals (`end` `u64::MAX` for a whole contig).
pub fn parse_regions(text: &str) -> Result<Vec<Interval>, crate::Error> {
    let mut out = Vec::new();
    for (i, r) in text.split(',').map(str::trim).enumerate() {
        let bad = |why: &str| {
            crate::Error::Invalid(format!(
                "region '{r}': {why}; expected chrom:start-end (1-based, inclusive) or chrom"
            ))
        };
        if r.is_empty() {
            return Err(bad("empty"));
        }
        let (chrom, start, end) = match r.rsplit_once(':') {
            None => (r, 0, u64::MAX),
            Some((chrom, span)) => {
                let (s, e) = span.split_once('-').ok_or_else(|| bad("no '-'"))?;
                let num = |x: &str| x.trim().parse::<u64>();
                let (s, e) = (
                    num(s).map_err(|_| bad("the start is not a number"))?,
                    num(e).map_err(|_| bad("the end is not a number"))?,
                );
                if s == 0 || e < s {
                    return Err(bad("start must be at least 1 and at most end"));
                }
                (chrom, s - 1, e)
            }
        };
        if chrom.is_empty() {
            return Err(bad("no contig name"));
        }
        out.push(Interval {
            chrom: chrom.to_string(),
            start,
            end,
            name: None,
            line: i + 1,
        });
    }
    Ok(out)
}

/// Whether the 0-based position `pos` on `chrom` is in one of `regions`.
pub fn contains(regions: &[Interval], chrom: &str, pos: u64) -> bool {
    regions
        .iter()
        .any(|r| r.chrom == chrom && r.start <= pos && pos < r.end)
}

/// Joins shard outputs, given in shard order as `(name, bytes)` (plain or gzip), into the
/// single run's output: a TSV table (one header line) or a VCF (its `#` lines), whose headers
/// must be equal; the bodies follow one another. A JSON output cannot be joined this way and
/// is refused.
pub fn merge(parts: &[(String, Vec<u8>)]) -> Result<Vec<u8>, crate::Error> {
    use std::io::Read;
    let mut header: Option<(String, &str)> = None;
    let mut out = Vec::new();
    let mut bodies = Vec::new();
    for (name, bytes) in parts {
        let mut text = String::new();
        crate::io::decompress(&bytes[..])
            .and_then(|mut r| r.read_to_string(&mut text))
            .map_err(|e| crate::Error::Invalid(format!("{name}: {e}")))?;
        if text.trim_start().starts_with('{') {
            return Err(crate::Error::Invalid(format!(
                "{name} is JSON; merge joins TSV tables and VCFs: write the shards as .tsv or .vcf"
            )));
        }
        // A VCF's header is its `#` lines; a table's is its first line.
        let split = if text.starts_with("##") {
            let mut at = 0;
            for line in text.split_inclusive('\n') {
                if !line.starts_with('#') {
                    break;
                }
                at += line.len();
            }
            at
        } else {
            text.find('\n').map_or(text.len(), |i| i + 1)
        };
        if split == 0 || !text[..split].ends_with('\n') {
            return Err(crate::Error::Invalid(format!(
                "{name}: expected a header line and rows, found {}",
                if text.is_empty() {
                    "an empty file"
                } else {
                    "no complete header"
                }
            )));
        }
        let (head, body) = text.split_at(split);
        match &header {
            None => {
                out.extend_from_slice(head.as_bytes());
                header = Some((head.to_string(), name));
            }
            Some((first, first_name)) if first != head => {
                return Err(crate::Error::Invalid(format!(
                    "{name}: its header differs from {first_name}'s; shards of one job share \
                     their header (same command, model and options)"
                )));
            }
            Some(_) => {}
        }
        if !body.is_empty() && !body.ends_with('\n') {
            return Err(crate::Error::Invalid(format!(
                "{name}: the last line is incomplete (was the shard's run cut short?)"
            )));
        }
        bodies.push(body.to_string());
    }
    if header.is_none() {
        return Err(crate::Error::Invalid("merge: no files given".into()));
    }
    for b in bodies {
        out.extend_from_slice(b.as_bytes());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_unit_once_in_whole_chunks() {
        for total in [0, 1, 5, 4096, 10_000] {
            for n in 1..=7 {
                let mut next = 0;
                for i in 1..=n {
                    let r = Shard { index: i, count: n }.units(total, 1000);
                    assert_eq!(r.start, next, "{total} in {n}");
                    assert!(r.start.is_multiple_of(1000) || r.start == total);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
        for bad in ["0/3", "4/3", "1", "a/b", "1/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn merge_keeps_one_header_and_refuses_mismatches() {
        let p = |n: &str, t: &str| (n.to_string(), t.as_bytes().to_vec());
        let m = merge(&[
            p("a", "h\tx\n1\t2\n"),
            p("b", "h\tx\n"),
            p("c", "h\tx\n3\t4\n"),
        ]);
        assert_eq!(m.unwrap(), b"h\tx\n1\t2\n3\t4\n");
        let vcf = "##fileformat=VCFv4.3\n#CHROM\tPOS\n";
        let m = merge(&[
            p("a", &format!("{vcf}c\t1\n")),
            p("b", &format!("{vcf}c\t2\n")),
        ]);
        assert_eq!(m.unwrap(), format!("{vcf}c\t1\nc\t2\n").as_bytes());
        let e = merge(&[p("a", "h\n"), p("b", "g\n")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("b: its header differs from a's"), "{e}");
        let e = merge(&[p("a", "h\n1")]).unwrap_err().to_string();
        assert!(e.contains("a: the last line is incomplete"), "{e}");
        assert!(
            merge(&[p("a", "{}")])
                .unwrap_err()
                .to_string()
                .contains("JSON")
        );
        assert!(
            merge(&[p("a", "")])
                .unwrap_err()
                .to_string()
                .contains("empty file")
        );
    }

    #[test]
    fn regions_are_one_based_inclusive() {
        let r = parse_regions("chr1:1-1000, chrX").unwrap();
        assert_eq!(
            (r[0].chrom.as_str(), r[0].start, r[0].end),
            ("chr1", 0, 1000)
        );
        assert_eq!(
            (r[1].chrom.as_str(), r[1].start, r[1].end),
            ("chrX", 0, u64::MAX)
        );
        assert!(contains(&r, "chr1", 999) && !contains(&r, "chr1", 1000));
        for bad in ["chr1:0-5", "chr1:5-4", "chr1:a-5", ":1-5", "chr1:5"] {
            assert!(parse_regions(bad).is_err(), "{bad}");
        }
    }
}
