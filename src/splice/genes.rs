//! Gene annotation for splice scoring: which genes overlap a variant, their strands and
//! bounds, and their annotated splice sites.
//!
//! Three formats are read, detected from the content (plain or gzip):
//! - seqlens' compact table (the bundled GRCh37/GRCh38 tables, converted from cispliceai's
//!   by `scripts/convert_cispliceai.py`);
//! - cispliceai's CSV (`gene_id,chr,strand,start,end,jn_start,jn_end`);
//! - GTF (GENCODE/Ensembl): each gene's junctions are the introns of its transcripts.
//!
//! Coordinates are 1-based, as in the tables. As cispliceai uses them, a gene covers
//! positions `start <= pos < end` (so its `end` base itself counts as outside), `jn_start`
//! holds the last exonic base before each intron and `jn_end` the first exonic base after it.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;

use super::Error;

/// A gene's strand.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Strand {
    /// The forward strand.
    #[serde(rename = "+")]
    Plus,
    /// The reverse strand.
    #[serde(rename = "-")]
    Minus,
}

impl Strand {
    /// `+` or `-`.
    pub fn symbol(self) -> &'static str {
        match self {
            Strand::Plus => "+",
            Strand::Minus => "-",
        }
    }
}

/// One gene of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gene {
    /// The gene's name.
    pub id: String,
    /// Its contig.
    pub chrom: String,
    /// Its strand.
    pub strand: Strand,
    /// First base (1-based).
    pub start: u64,
    /// cispliceai's end: positions `start..end` belong to the gene.
    pub end: u64,
    /// The last exonic base before each intron (1-based), sorted.
    pub jn_start: Vec<u64>,
    /// The first exonic base after each intron (1-based), sorted.
    pub jn_end: Vec<u64>,
}

impl Gene {
    /// Annotated acceptor sites: the exon starts after introns on the plus strand, the exon
    /// ends before them (in genome order) on the minus strand.
    pub fn acceptors(&self) -> &[u64] {
        match self.strand {
            Strand::Plus => &self.jn_end,
            Strand::Minus => &self.jn_start,
        }
    }

    /// Annotated donor sites.
    pub fn donors(&self) -> &[u64] {
        match self.strand {
            Strand::Plus => &self.jn_start,
            Strand::Minus => &self.jn_end,
        }
    }
}

/// A gene table with lookup by position.
#[derive(Clone, Debug, Default)]
pub struct GeneTable {
    genes: Vec<Gene>,
    /// Per chromosome, gene indices sorted by start, and the longest gene there.
    by_chrom: HashMap<String, (Vec<usize>, u64)>,
}

const COMPACT_HEADER: &str = "#seqlens gene table v1";
const CSV_HEADER: &str = "gene_id,chr,strand,start,end,jn_start,jn_end";

impl GeneTable {
    /// Builds a table from genes in table order (the order breaks ties between genes).
    pub fn new(genes: Vec<Gene>) -> GeneTable {
        let mut by_chrom: HashMap<String, (Vec<usize>, u64)> = HashMap::new();
        for (i, g) in genes.iter().enumerate() {
            let e = by_chrom.entry(g.chrom.clone()).or_default();
            e.0.push(i);
            e.1 = e.1.max(g.end.saturating_sub(g.start));
        }
        for (idx, _) in by_chrom.values_mut() {
            idx.sort_by_key(|&i| (genes[i].start, i));
        }
        GeneTable { genes, by_chrom }
    }

    /// Reads a table in any of the three formats, plain or gzip; `name` names it in errors.
    pub fn read<R: Read>(reader: R, name: &str) -> Result<GeneTable, Error> {
        let mut text = String::new();
        crate::io::decompress(reader)
            .and_then(|mut r| r.read_to_string(&mut text))
            .map_err(|e| Error::Table {
                file: name.into(),
                line: 0,
                message: format!("cannot read it as text: {e}"),
            })?;
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim_end_matches('\r');
        let genes = if first.starts_with(COMPACT_HEADER) {
            parse_compact(&text, name)?
        } else if first.replace(['"', ' '], "") == CSV_HEADER {
            parse_csv(&text, name)?
        } else if looks_like_gtf(&text) {
            parse_gtf(&text, name)?
        } else {
            return Err(Error::Table {
                file: name.into(),
                line: 1,
                message: format!(
                    "expected a seqlens gene table, cispliceai's CSV header '{CSV_HEADER}', or GTF (9 tab-separated columns); found {:?}",
                    first.chars().take(60).collect::<String>()
                ),
            });
        };
        if genes.is_empty() {
            return Err(Error::Table {
                file: name.into(),
                line: 0,
                message: "no genes with splice junctions".into(),
            });
        }
        Ok(GeneTable::new(genes))
    }

