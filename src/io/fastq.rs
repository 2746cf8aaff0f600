//! FASTQ as htslib reads it: a record is an `@name [description]` line, sequence lines up to
//! a line starting with `+`, then quality lines until there are as many quality values as
//! bases. Sequence and quality may each span several lines (the format allows it; noodles'
//! reader does not), line ends may be CRLF, and blank lines between records are skipped.
//! Anything else is an error naming the record, its line, what was found and what was
//! expected.

use std::io::BufRead;

use super::{Error, SeqRecord};

/// Reads FASTQ records from a buffered stream.
pub(crate) struct Reader<R> {
    inner: R,
    file: String,
    /// Lines read so far.
    line: usize,
    /// A line read ahead (the next record's header).
    peeked: Option<String>,
}

impl<R: BufRead> Reader<R> {
    pub(crate) fn new(inner: R, file: &str) -> Self {
        Reader {
            inner,
            file: file.to_string(),
            line: 0,
            peeked: None,
        }
    }

    /// The next line without its line end, or `None` at the end of the stream.
    fn next_line(&mut self) -> Result<Option<String>, Error> {
        if let Some(l) = self.peeked.take() {
            return Ok(Some(l));
        }
        let mut buf = Vec::new();
        let n = self
            .inner
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(&self.file, e))?;
        if n == 0 {
            return Ok(None);
        }
        self.line += 1;
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        String::from_utf8(buf).map(Some).map_err(|_| {
            Error::parse(
                &self.file,
                format!("line {}", self.line),
                "the line is not text (UTF-8)",
            )
        })
    }

    /// The next record (`n` counts records from 1, for messages), or `None` at the end.
    pub(crate) fn read_record(&mut self, n: usize) -> Result<Option<SeqRecord>, Error> {
        let header = loop {
            match self.next_line()? {
                None => return Ok(None),
                Some(l) if l.trim().is_empty() => continue,
                Some(l) => break l,
            }
        };
        let header_line = self.line;
        let Some(rest) = header.strip_prefix('@') else {
            return Err(Error::parse(
                &self.file,
                format!("record {n}, line {header_line}"),
                format!(
                    "expected a FASTQ header starting with '@', found {:?}",
                    header.chars().take(40).collect::<String>()
                ),
            ));
        };
        let (id, description) = match rest.split_once(char::is_whitespace) {
            Some((id, d)) => (
                id.to_string(),
                Some(d.trim().to_string()).filter(|d| !d.is_empty()),
            ),
            None => (rest.to_string(), None),
        };
        let at = |line: usize| format!("record {n} ('{id}'), line {line}");
        let mut seq = Vec::new();
        loop {
            match self.next_line()? {
                Some(l) if l.starts_with('+') => break,
                Some(l) if l.starts_with('@') => {
                    return Err(Error::parse(
                        &self.file,
                        at(self.line),
                        format!(
                            "expected the '+' line after the sequence, found the next record's \
                             header {:?}",
                            l.chars().take(40).collect::<String>()
                        ),
                    ));
                }
                Some(l) => seq.extend(l.bytes().filter(|b| !b.is_ascii_whitespace())),
                None => {
                    return Err(Error::parse(
                        &self.file,
                        at(self.line),
                        "the file ends before the record's '+' line and qualities",
                    ));
                }
            }
        }
        let mut quality = 0usize;
        while quality < seq.len() {
            match self.next_line()? {
                Some(l) => quality += l.trim_end().len(),
                None => break,
            }
        }
        if quality != seq.len() {
            return Err(Error::parse(
                &self.file,
                at(self.line),
                format!(
                    "the qualities have {quality} values but the sequence has {} bases",
                    seq.len()
                ),
            ));
        }
        Ok(Some(SeqRecord {
            id,
            description,
            seq,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<SeqRecord>, Error> {
        let mut r = Reader::new(text.as_bytes(), "x.fq");
        let mut out = Vec::new();
        while let Some(rec) = r.read_record(out.len() + 1)? {
            out.push(rec);
        }
        Ok(out)
    }

    /// htslib's reading: multi-line sequence and quality (a quality line may start with '@'
    /// or '+'), CRLF, blank lines between records, descriptions.
    #[test]
    fn reads_what_htslib_reads() {
        let recs = read("@r1 first read\r\nACGT\r\nAC\r\n+r1\r\nIIII\r\n@I\r\n\n@r2\nGG\n+\n+I\n")
            .unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(
            (
                recs[0].id.as_str(),
                recs[0].description.as_deref(),
                &recs[0].seq[..]
            ),
            ("r1", Some("first read"), &b"ACGTAC"[..])
        );
        assert_eq!((recs[1].id.as_str(), &recs[1].seq[..]), ("r2", &b"GG"[..]));
    }

    #[test]
    fn errors_name_the_record_line_and_what_was_expected() {
        for (text, want) in [
            (
                "@r1\nACGT\n@r2\nGG\n+\nII\n",
                "record 1 ('r1'), line 3: expected the '+' line after the sequence, found the next record's header \"@r2\"",
            ),
            (
                "@r1\nACGT\n+\nIII\n",
                "record 1 ('r1'), line 4: the qualities have 3 values but the sequence has 4 bases",
            ),
            (
                "@r1\nACGT\n+\nIIIII\n",
                "the qualities have 5 values but the sequence has 4 bases",
            ),
            ("@r1\nACGT\n", "the file ends before the record's '+' line"),
            (
                "@r1\nA\n+\nI\nr2\nG\n+\nI\n",
                "record 2, line 5: expected a FASTQ header starting with '@', found \"r2\"",
            ),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }
}
