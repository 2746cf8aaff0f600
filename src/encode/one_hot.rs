use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{Alphabet, Error, NPolicy, UnknownPolicy};

/// Memory order of one encoded sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Layout {
    /// `[batch, channels, length]`: PyTorch `Conv1d`, ONNX `Conv`.
    #[default]
    #[serde(rename = "NCL")]
    Ncl,
    /// `[batch, length, channels]`: Keras / TensorFlow `Conv1D`.
    #[serde(rename = "NLC")]
    Nlc,
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layout::Ncl => "NCL",
            Layout::Nlc => "NLC",
        })
    }
}

impl FromStr for Layout {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s.to_ascii_uppercase().as_str() {
            "NCL" | "NCW" | "CHANNELS_FIRST" => Ok(Layout::Ncl),
            "NLC" | "NWC" | "CHANNELS_LAST" => Ok(Layout::Nlc),
            _ => Err(Error::UnknownName {
                kind: "layout",
                found: s.to_string(),
                expected: "NCL, NLC",
            }),
        }
    }
}

/// An encoder's tables: `rows[b * c..]` (`NLC`), channel-major `columns[ch * 256 + b]`
/// (`NCL`), and the bytes that are not allowed.
type Tables<'a, T> = (&'a [T], &'a [T], &'a [bool; 256]);

/// Writes `seq`'s one-hot values into `out` (`c * seq.len()` values) in `layout`; true if
/// `seq` holds a byte that is not allowed (its values are then zeros). The check rides along
/// the encoding pass rather than taking a pass of its own over a chromosome.
fn fill<T: Copy>(seq: &[u8], c: usize, layout: Layout, tables: Tables<T>, out: &mut [T]) -> bool {
    let (rows, columns, invalid) = tables;
    let mut bad = false;
    match layout {
        Layout::Ncl => {
            // One pass per channel keeps both reads and writes sequential, which the compiler
            // turns into gathers from a table of 256 values that stays in L1.
            for (ch, dst) in out.chunks_exact_mut(seq.len().max(1)).enumerate().take(c) {
                let table = &columns[ch * 256..(ch + 1) * 256];
                if ch == 0 {
                    for (o, &b) in dst.iter_mut().zip(seq) {
                        *o = table[b as usize];
                        bad |= invalid[b as usize];
                    }
                } else {
                    for (o, &b) in dst.iter_mut().zip(seq) {
                        *o = table[b as usize];
                    }
                }
            }
        }
        // DNA and RNA: one fixed-size copy (a single 16-byte store for f32) per base, where a
        // slice copy of runtime length costs a call.
        Layout::Nlc if c == 4 => {
            let (table, _) = rows.as_chunks::<4>();
            let (dst, _) = out.as_chunks_mut::<4>();
            for (d, &b) in dst.iter_mut().zip(seq) {
                *d = table[b as usize];
                bad |= invalid[b as usize];
            }
        }
        Layout::Nlc => {
            for (dst, &b) in out.chunks_exact_mut(c).zip(seq) {
                let b = b as usize;
                dst.copy_from_slice(&rows[b * c..(b + 1) * c]);
                bad |= invalid[b];
            }
        }
    }
    bad
}

/// A one-hot encoder for one alphabet and policy.
///
/// Building it fills a 256-entry table per channel, so encoding is a table lookup per base with
/// no branches: the hot loop that decides whether a whole chromosome encodes in under a second.
#[derive(Clone)]
pub struct Encoder {
    alphabet: Alphabet,
    n_policy: NPolicy,
    unknown: UnknownPolicy,
    /// `rows[b * C + c]`: value of channel `c` for byte `b` (the `NLC` row of that byte).
    rows: Vec<f32>,
    /// `columns[c * 256 + b]`: the same values, channel-major, for `NCL` passes.
    columns: Vec<f32>,
    /// `rows` and `columns` as bytes, when every value is 0 or 1 (no fractional N policy).
    bytes: Option<(Vec<u8>, Vec<u8>)>,
    /// Two bases' NLC bytes as one word, for 4-channel alphabets (built on first use).
    pairs: std::sync::OnceLock<Vec<u64>>,

