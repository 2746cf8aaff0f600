//! Reading genomic files with noodles.
//!
//! This module owns FASTA/FASTQ (plain, gzip or bgzf), indexed FASTA (`.fai`) random access,
//! BED intervals, VCF variants, and per-base signal tracks (bedGraph; bigWig natively). Every
//! reader takes any [`std::io::Read`] (or `Read + Seek` for random access), so the browser can
//! hand in bytes and the CLI a file. Coordinates are
//! converted here and nowhere else: BED is 0-based half-open, VCF positions stay 1-based as in
//! the spec, and [`IndexedFasta::fetch`] takes 0-based half-open ranges.
//!
//! It knows nothing about tensors: sequences leave as bytes.

mod bed;
mod fasta;
mod fastq;
mod indexed;
mod signal;
mod vcf;

use std::io::{BufRead, BufReader, Read};

pub use bed::{Interval, read_bed};
pub use fasta::{SeqRecord, SequenceReader, read_sequences};
pub use indexed::{FastaIndexes, FastaSource, IndexedFasta, index_fasta};
pub use signal::Signal;
pub use vcf::{
    AlleleKind, Variant, VcfFile, read_variant_specs, read_variants_any, read_vcf, read_vcf_file,
};

/// Errors raised while reading input files. Each names the file and where in it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The underlying read failed (missing file, truncated gzip stream, ...).
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The content is not what the format requires.
    #[error("{file}: {location}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// Where in it: a line, a record or a byte offset.
        location: String,
        /// What was found and what was expected.
        message: String,
    },
    /// A contig named by a BED or VCF record is missing from the reference FASTA.
    #[error("{file}: contig '{contig}' is not in the reference (it has: {known})")]
    UnknownContig {
        /// The BED or VCF file naming the contig.
        file: String,
        /// The contig.
        contig: String,
        /// The reference's contigs (the first few).
        known: String,
    },
}

impl Error {
    pub(crate) fn io(file: &str, source: std::io::Error) -> Self {
        Error::Io {
            file: file.to_string(),
            source,
        }
    }

    pub(crate) fn parse(file: &str, location: impl Into<String>, message: impl ToString) -> Self {
        Error::Parse {
            file: file.to_string(),
            location: location.into(),
            message: message.to_string(),
        }
    }
}

/// Wraps `reader` in a buffered reader that transparently inflates gzip and bgzf (a bgzf file
/// is a series of gzip members, which `MultiGzDecoder` reads in order).
pub fn decompress<'a, R: Read + 'a>(reader: R) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let head = r.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::bufread::MultiGzDecoder::new(r),
        )))
    } else {
        Ok(Box::new(r))
    }
}

/// Reads lines (without the line ending), numbering them from 1, and wraps errors with the file.
pub(crate) struct Lines<R> {
    inner: R,
    file: String,
    line: usize,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(inner: R, file: &str) -> Self {
        Lines {
            inner,
            file: file.to_string(),
            line: 0,
        }
    }

    /// The next line into `buf`, or `None` at end of input.
    pub(crate) fn next_line(&mut self, buf: &mut String) -> Result<Option<usize>, Error> {
        buf.clear();
        let mut bytes = Vec::new();
        let n = self
            .inner
            .read_until(b'\n', &mut bytes)
            .map_err(|e| Error::io(&self.file, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        while bytes.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            bytes.pop();
        }
        match String::from_utf8(bytes) {
            Ok(s) => *buf = s,
            Err(_) => {
                return Err(Error::parse(
                    &self.file,
                    format!("line {}", self.line),
                    "not UTF-8 text (is this a binary or compressed file of another format?)",
                ));
            }
        }
        Ok(Some(self.line))
    }
}

/// Formats the start of some bytes for an error message: printable ASCII as is, others escaped.
pub(crate) fn preview(bytes: &[u8]) -> String {
    let s: String = bytes
        .iter()
        .take(16)
        .flat_map(|&b| std::ascii::escape_default(b))
        .map(char::from)
        .collect();
    format!("\"{s}\"")
}
