//! The attribution table `seqlens attribute` writes (one row per position: id, chrom, pos,
//! ref, one column per symbol, score, and for DeepLIFT/SHAP its delta), read back as
//! per-position tracks for seqlet calling, and the seqlet table.

use std::fmt::Write as _;

use super::{Attribution, Seqlet};

/// One sequence's per-position scores, as the table holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// The sequence's id.
    pub id: String,
    /// The record it was cut from.
    pub chrom: String,
    /// The coordinate of its first position.
    pub start: i64,
    /// Its bases.
    pub sequence: String,
    /// One score per position (the `score` column: the observed bases' contributions).
    pub scores: Vec<f32>,
    /// The per-symbol columns' names (`ACGT` for DNA) as a table names them; empty when
    /// unknown.
    pub symbols: String,
    /// The per-symbol values, position by position (`symbols.len()` per position): for
    /// DeepLIFT/SHAP the hypothetical contributions. Empty when not given.
    pub map: Vec<f32>,
}

impl From<&Attribution> for Track {
    fn from(a: &Attribution) -> Track {
        Track {
            id: a.id.clone(),
            chrom: a.chrom.clone(),
            start: a.start,
            sequence: a.sequence.clone(),
            scores: a.per_base.clone(),
            symbols: String::new(),
            map: position_major(&a.map, a.channels, a.length),
        }
    }
}

/// A `[channels, length]` map (as attributions hold it) position by position, as tables
/// hold it.
pub fn position_major(map: &[f32], channels: usize, length: usize) -> Vec<f32> {
    (0..length)
        .flat_map(|p| (0..channels).map(move |c| map[c * length + p]))
        .collect()
}

/// The attribution table of `results` (`symbols` name the map's channels).
pub fn to_tsv(results: &[Attribution], symbols: &[u8]) -> String {
    let mut text = String::from("id\tchrom\tpos\tref");
    for s in symbols {
        text.push('\t');
        text.push(*s as char);
    }
    let deltas = results.iter().any(|r| r.delta.is_some());
    text.push_str(if deltas {
        "\tscore\tdelta\n"
    } else {
        "\tscore\n"
    });
    for r in results {
        for (t, &base) in r.sequence.as_bytes().iter().enumerate() {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}",
                r.id,
                r.chrom,
                r.start + t as i64,
                base as char
            ));
            for ch in 0..r.channels {
                text.push_str(&format!("\t{}", r.map[ch * r.length + t]));
            }
            text.push_str(&format!("\t{}", r.per_base[t]));
            if let Some(d) = r.delta {
                text.push_str(&format!("\t{d}"));
            }
            text.push('\n');
        }
    }
    text
}

/// Each attributed base's score (`per_base`) as bedGraph on its record: `chrom, pos, pos +
/// 1, score` (0-based), under a `track` line; positions before the record's start (N
/// padding) are left out.
pub fn to_bedgraph(results: &[Attribution]) -> String {
    let mut out = String::from("track type=bedGraph name=\"seqlens attributions\"\n");
    for r in results {
        for (i, v) in r.per_base.iter().enumerate() {
            let pos = r.start + i as i64;
            if pos >= 0 {
                let _ = writeln!(out, "{}\t{pos}\t{}\t{v}", r.chrom, pos + 1);
            }
        }
    }
    out
}

/// Writes each attributed base's score (`per_base`, as [`to_bedgraph`]) as a bigWig at `path`,
/// on the chromosomes of `records` (the sequences read, with their lengths); N padding outside
/// a record is left out, and overlapping windows are refused (one value per base).
#[cfg(not(target_arch = "wasm32"))]
pub fn write_bigwig(
    path: &std::path::Path,
    results: &[Attribution],
    records: &[crate::io::SeqRecord],
) -> Result<(), crate::Error> {
    use crate::output::bigwig::{BaseTrack, write};
    let chroms: Vec<(String, u64)> = records
        .iter()
        .map(|r| (r.id.clone(), r.seq.len() as u64))
        .collect();
    let tracks: Vec<BaseTrack> = results
        .iter()
        .map(|r| BaseTrack {
            id: &r.id,
            chrom: &r.chrom,
            start: r.start,
            values: &r.per_base,
        })
        .collect();
    write(path, &chroms, &tracks)
}