    /// Bytes that are neither symbols nor ambiguity codes (only when `unknown` is `Error`).
    invalid: [bool; 256],
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("alphabet", &self.alphabet)
            .field("n_policy", &self.n_policy)
            .field("unknown", &self.unknown)
            .finish()
    }
}

impl Encoder {
    /// Builds the lookup tables for `alphabet` under the given policies.
    pub fn new(alphabet: Alphabet, n_policy: NPolicy, unknown: UnknownPolicy) -> Self {
        let c = alphabet.size();
        let wildcard = alphabet.mask(alphabet.wildcard());
        let mut rows = vec![0.0f32; 256 * c];
        let mut invalid = [false; 256];
        for b in 0..256usize {
            let mut mask = alphabet.mask(b as u8);
            if mask == 0 {
                match unknown {
                    UnknownPolicy::Error => {
                        invalid[b] = true;
                        continue;
                    }
                    UnknownPolicy::AsN => mask = wildcard,
                }
            }
            let row = &mut rows[b * c..(b + 1) * c];
            let bits = mask.count_ones();
            for (ch, v) in row.iter_mut().enumerate() {
                let set = mask & (1 << ch) != 0;
                *v = if bits == 1 {
                    if set { 1.0 } else { 0.0 }
                } else {
                    match n_policy {
                        NPolicy::Zero => 0.0,
                        NPolicy::Uniform => 1.0 / c as f32,
                        NPolicy::Iupac if set => 1.0 / bits as f32,
                        NPolicy::Iupac => 0.0,
                    }
                };
            }
        }
        let mut columns = vec![0.0f32; 256 * c];
        for b in 0..256 {
            for ch in 0..c {
                columns[ch * 256 + b] = rows[b * c + ch];
            }
        }
        let binary = rows.iter().all(|&v| v == 0.0 || v == 1.0);

        let bytes = binary.then(|| {
            let u8s = |t: &[f32]| t.iter().map(|&v| v as u8).collect::<Vec<u8>>();
            (u8s(&rows), u8s(&columns))
        });
        Encoder {
            alphabet,
            n_policy,
            unknown,
            rows,
            columns,
            bytes,
            pairs: std::sync::OnceLock::new(),
            invalid,
        }
    }

    /// The alphabet encoded.
    pub fn alphabet(&self) -> Alphabet {
        self.alphabet
    }

    /// How N and the other ambiguity codes are encoded.
    pub fn n_policy(&self) -> NPolicy {
        self.n_policy
    }

    /// What a character outside the alphabet does.
    pub fn unknown_policy(&self) -> UnknownPolicy {
        self.unknown
    }

    /// Number of channels per position.
    pub fn channels(&self) -> usize {
        self.alphabet.size()
    }

    /// Fails on the first character that is neither a symbol nor an ambiguity code.
    pub fn check(&self, id: &str, seq: &[u8]) -> Result<(), Error> {
        match seq.iter().position(|&b| self.invalid[b as usize]) {
            None => Ok(()),
            Some(i) => Err(Error::InvalidCharacter {
                id: id.to_string(),
                position: i + 1,
                found: seq[i] as char,
                expected: String::from_utf8_lossy(self.alphabet.symbols()).into_owned(),
            }),
        }
    }

    /// Encodes `seq` into `out`, which must hold exactly `channels * seq.len()` values.
    pub fn encode_into(
        &self,
        id: &str,
        seq: &[u8],
        layout: Layout,
        out: &mut [f32],
    ) -> Result<(), Error> {
        self.check_buffer(id, out.len(), seq.len())?;
        let tables = (&self.rows[..], &self.columns[..], &self.invalid);
        if fill(seq, self.channels(), layout, tables, out) {
            self.check(id, seq)?;
        }
        Ok(())
    }

