use std::io::Read;

use noodles::vcf;
use serde::Serialize;

use super::{Error, Lines, decompress};

/// One VCF record's site: multi-allelic records keep all their ALT alleles here.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Variant {
    pub chrom: String,
    /// 1-based, as in the VCF.
    pub pos: u64,
    pub id: Option<String>,
    #[serde(rename = "ref")]
    pub reference: String,
    pub alts: Vec<String>,
    /// Line number in the file, for messages.
    pub line: usize,
}

/// A VCF as read: its header lines, and each record parsed and as written (for writers that
/// add annotations to the input).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VcfFile {
    /// Every header line (`##...` and `#CHROM...`), in order.
    pub header: Vec<String>,
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
                    header
                        .parse::<vcf::Header>()
                        .map_err(|e| at(format!("invalid VCF header: {e}")))?;
                    header_done = true;
                }
                continue;
            }
            return Err(at("a data line came before the '#CHROM' header line".into()));
        }
        if buf.trim().is_empty() {
            continue;
        }
        let mut rec = vcf::Record::default();
        let text = format!("{buf}\n");
        vcf::io::Reader::new(text.as_bytes())
            .read_record(&mut rec)
            .map_err(|e| at(format!("invalid record: {e}")))?;
        let pos = rec
            .variant_start()
            .ok_or_else(|| at("POS is missing".into()))?
            .map_err(|e| at(format!("invalid POS: {e}")))?;
        let reference = rec.reference_bases().to_string();
        if reference.is_empty() || reference == "." {
            return Err(at("REF is missing".into()));
        }
        let ids = rec.ids();
        let id = ids.as_ref();
        let alts = rec.alternate_bases();
        let alts = alts.as_ref();
        out.push(Variant {
            chrom: rec.reference_sequence_name().to_string(),
            pos: usize::from(pos) as u64,
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
}
