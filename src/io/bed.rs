use std::io::Read;

use noodles::bed;
use serde::Serialize;

use super::{Error, Lines, decompress};

/// A BED interval, 0-based half-open as in the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Interval {
    /// The contig.
    pub chrom: String,
    /// 0-based start, as BED writes it.
    pub start: u64,
    /// One past the last base.
    pub end: u64,
    /// Column 4, when present.
    pub name: Option<String>,
    /// Line number in the file, for messages.
    pub line: usize,
}

/// Reads BED3+ records (plain or gzip), skipping `#`, `track` and `browser` lines.
///
/// ```
/// let iv = seqlens::io::read_bed(&b"track name=x\nchr1\t10\t20\tpeak1\n"[..], "a.bed").unwrap();
/// assert_eq!((iv[0].start, iv[0].end, iv[0].name.as_deref()), (10, 20, Some("peak1")));
/// ```
pub fn read_bed<R: Read>(reader: R, file: &str) -> Result<Vec<Interval>, Error> {
    let mut lines = Lines::new(decompress(reader).map_err(|e| Error::io(file, e))?, file);
    let mut out = Vec::new();
    let mut buf = String::new();
    while let Some(n) = lines.next_line(&mut buf)? {
        let line = buf.trim_end();
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with("track")
            || line.starts_with("browser")
        {
            continue;
        }
        let at = |msg: String| Error::parse(file, format!("line {n}"), msg);
        // noodles parses one record per call; feeding it one line keeps our line numbers exact.
        let mut rec = bed::Record::<3>::default();
        let text = format!("{line}\n");
        bed::io::Reader::<3, _>::new(text.as_bytes())
            .read_record(&mut rec)
            .map_err(|e| {
                at(format!(
                    "{e} (expected chrom<TAB>start<TAB>end, found {line:?})"
                ))
            })?;
        let start = rec
            .feature_start()
            .map_err(|e| at(format!("invalid start: {e}")))?;
        let end = rec
            .feature_end()
            .ok_or_else(|| at("missing end".into()))?
            .map_err(|e| at(format!("invalid end: {e}")))?;
        let (start, end) = (usize::from(start) as u64 - 1, usize::from(end) as u64);
        if end < start {
            return Err(at(format!("end {end} is before start {start}")));
        }
        out.push(Interval {
            chrom: rec.reference_sequence_name().to_string(),
            start,
            end,
            name: rec.other_fields().get(0).map(|s| s.to_string()),
            line: n,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bed3_and_bed4() {
        let iv = read_bed(&b"# c\nchr1\t0\t5\nchr2\t7\t9\tx\t0\t+\n"[..], "a.bed").unwrap();
        assert_eq!(iv.len(), 2);
        assert_eq!(
            (iv[0].chrom.as_str(), iv[0].start, iv[0].end),
            ("chr1", 0, 5)
        );
        assert_eq!(iv[1].name.as_deref(), Some("x"));
        assert_eq!(iv[1].line, 3);
    }

    #[test]
    fn malformed_line_is_named() {
        let err = read_bed(&b"chr1\t0\t5\nchr1\tten\t20\n"[..], "a.bed").unwrap_err();
        assert!(err.to_string().starts_with("a.bed: line 2:"), "{err}");
        let err = read_bed(&b"chr1\t9\t5\n"[..], "a.bed").unwrap_err();
        assert!(err.to_string().contains("before start"), "{err}");
    }
}
