use std::io::Read;

use noodles::vcf;
use serde::Serialize;

use super::{Error, Lines, decompress};

/// One VCF record's site: multi-allelic records keep all their ALT alleles here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Variant {
    /// The contig.
    pub chrom: String,
    /// 1-based, as in the VCF.
    pub pos: u64,
    /// The ID column, `None` for `.`.
    pub id: Option<String>,
    /// The REF allele.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The ALT alleles, in order.
    pub alts: Vec<String>,
    /// Line number in the file, for messages.
    pub line: usize,
}

impl Variant {
    /// The ALT alleles scored one by one: the ALT column's, or `.` for a record without one
    /// (which scorers report as symbolic).
    pub fn alleles(&self) -> Vec<&str> {
        if self.alts.is_empty() {
            vec!["."]
        } else {
            self.alts.iter().map(String::as_str).collect()
        }
    }
}

/// What a REF or ALT allele is, for scoring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AlleleKind {
    /// Bases the models score: A, C, G, T and N, either case.
    Bases,
    /// Not a sequence: `<DEL>`, `*`, `.`, breakends, or empty.
    Symbolic,
    /// Letters other than A, C, G, T, N (IUPAC ambiguity codes such as `Y`), which a
    /// one-hot encoding could only blur: refused, never scored as N.
    Ambiguous,
}

impl AlleleKind {
    /// What kind of allele `allele` (a REF or ALT column value) is.
    pub fn of(allele: &str) -> AlleleKind {
        if allele.is_empty()
            || allele == "*"
            || allele.starts_with('<')
            || allele.contains(['[', ']', '.'])
        {
            AlleleKind::Symbolic
        } else if allele
            .bytes()
            .all(|b| matches!(b.to_ascii_uppercase(), b'A' | b'C' | b'G' | b'T' | b'N'))
        {
            AlleleKind::Bases
        } else if allele.bytes().all(|b| b.is_ascii_alphabetic()) {
            AlleleKind::Ambiguous
        } else {
            AlleleKind::Symbolic
        }
    }
}

/// A VCF as read: its header lines, and each record parsed and as written (for writers that
/// add annotations to the input).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VcfFile {
    /// Every header line (`##...` and `#CHROM...`), in order.
    pub header: Vec<String>,
    /// The records, in file order.
    pub variants: Vec<Variant>,
    /// The text of each record, parallel to `variants`.
    pub lines: Vec<String>,
}

/// Reads a VCF (plain, gzip or bgzf) and keeps its text; see [`read_vcf`].
pub fn read_vcf_file<R: Read>(reader: R, file: &str) -> Result<VcfFile, Error> {
    let mut out = VcfFile::default();
    read_into(reader, file, &mut out, true)?;
    Ok(out)
}

/// Reads a VCF (plain, gzip or bgzf). The header is parsed and checked with noodles; each data
/// line becomes a [`Variant`].
///
/// ```
/// let vcf = b"##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n\
/// chr1\t5\trs1\tA\tG,T\t.\t.\t.\n";
/// let v = seqlens::io::read_vcf(&vcf[..], "a.vcf").unwrap();
/// assert_eq!((v[0].pos, v[0].alts.len()), (5, 2));
/// ```
pub fn read_vcf<R: Read>(reader: R, file: &str) -> Result<Vec<Variant>, Error> {
    let mut out = VcfFile::default();
    read_into(reader, file, &mut out, false)?;
    Ok(out.variants)
}

fn read_into<R: Read>(
    reader: R,
    file: &str,
    vcf: &mut VcfFile,
    keep_text: bool,
) -> Result<(), Error> {
    let mut lines = Lines::new(decompress(reader).map_err(|e| Error::io(file, e))?, file);
    let mut buf = String::new();
    let mut header = String::new();
    let out = &mut vcf.variants;
    let mut header_done = false;
    while let Some(n) = lines.next_line(&mut buf)? {
        let at = |msg: String| Error::parse(file, format!("line {n}"), msg);
        if n == 1 && !buf.starts_with("##fileformat=VCF") {
            return Err(at(format!(
                "expected a VCF header starting with '##fileformat=VCF', found {:?}",
                buf.chars().take(40).collect::<String>()
            )));
        }
        if !header_done {
            if buf.starts_with('#') {
                header.push_str(&buf);
                header.push('\n');
                if keep_text {
                    vcf.header.push(buf.clone());
                }
                if buf.starts_with("#CHROM") {
                    if let Err(e) = header.parse::<vcf::Header>() {
                        let (line, e) = culprit(&header, e);
                        return Err(Error::parse(
                            file,
                            format!("line {}", n + 1 + line - header.lines().count()),
                            format!("invalid VCF header line: {e}"),
                        ));
                    }
                    header_done = true;
                }
                continue;
            }
            return Err(at("a data line came before the '#CHROM' header line".into()));
        }
        if buf.trim().is_empty() {
            continue;
        }
        // The fields seqlens uses are checked here, each error naming the field; the rest
        // (QUAL, FILTER, INFO, samples) is kept as text.
        let f: Vec<&str> = buf.split('\t').collect();
        if f.len() < 8 {
            return Err(at(format!(
                "expected 8 tab-separated fields (CHROM POS ID REF ALT QUAL FILTER INFO), found {}",
                f.len()
            )));
        }
        if f[0].is_empty() || f[0].contains(char::is_whitespace) {
            return Err(at(format!("CHROM {:?} is not a contig name", f[0])));
        }
        // POS 0 is the telomere before the first base (VCF 4.3): read, then reported by
        // the scorers as outside the contig.
        let pos: u64 = f[1].parse().map_err(|_| {
            at(format!(
                "POS {:?} is not a position (a 1-based integer, or 0 for a telomere)",
                f[1]
            ))
        })?;
        let reference = f[3].to_string();
        if reference.is_empty() || reference == "." {
            return Err(at(format!(
                "REF {:?} is missing: every record needs its reference bases",
                f[3]
            )));
        }
        let (id, alts) = (f[2], f[4]);
        out.push(Variant {
            chrom: f[0].to_string(),
            pos,
            id: (!id.is_empty() && id != ".").then(|| id.to_string()),
            reference,
            alts: if alts.is_empty() || alts == "." {
                Vec::new()
            } else {
                alts.split(',').map(str::to_string).collect()
            },
            line: n,
        });
        if keep_text {
            vcf.lines.push(buf.clone());
        }
    }
    if !header_done {
        return Err(Error::parse(
            file,
            "header",
            "the '#CHROM' header line is missing",
        ));
    }
    Ok(())
}