    /// The genes, in the order given.
    pub fn genes(&self) -> &[Gene] {
        &self.genes
    }

    /// The table's name for `chrom`: as given if the table has it, else with the `chr`
    /// prefix added or removed (as cispliceai matches VCF and table names).
    fn chrom_key<'a>(&self, chrom: &'a str) -> Option<std::borrow::Cow<'a, str>> {
        if self.by_chrom.contains_key(chrom) {
            return Some(chrom.into());
        }
        let other = match chrom.strip_prefix("chr") {
            Some(bare) => bare.to_string(),
            None => format!("chr{chrom}"),
        };
        self.by_chrom.contains_key(&other).then_some(other.into())
    }

    /// The genes that contain `pos` (1-based; `start <= pos < end`), in table order.
    pub fn overlapping(&self, chrom: &str, pos: u64) -> Vec<&Gene> {
        let Some(key) = self.chrom_key(chrom) else {
            return Vec::new();
        };
        let (idx, longest) = &self.by_chrom[key.as_ref()];
        let lo = pos.saturating_sub(*longest);
        let first = idx.partition_point(|&i| self.genes[i].start < lo);
        let mut hits: Vec<usize> = idx[first..]
            .iter()
            .copied()
            .take_while(|&i| self.genes[i].start <= pos)
            .filter(|&i| pos < self.genes[i].end)
            .collect();
        hits.sort_unstable();
        hits.into_iter().map(|i| &self.genes[i]).collect()
    }
}

fn table_err(file: &str, line: usize, message: impl Into<String>) -> Error {
    Error::Table {
        file: file.into(),
        line,
        message: message.into(),
    }
}

fn strand(s: &str, file: &str, line: usize) -> Result<Strand, Error> {
    match s {
        "+" => Ok(Strand::Plus),
        "-" => Ok(Strand::Minus),
        other => Err(table_err(
            file,
            line,
            format!("strand {other:?}; expected + or -"),
        )),
    }
}

fn number(s: &str, what: &str, file: &str, line: usize) -> Result<u64, Error> {
    s.trim().parse().map_err(|_| {
        table_err(
            file,
            line,
            format!("{what} {s:?} is not a non-negative integer"),
        )
    })
}

/// Checks a gene's fields and sorts its junctions.
fn gene(mut g: Gene, file: &str, line: usize) -> Result<Gene, Error> {
    if g.start == 0 || g.end <= g.start {
        return Err(table_err(
            file,
            line,
            format!(
                "gene {} has bounds {}..{}; expected 1 <= start < end",
                g.id, g.start, g.end
            ),
        ));
    }
    if g.jn_start.is_empty() || g.jn_start.len() != g.jn_end.len() {
        return Err(table_err(
            file,
            line,
            format!(
                "gene {} has {} junction starts and {} ends; expected the same number, at least one",
                g.id,
                g.jn_start.len(),
                g.jn_end.len()
            ),
        ));
    }
    g.jn_start.sort_unstable();
    g.jn_end.sort_unstable();
    Ok(g)
}

