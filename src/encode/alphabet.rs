use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Error;

/// The sequence alphabets seqlens can encode. Channels follow the order of [`Alphabet::symbols`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Alphabet {
    /// `A, C, G, T` (U is read as T).
    #[default]
    Dna,
    /// `A, C, G, U` (T is read as U).
    Rna,
    /// The 20 standard amino acids in alphabetical one-letter order.
    Protein,
}

/// How `N` and the other IUPAC ambiguity codes are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NPolicy {
    /// Every channel 0 (tangermeme, gReLU).
    #[default]
    Zero,
    /// Every channel `1 / channels`, so 0.25 for DNA (Selene, Basset).
    Uniform,
    /// Spread evenly over the bases the code stands for: `R` is 0.5 A + 0.5 G, `N` is 0.25 each.
    Iupac,
}

/// What to do with a character that is neither in the alphabet nor an ambiguity code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownPolicy {
    /// Fail with [`Error::InvalidCharacter`], naming the sequence and position.
    #[default]
    Error,
    /// Encode it as the wildcard (`N`, or `X` for protein).
    AsN,
}

const DNA: &[u8] = b"ACGT";
const RNA: &[u8] = b"ACGU";
const PROTEIN: &[u8] = b"ACDEFGHIKLMNPQRSTVWY";

impl Alphabet {
    /// The symbols in channel order.
    pub fn symbols(self) -> &'static [u8] {
        match self {
            Alphabet::Dna => DNA,
            Alphabet::Rna => RNA,
            Alphabet::Protein => PROTEIN,
        }
    }

    /// Number of one-hot channels.
    pub fn size(self) -> usize {
        self.symbols().len()
    }

    /// The "any residue" symbol used for padding.
    pub fn wildcard(self) -> u8 {
        match self {
            Alphabet::Dna | Alphabet::Rna => b'N',
            Alphabet::Protein => b'X',
        }
    }

    /// The alphabet whose size matches a model's channel count, if exactly one does.
    pub fn for_channels(channels: usize) -> Option<Alphabet> {
        match channels {
            4 => Some(Alphabet::Dna),
            20 => Some(Alphabet::Protein),
            _ => None,
        }
    }

    /// The set of channels that a (case-folded) byte stands for, as a bit mask.
    /// One bit set: an unambiguous symbol. Several: an ambiguity code. Zero: not valid.
    pub(crate) fn mask(self, byte: u8) -> u32 {
        let b = byte.to_ascii_uppercase();
        match self {
            Alphabet::Dna | Alphabet::Rna => nucleotide_mask(b),
            Alphabet::Protein => {
                if let Some(i) = PROTEIN.iter().position(|&s| s == b) {
                    return 1 << i;
                }
                let bit = |c: u8| 1u32 << PROTEIN.iter().position(|&s| s == c).unwrap_or(0);
                match b {
                    b'X' => (1 << PROTEIN.len()) - 1,
                    b'B' => bit(b'D') | bit(b'N'),
                    b'Z' => bit(b'E') | bit(b'Q'),
                    b'J' => bit(b'I') | bit(b'L'),
                    _ => 0,
                }
            }
        }
    }
}

/// IUPAC nucleotide codes as masks over A=1, C=2, G=4, T/U=8.
fn nucleotide_mask(b: u8) -> u32 {
    const A: u32 = 1;
    const C: u32 = 2;
    const G: u32 = 4;
    const T: u32 = 8;
    match b {
        b'A' => A,
        b'C' => C,
        b'G' => G,
        b'T' | b'U' => T,
        b'R' => A | G,
        b'Y' => C | T,
        b'S' => G | C,
        b'W' => A | T,
        b'K' => G | T,
        b'M' => A | C,
        b'B' => C | G | T,
        b'D' => A | G | T,
        b'H' => A | C | T,
        b'V' => A | C | G,
        b'N' => A | C | G | T,
        _ => 0,
    }
}

impl fmt::Display for Alphabet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Alphabet::Dna => "dna",
            Alphabet::Rna => "rna",
            Alphabet::Protein => "protein",
        })
    }
}

impl FromStr for Alphabet {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "dna" => Ok(Alphabet::Dna),
            "rna" => Ok(Alphabet::Rna),
            "protein" => Ok(Alphabet::Protein),
            _ => Err(Error::UnknownName {
                kind: "alphabet",
                found: s.to_string(),
                expected: "dna, rna, protein",
            }),
        }
    }
}

impl fmt::Display for NPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NPolicy::Zero => "zero",
            NPolicy::Uniform => "uniform",
            NPolicy::Iupac => "iupac",
        })
    }
}

impl FromStr for NPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "zero" | "zeros" => Ok(NPolicy::Zero),
            "uniform" => Ok(NPolicy::Uniform),
            "iupac" => Ok(NPolicy::Iupac),
            _ => Err(Error::UnknownName {
                kind: "N policy",
                found: s.to_string(),
                expected: "zero, uniform, iupac",
            }),
        }
    }
}

impl FromStr for UnknownPolicy {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_lowercase().as_str() {
            "error" => Ok(UnknownPolicy::Error),
            "as-n" | "as_n" | "n" => Ok(UnknownPolicy::AsN),
            _ => Err(Error::UnknownName {
                kind: "unknown-character policy",
                found: s.to_string(),
                expected: "error, as-n",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reject_unknown() {
        for a in [Alphabet::Dna, Alphabet::Rna, Alphabet::Protein] {
            assert_eq!(a.to_string().parse::<Alphabet>().unwrap(), a);
        }
        assert_eq!("DNA".parse::<Alphabet>().unwrap(), Alphabet::Dna);
        assert!(matches!(
            "xna".parse::<Alphabet>(),
            Err(Error::UnknownName { .. })
        ));
        assert_eq!("uniform".parse::<NPolicy>().unwrap(), NPolicy::Uniform);
        assert_eq!("as-n".parse::<UnknownPolicy>().unwrap(), UnknownPolicy::AsN);
    }

    #[test]
    fn masks_follow_iupac() {
        let d = Alphabet::Dna;
        assert_eq!(d.mask(b'a'), 1);
        assert_eq!(d.mask(b'R'), 0b0101);
        assert_eq!(d.mask(b'n'), 0b1111);
        assert_eq!(d.mask(b'-'), 0);
        let p = Alphabet::Protein;
        assert_eq!(p.mask(b'A'), 1);
        assert_eq!(p.mask(b'Y'), 1 << 19);
        assert_eq!(p.mask(b'X').count_ones(), 20);
        assert_eq!(p.mask(b'B').count_ones(), 2);
        assert_eq!(p.mask(b'*'), 0);
    }
}
