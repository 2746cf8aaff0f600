use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use noodles::bgzf;
use noodles::core::{Position, Region};
use noodles::fasta::{self, fai};

use super::Error;

/// A FASTA file with its `.fai` index: any region is read by seeking, never the whole file.
pub struct IndexedFasta<R> {
    reader: fasta::io::IndexedReader<R>,
    file: String,
}

/// The uncompressed bytes of a FASTA file, by position: a plain file, or a bgzf-compressed
/// one (`bgzip`, as genomes are usually shipped) read through its `.gzi` block index.
pub enum FastaSource<R: Read + Seek> {
    Plain(BufReader<R>),
    Bgzf(bgzf::io::IndexedReader<R>),
}

impl<R: Read + Seek> Read for FastaSource<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            FastaSource::Plain(r) => r.read(buf),
            FastaSource::Bgzf(r) => r.read(buf),
        }
    }
}

impl<R: Read + Seek> BufRead for FastaSource<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        match self {
            FastaSource::Plain(r) => r.fill_buf(),
            FastaSource::Bgzf(r) => r.fill_buf(),
        }
    }

    fn consume(&mut self, amt: usize) {
        match self {
            FastaSource::Plain(r) => r.consume(amt),
            FastaSource::Bgzf(r) => r.consume(amt),
        }
    }
}

impl<R: Read + Seek> Seek for FastaSource<R> {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        match (self, pos) {
            (FastaSource::Plain(r), pos) => r.seek(pos),
            // The bgzf reader seeks by uncompressed offset from the start only (which is all
            // the FASTA reader asks for); anything else is an error rather than its panic.
            (FastaSource::Bgzf(r), SeekFrom::Start(p)) => r.seek(SeekFrom::Start(p)),
            (FastaSource::Bgzf(_), other) => Err(std::io::Error::other(format!(
                "a bgzf FASTA seeks from its start only, not {other:?}"
            ))),
        }
    }
}

/// The gzip magic bytes, and bgzf's "BC" extra subfield that marks a seekable block.
fn compression(head: &[u8]) -> Option<bool> {
    (head.len() >= 2 && head[..2] == [0x1f, 0x8b])
        .then(|| head.len() >= 14 && head[3] & 4 != 0 && head[12..14] == *b"BC")
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

impl IndexedFasta<FastaSource<File>> {
    /// Opens `path` and its index `path.fai`, plain or bgzf-compressed (then with its block
    /// index `path.gzi`, as `samtools faidx` writes both). A plain file without an index is
    /// indexed in memory by reading it once (as `samtools faidx` would, without writing it).
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let mut inner = File::open(path).map_err(|e| Error::io(&file, e))?;
        let mut head = [0u8; 18];
        let n = inner.read(&mut head).map_err(|e| Error::io(&file, e))?;
        inner
            .seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(&file, e))?;
        let fai_path = with_suffix(path, ".fai");
        let read_fai = |p: &Path| {
            fai::fs::read(p)
                .map_err(|e| Error::parse(&p.display().to_string(), "index", e.to_string()))
        };
        match compression(&head[..n]) {
            None => {
                let index = if fai_path.exists() {
                    read_fai(&fai_path)?
                } else {
                    fasta::fs::index(path).map_err(|e| Error::parse(&file, "indexing", e))?
                };
                Ok(Self::with_index(
                    FastaSource::Plain(BufReader::new(inner)),
                    index,
                    &file,
                ))
            }
            Some(false) => Err(Error::parse(
                &file,
                "compression",
                "gzip without bgzf blocks cannot be read by position; recompress it with `bgzip` (and index it with `samtools faidx`)",
            )),
            Some(true) => {
                let gzi_path = with_suffix(path, ".gzi");
                for (p, what) in [(&fai_path, ".fai"), (&gzi_path, ".gzi")] {
                    if !p.exists() {
                        return Err(Error::parse(
                            &file,
                            "index",
                            format!(
                                "a bgzf FASTA needs its {what} index beside it ({}); make both with `samtools faidx {file}`",
                                p.display()
                            ),
                        ));
                    }
                }
                let gzi = bgzf::gzi::fs::read(&gzi_path).map_err(|e| {
                    Error::parse(&gzi_path.display().to_string(), "index", e.to_string())
                })?;
                let reader = bgzf::io::IndexedReader::new(inner, gzi);
                Ok(Self::with_index(
                    FastaSource::Bgzf(reader),
                    read_fai(&fai_path)?,
                    &file,
                ))
            }
        }
    }
}