/// The header line (0-based among `header`'s lines) that makes it invalid, and that line's
/// error: the first line whose addition to the lines before it fails to parse (the header
/// with `#CHROM` failed as a whole; a prefix that fails stays failing, so this bisects).
fn culprit(header: &str, whole: impl std::fmt::Display) -> (usize, String) {
    let lines: Vec<&str> = header.lines().collect();
    let chrom = lines.last().copied().unwrap_or_default();
    let parse = |k: usize| {
        let mut text = lines[..k].join("\n");
        text.push('\n');
        text.push_str(chrom);
        text.push('\n');
        text.parse::<vcf::Header>().err().map(|e| {
            // noodles' top-level message is generic ("invalid record"); its causes say what
            let mut msg = e.to_string();
            let mut cause = std::error::Error::source(&e);
            while let Some(c) = cause {
                msg.push_str(&format!(": {c}"));
                cause = c.source();
            }
            msg
        })
    };
    // the first `lo` lines parse (with `#CHROM`), the first `hi` do not
    let (mut lo, mut hi) = (1, lines.len().saturating_sub(1));
    if let Some(e) = parse(1).filter(|_| hi >= 1) {
        return (0, e);
    }
    if hi <= lo || parse(hi).is_none() {
        return (lines.len().saturating_sub(1), whole.to_string());
    }
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if parse(mid).is_some() {
            hi = mid
        } else {
            lo = mid
        }
    }
    (hi - 1, parse(hi).unwrap_or_else(|| whole.to_string()))
}

/// Variants written by hand, one per line, as `chr1:12345 A>G`, `chr1:12345:A:G`,
/// `chr1-12345-A-G` (gnomAD style) or `chr1 12345 A G` (1-based positions; several ALTs
/// separated by commas), read into a [`VcfFile`] as if they had come from a minimal VCF.
///
/// ```
/// let v = seqlens::io::read_variant_specs("chr7:117559590 A>G\n17-43045711-C-T,G", "typed").unwrap();
/// assert_eq!((v.variants[0].pos, v.variants[1].alts.len()), (117559590, 2));
/// ```
pub fn read_variant_specs(text: &str, file: &str) -> Result<VcfFile, Error> {
    let mut vcf_text =
        String::from("##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n");
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split(|c: char| c == ':' || c == '-' || c == '>' || c.is_whitespace())
            .filter(|f| !f.is_empty())
            .collect();
        let [chrom, pos, reference, alt] = fields[..] else {
            return Err(Error::parse(
                file,
                format!("line {}", i + 1),
                format!(
                    "expected a variant as chrom:pos ref>alt (e.g. chr1:12345 A>G), found {line:?}"
                ),
            ));
        };
        if pos.parse::<u64>().map_or(true, |p| p == 0) {
            return Err(Error::parse(
                file,
                format!("line {}", i + 1),
                format!("position {pos:?} is not a 1-based integer"),
            ));
        }
        vcf_text.push_str(&format!("{chrom}\t{pos}\t.\t{reference}\t{alt}\t.\t.\t.\n"));
    }
    let vcf = read_vcf_file(vcf_text.as_bytes(), file)?;
    if vcf.variants.is_empty() {
        return Err(Error::parse(file, "input", "no variants given"));
    }
    Ok(vcf)
}

