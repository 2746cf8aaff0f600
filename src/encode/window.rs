use serde::{Deserialize, Serialize};

use super::Error;

/// A stretch of sequence cut to a model's length, with the coordinates it came from.
///
/// Coordinates are 0-based and half-open on `chrom` (a FASTA record or a contig). When the
/// window reaches past either end of its source, the missing bases are the wildcard (`N`) and
/// `start` may be negative or `end` past the source's length: the numbers say exactly what the
/// model saw.
// Serialised without its bases: that is how the package hands windows to JS and takes them
// back (formatPredictions).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The window's name: the record's, or `record:start-end` for a tile.
    pub id: String,
    /// The record it was cut from.
    pub chrom: String,
    /// 0-based start in the record (negative when padded with N).
    pub start: i64,
    /// One past its last base (past the record when padded).
    pub end: i64,
    /// The bases the model sees, N-padded where the window leaves the record.
    #[serde(skip)]
    pub seq: Vec<u8>,
}

impl Window {
    /// The same window holding other bases (an edited copy). Field by field: `..self.clone()`
    /// would copy the window's own bases only to drop them.
    pub fn with_seq(&self, seq: Vec<u8>) -> Window {
        Window {
            id: self.id.clone(),
            chrom: self.chrom.clone(),
            start: self.start,
            end: self.end,
            seq,
        }
    }
}

/// Fits `seq` to `length`: a longer sequence keeps its center, a shorter one is padded on both
/// sides with `pad` (the extra base, if odd, goes on the right). Returns the new sequence and
/// the offset of its first base in `seq` coordinates.
///
/// ```
/// use seqlens::encode::fit;
/// assert_eq!(fit(b"AACCGGT", 3, b'N'), (b"CCG".to_vec(), 2));
/// assert_eq!(fit(b"AC", 5, b'N'), (b"NACNN".to_vec(), -1));
/// ```
pub fn fit(seq: &[u8], length: usize, pad: u8) -> (Vec<u8>, i64) {
    let n = seq.len();
    if n >= length {
        let start = (n - length) / 2;
        (seq[start..start + length].to_vec(), start as i64)
    } else {
        let left = (length - n) / 2;
        let mut out = Vec::with_capacity(length);
        out.resize(left, pad);
        out.extend_from_slice(seq);
        out.resize(length, pad);
        (out, -(left as i64))
    }
}

/// Start positions of windows of `width` every `stride` bases over a sequence of length `n`.
/// The last window is moved back to end at `n`, so the tail is always covered; a sequence
/// shorter than `width` gets one window at 0 (to be padded).
///
/// ```
/// use seqlens::encode::tile_starts;
/// assert_eq!(tile_starts(10, 4, 3).unwrap(), vec![0, 3, 6]);
/// assert_eq!(tile_starts(11, 4, 3).unwrap(), vec![0, 3, 6, 7]);
/// ```
pub fn tile_starts(n: usize, width: usize, stride: usize) -> Result<Vec<usize>, Error> {
    if width == 0 || stride == 0 {
        return Err(Error::InvalidTiling { width, stride });
    }
    if n <= width {
        return Ok(vec![0]);
    }
    let mut starts: Vec<usize> = (0..=n - width).step_by(stride).collect();
    if starts.last().is_some_and(|&s| s + width < n) {
        starts.push(n - width);
    }
    Ok(starts)
}

/// Cuts one named sequence into model-sized windows: centered and fitted when `stride` is
/// `None`, tiled every `stride` bases otherwise. Window ids are `name` for a single window and
/// `name:start-end` (0-based, half-open) for tiles.
pub fn windows_for(
    name: &str,
    seq: &[u8],
    width: usize,
    stride: Option<usize>,
    pad: u8,
) -> Result<Vec<Window>, Error> {
    Ok(Windows::new(name, seq, width, stride, pad)?.collect())
}

/// [`windows_for`] one window at a time: a chromosome tiled at a small stride yields
/// millions of windows, and only those being predicted need to exist at once.
pub struct Windows<'a> {
    name: &'a str,
    seq: &'a [u8],
    width: usize,
    pad: u8,
    /// The next tile's start and the tiling step; `None` for a single fitted window.
    tiling: Option<(usize, usize)>,
    /// Tiles still to come.
    left: usize,
}

