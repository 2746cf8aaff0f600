use std::io::{BufRead, Read};

use noodles::fasta;
use serde::Serialize;

use super::{Error, decompress, fastq, preview};

/// One named sequence from a FASTA or FASTQ file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeqRecord {
    /// The name: the header up to its first space.
    pub id: String,
    /// The rest of the header line, if any.
    pub description: Option<String>,
    /// The bases, as written (case kept).
    #[serde(serialize_with = "bytes_as_str")]
    pub seq: Vec<u8>,
}

fn bytes_as_str<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

enum Format<R> {
    Fasta(fasta::io::Reader<R>),
    Fastq(fastq::Reader<R>),
}

/// Streams records from FASTA or FASTQ, plain or gzip/bgzf, telling the formats apart by their
/// first byte (`>` or `@`).
pub struct SequenceReader<'a> {
    format: Format<Box<dyn BufRead + 'a>>,
    file: String,
    record: usize,
}

impl<'a> SequenceReader<'a> {
    /// Opens `reader`; `file` names it in error messages.
    pub fn new<R: Read + 'a>(reader: R, file: &str) -> Result<Self, Error> {
        let mut inner = decompress(reader).map_err(|e| Error::io(file, e))?;
        let head = inner.fill_buf().map_err(|e| Error::io(file, e))?;
        let first = head.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let format = match first {
            Some(b'>') | None => Format::Fasta(fasta::io::Reader::new(inner)),
            Some(b'@') => Format::Fastq(fastq::Reader::new(inner, file)),
            Some(_) => {
                return Err(Error::parse(
                    file,
                    "line 1",
                    format!(
                        "expected a FASTA header ('>') or a FASTQ record ('@'), found {}",
                        preview(head)
                    ),
                ));
            }
        };
        Ok(SequenceReader {
            format,
            file: file.to_string(),
            record: 0,
        })
    }

    fn read_next(&mut self) -> Result<Option<SeqRecord>, Error> {
        let n = self.record + 1;
        let file = &self.file;
        let fail = |e: std::io::Error| Error::parse(file, format!("record {n}"), e);
        let rec = match &mut self.format {
            Format::Fasta(r) => {
                let mut def = fasta::record::Definition::default();
                if r.read_definition(&mut def).map_err(fail)? == 0 {
                    return Ok(None);
                }
                let mut seq = Vec::new();
                r.read_sequence(&mut seq).map_err(fail)?;
                SeqRecord {
                    id: def.name().to_string(),
                    description: def.description().map(|d| d.to_string()),
                    seq,
                }
            }
            Format::Fastq(r) => match r.read_record(n)? {
                Some(rec) => rec,
                None => return Ok(None),
            },
        };
        self.record = n;
        if rec.id.is_empty() {
            return Err(Error::parse(
                &self.file,
                format!("record {n}"),
                "the record has no name",
            ));
        }
        Ok(Some(rec))
    }
}

impl Iterator for SequenceReader<'_> {
    type Item = Result<SeqRecord, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.read_next().transpose()
    }
}

/// Reads every record of a FASTA or FASTQ stream (plain, gzip or bgzf).
///
/// ```
/// let recs = seqlens::io::read_sequences(&b">a desc\nAC\nGT\n>b\nNN\n"[..], "in.fa").unwrap();
/// assert_eq!(recs[0].id, "a");
/// assert_eq!(recs[0].seq, b"ACGT");
/// assert_eq!(recs[1].seq, b"NN");
/// ```
pub fn read_sequences<R: Read>(reader: R, file: &str) -> Result<Vec<SeqRecord>, Error> {
    SequenceReader::new(reader, file)?.collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_fasta_fastq_and_gzip() {
        let fa = b">s1 first\nACGT\nAC\n>s2\nGG\n";
        let recs = read_sequences(&fa[..], "x.fa").unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[0].description.as_deref(), Some("first"));
        assert_eq!(recs[0].seq, b"ACGTAC");

        let fq = b"@r1 d\nACGT\n+\nIIII\n@r2\nGG\n+\nII\n";
        let recs = read_sequences(&fq[..], "x.fq").unwrap();
        assert_eq!(
            (recs[1].id.as_str(), recs[1].seq.as_slice()),
            ("r2", &b"GG"[..])
        );

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(fa).unwrap();
        let gz = gz.finish().unwrap();
        let recs = read_sequences(&gz[..], "x.fa.gz").unwrap();
        assert_eq!(recs[1].seq, b"GG");
    }

    #[test]
    fn rejects_non_fasta_with_file_and_line() {
        let err = read_sequences(&b"chr1\t10\t20\n"[..], "regions.bed").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("regions.bed: line 1: expected a FASTA header"),
            "{msg}"
        );
        let err = read_sequences(&b"@r1\nACGT\n+\nII\n"[..], "bad.fq").unwrap_err();
        assert!(err.to_string().contains("record 1"), "{err}");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&b">s\nACGT\n".repeat(1000)).unwrap();
        let gz = gz.finish().unwrap();
        let err = read_sequences(&gz[..gz.len() / 2], "cut.fa.gz").unwrap_err();
        assert!(err.to_string().starts_with("cut.fa.gz"), "{err}");
    }
}