/// A VCF, or variants written by hand (see [`read_variant_specs`]): a VCF when the text
/// starts with its `##fileformat` line (after gzip, if compressed).
pub fn read_variants_any(bytes: &[u8], file: &str) -> Result<VcfFile, Error> {
    let mut head = Vec::new();
    decompress(bytes)
        .and_then(|mut r| std::io::Read::read_to_end(&mut (&mut r).take(64), &mut head))
        .map_err(|e| Error::io(file, e))?;
    if head.starts_with(b"##fileformat") {
        return read_vcf_file(bytes, file);
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        Error::parse(
            file,
            "input",
            "neither a VCF nor variants as text (chrom:pos ref>alt)",
        )
    })?;
    read_variant_specs(text, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str =
        "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";

    #[test]
    fn reads_snv_indel_and_multiallelic() {
        let text = format!(
            "{HEAD}chr1\t10\t.\tA\tG\t.\tPASS\t.\nchr1\t20\tdel1\tACG\tA\t50\t.\tDP=3\nchr1\t30\t.\tC\tT,CA\t.\t.\t.\n"
        );
        let v = read_vcf(text.as_bytes(), "a.vcf").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!((v[0].pos, v[0].id.clone(), v[0].line), (10, None, 4));
        assert_eq!(
            (v[1].reference.as_str(), v[1].alts[0].as_str()),
            ("ACG", "A")
        );
        assert_eq!(v[1].id.as_deref(), Some("del1"));
        assert_eq!(v[2].alts, ["T", "CA"]);
    }

    #[test]
    fn typed_variants_read_as_a_vcf() {
        let v = read_variants_any(b"chr1:100 A>G\n# note\nchr2 5 AC A\n", "typed").unwrap();
        assert_eq!(v.variants.len(), 2);
        assert_eq!(
            (
                v.variants[1].reference.as_str(),
                v.variants[1].alts[0].as_str()
            ),
            ("AC", "A")
        );
        assert_eq!(v.lines[0], "chr1\t100\t.\tA\tG\t.\t.\t.");
        let e = read_variants_any(b"chr1 A G", "typed")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 1") && e.contains("chrom:pos ref>alt"),
            "{e}"
        );
        let vcf = format!("{HEAD}chr1\t10\t.\tA\tG\t.\tPASS\t.\n");
        assert_eq!(
            read_variants_any(vcf.as_bytes(), "a.vcf").unwrap().variants[0].pos,
            10
        );
    }

    #[test]
    fn errors_name_the_line() {
        let err = read_vcf(&b">chr1\nACGT\n"[..], "x.vcf").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("x.vcf: line 1: expected a VCF header"),
            "{err}"
        );
        let text = format!("{HEAD}chr1\tNaN\t.\tA\tG\t.\t.\t.\n");
        let err = read_vcf(text.as_bytes(), "x.vcf").unwrap_err();
        assert!(err.to_string().starts_with("x.vcf: line 4:"), "{err}");
        let err = read_vcf(&b"##fileformat=VCFv4.3\n"[..], "x.vcf").unwrap_err();
        assert!(err.to_string().contains("#CHROM"), "{err}");
    }

    /// Each bad record or header line is named by its own line, with the field, what was
    /// found and what was expected.
    #[test]
    fn errors_name_the_field_and_the_exact_line() {
        let err = |text: &str| read_vcf(text.as_bytes(), "x.vcf").unwrap_err().to_string();
        for (body, want) in [
            (
                "chr1\tx\t.\tA\tG\t.\t.\t.\n",
                "line 5: POS \"x\" is not a position",
            ),
            (
                "chr1\t5\t.\tA\tG\n",
                "line 5: expected 8 tab-separated fields (CHROM POS ID REF ALT QUAL FILTER INFO), found 5",
            ),
            (
                "chr1\t5\t.\t.\tG\t.\t.\t.\n",
                "line 5: REF \".\" is missing",
            ),
            (
                "\t5\t.\tA\tG\t.\t.\t.\n",
                "line 5: CHROM \"\" is not a contig name",
            ),
        ] {
            // a good record on line 4, the bad one on line 5
            let e = err(&format!("{HEAD}chr1\t1\t.\tA\tC\t.\t.\t.\n{body}"));
            assert!(e.contains(want), "{e}");
        }
        // a bad header line is named, not the #CHROM line after it, with noodles' cause
        let text = "##fileformat=VCFv4.2\n##contig=<ID=chr1>\n\
                    ##INFO=<ID=DP,Number=1,Type=Integer,Description=\"depth\">\n##bad header\n\
                    ##source=x\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
        let e = err(text);
        assert!(
            e.starts_with("x.vcf: line 4: invalid VCF header line: ") && e.contains("delimiter"),
            "{e}"
        );
        let text = "##fileformat=VCFv4.2\n##INFO=<ID=DP,Number=1,Type=Integer>\n\
                    #CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
        let e = err(text);
        assert!(
            e.starts_with("x.vcf: line 2: ") && e.contains("missing description"),
            "{e}"
        );
        // POS 0 (a telomere) is read; the scorers report it as outside the contig
        let v = read_vcf(
            format!("{HEAD}chr1\t0\t.\tA\tC\t.\t.\t.\n").as_bytes(),
            "x.vcf",
        )
        .unwrap();
        assert_eq!(v[0].pos, 0);
    }
}