impl<'a> Windows<'a> {
    /// Tiles of `width` bases every `stride` bases; both must be at least 1.
    pub fn new(
        name: &'a str,
        seq: &'a [u8],
        width: usize,
        stride: Option<usize>,
        pad: u8,
    ) -> Result<Self, Error> {
        let Some(stride) = stride else {
            return Ok(Windows {
                name,
                seq,
                width,
                pad,
                tiling: None,
                left: 1,
            });
        };
        if width == 0 || stride == 0 {
            return Err(Error::InvalidTiling { width, stride });
        }
        let n = seq.len();
        // as tile_starts: every `stride` bases, plus one aligned to the end if needed
        let left = if n <= width {
            1
        } else {
            let k = (n - width) / stride + 1;
            k + usize::from((k - 1) * stride + width < n)
        };
        Ok(Windows {
            name,
            seq,
            width,
            pad,
            tiling: Some((0, stride)),
            left,
        })
    }

    /// How many windows are still to come.
    pub fn remaining(&self) -> usize {
        self.left
    }

    /// Skips the next `n` windows without cutting them (a shard starting mid-chromosome).
    pub fn skip_windows(&mut self, n: usize) {
        let n = n.min(self.left);
        self.left -= n;
        if let Some((start, stride)) = &mut self.tiling {
            *start += n * *stride;
        }
    }
}

impl Iterator for Windows<'_> {
    type Item = Window;

    fn next(&mut self) -> Option<Window> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (name, seq, width) = (self.name, self.seq, self.width);
        let Some((start, stride)) = self.tiling else {
            let (s, start) = fit(seq, width, self.pad);
            return Some(Window {
                id: name.to_string(),
                chrom: name.to_string(),
                start,
                end: start + width as i64,
                seq: s,
            });
        };
        // the last tile is aligned to the end of the sequence
        let start = if self.left == 0 && seq.len() > width {
            seq.len() - width
        } else {
            start
        };
        let single = start == 0 && self.left == 0 && self.tiling == Some((0, stride));
        self.tiling = Some((start + stride, stride));
        let end = (start + width).min(seq.len());
        let mut s = seq[start..end].to_vec();
        s.resize(width, self.pad);
        let end = start + width;
        Some(Window {
            id: if single {
                name.to_string()
            } else {
                format!("{name}:{start}-{end}")
            },
            chrom: name.to_string(),
            start: start as i64,
            end: end as i64,
            seq: s,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_crops_center_and_pads_symmetrically() {
        assert_eq!(fit(b"ACGTACGT", 4, b'N'), (b"GTAC".to_vec(), 2));
        assert_eq!(fit(b"ACGTACGTA", 4, b'N'), (b"GTAC".to_vec(), 2));
        assert_eq!(fit(b"ACG", 6, b'N'), (b"NACGNN".to_vec(), -1));
        assert_eq!(fit(b"ACGT", 4, b'N'), (b"ACGT".to_vec(), 0));
    }

    #[test]
    fn tiles_cover_the_whole_sequence() {
        assert_eq!(tile_starts(3, 4, 2).unwrap(), vec![0]);
        assert_eq!(tile_starts(8, 4, 4).unwrap(), vec![0, 4]);
        assert_eq!(tile_starts(9, 4, 4).unwrap(), vec![0, 4, 5]);
        assert!(tile_starts(9, 4, 0).is_err());
    }

    /// The lazy tiling yields exactly tile_starts' windows, in order, for every length
    /// around the edge cases.
    #[test]
    fn lazy_windows_equal_tile_starts() {
        let seq: Vec<u8> = (0..40).map(|i| b"ACGT"[i % 4]).collect();
        for n in 0..40 {
            for (width, stride) in [(4, 1), (4, 3), (4, 4), (5, 7), (10, 3)] {
                let w = windows_for("s", &seq[..n], width, Some(stride), b'N').unwrap();
                let starts: Vec<i64> = tile_starts(n, width, stride)
                    .unwrap()
                    .into_iter()
                    .map(|s| s as i64)
                    .collect();
                let got: Vec<i64> = w.iter().map(|w| w.start).collect();
                assert_eq!(got, starts, "n {n}, width {width}, stride {stride}");
                assert_eq!(w.len() == 1, w[0].id == "s");
            }
        }
    }

    #[test]
    fn windows_keep_coordinates() {
        let w = windows_for("chr1", b"AACCGGTTA", 4, Some(4), b'N').unwrap();
        let coords: Vec<_> = w.iter().map(|w| (w.id.as_str(), w.start, w.end)).collect();
        assert_eq!(
            coords,
            [("chr1:0-4", 0, 4), ("chr1:4-8", 4, 8), ("chr1:5-9", 5, 9)]
        );
        assert_eq!(w[2].seq, b"GGTTA"[1..]);
        let w = windows_for("s", b"AC", 4, None, b'N').unwrap();
        assert_eq!(
            (w[0].start, w[0].end, w[0].seq.as_slice()),
            (-1, 3, &b"NACN"[..])
        );
    }
}
