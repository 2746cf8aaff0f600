//! bigWig output through bigtools: per-base tracks (attributions, profiles) in the indexed,
//! compressed format that genome browsers (IGV, UCSC) and deepTools read.

use std::io::{Cursor, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use bigtools::beddata::BedParserStreamingIterator;
use bigtools::{BigWigWrite, Value};

use crate::Error;

/// Consecutive per-base values on `chrom` from `start` (0-based): one base each. Positions
/// outside the chromosome (a window's N padding) are left out.
pub struct BaseTrack<'a> {
    /// Where the track comes from, for errors (a sequence id).
    pub id: &'a str,
    /// The chromosome (a sequence's record).
    pub chrom: &'a str,
    /// Where the first value lies (0-based; negative in padding before the chromosome).
    pub start: i64,
    /// One value per base from `start`.
    pub values: &'a [f32],
}

/// Writes `tracks` as a bigWig to `path`, atomically. `chroms` names every chromosome with
/// its length, in the order the file lists them. Tracks on one chromosome may come in any
/// order but must not overlap: a bigWig holds one value per base. Everything is checked
/// before anything is written, and errors name the file and the track.
pub fn write(
    path: &std::path::Path,
    chroms: &[(String, u64)],
    tracks: &[BaseTrack<'_>],
) -> Result<(), Error> {
    let name = path.display().to_string();
    let bad = |what: String| Error::Invalid(format!("{name}: {what}"));
    let mut sizes = std::collections::HashMap::with_capacity(chroms.len());
    for (i, (chrom, len)) in chroms.iter().enumerate() {
        let len = u32::try_from(*len).map_err(|_| {
            bad(format!(
                "chromosome '{chrom}' is {len} bases long; a bigWig holds at most {} per chromosome",
                u32::MAX
            ))
        })?;
        if sizes.insert(chrom.clone(), (i, len)).is_some() {
            return Err(bad(format!("chromosome '{chrom}' is listed twice")));
        }
    }
    // The tracks in file order (chromosome, then position), clipped to their chromosomes.
    let mut order = Vec::with_capacity(tracks.len());
    for t in tracks {
        let &(rank, len) = sizes.get(t.chrom).ok_or_else(|| {
            bad(format!(
                "'{}' is on '{}', which is not among the sequences read",
                t.id, t.chrom
            ))
        })?;
        let first = (-t.start).clamp(0, t.values.len() as i64) as usize;
        let last = (i64::from(len) - t.start).clamp(first as i64, t.values.len() as i64) as usize;
        let values = &t.values[first..last];
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!(
                "'{}' has the value {} at {}:{}; a bigWig takes finite values",
                t.id,
                values[i],
                t.chrom,
                t.start + (first + i) as i64
            )));
        }
        if !values.is_empty() {
            let start = t.start + first as i64;
            order.push(Span {
                rank,
                start,
                values,
                track: t,
            });
        }
    }
    order.sort_by_key(|s| (s.rank, s.start));
    for pair in order.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.rank == b.rank && b.start < a.end() {
            return Err(bad(format!(
                "'{}' ({}:{}-{}) overlaps '{}' ({}:{}-{}): a bigWig holds one value per base; \
                 give inputs that do not overlap, or write .bedgraph or .tsv",
                b.track.id,
                b.track.chrom,
                b.start,
                b.end(),
                a.track.id,
                a.track.chrom,
                a.start,
                a.end()
            )));
        }
    }
    // The chromosome as &str: bigtools compares it base by base and copies it only when it
    // changes.
    let values = order.iter().flat_map(|s| {
        s.values.iter().enumerate().map(move |(j, &value)| {
            let pos = (s.start + j as i64) as u32;
            let v = Value {
                start: pos,
                end: pos + 1,
                value,
            };
            (s.track.chrom, v)
        })
    });
    let sizes = sizes.into_iter().map(|(c, (_, len))| (c, len)).collect();
    let buffer = SharedBuffer::default();
    // One thread: the tracks are already in memory, and the CLI's own threads are busy.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| Error::from(crate::io::Error::io(&name, e)))?;
    // Chromosomes in `chroms`' order, not sorted by name: that is the order checked above.
    let data = BedParserStreamingIterator::wrap_infallible_iter(values, true);
    BigWigWrite::new(buffer.clone(), sizes)
        .write(data, runtime)
        .map_err(|e| bad(format!("writing the bigWig: {e}")))?;
    let bytes = buffer.take();
    super::write_atomic(path, &bytes).map_err(|e| crate::io::Error::io(&name, e).into())
}

/// The part of a track inside its chromosome, with the chromosome's rank in the file.
struct Span<'a> {
    rank: usize,
    /// Where `values` begins on the chromosome.
    start: i64,
    values: &'a [f32],
    track: &'a BaseTrack<'a>,
}

impl Span<'_> {
    fn end(&self) -> i64 {
        self.start + self.values.len() as i64
    }
}

/// A profile model's tracks gathered for bigWig output, one file per class. A bigWig's index
/// needs every value before it is written, so tracks are kept (clipped to their records) until
/// the last window is predicted, up to a limit checked before each one is stored.
pub struct ProfileTracks {
    classes: usize,
    limit: usize,
    held: usize,
    /// (id, chrom, start, `[classes, kept]` values).
    tracks: Vec<(String, String, i64, Vec<f32>)>,
}

impl ProfileTracks {
    /// Tracks of `classes` classes, holding at most `limit` values in all.
    pub fn new(classes: usize, limit: usize) -> ProfileTracks {
        ProfileTracks {
            classes,
            limit,
            held: 0,
            tracks: Vec::new(),
        }
    }