    /// [`Encoder::encode_into`] as bytes (0 or 1): a quarter of the memory of `f32`, for
    /// callers that store or transfer encodings. Refused when the N policy gives fractions.
    pub fn encode_into_u8(
        &self,
        id: &str,
        seq: &[u8],
        layout: Layout,
        out: &mut [u8],
    ) -> Result<(), Error> {
        let Some((rows, columns)) = &self.bytes else {
            return Err(Error::FractionalBytes(self.n_policy));
        };
        self.check_buffer(id, out.len(), seq.len())?;
        let bad = match layout {
            Layout::Nlc if self.channels() == 4 => self.fill_pairs(rows, seq, out),
            _ => fill(
                seq,
                self.channels(),
                layout,
                (rows, columns, &self.invalid),
                out,
            ),
        };
        if bad {
            self.check(id, seq)?;
        }
        Ok(())
    }

    /// DNA's NLC bytes two bases at a time: one lookup and one 8-byte store per pair, from a
    /// 64 Ki-entry table built on first use. A byte outside the alphabet writes a 2, which
    /// the OR of every stored word reveals; true if there was one.
    fn fill_pairs(&self, rows: &[u8], seq: &[u8], out: &mut [u8]) -> bool {
        const FLAG: u64 = 0x0202_0202_0202_0202;
        let table = self.pairs.get_or_init(|| {
            // Byte b's row of 4 as a little-endian word; 2 marks a byte outside the alphabet.
            let row = |b: usize| -> u64 {
                let bytes = if self.invalid[b] {
                    [2, 0, 0, 0]
                } else {
                    [
                        rows[b * 4],
                        rows[b * 4 + 1],
                        rows[b * 4 + 2],
                        rows[b * 4 + 3],
                    ]
                };
                u64::from(u32::from_le_bytes(bytes))
            };
            (0..1 << 16)
                .map(|i| row(i & 0xff) | row(i >> 8) << 32)
                .collect()
        });
        let (pairs, tail) = seq.as_chunks::<2>();
        let (dst, rest) = out.as_chunks_mut::<8>();
        let mut seen = 0u64;
        for (d, p) in dst.iter_mut().zip(pairs) {
            let w = table[p[0] as usize | (p[1] as usize) << 8];
            seen |= w;
            *d = w.to_le_bytes();
        }
        if let [b] = tail {
            let w = table[*b as usize].to_le_bytes();
            rest.copy_from_slice(&w[..4]);
            seen |= u64::from(w[0]);
        }
        seen & FLAG != 0
    }

    /// Checks that an output buffer of `len` values fits a sequence of `bases`.
    fn check_buffer(&self, id: &str, len: usize, bases: usize) -> Result<(), Error> {
        let expected = self.channels() * bases;
        if len != expected {
            return Err(Error::BufferSize {
                id: id.to_string(),
                found: len,
                expected,
            });
        }
        Ok(())
    }

    /// Encodes one sequence into a new `[channels, length]` or `[length, channels]` buffer.
    pub fn encode(&self, id: &str, seq: &[u8], layout: Layout) -> Result<Vec<f32>, Error> {
        let mut out = vec![0.0; self.channels() * seq.len()];
        self.encode_into(id, seq, layout, &mut out)?;
        Ok(out)
    }

    /// Encodes equal-length sequences into one `[batch, channels, length]` (or `NLC`) buffer.
    pub fn encode_batch<S: AsRef<[u8]>>(
        &self,
        ids: &[&str],
        seqs: &[S],
        layout: Layout,
    ) -> Result<Vec<f32>, Error> {
        let l = seqs.first().map_or(0, |s| s.as_ref().len());
        let per = self.channels() * l;
        let mut out = vec![0.0; per * seqs.len()];
        for (i, s) in seqs.iter().enumerate() {
            let id = ids.get(i).copied().unwrap_or("");
            let s = s.as_ref();
            if s.len() != l {
                return Err(Error::LengthMismatch {
                    id: id.to_string(),
                    found: s.len(),
                    expected: l,
                });
            }
            self.encode_into(id, s, layout, &mut out[i * per..(i + 1) * per])?;
        }
        Ok(out)
    }
}