/// Reads an attribution table back as one track per id, in the order the ids first appear.
/// `name` (the file's) is named in errors, with the line.
pub fn read_tsv(text: &str, name: &str) -> Result<Vec<Track>, crate::Error> {
    let bad =
        |line: usize, what: String| crate::Error::Invalid(format!("{name}: line {line}: {what}"));
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let (_, header) = lines
        .next()
        .ok_or_else(|| bad(1, "empty; expected an attribution table".into()))?;
    let cols: Vec<&str> = header.split('\t').collect();
    let score = cols.iter().position(|c| *c == "score");
    let Some(score) = score.filter(|_| cols.starts_with(&["id", "chrom", "pos", "ref"])) else {
        return Err(bad(
            1,
            format!(
                "found the header '{header}'; expected an attribution table (id, chrom, pos, \
                 ref, one column per symbol, score) as seqlens attribute writes"
            ),
        ));
    };
    let mut tracks: Vec<Track> = Vec::new();
    // Buffers reused from line to line: a table has a row per position, millions of them.
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut f: Vec<&str> = Vec::with_capacity(cols.len());
    let mut symbols: Vec<f32> = Vec::with_capacity(score - 4);
    for (n, line) in lines {
        if line.is_empty() {
            continue;
        }
        f.clear();
        f.extend(line.split('\t'));
        if f.len() != cols.len() {
            return Err(bad(
                n,
                format!("{} columns; the header has {}", f.len(), cols.len()),
            ));
        }
        let pos: i64 = f[2]
            .parse()
            .map_err(|_| bad(n, format!("pos '{}' is not an integer", f[2])))?;
        let value: f32 = f[score]
            .parse()
            .map_err(|_| bad(n, format!("score '{}' is not a number", f[score])))?;
        symbols.clear();
        for (k, v) in f[4..score].iter().enumerate() {
            symbols.push(
                v.parse::<f32>()
                    .map_err(|_| bad(n, format!("{} '{v}' is not a number", cols[4 + k])))?,
            );
        }
        let base = f[3].chars().next().filter(|_| f[3].len() == 1);
        let base = base.ok_or_else(|| bad(n, format!("ref '{}' is not one base", f[3])))?;
        match tracks.last_mut() {
            Some(t) if t.id == f[0] => {
                let want = t.start + t.scores.len() as i64;
                if pos != want {
                    return Err(bad(
                        n,
                        format!("'{}' jumps to pos {pos}; expected {want}", f[0]),
                    ));
                }
                t.scores.push(value);
                t.sequence.push(base);
                t.map.extend_from_slice(&symbols);
            }
            _ => {
                if !seen.insert(f[0]) {
                    return Err(bad(n, format!("'{}' appears again after other ids", f[0])));
                }
                tracks.push(Track {
                    id: f[0].to_string(),
                    chrom: f[1].to_string(),
                    start: pos,
                    sequence: base.to_string(),
                    scores: vec![value],
                    symbols: cols[4..score].concat(),
                    map: symbols.clone(),
                });
            }
        }
    }
    Ok(tracks)
}

/// A seqlet in its sequence's coordinates, with its bases.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeqletRow {
    /// The sequence's id.
    pub id: String,
    /// The record it was cut from.
    pub chrom: String,
    /// Its first position (0-based).
    pub start: i64,
    /// One past its last position.
    pub end: i64,
    /// The sum of the attributions over it.
    pub attribution: f64,
    /// The p-value of the span as called.
    pub p_value: f64,
    /// Its bases.
    pub sequence: String,
    /// Its best database motifs, best first, once annotated ([`annotate_seqlets`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motifs: Option<Vec<crate::motif::MotifMatch>>,
}

/// Annotates each seqlet with its `top` best motifs of `db` (TOMTOM on its bases, as
/// tangermeme's `annotate_seqlets`).
pub fn annotate_seqlets(
    rows: &mut [SeqletRow],
    db: &crate::motif::tomtom::Database,
    top: usize,
) -> Result<(), crate::Error> {
    let sequences: Vec<&str> = rows.iter().map(|r| r.sequence.as_str()).collect();
    let found = crate::motif::annotate(db, &sequences, top)?;
    for (row, m) in rows.iter_mut().zip(found) {
        row.motifs = Some(m);
    }
    Ok(())
}

/// `seqlets` (called on `tracks`) in the tracks' coordinates, with their bases.
pub fn seqlet_rows(tracks: &[Track], seqlets: &[Seqlet]) -> Vec<SeqletRow> {
    seqlets
        .iter()
        .map(|s| {
            let t = &tracks[s.track];
            SeqletRow {
                id: t.id.clone(),
                chrom: t.chrom.clone(),
                start: t.start + s.start as i64,
                end: t.start + s.end as i64,
                attribution: s.attribution,
                p_value: s.p_value,
                sequence: t
                    .sequence
                    .get(s.start..s.end)
                    .unwrap_or_default()
                    .to_string(),
                motifs: None,
            }
        })
        .collect()
}

/// The seqlet table: id, chrom, start, end (0-based, half-open), attribution, p_value,
/// sequence; `annotated`, also motif_id, motif_name, motif_p, motif_q and motif_strand
/// (several matches joined by `;`, best first; empty for a seqlet with no match).
pub fn seqlets_tsv(rows: &[SeqletRow], annotated: bool) -> String {
    let mut text = String::from("id\tchrom\tstart\tend\tattribution\tp_value\tsequence");
    if annotated {
        text.push_str("\tmotif_id\tmotif_name\tmotif_p\tmotif_q\tmotif_strand");
    }
    text.push('\n');
    for r in rows {
        text.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{:e}\t{}",
            r.id, r.chrom, r.start, r.end, r.attribution, r.p_value, r.sequence
        ));
        if annotated {
            let m = r.motifs.as_deref().unwrap_or_default();
            let join = |f: &dyn Fn(&crate::motif::MotifMatch) -> String| {
                m.iter().map(f).collect::<Vec<_>>().join(";")
            };
            text.push_str(&format!(
                "\t{}\t{}\t{}\t{}\t{}",
                join(&|x| x.id.clone()),
                join(&|x| x.name.clone()),
                join(&|x| format!("{:.3e}", x.p_value)),
                join(&|x| format!("{:.3e}", x.q_value)),
                join(&|x| x.strand.to_string()),
            ));
        }
        text.push('\n');
    }
    text
}