fn parse_compact(text: &str, file: &str) -> Result<Vec<Gene>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let [id, chrom, st, start, len, a, b] = f[..] else {
            return Err(table_err(
                file,
                n,
                format!("{} columns; expected 7", f.len()),
            ));
        };
        let start = number(start, "start", file, n)?;
        let decode = |v: &str| -> Result<Vec<u64>, Error> {
            let mut acc = start as i64;
            v.split(',')
                .map(|d| {
                    acc += d.trim().parse::<i64>().map_err(|_| {
                        table_err(file, n, format!("junction offset {d:?} is not an integer"))
                    })?;
                    u64::try_from(acc)
                        .map_err(|_| table_err(file, n, "a junction lies before base 1"))
                })
                .collect()
        };
        out.push(gene(
            Gene {
                id: id.into(),
                chrom: chrom.into(),
                strand: strand(st, file, n)?,
                start,
                end: start + number(len, "length", file, n)?,
                jn_start: decode(a)?,
                jn_end: decode(b)?,
            },
            file,
            n,
        )?);
    }
    Ok(out)
}

/// Splits a CSV line on commas outside double quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(String::new()),
            c => out.last_mut().expect("one field at least").push(c),
        }
    }
    out
}

fn parse_csv(text: &str, file: &str) -> Result<Vec<Gene>, Error> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let n = i + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let f = csv_fields(line);
        let [id, chrom, st, start, end, a, b] = &f[..] else {
            return Err(table_err(
                file,
                n,
                format!("{} fields; expected 7 ({CSV_HEADER})", f.len()),
            ));
        };
        let list = |v: &str, what: &str| -> Result<Vec<u64>, Error> {
            v.split(',').map(|x| number(x, what, file, n)).collect()
        };
        out.push(gene(
            Gene {
                id: id.clone(),
                chrom: chrom.clone(),
                strand: strand(st.trim(), file, n)?,
                start: number(start, "start", file, n)?,
                end: number(end, "end", file, n)?,
                jn_start: list(a, "jn_start")?,
                jn_end: list(b, "jn_end")?,
            },
            file,
            n,
        )?);
    }
    Ok(out)
}

fn looks_like_gtf(text: &str) -> bool {
    text.lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .is_some_and(|l| l.split('\t').count() == 9)
}

/// The value of `key "value";` in a GTF attribute column.
fn attribute<'a>(attrs: &'a str, key: &str) -> Option<&'a str> {
    attrs.split(';').find_map(|kv| {
        let kv = kv.trim();
        let rest = kv.strip_prefix(key)?.trim_start();
        Some(rest.trim_matches('"'))
    })
}

