//! The tracks motif discovery reads (modisco-lite's `TrackSet`): each sequence's one-hot
//! bases and hypothetical contributions, and from them the contributions (one-hot ×
//! hypothetical) and the per-position attributions seqlets are called on.

use super::seqlets::Seqlet;
use crate::Error;

/// One sequence's one-hot bases and hypothetical contributions, `[A, C, G, T]` per position.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    /// The bases, one-hot (all zero for N).
    pub one_hot: Vec<[f32; 4]>,
    /// What each base would contribute at each position.
    pub hypothetical: Vec<[f32; 4]>,
}

/// A seqlet's rows of one-hot bases, hypothetical contributions and contributions, on the
/// strand asked for (reverse: positions and bases both reversed).
pub struct Snippet {
    /// The bases, one-hot.
    pub one_hot: Vec<[f32; 4]>,
    /// The hypothetical contributions.
    pub hypothetical: Vec<[f32; 4]>,
    /// The contributions: one-hot × hypothetical.
    pub contrib: Vec<[f32; 4]>,
}

/// The tracks of a set of sequences.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackSet {
    /// One per sequence.
    pub tracks: Vec<Track>,
}

impl TrackSet {
    /// Tracks from bases (A, C, G, T in either case; anything else a column of zeros, as
    /// modisco-lite's one-hot has for N) and hypothetical contributions, four per position.
    pub fn new(sequences: &[&[u8]], hypothetical: &[&[f32]]) -> Result<TrackSet, Error> {
        if sequences.len() != hypothetical.len() {
            return Err(Error::Invalid(format!(
                "motif discovery: {} sequences but {} hypothetical-contribution tracks",
                sequences.len(),
                hypothetical.len()
            )));
        }
        let mut tracks = Vec::with_capacity(sequences.len());
        for (i, (seq, hyp)) in sequences.iter().zip(hypothetical).enumerate() {
            if hyp.len() != 4 * seq.len() {
                return Err(Error::Invalid(format!(
                    "motif discovery: sequence {} has {} bases but {} hypothetical contributions (expected 4 per base)",
                    i + 1,
                    seq.len(),
                    hyp.len()
                )));
            }
            let one_hot = seq
                .iter()
                .map(|b| {
                    let mut c = [0f32; 4];
                    if let Some(k) = b"ACGT".iter().position(|x| *x == b.to_ascii_uppercase()) {
                        c[k] = 1.0;
                    }
                    c
                })
                .collect();
            let hypothetical = hyp
                .chunks_exact(4)
                .map(|c| [c[0], c[1], c[2], c[3]])
                .collect();
            tracks.push(Track {
                one_hot,
                hypothetical,
            });
        }
        Ok(TrackSet { tracks })
    }

    /// Tracks from an attribution table (`seqlens attribute --method deeplift-shap`): its
    /// A, C, G, T columns must be hypothetical contributions, the observed base's equal to
    /// the score (as DeepLIFT/SHAP's are; ISM's and gradients' are not). `name` names the
    /// table in messages.
    pub fn from_table(tables: &[crate::attrib::Track], name: &str) -> Result<TrackSet, Error> {
        let mut seqs = Vec::with_capacity(tables.len());
        let mut hyps = Vec::with_capacity(tables.len());
        for t in tables {
            if !(t.symbols.is_empty() || t.symbols == "ACGT") || t.map.len() != 4 * t.scores.len() {
                return Err(Error::Invalid(format!(
                    "{name}: '{}' has no A, C, G, T columns of hypothetical contributions (found '{}'); motif discovery reads a DNA table from seqlens attribute --method deeplift-shap",
                    t.id, t.symbols
                )));
            }
            for (p, (b, &score)) in t.sequence.bytes().zip(&t.scores).enumerate() {
                let Some(k) = b"ACGT".iter().position(|x| *x == b.to_ascii_uppercase()) else {
                    continue;
                };
                let h = t.map[4 * p + k];
                if (h - score).abs() > 1e-5 * h.abs().max(score.abs()).max(1e-3) {
                    return Err(Error::Invalid(format!(
                        "{name}: '{}' position {}: the {} column is {h} but the score is {score}; motif discovery needs hypothetical contributions, whose observed base's value is its contribution (seqlens attribute --method deeplift-shap), not ISM effects or gradients",
                        t.id,
                        t.start + p as i64,
                        b as char
                    )));
                }
            }
            seqs.push(t.sequence.as_bytes());
            hyps.push(t.map.as_slice());
        }
        TrackSet::new(&seqs, &hyps)
    }

    /// Each track's attribution per position: the sum of its contributions (the observed
    /// base's hypothetical contribution).
    pub fn attributions(&self) -> Vec<Vec<f32>> {
        self.tracks
            .iter()
            .map(|t| {
                t.one_hot
                    .iter()
                    .zip(&t.hypothetical)
                    .map(|(o, h)| (0..4).fold(0f32, |acc, k| acc + o[k] * h[k]))
                    .collect()
            })
            .collect()
    }

    /// The length of a track.
    pub fn length(&self, track: usize) -> usize {
        self.tracks[track].one_hot.len()
    }

    /// A seqlet's rows on its strand, or on the other one when `reverse`.
    pub fn snippet(&self, s: &Seqlet, reverse: bool) -> Snippet {
        let reverse = reverse != s.revcomp;
        let t = &self.tracks[s.track];
        let take = |rows: &[[f32; 4]]| -> Vec<[f32; 4]> {
            let mut v = rows[s.start..s.end].to_vec();
            if reverse {
                v.reverse();
                for r in &mut v {
                    r.reverse();
                }
            }
            v
        };
        let one_hot = take(&t.one_hot);
        let hypothetical = take(&t.hypothetical);
        let contrib = one_hot
            .iter()
            .zip(&hypothetical)
            .map(|(o, h)| [o[0] * h[0], o[1] * h[1], o[2] * h[2], o[3] * h[3]])
            .collect();
        Snippet {
            one_hot,
            hypothetical,
            contrib,
        }
    }
}
