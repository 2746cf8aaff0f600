//! The MEME motif format (MEME Suite's "minimal" format, as JASPAR, HOCOMOCO and memelite write
//! it): reading a user's motif database and writing discovered motifs.
//!
//! Read: an optional `ALPHABET=` line (DNA only), then per motif a `MOTIF id [name]` line, a
//! `letter-probability matrix:` line with `w=` (and `alength= 4` when given), and `w` rows of
//! four numbers. Everything else (background, strands, `URL`, blank lines) is skipped, as
//! MEME's own readers do.

use super::Motif;
use crate::Error;

/// The widest motif accepted, checked before its rows are allocated.
pub const MAX_WIDTH: usize = 1000;

/// How far a row's probabilities may sum from 1 (MEME files carry 6 decimals; some writers
/// round to fewer).
const ROW_SUM_TOLERANCE: f64 = 0.02;

fn bad(name: &str, line: usize, what: String) -> Error {
    Error::Invalid(format!("{name}, line {line}: {what}"))
}

/// Reads every motif of a MEME file; `name` is how errors name the file. A file with no motif,
/// an alphabet other than DNA, a matrix row that is not four probabilities summing to 1, a
/// matrix cut short or a repeated motif identifier is refused, naming the line.
pub fn read(text: &str, name: &str) -> Result<Vec<Motif>, Error> {
    let mut motifs: Vec<Motif> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // The motif being read: its header, its line number, its width once known.
    // A full MEME output's log-odds matrix comes before its letter-probability matrix; its
    // rows are skipped, because rows are read only once `w=` of a letter-probability line is
    // known.
    let mut current: Option<(Motif, usize, Option<usize>)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = raw.trim();
        if let Some(rest) = line.strip_prefix("ALPHABET") {
            let alphabet = rest.trim_start_matches(['=', ' ', '\t']).trim();
            if !alphabet.eq_ignore_ascii_case("ACGT") && !alphabet.starts_with("\"DNA\"") {
                return Err(bad(
                    name,
                    n,
                    format!("alphabet {alphabet:?}: seqlens reads DNA motifs (ALPHABET= ACGT)"),
                ));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("MOTIF") {
            if let Some((m, at, w)) = &current {
                return Err(bad(name, n, unfinished(m, *at, *w)));
            }
            let mut words = rest.split_whitespace();
            let id = words
                .next()
                .ok_or_else(|| bad(name, n, "a MOTIF line without an identifier".into()))?;
            let alt = words.collect::<Vec<_>>().join(" ");
            if !seen.insert(id.to_string()) {
                return Err(bad(name, n, format!("motif {id} appears twice")));
            }
            current = Some((
                Motif {
                    id: id.to_string(),
                    name: alt,
                    columns: Vec::new(),
                },
                n,
                None,
            ));
            continue;
        }
        let Some((motif, _, width)) = current.as_mut() else {
            continue;
        };
        match width {
            None => {
                if let Some(rest) = line.strip_prefix("letter-probability matrix:") {
                    if let Some(a) = field(rest, "alength=")
                        && a != "4"
                    {
                        return Err(bad(
                            name,
                            n,
                            format!("alength= {a}: seqlens reads DNA motifs (alength= 4)"),
                        ));
                    }
                    let w = field(rest, "w=").ok_or_else(|| {
                        bad(
                            name,
                            n,
                            "a letter-probability matrix line without w=".into(),
                        )
                    })?;
                    let w: usize = w
                        .parse()
                        .map_err(|_| bad(name, n, format!("w= {w} is not a width")))?;
                    if w == 0 || w > MAX_WIDTH {
                        return Err(bad(
                            name,
                            n,
                            format!("w= {w}: a motif is 1 to {MAX_WIDTH} columns wide"),
                        ));
                    }
                    motif.columns.reserve_exact(w);
                    *width = Some(w);
                }
            }
            Some(w) => {
                if line.is_empty() {
                    continue;
                }
                let values: Vec<&str> = line.split_whitespace().collect();
                if values.len() != 4 {
                    return Err(bad(
                        name,
                        n,
                        format!(
                            "motif {}: found {} values in a matrix row, expected 4 (A C G T)",
                            motif.id,
                            values.len()
                        ),
                    ));
                }
                let mut col = [0.0; 4];
                for (c, v) in col.iter_mut().zip(&values) {
                    *c = v
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && (0.0..=1.0).contains(x))
                        .ok_or_else(|| {
                            bad(
                                name,
                                n,
                                format!("motif {}: {v:?} is not a probability", motif.id),
                            )
                        })?;
                }
                let sum: f64 = col.iter().sum();
                if (sum - 1.0).abs() > ROW_SUM_TOLERANCE {
                    return Err(bad(
                        name,
                        n,
                        format!("motif {}: a row sums to {sum}, expected 1", motif.id),
                    ));
                }
                motif.columns.push(col);
                if motif.columns.len() == *w {
                    motifs.push(current.take().expect("a motif is being read").0);
                }
            }
        }
    }
    if let Some((m, at, w)) = current {
        return Err(bad(name, text.lines().count(), unfinished(&m, at, w)));
    }
    if motifs.is_empty() {
        return Err(Error::Invalid(format!(
            "{name}: no motif found (expected MOTIF lines with a letter-probability matrix)"
        )));
    }
    Ok(motifs)
}

/// Why a motif that stopped early is refused.
fn unfinished(m: &Motif, at: usize, width: Option<usize>) -> String {
    match width {
        None => format!(
            "MOTIF {} (line {at}) has no letter-probability matrix",
            m.id
        ),
        Some(w) => format!(
            "MOTIF {} (line {at}) ended after {} of its {w} rows",
            m.id,
            m.columns.len()
        ),
    }
}

/// The value after `key` on a matrix line (`w= 12` or `w=12`).
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let at = line.find(key)? + key.len();
    line[at..].split_whitespace().next()
}

/// Writes motifs as a MEME file that MEME Suite, memelite and [`read`] accept. `sites` gives
/// each motif's number of sites (`nsites=`), or 1 when unknown.
pub fn write(motifs: &[Motif], sites: Option<&[usize]>) -> String {
    let mut out = String::from(
        "MEME version 4\n\nALPHABET= ACGT\n\nstrands: + -\n\nBackground letter frequencies\nA 0.25 C 0.25 G 0.25 T 0.25\n\n",
    );
    for (i, m) in motifs.iter().enumerate() {
        let nsites = sites.and_then(|s| s.get(i)).copied().unwrap_or(1);
        out.push_str(&format!("MOTIF {}\n", m.label()));
        out.push_str(&format!(
            "letter-probability matrix: alength= 4 w= {} nsites= {nsites} E= 0\n",
            m.columns.len()
        ));
        for c in &m.columns {
            out.push_str(&format!(
                "{:.6} {:.6} {:.6} {:.6}\n",
                c[0], c[1], c[2], c[3]
            ));
        }
        out.push('\n');
    }
    out
}
