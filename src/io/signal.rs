//! Per-base signal tracks (read counts, coverage): bedGraph (plain or gzip) everywhere, and
//! bigWig natively through `bigtools`. A track answers one question: its value at each base
//! of a 0-based half-open range, 0 where it has no interval (a bedGraph or bigWig of counts
//! leaves out the bases without reads).

use std::collections::HashMap;
use std::io::Read;

use super::{Error, Lines};

/// One signal track.
pub struct Signal {
    name: String,
    source: Source,
}

enum Source {
    /// Per contig, sorted non-overlapping `(start, end, value)`.
    BedGraph(HashMap<String, Vec<(u64, u64, f32)>>),
    #[cfg(not(target_arch = "wasm32"))]
    BigWig(Box<bigtools::BigWigRead<bigtools::utils::reopen::ReopenableFile>>),
}

/// The first four bytes of a bigWig file, in either byte order.
#[cfg(not(target_arch = "wasm32"))]
const BIGWIG_MAGIC: [[u8; 4]; 2] = [[0x26, 0xfc, 0x8f, 0x88], [0x88, 0x8f, 0xfc, 0x26]];

impl Signal {
    /// Reads a bedGraph (`chrom start end value` lines; `track`, `browser` and `#` lines are
    /// skipped). Intervals of a contig must be sorted and must not overlap, as the format
    /// requires; `name` is used in messages.
    pub fn from_bedgraph<R: Read>(reader: R, name: &str) -> Result<Signal, Error> {
        let mut lines = Lines::new(
            super::decompress(reader).map_err(|e| Error::io(name, e))?,
            name,
        );
        let mut contigs: HashMap<String, Vec<(u64, u64, f32)>> = HashMap::new();
        let mut line = String::new();
        while let Some(n) = lines.next_line(&mut line)? {
            let t = line.trim();
            if t.is_empty()
                || t.starts_with('#')
                || t.starts_with("track")
                || t.starts_with("browser")
            {
                continue;
            }
            let at = || format!("line {n}");
            let f: Vec<&str> = t.split_whitespace().collect();
            let [chrom, start, end, value] = f[..] else {
                return Err(Error::parse(
                    name,
                    at(),
                    format!(
                        "expected 4 columns (chrom, start, end, value), found {}",
                        f.len()
                    ),
                ));
            };
            let num = |s: &str, what: &str| {
                s.parse::<u64>().map_err(|_| {
                    Error::parse(
                        name,
                        at(),
                        format!("{what} {s:?} is not a non-negative integer"),
                    )
                })
            };
            let (start, end) = (num(start, "start")?, num(end, "end")?);
            let value: f32 = value
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .ok_or_else(|| {
                    Error::parse(name, at(), format!("value {value:?} is not a number"))
                })?;
            if end <= start {
                return Err(Error::parse(
                    name,
                    at(),
                    format!("end {end} is not after start {start}"),
                ));
            }
            let ivs = contigs.entry(chrom.to_string()).or_default();
            if let Some(&(_, prev_end, _)) = ivs.last()
                && start < prev_end
            {
                return Err(Error::parse(
                    name,
                    at(),
                    format!(
                        "{chrom}:{start}-{end} starts before the previous interval's end {prev_end}; \
                         a bedGraph is sorted by position with no overlaps (sort -k1,1 -k2,2n)"
                    ),
                ));
            }
            ivs.push((start, end, value));
        }
        Ok(Signal {
            name: name.to_string(),
            source: Source::BedGraph(contigs),
        })
    }