/// GTF: genes in file order; bounds from the `gene` line (or the extent of its exons), and
/// junctions from consecutive exons of each transcript: the union over transcripts, as in
/// cispliceai's all-isoform tables. Genes without a junction are left out.
fn parse_gtf(text: &str, file: &str) -> Result<Vec<Gene>, Error> {
    struct Acc {
        chrom: String,
        strand: Strand,
        bounds: Option<(u64, u64)>,
        exon_span: (u64, u64),
        transcripts: BTreeMap<String, Vec<(u64, u64)>>,
        line: usize,
    }
    let mut order: Vec<String> = Vec::new();
    let mut genes: HashMap<String, Acc> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.trim_end_matches('\r').split('\t').collect();
        if f.len() != 9 {
            return Err(table_err(
                file,
                n,
                format!("{} columns; a GTF line has 9", f.len()),
            ));
        }
        if f[2] != "gene" && f[2] != "exon" {
            continue;
        }
        let gid = attribute(f[8], "gene_id")
            .ok_or_else(|| table_err(file, n, "no gene_id attribute"))?
            .to_string();
        let (start, end) = (
            number(f[3], "start", file, n)?,
            number(f[4], "end", file, n)?,
        );
        let st = strand(f[6], file, n)?;
        let acc = genes.entry(gid.clone()).or_insert_with(|| {
            order.push(gid.clone());
            Acc {
                chrom: f[0].to_string(),
                strand: st,
                bounds: None,
                exon_span: (u64::MAX, 0),
                transcripts: BTreeMap::new(),
                line: n,
            }
        });
        if acc.chrom != f[0] || acc.strand != st {
            return Err(table_err(
                file,
                n,
                format!(
                    "gene {gid} appears on {}{} and on {}{}",
                    acc.chrom,
                    acc.strand.symbol(),
                    f[0],
                    f[6]
                ),
            ));
        }
        if f[2] == "gene" {
            acc.bounds = Some((start, end));
        } else {
            let tid = attribute(f[8], "transcript_id")
                .ok_or_else(|| table_err(file, n, "an exon without transcript_id"))?;
            acc.transcripts
                .entry(tid.to_string())
                .or_default()
                .push((start, end));
            acc.exon_span = (acc.exon_span.0.min(start), acc.exon_span.1.max(end));
        }
    }
    let mut out = Vec::new();
    for gid in order {
        let acc = &genes[&gid];
        let mut jn_start = Vec::new();
        let mut jn_end = Vec::new();
        for exons in acc.transcripts.values() {
            let mut exons = exons.clone();
            exons.sort_unstable();
            for w in exons.windows(2) {
                jn_start.push(w[0].1);
                jn_end.push(w[1].0);
            }
        }
        jn_start.sort_unstable();
        jn_start.dedup();
        jn_end.sort_unstable();
        jn_end.dedup();
        if jn_start.is_empty() {
            continue;
        }
        let (start, end) = acc.bounds.unwrap_or(acc.exon_span);
        out.push(gene(
            Gene {
                id: gid.clone(),
                chrom: acc.chrom.clone(),
                strand: acc.strand,
                start,
                end,
                jn_start,
                jn_end,
            },
            file,
            acc.line,
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "gene_id,chr,strand,start,end,jn_start,jn_end\n\
        G1,chr1,+,100,500,\"150,300\",\"200,400\"\n\
        G2,chr1,-,450,900,600,700\n";

    #[test]
    fn csv_lookup_follows_cispliceai() {
        let t = GeneTable::read(CSV.as_bytes(), "g.csv").unwrap();
        let ids = |c: &str, p: u64| -> Vec<String> {
            t.overlapping(c, p).iter().map(|g| g.id.clone()).collect()
        };
        assert_eq!(ids("chr1", 99), Vec::<String>::new());
        assert_eq!(ids("chr1", 100), ["G1"]);
        // table order, and the end base is outside
        assert_eq!(ids("1", 460), ["G1", "G2"]);
        assert_eq!(ids("chr1", 500), ["G2"]);
        assert_eq!(ids("chr1", 900), Vec::<String>::new());
        let g2 = &t.genes()[1];
        assert_eq!((g2.acceptors(), g2.donors()), (&[600][..], &[700][..]));
        assert_eq!(t.genes()[0].acceptors(), [200, 400]);
    }

    #[test]
    fn compact_and_gtf_read_the_same_genes() {
        let compact = "#seqlens gene table v1: ...\nG1\tchr1\t+\t100\t400\t50,150\t100,200\n";
        let t = GeneTable::read(compact.as_bytes(), "g.tsv").unwrap();
        let csv = GeneTable::read(CSV.as_bytes(), "g.csv").unwrap();
        assert_eq!(t.genes()[0], csv.genes()[0]);
        let gtf = "chr1\tx\tgene\t100\t500\t.\t+\t.\tgene_id \"G1\";\n\
            chr1\tx\texon\t100\t150\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n\
            chr1\tx\texon\t200\t300\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n\
            chr1\tx\texon\t400\t500\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T1\";\n\
            chr1\tx\texon\t100\t150\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T2\";\n\
            chr1\tx\texon\t400\t500\t.\t+\t.\tgene_id \"G1\"; transcript_id \"T2\";\n\
            chr1\tx\texon\t700\t800\t.\t+\t.\tgene_id \"G9\"; transcript_id \"T9\";\n";
        let g = GeneTable::read(gtf.as_bytes(), "g.gtf").unwrap();
        // T2 adds the 150 -> 400 junction; G9 has none and is left out
        assert_eq!(g.genes().len(), 1);
        assert_eq!(g.genes()[0].jn_start, [150, 300]);
        assert_eq!(g.genes()[0].jn_end, [200, 400]);
    }

    #[test]
    fn bad_tables_name_the_line() {
        let e = GeneTable::read(
            "gene_id,chr,strand,start,end,jn_start,jn_end\nG,chr1,?,1,5,2,3\n".as_bytes(),
            "t.csv",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("t.csv") && e.contains("line 2") && e.contains("strand"),
            "{e}"
        );
        let e = GeneTable::read(&b"hello\n"[..], "t.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected a seqlens gene table"), "{e}");
    }
}
