use std::fs::File;
use std::io::{BufRead, BufReader, Seek};
use std::path::Path;

use noodles::core::{Position, Region};
use noodles::fasta::{self, fai};

use super::Error;

/// A FASTA file with its `.fai` index: any region is read by seeking, never the whole file.
pub struct IndexedFasta<R> {
    reader: fasta::io::IndexedReader<R>,
    file: String,
}

impl IndexedFasta<BufReader<File>> {
    /// Opens `path` and its index `path.fai`. If there is no index, one is built in memory by
    /// reading the file once (as `samtools faidx` would, without writing it).
    pub fn open(path: &Path) -> Result<Self, Error> {
        let file = path.display().to_string();
        let fai_path = {
            let mut p = path.as_os_str().to_owned();
            p.push(".fai");
            std::path::PathBuf::from(p)
        };
        let index = if fai_path.exists() {
            fai::fs::read(&fai_path).map_err(|e| {
                Error::parse(&fai_path.display().to_string(), "index", e.to_string())
            })?
        } else {
            fasta::fs::index(path).map_err(|e| Error::parse(&file, "indexing", e))?
        };
        let inner = File::open(path).map_err(|e| Error::io(&file, e))?;
        Ok(Self::with_index(BufReader::new(inner), index, &file))
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