    /// Opens a bigWig or bedGraph file, told apart by the bigWig's magic number.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn open(path: &std::path::Path) -> Result<Signal, Error> {
        let name = path.display().to_string();
        let mut head = [0u8; 4];
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(&name, e))?;
        let n = file.read(&mut head).map_err(|e| Error::io(&name, e))?;
        if n == 4 && BIGWIG_MAGIC.contains(&head) {
            let bw = bigtools::BigWigRead::open_file(path).map_err(|e| {
                Error::parse(&name, "header", format!("not a readable bigWig: {e}"))
            })?;
            return Ok(Signal {
                name,
                source: Source::BigWig(Box::new(bw)),
            });
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(&name, e))?;
        Signal::from_bedgraph(file, &name)
    }

    /// The track's name (its file's).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the track has values on `chrom` (a bedGraph), or lists it (a bigWig).
    pub fn knows(&self, chrom: &str) -> bool {
        match &self.source {
            Source::BedGraph(contigs) => contigs.contains_key(chrom),
            #[cfg(not(target_arch = "wasm32"))]
            Source::BigWig(bw) => bw.chroms().iter().any(|c| c.name == chrom),
        }
    }

    /// Some of the contigs the track knows, for messages.
    pub fn some_contigs(&self) -> String {
        let names: Vec<&str> = match &self.source {
            Source::BedGraph(contigs) => contigs.keys().map(String::as_str).collect(),
            #[cfg(not(target_arch = "wasm32"))]
            Source::BigWig(bw) => bw.chroms().iter().map(|c| c.name.as_str()).collect(),
        };
        names.into_iter().take(8).collect::<Vec<_>>().join(", ")
    }

    /// The value at each base of `chrom:start-end` (0-based, half-open), 0 where the track
    /// has no interval, including before the contig's start and past its end. A bedGraph
    /// without lines on `chrom` has no reads there (all 0); a bigWig lists its contigs in
    /// its header, and one it does not list is refused: it is a naming mismatch (`chr1`
    /// against `1`) or another assembly.
    pub fn values(&mut self, chrom: &str, start: i64, end: i64) -> Result<Vec<f32>, Error> {
        let len = usize::try_from(end - start).unwrap_or(0);
        let mut out = vec![0.0f32; len];
        // Only bases at 0 or after carry values.
        let from = start.max(0) as u64;
        let to = end.max(0) as u64;
        match &mut self.source {
            Source::BedGraph(contigs) => {
                let Some(ivs) = contigs.get(chrom) else {
                    return Ok(out);
                };
                let first = ivs.partition_point(|&(_, e, _)| e <= from);
                for &(s, e, v) in ivs[first..].iter().take_while(|&&(s, _, _)| s < to) {
                    for p in s.max(from)..e.min(to) {
                        out[(p as i64 - start) as usize] = v;
                    }
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            Source::BigWig(bw) => {
                let Some(info) = bw.chroms().iter().find(|c| c.name == chrom) else {
                    return Err(Error::parse(
                        &self.name,
                        "header",
                        format!(
                            "the bigWig has no contig '{chrom}' (it has: {})",
                            self.some_contigs()
                        ),
                    ));
                };
                let to = to.min(info.length as u64);
                if from < to {
                    let vals = bw
                        .values(chrom, from as u32, to as u32)
                        .map_err(|e| Error::parse(&self.name, format!("{chrom}:{from}-{to}"), e))?;
                    for (i, v) in vals.into_iter().enumerate() {
                        if !v.is_nan() {
                            out[(from as i64 - start) as usize + i] = v;
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedgraph_values_fill_gaps_with_zero() {
        let text = "track type=bedGraph\nchr1\t2\t4\t1.5\nchr1\t6\t7\t3\nchr2\t0\t1\t9\n";
        let mut s = Signal::from_bedgraph(text.as_bytes(), "t.bedGraph").unwrap();
        assert_eq!(
            s.values("chr1", -1, 8).unwrap(),
            [0.0, 0.0, 0.0, 1.5, 1.5, 0.0, 0.0, 3.0, 0.0]
        );
        // No lines on a contig: no reads there.
        assert_eq!(s.values("chr3", 0, 2).unwrap(), [0.0, 0.0]);
        assert!(s.knows("chr2") && !s.knows("chr3"));
        let err = Signal::from_bedgraph("c\t5\t9\t1\nc\t8\t10\t1\n".as_bytes(), "o.bg")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("o.bg: line 2") && err.contains("sorted"),
            "{err}"
        );
        let err = Signal::from_bedgraph("c\t5\t9\n".as_bytes(), "o.bg")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("expected 4 columns"), "{err}");
    }
}
