use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use noodles::bgzf;
use noodles::fasta::{self, fai};

use super::Error;

/// A FASTA file with its `.fai` index: any region is read by seeking, never the whole file.
///
/// The index is checked against the file, never trusted blindly: a stale `.fai` (another
/// line width, another length, another file) would otherwise give other bases with no
/// error. Each contig's ends are checked the first time it is read (a line break before its
/// first base, a line break or the end of the file after its last), and every read checks
/// that the line breaks are exactly where the index puts them.
pub struct IndexedFasta<R> {
    inner: R,
    index: fai::Index,
    /// Per contig of the index: whether its ends have been checked.
    checked: Vec<bool>,
    file: String,
}

/// The uncompressed bytes of a FASTA file, by position: a plain file, or a bgzf-compressed
/// one (`bgzip`, as genomes are usually shipped) read through its `.gzi` block index.
pub enum FastaSource<R: Read + Seek> {
    /// An uncompressed FASTA.
    Plain(BufReader<R>),
    /// A bgzf FASTA with its `.gzi` index.
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

/// The stream's compression (see [`compression`]) from its first bytes, rewound to its start.
fn sniff<R: Read + Seek>(inner: &mut R, file: &str) -> Result<Option<bool>, Error> {
    let mut head = [0u8; 18];
    let n = inner.read(&mut head).map_err(|e| Error::io(file, e))?;
    inner
        .seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(file, e))?;
    Ok(compression(&head[..n]))
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
        let kind = sniff(&mut inner, &file)?;
        let fai_path = with_suffix(path, ".fai");
        let read_fai = |p: &Path| {
            fai::fs::read(p)
                .map_err(|e| Error::parse(&p.display().to_string(), "index", e.to_string()))
        };
        match kind {
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

/// The indexes `samtools faidx` writes for a FASTA file, byte for byte: the `.fai` text, and
/// for a bgzf-compressed file (`bgzip`) the `.gzi` block index too. A plain-gzip file is
/// refused with the command that makes it indexable.
pub struct FastaIndexes {
    /// The `.fai` text.
    pub fai: Vec<u8>,
    /// The `.gzi` bytes, for a bgzf file.
    pub gzi: Option<Vec<u8>>,
}

/// Indexes `path` (see [`FastaIndexes`]), reading it once.
pub fn index_fasta(path: &Path) -> Result<FastaIndexes, Error> {
    let file = path.display().to_string();
    let mut inner = File::open(path).map_err(|e| Error::io(&file, e))?;
    let kind = sniff(&mut inner, &file)?;
    let fai_bytes = |records: Vec<fai::Record>| -> Result<Vec<u8>, Error> {
        let mut w = fai::io::Writer::new(Vec::new());
        w.write_index(&fai::Index::from(records))
            .map_err(|e| Error::io(&file, e))?;
        Ok(w.into_inner())
    };
    let records = |r: &mut dyn BufRead| -> Result<Vec<fai::Record>, Error> {
        let mut indexer = fasta::io::Indexer::new(r);
        let mut out = Vec::new();
        while let Some(rec) = indexer
            .index_record()
            .map_err(|e| Error::parse(&file, "indexing", e))?
        {
            out.push(rec);
        }
        Ok(out)
    };
    match kind {
        None => Ok(FastaIndexes {
            fai: fai_bytes(records(&mut BufReader::new(inner))?)?,
            gzi: None,
        }),
        Some(false) => Err(Error::parse(
            &file,
            "compression",
            format!(
                "gzip without bgzf blocks cannot be read by position; recompress it with \
                 bgzip (gunzip {file} && bgzip {}), then index that",
                file.trim_end_matches(".gz")
            ),
        )),
        Some(true) => {
            let gzi = gzi_bytes(&mut BufReader::new(
                File::open(path).map_err(|e| Error::io(&file, e))?,
            ))
            .map_err(|e| Error::parse(&file, "bgzf blocks", e))?;
            let fai = fai_bytes(records(&mut bgzf::io::Reader::new(inner))?)?;
            Ok(FastaIndexes {
                fai,
                gzi: Some(gzi),
            })
        }
    }
}

/// The `.gzi` of a bgzf stream: for every block after the first, its compressed and
/// uncompressed start offsets (read from each block's header BSIZE and trailer ISIZE).
fn gzi_bytes(r: &mut dyn Read) -> Result<Vec<u8>, String> {
    let mut entries = Vec::new();
    let (mut c, mut u) = (0u64, 0u64);
    let mut header = [0u8; 18];
    loop {
        match r.read(&mut header[..1]).map_err(|e| e.to_string())? {
            0 => break,
            _ => r.read_exact(&mut header[1..]).map_err(|e| e.to_string())?,
        }
        if header[..4] != [0x1f, 0x8b, 8, 4] || header[12..14] != *b"BC" {
            return Err(format!("byte {c}: not a bgzf block header"));
        }
        let bsize = u64::from(u16::from_le_bytes([header[16], header[17]])) + 1;
        let mut rest = vec![0u8; (bsize as usize).saturating_sub(18)];
        r.read_exact(&mut rest)
            .map_err(|e| format!("byte {c}: a truncated block ({e})"))?;
        let isize = rest
            .len()
            .checked_sub(4)
            .map(|i| u32::from_le_bytes([rest[i], rest[i + 1], rest[i + 2], rest[i + 3]]))
            .ok_or_else(|| format!("byte {c}: a block too short for its trailer"))?;
        if c > 0 {
            entries.push((c, u));
        }
        c += bsize;
        u += u64::from(isize);
    }
    // samtools leaves out the empty end-of-file block
    if entries.last().is_some_and(|&(_, uo)| uo == u) {
        entries.pop();
    }
    let mut w = bgzf::gzi::io::Writer::new(Vec::new());
    w.write_index(&bgzf::gzi::Index::from(entries))
        .map_err(|e| e.to_string())?;
    Ok(w.into_inner())
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
        let kind = sniff(&mut inner, file)?;
        let index = fai::io::Reader::new(fai_text)
            .read_index()
            .map_err(|e| Error::parse(&format!("{file}.fai"), "index", e))?;
        let source = match (kind, gzi) {
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
            checked: vec![false; index.as_ref().len()],
            inner,
            index,
            file: file.to_string(),
        }
    }

    /// Contig names and lengths, in index order.
    pub fn contigs(&self) -> Vec<(String, u64)> {
        self.index
            .as_ref()
            .iter()
            .map(|r| (r.name().to_string(), r.length()))
            .collect()
    }

    /// The length of `chrom`, or `None` if the index does not list it.
    pub fn length(&self, chrom: &str) -> Option<u64> {
        self.index
            .as_ref()
            .iter()
            .find(|r| r.name() == chrom.as_bytes())
            .map(|r| r.length())
    }

    /// The error for an index that disagrees with the file, with how to rebuild it.
    fn stale(&self, chrom: &str, what: String) -> Error {
        Error::parse(
            &self.file,
            format!("contig '{chrom}'"),
            format!(
                "the .fai index does not match the file ({what}); it is stale or belongs to \
                 another file: rebuild it with `samtools faidx {}`",
                self.file
            ),
        )
    }

    /// Up to `n` bytes at `at`; fewer only at the end of the file.
    fn bytes_at(&mut self, at: u64, n: usize) -> Result<Vec<u8>, Error> {
        self.inner
            .seek(SeekFrom::Start(at))
            .map_err(|e| Error::io(&self.file, e))?;
        let mut buf = Vec::with_capacity(n);
        (&mut self.inner)
            .take(n as u64)
            .read_to_end(&mut buf)
            .map_err(|e| Error::io(&self.file, e))?;
        Ok(buf)
    }

    /// Checks contig `i`'s ends against the file (once per contig).
    fn check_ends(&mut self, i: usize) -> Result<(), Error> {
        if self.checked[i] {
            return Ok(());
        }
        let r = &self.index.as_ref()[i];
        let (name, len, off) = (r.name().to_string(), r.length(), r.position());
        let (lb, lw) = (r.line_base_count().get(), r.line_width().get());
        if lw <= lb || lw > lb + 2 {
            return Err(self.stale(&name, format!("{lb} bases per line in lines of {lw} bytes")));
        }
        let before = match off {
            0 => vec![b'\n'],
            _ => self.bytes_at(off - 1, 1)?,
        };
        if before != [b'\n'] {
            return Err(self.stale(
                &name,
                format!("no line break before its first base at byte {off}"),
            ));
        }
        if len > 0 {
            let last = off + (len - 1) / lb * lw + (len - 1) % lb;
            let tail = self.bytes_at(last, 2)?;
            let base_ok = tail.first().is_some_and(|b| !b"\r\n>".contains(b));
            let end_ok = tail.get(1).is_none_or(|b| b"\r\n".contains(b));
            if !base_ok || !end_ok {
                return Err(self.stale(
                    &name,
                    format!(
                        "its {len} bases should end at byte {last} before a line break; found {:?}",
                        String::from_utf8_lossy(&tail)
                    ),
                ));
            }
        }
        self.checked[i] = true;
        Ok(())
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
        let lo = start.clamp(0, len as i64) as u64;
        let hi = end.clamp(0, len as i64) as u64;
        let mut out = Vec::with_capacity(width);
        out.resize((lo as i64 - start).max(0) as usize, b'N');
        if hi > lo {
            let i = self
                .index
                .as_ref()
                .iter()
                .position(|r| r.name() == chrom.as_bytes())
                .expect("the length came from this record");
            self.check_ends(i)?;
            let r = &self.index.as_ref()[i];
            let (off, lb, lw) = (
                r.position(),
                r.line_base_count().get(),
                r.line_width().get(),
            );
            let byte = |b: u64| off + b / lb * lw + b % lb;
            let from = byte(lo);
            let raw = self.bytes_at(from, (byte(hi - 1) + 1 - from) as usize)?;
            // Line by line: bases where the index puts them, line breaks between.
            for line in lo / lb..=(hi - 1) / lb {
                let (a, b) = ((line * lb).max(lo), ((line + 1) * lb).min(hi));
                let (ra, rb) = ((byte(a) - from) as usize, (byte(b - 1) + 1 - from) as usize);
                let bases = raw.get(ra..rb).unwrap_or_default();
                if bases.len() != (b - a) as usize || bases.iter().any(|c| b"\r\n>".contains(c)) {
                    return Err(self.stale(
                        chrom,
                        format!(
                            "bases {a}..{b} are not where it puts them, at bytes {}..{}",
                            from + ra as u64,
                            from + rb as u64
                        ),
                    ));
                }
                out.extend_from_slice(bases);
                if b == (line + 1) * lb && b < hi {
                    let brk = &raw[rb..(byte(b) - from) as usize];
                    if brk.last() != Some(&b'\n') || brk.iter().any(|c| !b"\r\n".contains(c)) {
                        return Err(self.stale(
                            chrom,
                            format!(
                                "no line break after {lb} bases at byte {}",
                                from + rb as u64
                            ),
                        ));
                    }
                }
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

    /// A stale index never gives other bases: each way an index can disagree with its
    /// file (hand-made variants of `FAI`) is an error that says to rebuild it.
    #[test]
    fn a_stale_index_is_an_error_not_other_bases() {
        for (fai, region) in [
            // line width 6 read as 7 (the issue's 60 vs 70)
            (&b"c1\t12\t4\t6\t7\nc2\t4\t23\t4\t5\n"[..], ("c1", 0, 12)),
            (&b"c1\t12\t4\t6\t7\nc2\t4\t23\t4\t5\n"[..], ("c1", 0, 3)),
            // one base too many, or too few
            (b"c1\t13\t4\t5\t6\nc2\t4\t23\t4\t5\n", ("c1", 0, 3)),
            (b"c1\t11\t4\t5\t6\nc2\t4\t23\t4\t5\n", ("c1", 0, 3)),
            // the offset of another file
            (b"c1\t12\t5\t5\t6\nc2\t4\t23\t4\t5\n", ("c1", 0, 3)),
            (b"c1\t12\t4\t5\t6\nc2\t4\t22\t4\t5\n", ("c2", 1, 2)),
            // a line width the format cannot have
            (b"c1\t12\t4\t5\t9\nc2\t4\t23\t4\t5\n", ("c1", 0, 3)),
        ] {
            let mut f = IndexedFasta::new(Cursor::new(FA), fai, "g.fa").unwrap();
            let (chrom, a, b) = region;
            let msg = match f.fetch(chrom, a, b) {
                Ok(bases) => panic!(
                    "{}: read {:?}",
                    String::from_utf8_lossy(fai),
                    String::from_utf8_lossy(&bases)
                ),
                Err(e) => e.to_string(),
            };
            assert!(
                msg.contains("does not match the file") && msg.contains("samtools faidx g.fa"),
                "{msg}"
            );
        }
    }

    /// Windows (CRLF) line ends, as samtools indexes them (line width = bases + 2).
    #[test]
    fn crlf_files_read_like_lf_files() {
        let fa = b">c1\r\nACGTA\r\nCGTAC\r\nGT\r\n>c2\r\nTTTT\r\n";
        let fai = b"c1\t12\t5\t5\t7\nc2\t4\t28\t4\t6\n";
        let mut f = IndexedFasta::new(Cursor::new(&fa[..]), &fai[..], "g.fa").unwrap();
        assert_eq!(f.fetch("c1", 3, 12).unwrap(), b"TACGTACGT");
        assert_eq!(f.fetch("c2", 0, 5).unwrap(), b"TTTTN");
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