impl<R: Read + Seek> IndexedFasta<FastaSource<R>> {
    /// Wraps a seekable FASTA stream, plain or bgzf (detected from its first bytes), with
    /// the text of its `.fai` index and, for bgzf, the bytes of its `.gzi` index.
    pub fn from_parts<I: BufRead>(
        mut inner: R,
        fai_text: I,
        gzi: Option<&[u8]>,
        file: &str,
    ) -> Result<Self, Error> {
        let mut head = [0u8; 18];
        let n = inner.read(&mut head).map_err(|e| Error::io(file, e))?;
        inner
            .seek(SeekFrom::Start(0))
            .map_err(|e| Error::io(file, e))?;
        let index = fai::io::Reader::new(fai_text)
            .read_index()
            .map_err(|e| Error::parse(&format!("{file}.fai"), "index", e))?;
        let source = match (compression(&head[..n]), gzi) {
            (None, _) => FastaSource::Plain(BufReader::new(inner)),
            (Some(false), _) => {
                return Err(Error::parse(
                    file,
                    "compression",
                    "gzip without bgzf blocks cannot be read by position; recompress it with `bgzip`",
                ));
            }
            (Some(true), None) => {
                return Err(Error::parse(
                    file,
                    "index",
                    "a bgzf FASTA needs its .gzi index as well as the .fai (`samtools faidx` writes both)",
                ));
            }
            (Some(true), Some(g)) => {
                let gzi = bgzf::gzi::io::Reader::new(g)
                    .read_index()
                    .map_err(|e| Error::parse(&format!("{file}.gzi"), "index", e))?;
                FastaSource::Bgzf(bgzf::io::IndexedReader::new(inner, gzi))
            }
        };
        Ok(Self::with_index(source, index, file))
    }
}

impl<R: BufRead + Seek> IndexedFasta<R> {
    /// Wraps a seekable FASTA stream and the text of its `.fai` index.
    pub fn new<I: BufRead>(inner: R, fai_text: I, file: &str) -> Result<Self, Error> {
        let index = fai::io::Reader::new(fai_text)
            .read_index()
            .map_err(|e| Error::parse(&format!("{file}.fai"), "index", e))?;
        Ok(Self::with_index(inner, index, file))
    }

    fn with_index(inner: R, index: fai::Index, file: &str) -> Self {
        IndexedFasta {
            reader: fasta::io::IndexedReader::new(inner, index),
            file: file.to_string(),
        }
    }

    /// Contig names and lengths, in index order.
    pub fn contigs(&self) -> Vec<(String, u64)> {
        self.reader
            .index()
            .as_ref()
            .iter()
            .map(|r| (r.name().to_string(), r.length()))
            .collect()
    }

    /// The length of `chrom`, or `None` if the index does not list it.
    pub fn length(&self, chrom: &str) -> Option<u64> {
        self.reader
            .index()
            .as_ref()
            .iter()
            .find(|r| r.name() == chrom.as_bytes())
            .map(|r| r.length())
    }

    /// Reads `chrom[start..end)` (0-based, half-open). Parts of the range that fall outside the
    /// contig come back as `N`, so a window centred near a contig end keeps its width.
    pub fn fetch(&mut self, chrom: &str, start: i64, end: i64) -> Result<Vec<u8>, Error> {
        let Some(len) = self.length(chrom) else {
            let names: Vec<String> = self.contigs().into_iter().map(|(n, _)| n).collect();
            let mut known = names
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if names.len() > 10 {
                known.push_str(&format!(", ... ({} in all)", names.len()));
            }
            return Err(Error::UnknownContig {
                file: self.file.clone(),
                contig: chrom.to_string(),
                known,
            });
        };
        let width = (end - start).max(0) as usize;
        let lo = start.clamp(0, len as i64) as usize;
        let hi = end.clamp(0, len as i64) as usize;
        let mut out = Vec::with_capacity(width);
        out.resize((lo as i64 - start).max(0) as usize, b'N');
        if hi > lo {
            let from =
                Position::try_from(lo + 1).map_err(|e| Error::parse(&self.file, chrom, e))?;
            let to = Position::try_from(hi).map_err(|e| Error::parse(&self.file, chrom, e))?;
            let region = Region::new(chrom, from..=to);
            let rec = self
                .reader
                .query(&region)
                .map_err(|e| Error::parse(&self.file, region.to_string(), e))?;
            out.extend_from_slice(rec.sequence().as_ref());
            if out.len() != (lo as i64 - start).max(0) as usize + (hi - lo) {
                return Err(Error::parse(
                    &self.file,
                    region.to_string(),
                    "the index does not match the file (read fewer bases than the index promises; rebuild the .fai)",
                ));
            }
        }
        out.resize(width, b'N');
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    const FA: &[u8] = b">c1\nACGTA\nCGTAC\nGT\n>c2\nTTTT\n";
    const FAI: &[u8] = b"c1\t12\t4\t5\t6\nc2\t4\t23\t4\t5\n";

    #[test]
    fn fetches_regions_across_lines_and_pads_outside() {
        let mut f = IndexedFasta::new(Cursor::new(FA), FAI, "g.fa").unwrap();
        assert_eq!(f.contigs(), [("c1".to_string(), 12), ("c2".to_string(), 4)]);
        assert_eq!(f.fetch("c1", 3, 8).unwrap(), b"TACGT");
        assert_eq!(f.fetch("c1", 10, 14).unwrap(), b"GTNN");
        assert_eq!(f.fetch("c2", -2, 2).unwrap(), b"NNTT");
        assert_eq!(f.fetch("c2", 6, 8).unwrap(), b"NN");
    }

    #[test]
    fn unknown_contig_names_the_reference() {
        let mut f = IndexedFasta::new(Cursor::new(FA), FAI, "g.fa").unwrap();
        let msg = f.fetch("chr9", 0, 3).unwrap_err().to_string();
        assert_eq!(
            msg,
            "g.fa: contig 'chr9' is not in the reference (it has: c1, c2)"
        );
    }
}