/// One-hot sequences `x` of `[n, symbols, length]` (NCL, as tangermeme and PyTorch hold them)
/// back to text in `alphabet`: the symbol whose channel is 1 at each position, or `N` where
/// every channel is 0 (tangermeme's encoding of N). Anything else (a soft or uniform
/// encoding) is refused with its place, since no sequence would give it.
pub fn decode_one_hot(
    x: &[f32],
    shape: [usize; 3],
    alphabet: Alphabet,
) -> Result<Vec<Vec<u8>>, Error> {
    let [n, c, l] = shape;
    let symbols = alphabet.symbols();
    let mut out = Vec::with_capacity(n);
    for (s, seq) in x.chunks(c * l).take(n).enumerate() {
        let mut text = Vec::with_capacity(l);
        for p in 0..l {
            let column = |k: usize| seq[k * l + p];
            let hot: Vec<usize> = (0..c).filter(|&k| column(k) != 0.0).collect();
            match hot[..] {
                [] => text.push(alphabet.wildcard()),
                [k] if column(k) == 1.0 && k < symbols.len() => text.push(symbols[k]),
                _ => {
                    return Err(Error::NotOneHot {
                        sequence: s,
                        position: p,
                        found: (0..c)
                            .map(|k| column(k).to_string())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                }
            }
        }
        out.push(text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_hot_decodes_back_and_soft_encodings_are_refused() {
        let enc = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
        let x = enc
            .encode_batch(&["a", "b"], &[b"ACGTN", b"TTGCA"], Layout::Ncl)
            .unwrap();
        let back = decode_one_hot(&x, [2, 4, 5], Alphabet::Dna).unwrap();
        assert_eq!(back, [b"ACGTN".to_vec(), b"TTGCA".to_vec()]);
        let uniform = Encoder::new(Alphabet::Dna, NPolicy::Uniform, UnknownPolicy::Error);
        let x = uniform.encode("a", b"AN", Layout::Ncl).unwrap();
        let e = decode_one_hot(&x, [1, 4, 2], Alphabet::Dna)
            .unwrap_err()
            .to_string();
        assert!(e.contains("sequence 0, position 1"), "{e}");
    }

    use super::*;

    fn dna(policy: NPolicy) -> Encoder {
        Encoder::new(Alphabet::Dna, policy, UnknownPolicy::Error)
    }

    // Expected values are written out by hand from the definition of one-hot encoding.
    #[test]
    fn ncl_and_nlc_match_hand_encoding() {
        let e = dna(NPolicy::Zero);
        let ncl = e.encode("s", b"ACgtN", Layout::Ncl).unwrap();
        #[rustfmt::skip]
        let want = [
            1., 0., 0., 0., 0.,
            0., 1., 0., 0., 0.,
            0., 0., 1., 0., 0.,
            0., 0., 0., 1., 0.,
        ];
        assert_eq!(ncl, want);
        let nlc = e.encode("s", b"ACgtN", Layout::Nlc).unwrap();
        #[rustfmt::skip]
        let want = [
            1., 0., 0., 0.,
            0., 1., 0., 0.,
            0., 0., 1., 0.,
            0., 0., 0., 1.,
            0., 0., 0., 0.,
        ];
        assert_eq!(nlc, want);
    }

    /// The byte encoding is the f32 one as 0/1 bytes, in both layouts and for a 20-channel
    /// alphabet; an N policy with fractions is refused.
    #[test]
    fn bytes_equal_the_float_encoding_or_are_refused() {
        for (e, seq) in [
            (dna(NPolicy::Zero), &b"ACgtNRAC"[..]),
            // odd: the last base is outside the two-base words
            (dna(NPolicy::Zero), &b"ACgtNRACt"[..]),
            (
                Encoder::new(Alphabet::Protein, NPolicy::Zero, UnknownPolicy::Error),
                &b"ACDEFGHIKLMNPQRSTVWYX"[..],
            ),
        ] {
            for layout in [Layout::Ncl, Layout::Nlc] {
                let f = e.encode("s", seq, layout).unwrap();
                let mut b = vec![9u8; f.len()];
                e.encode_into_u8("s", seq, layout, &mut b).unwrap();
                assert_eq!(b.iter().map(|&v| v as f32).collect::<Vec<_>>(), f);
            }
        }
        // A character outside the alphabet, inside a word and as the odd last base.
        for (seq, at) in [(&b"AC-TG"[..], 3), (&b"ACGT-"[..], 5)] {
            for layout in [Layout::Ncl, Layout::Nlc] {
                let mut b = vec![0u8; 4 * seq.len()];
                let err = dna(NPolicy::Zero)
                    .encode_into_u8("s", seq, layout, &mut b)
                    .unwrap_err();
                assert!(
                    matches!(err, Error::InvalidCharacter { position, found: '-', .. } if position == at),
                    "{err}"
                );
            }
        }
        let mut b = vec![0u8; 4];
        let err = dna(NPolicy::Uniform)
            .encode_into_u8("s", b"A", Layout::Nlc, &mut b)
            .unwrap_err();
        assert_eq!(err, Error::FractionalBytes(NPolicy::Uniform));
        let err = dna(NPolicy::Zero)
            .encode_into_u8("s", b"AC", Layout::Nlc, &mut b)
            .unwrap_err();
        assert!(matches!(
            err,
            Error::BufferSize {
                found: 4,
                expected: 8,
                ..
            }
        ));
    }

    #[test]
    fn n_policies() {
        assert_eq!(
            dna(NPolicy::Uniform)
                .encode("s", b"N", Layout::Nlc)
                .unwrap(),
            [0.25; 4]
        );
        assert_eq!(
            dna(NPolicy::Uniform)
                .encode("s", b"R", Layout::Nlc)
                .unwrap(),
            [0.25; 4]
        );
        assert_eq!(
            dna(NPolicy::Iupac).encode("s", b"R", Layout::Nlc).unwrap(),
            [0.5, 0.0, 0.5, 0.0]
        );
        assert_eq!(
            dna(NPolicy::Zero).encode("s", b"y", Layout::Nlc).unwrap(),
            [0.0; 4]
        );
        let p = Encoder::new(Alphabet::Protein, NPolicy::Uniform, UnknownPolicy::Error);
        let x = p.encode("p", b"X", Layout::Nlc).unwrap();
        assert!(x.iter().all(|&v| (v - 0.05).abs() < 1e-7));
    }

    #[test]
    fn invalid_character_names_sequence_and_position() {
        let err = dna(NPolicy::Zero)
            .encode("chr1:10-20", b"ACGT-A", Layout::Ncl)
            .unwrap_err();
        assert_eq!(
            err,
            Error::InvalidCharacter {
                id: "chr1:10-20".into(),
                position: 5,
                found: '-',
                expected: "ACGT".into()
            }
        );
        assert!(err.to_string().contains("position 5"));
        let lenient = Encoder::new(Alphabet::Dna, NPolicy::Uniform, UnknownPolicy::AsN);
        assert_eq!(lenient.encode("s", b"-", Layout::Ncl).unwrap(), [0.25; 4]);
    }

    #[test]
    fn rna_reads_u_and_protein_uses_alphabetical_order() {
        let r = Encoder::new(Alphabet::Rna, NPolicy::Zero, UnknownPolicy::Error);
        assert_eq!(
            r.encode("r", b"U", Layout::Nlc).unwrap(),
            [0.0, 0.0, 0.0, 1.0]
        );
        let p = Encoder::new(Alphabet::Protein, NPolicy::Zero, UnknownPolicy::Error);
        let w = p.encode("p", b"w", Layout::Nlc).unwrap();
        assert_eq!(w.iter().position(|&v| v == 1.0), Some(18));
    }

    #[test]
    fn batch_requires_equal_lengths() {
        let e = dna(NPolicy::Zero);
        let out = e
            .encode_batch(&["a", "b"], &[b"AC".as_slice(), b"GT"], Layout::Ncl)
            .unwrap();
        assert_eq!(
            out,
            [
                1., 0., 0., 1., 0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 0., 1.
            ]
        );
        let err = e
            .encode_batch(&["a", "b"], &[b"AC".as_slice(), b"G"], Layout::Ncl)
            .unwrap_err();
        assert!(matches!(err, Error::LengthMismatch { .. }));
    }
}