    /// Keeps the positions of `track` before `end` (see [`crate::model::Track::positions_before`]).
    pub fn push(&mut self, track: &crate::model::Track, end: i64) -> Result<(), Error> {
        let keep = track.positions_before(end);
        let n = keep * self.classes;
        if self.held + n > self.limit {
            return Err(Error::Invalid(format!(
                "bigWig output keeps every value in memory until the end, and '{}' would take \
                 it past {} values ({:.1} GiB); write .bedgraph, which streams (UCSC's \
                 bedGraphToBigWig converts it)",
                track.id,
                self.limit,
                (self.limit * 4) as f64 / f64::from(1 << 30)
            )));
        }
        let mut values = Vec::with_capacity(n);
        for c in 0..self.classes {
            values.extend_from_slice(&track.class(c)[..keep]);
        }
        self.held += n;
        self.tracks
            .push((track.id.clone(), track.chrom.clone(), track.start, values));
        Ok(())
    }

    /// The positions held (per class).
    pub fn positions(&self) -> u64 {
        (self.held / self.classes.max(1)) as u64
    }

    /// Writes class `c` of every track to `paths[c]` (see [`write`]).
    pub fn write(
        &self,
        paths: &[std::path::PathBuf],
        chroms: &[(String, u64)],
    ) -> Result<(), Error> {
        if paths.len() != self.classes {
            return Err(Error::Invalid(format!(
                "{} bigWig paths for {} classes",
                paths.len(),
                self.classes
            )));
        }
        for (c, path) in paths.iter().enumerate() {
            let tracks: Vec<BaseTrack> = self
                .tracks
                .iter()
                .map(|(id, chrom, start, values)| {
                    let kept = values.len() / self.classes;
                    BaseTrack {
                        id,
                        chrom,
                        start: *start,
                        values: &values[c * kept..(c + 1) * kept],
                    }
                })
                .collect();
            write(path, chroms, &tracks)?;
        }
        Ok(())
    }
}

/// The bigWig's bytes in memory: bigtools consumes its writer, so the bytes are reached
/// through a second handle and then written atomically (a failed run leaves no file).
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Cursor<Vec<u8>>>>);

impl SharedBuffer {
    fn take(&self) -> Vec<u8> {
        std::mem::take(self.lock().get_mut())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cursor<Vec<u8>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.lock().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for SharedBuffer {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.lock().seek(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::Signal;

    fn chroms() -> Vec<(String, u64)> {
        vec![("c2".into(), 10), ("c1".into(), 6)]
    }

    #[test]
    fn writes_what_the_reader_reads_back_clipped_to_the_chromosomes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bw");
        let a = [1.0, 2.0, 3.0, 4.0];
        let b = [0.5, -0.5, 0.25];
        let tracks = [
            // starts two bases before c1 (padding) and ends past it
            BaseTrack {
                id: "a",
                chrom: "c1",
                start: -2,
                values: &a,
            },
            BaseTrack {
                id: "b",
                chrom: "c2",
                start: 8,
                values: &b,
            },
        ];
        write(&path, &chroms(), &tracks).unwrap();
        let mut s = Signal::open(&path).unwrap();
        assert_eq!(s.values("c1", 0, 3).unwrap(), vec![3.0, 4.0, 0.0]);
        assert_eq!(s.values("c2", 7, 10).unwrap(), vec![0.0, 0.5, -0.5]);
    }

    #[test]
    fn profile_tracks_write_a_file_per_class_and_refuse_past_their_limit() {
        let dir = tempfile::tempdir().unwrap();
        // two classes over 4 positions, the last past the record's end (6)
        let track = crate::model::Track {
            id: "w".into(),
            chrom: "c1".into(),
            start: 3,
            positions: 4,
            values: vec![1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0],
        };
        let mut tracks = ProfileTracks::new(2, 6);
        tracks.push(&track, 6).unwrap();
        assert_eq!(tracks.positions(), 3);
        let paths = [dir.path().join("a.bw"), dir.path().join("b.bw")];
        tracks.write(&paths, &chroms()).unwrap();
        let mut a = Signal::open(&paths[0]).unwrap();
        let mut b = Signal::open(&paths[1]).unwrap();
        assert_eq!(a.values("c1", 2, 6).unwrap(), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(b.values("c1", 2, 6).unwrap(), vec![0.0, 10.0, 20.0, 30.0]);
        let err = tracks.push(&track, 6).unwrap_err().to_string();
        assert!(err.contains("'w' would take it past 6 values"), "{err}");
        assert!(tracks.write(&paths[..1], &chroms()).is_err());
    }

    #[test]
    fn refuses_overlaps_unknown_chromosomes_and_non_finite_values_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.bw");
        let v = [1.0, 2.0, 3.0];
        let cases: [(&[BaseTrack], &str); 3] = [
            (
                &[
                    BaseTrack {
                        id: "x",
                        chrom: "c2",
                        start: 0,
                        values: &v,
                    },
                    BaseTrack {
                        id: "y",
                        chrom: "c2",
                        start: 2,
                        values: &v,
                    },
                ],
                "'y' (c2:2-5) overlaps 'x' (c2:0-3)",
            ),
            (
                &[BaseTrack {
                    id: "z",
                    chrom: "chrZ",
                    start: 0,
                    values: &v,
                }],
                "'z' is on 'chrZ'",
            ),
            (
                &[BaseTrack {
                    id: "n",
                    chrom: "c1",
                    start: 0,
                    values: &[1.0, f32::NAN],
                }],
                "'n' has the value NaN at c1:1",
            ),
        ];
        for (tracks, want) in cases {
            let err = write(&path, &chroms(), tracks).unwrap_err().to_string();
            assert!(err.contains(want) && err.contains("t.bw"), "{err}");
            assert!(!path.exists());
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
