//! The Altschul-Erickson dinucleotide shuffle: a uniformly random sequence with exactly the
//! same dinucleotide (adjacent pair) counts as the input, and the same first and last symbol.
//!
//! The sequence is a walk through a multigraph whose vertices are symbols and whose edges are
//! the observed pairs; shuffles are the Eulerian paths of that graph. Following Altschul and
//! Erickson (1985), each vertex (except the final one) first gets a random last exit edge;
//! the choice is kept only if those edges form a tree pointing to the final symbol (otherwise
//! the walk would strand edges), and the remaining exits of each vertex are permuted freely.
//! Every edge-labelled Eulerian path is then equally likely, so every distinct shuffle is too.

use rand::RngExt;
use rand::seq::SliceRandom;

use crate::nn::Rng;

/// A dinucleotide-preserving shuffle of `seq` (any bytes: case and N are kept as symbols).
pub fn dinucleotide_shuffle(seq: &[u8], rng: &mut Rng) -> Vec<u8> {
    if seq.len() < 3 {
        return seq.to_vec();
    }
    // exits[v]: the symbols that follow each occurrence of v, as edge instances.
    let mut exits: Vec<Vec<u8>> = vec![Vec::new(); 256];
    for pair in seq.windows(2) {
        exits[pair[0] as usize].push(pair[1]);
    }
    let last = *seq.last().expect("len >= 3");
    let vertices: Vec<usize> = (0..256)
        .filter(|&v| !exits[v].is_empty() && v != last as usize)
        .collect();
    // Random last exits until they form an arborescence rooted at `last`. For DNA a valid
    // choice comes within a few tries; the original sequence's own last exits are always
    // valid, so after many failures (pathological inputs) fall back to them.
    let mut chosen = vec![usize::MAX; 256];
    let mut found = false;
    for _ in 0..1000 {
        for &v in &vertices {
            chosen[v] = rng.random_range(0..exits[v].len());
        }
        if reaches_root(&vertices, &exits, &chosen, last) {
            found = true;
            break;
        }
    }
    if !found {
        for &v in &vertices {
            chosen[v] = exits[v].len() - 1;
        }
    }
    for &v in &vertices {
        let n = exits[v].len();
        exits[v].swap(chosen[v], n - 1);
        exits[v][..n - 1].shuffle(rng);
    }
    if !exits[last as usize].is_empty() {
        exits[last as usize].shuffle(rng);
    }
    let mut next = vec![0usize; 256];
    let mut out = Vec::with_capacity(seq.len());
    let mut v = seq[0];
    out.push(v);
    for _ in 1..seq.len() {
        let i = next[v as usize];
        next[v as usize] += 1;
        v = exits[v as usize][i];
        out.push(v);
    }
    out
}

/// Whether following each vertex's chosen last exit always leads to `root`.
fn reaches_root(vertices: &[usize], exits: &[Vec<u8>], chosen: &[usize], root: u8) -> bool {
    vertices.iter().all(|&start| {
        let mut v = start;
        for _ in 0..=vertices.len() {
            if v == root as usize {
                return true;
            }
            v = exits[v][chosen[v]] as usize;
        }
        v == root as usize
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn pairs(s: &[u8]) -> BTreeMap<(u8, u8), usize> {
        let mut m = BTreeMap::new();
        for p in s.windows(2) {
            *m.entry((p[0], p[1])).or_default() += 1;
        }
        m
    }

    #[test]
    fn keeps_dinucleotide_counts_and_ends() {
        let mut rng = crate::nn::rng(7);
        let seq = b"ACGTTGCAAGGCTTACGNNACGTACCCGTAGGATTACAGATTTAAACCGGTACGTAGCTAGCTAGGGATCC";
        let mut seen = BTreeSet::new();
        for _ in 0..200 {
            let s = dinucleotide_shuffle(seq, &mut rng);
            assert_eq!(s.len(), seq.len());
            assert_eq!(pairs(&s), pairs(seq));
            assert_eq!((s[0], s[s.len() - 1]), (seq[0], seq[seq.len() - 1]));
            seen.insert(s);
        }
        assert!(
            seen.len() > 150,
            "shuffles should differ: {} distinct",
            seen.len()
        );
    }

    #[test]
    fn is_seeded_and_handles_tiny_inputs() {
        let seq = b"AACCGGTTACGTACGATCGA";
        let a = dinucleotide_shuffle(seq, &mut crate::nn::rng(1));
        let b = dinucleotide_shuffle(seq, &mut crate::nn::rng(1));
        assert_eq!(a, b);
        assert_eq!(dinucleotide_shuffle(b"AC", &mut crate::nn::rng(1)), b"AC");
        assert_eq!(
            dinucleotide_shuffle(b"AAAA", &mut crate::nn::rng(1)),
            b"AAAA"
        );
    }

    #[test]
    fn uniform_over_the_shuffles_of_a_small_sequence() {
        // AACAB... style check: "ACAGA" has dinucleotides AC, CA, AG, GA; its Eulerian
        // paths from A ending in A are ACAGA and AGACA, each should be ~half.
        let mut rng = crate::nn::rng(3);
        let n = 4000;
        let hits = (0..n)
            .filter(|_| dinucleotide_shuffle(b"ACAGA", &mut rng) == b"ACAGA")
            .count();
        assert!((1800..2200).contains(&hits), "{hits} of {n}");
    }
}
