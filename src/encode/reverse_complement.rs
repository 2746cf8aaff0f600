use super::{Alphabet, Error};

/// IUPAC complement table; case is kept, unknown bytes map to themselves.
const fn complement_table(rna: bool) -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as u8;
        i += 1;
    }
    let t_or_u = if rna { b'U' } else { b'T' };
    let pairs: [(u8, u8); 12] = [
        (b'A', t_or_u),
        (b'T', b'A'),
        (b'U', b'A'),
        (b'C', b'G'),
        (b'G', b'C'),
        (b'R', b'Y'),
        (b'Y', b'R'),
        (b'K', b'M'),
        (b'M', b'K'),
        (b'B', b'V'),
        (b'V', b'B'),
        (b'D', b'H'),
    ];
    let mut k = 0;
    while k < pairs.len() {
        let (from, to) = pairs[k];
        t[from as usize] = to;
        t[from.to_ascii_lowercase() as usize] = to.to_ascii_lowercase();
        k += 1;
    }
    t[b'H' as usize] = b'D';
    t[b'h' as usize] = b'd';
    // S, W and N are their own complements.
    t
}

static DNA_COMPLEMENT: [u8; 256] = complement_table(false);
static RNA_COMPLEMENT: [u8; 256] = complement_table(true);

fn table(alphabet: Alphabet) -> Result<&'static [u8; 256], Error> {
    match alphabet {
        Alphabet::Dna => Ok(&DNA_COMPLEMENT),
        Alphabet::Rna => Ok(&RNA_COMPLEMENT),
        Alphabet::Protein => Err(Error::NoComplement(alphabet)),
    }
}

/// The reverse complement of a DNA or RNA sequence, IUPAC-aware (`R` <-> `Y`, `N` <-> `N`).
///
/// ```
/// use seqlens::encode::{reverse_complement, Alphabet};
/// assert_eq!(reverse_complement(b"ACGTRn", Alphabet::Dna).unwrap(), b"nYACGT");
/// assert_eq!(reverse_complement(b"ACGU", Alphabet::Rna).unwrap(), b"ACGU");
/// ```
pub fn reverse_complement(seq: &[u8], alphabet: Alphabet) -> Result<Vec<u8>, Error> {
    let t = table(alphabet)?;
    Ok(seq.iter().rev().map(|&b| t[b as usize]).collect())
}

/// Reverse-complements `seq` in place.
pub fn reverse_complement_in_place(seq: &mut [u8], alphabet: Alphabet) -> Result<(), Error> {
    let t = table(alphabet)?;
    seq.reverse();
    for b in seq.iter_mut() {
        *b = t[*b as usize];
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iupac_pairs_and_case() {
        assert_eq!(
            reverse_complement(b"ACGTRYKMBVDHSWN", Alphabet::Dna).unwrap(),
            b"NWSDHBVKMRYACGT"
        );
        assert_eq!(reverse_complement(b"acgu", Alphabet::Dna).unwrap(), b"acgt");
        assert_eq!(reverse_complement(b"AAC", Alphabet::Rna).unwrap(), b"GUU");
        let mut s = b"GATTACA".to_vec();
        reverse_complement_in_place(&mut s, Alphabet::Dna).unwrap();
        assert_eq!(s, b"TGTAATC");
        assert_eq!(
            reverse_complement(b"MK", Alphabet::Protein),
            Err(Error::NoComplement(Alphabet::Protein))
        );
    }

    #[test]
    fn is_an_involution() {
        let s = b"ACGTNRYKMBVDHSWacgtn".to_vec();
        let twice = reverse_complement(
            &reverse_complement(&s, Alphabet::Dna).unwrap(),
            Alphabet::Dna,
        )
        .unwrap();
        assert_eq!(twice, s);
    }
}
