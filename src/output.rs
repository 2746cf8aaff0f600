//! Formatting predictions as TSV or JSON, and writing files atomically.
//!
//! Shared by the CLI and the JS bindings so a download from the browser and a file from the
//! command line are byte-for-byte the same format.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::Predictions;

#[cfg(not(target_arch = "wasm32"))]
pub mod bigwig;

/// Output table formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One row per window: `id, chrom, start, end`, then one column per label. Coordinates
    /// are 0-based half-open; values use the shortest text that reads back to the same `f32`.
    Tsv,
    /// `{"labels": [...], "rows": [{"id", "chrom", "start", "end", "values": [...]}, ...]}`.
    Json,
}

impl Format {
    /// JSON for a `.json` path, TSV otherwise.
    pub fn for_path(path: &std::path::Path) -> Format {
        match path.extension() {
            Some(e) if e.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Tsv,
        }
    }
}

/// Writes predictions chunk by chunk, so a genome-sized run never holds every row.
pub struct TableWriter<W: std::io::Write> {
    out: W,
    format: Format,
    started: bool,
    rows: usize,
    /// The header's labels if no predictions come (an empty shard of a job).
    labels: Vec<String>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    id: &'a str,
    chrom: &'a str,
    start: i64,
    end: i64,
    values: &'a [f32],
}

impl<W: std::io::Write> TableWriter<W> {
    /// Writes to `out` in `format`.
    pub fn new(out: W, format: Format) -> Self {
        TableWriter {
            out,
            format,
            started: false,
            rows: 0,
            labels: Vec::new(),
        }
    }

    /// The labels the header names if no predictions are written, so that an empty table
    /// (an empty shard of a job) has the same header as the others.
    pub fn with_labels(mut self, labels: Vec<String>) -> Self {
        self.labels = labels;
        self
    }

    fn begin(&mut self, labels: &[String]) -> std::io::Result<()> {
        self.started = true;
        match self.format {
            Format::Tsv => {
                let mut s = String::from("id\tchrom\tstart\tend");
                for l in labels {
                    s.push('\t');
                    s.push_str(&clean(l));
                }
                writeln!(self.out, "{s}")
            }
            Format::Json => {
                let labels = serde_json::to_string(labels).map_err(std::io::Error::other)?;
                write!(self.out, "{{\n \"labels\": {labels},\n \"rows\": [")
            }
        }
    }

    /// Appends every window of `p` (the first call also writes the header).
    pub fn write(&mut self, p: &Predictions) -> std::io::Result<()> {
        if !self.started {
            self.begin(&p.labels)?;
        }
        for (i, w) in p.windows.iter().enumerate() {
            match self.format {
                Format::Tsv => {
                    let mut s = format!(
                        "{}\t{}\t{}\t{}",
                        clean(&w.id),
                        clean(&w.chrom),
                        w.start,
                        w.end
                    );
                    for v in p.row(i) {
                        let _ = write!(s, "\t{v}");
                    }
                    writeln!(self.out, "{s}")?;
                }
                Format::Json => {
                    let row = JsonRow {
                        id: &w.id,
                        chrom: &w.chrom,
                        start: w.start,
                        end: w.end,
                        values: p.row(i),
                    };
                    let sep = if self.rows == 0 { "" } else { "," };
                    let json = serde_json::to_string(&row).map_err(std::io::Error::other)?;
                    write!(self.out, "{sep}\n  {json}")?;
                }
            }
            self.rows += 1;
        }
        Ok(())
    }

    /// Closes the table and returns the writer and the number of rows written.
    pub fn finish(mut self) -> std::io::Result<(W, usize)> {
        if !self.started {
            let labels = std::mem::take(&mut self.labels);
            self.begin(&labels)?;
        }
        if self.format == Format::Json {
            writeln!(self.out, "\n ]\n}}")?;
        }
        self.out.flush()?;
        Ok((self.out, self.rows))
    }
}

fn render(p: &Predictions, format: Format) -> String {
    let mut w = TableWriter::new(Vec::new(), format);
    let bytes = w
        .write(p)
        .and_then(|()| w.finish())
        .map(|(b, _)| b)
        .unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The whole table as TSV (see [`Format::Tsv`]).
pub fn to_tsv(p: &Predictions) -> String {
    render(p, Format::Tsv)
}

/// The whole table as JSON (see [`Format::Json`]).
pub fn to_json(p: &Predictions) -> String {
    render(p, Format::Json)
}

/// Formats for per-position (profile) tracks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackFormat {
    /// One row per position: `id, chrom, pos` (0-based), then one column per class.
    Tsv,
    /// bedGraph, one file per class: `chrom, pos, pos + 1, value` under a `track` line.
    BedGraph,
    /// `{"labels": [...], "tracks": [{"id", "chrom", "start", "values": [[class 0...], ...]}]}`.
    Json,
}

impl TrackFormat {
    /// bedGraph for `.bedgraph`/`.bg`, JSON for `.json`, TSV otherwise.
    pub fn for_path(path: &std::path::Path) -> TrackFormat {
        match path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
        {
            Some(e) if e == "bedgraph" || e == "bg" => TrackFormat::BedGraph,
            Some(e) if e == "json" => TrackFormat::Json,
            _ => TrackFormat::Tsv,
        }
    }
}

/// Writes profile tracks as they are predicted. bedGraph writes one output per class
/// (`outs[c]`); the other formats write everything to `outs[0]`.
pub struct TrackWriter<W: std::io::Write> {
    outs: Vec<W>,
    format: TrackFormat,
    labels: Vec<String>,
    started: bool,
    tracks: usize,
    positions: u64,
}

#[derive(Serialize)]
struct JsonTrack<'a> {
    id: &'a str,
    chrom: &'a str,
    start: i64,
    values: Vec<&'a [f32]>,
}

impl<W: std::io::Write> TrackWriter<W> {
    /// A writer for tracks of `labels` (one per class); bedGraph needs one output per class.
    pub fn new(outs: Vec<W>, format: TrackFormat, labels: &[String]) -> std::io::Result<Self> {
        let want = if format == TrackFormat::BedGraph {
            labels.len()
        } else {
            1
        };
        if outs.len() != want {
            return Err(std::io::Error::other(format!(
                "{} outputs for {want} (bedGraph writes one file per class)",
                outs.len()
            )));
        }
        Ok(TrackWriter {
            outs,
            format,
            labels: labels.to_vec(),
            started: false,
            tracks: 0,
            positions: 0,
        })
    }

    fn begin(&mut self) -> std::io::Result<()> {
        self.started = true;
        match self.format {
            TrackFormat::Tsv => {
                let mut s = String::from("id\tchrom\tpos");
                for l in &self.labels {
                    s.push('\t');
                    s.push_str(&clean(l));
                }
                writeln!(self.outs[0], "{s}")
            }
            TrackFormat::BedGraph => {
                for (out, l) in self.outs.iter_mut().zip(&self.labels) {
                    let name = clean(l).replace(['"', ' '], "_");
                    writeln!(out, "track type=bedGraph name=\"{name}\"")?;
                }
                Ok(())
            }
            TrackFormat::Json => {
                let labels = serde_json::to_string(&self.labels).map_err(std::io::Error::other)?;
                write!(self.outs[0], "{{\n \"labels\": {labels},\n \"tracks\": [")
            }
        }
    }

    /// Appends the positions of `track` before `end` (the end of its record: a model of fixed
    /// length may predict past it, into the padding).
    pub fn write(&mut self, track: &crate::model::Track, end: i64) -> std::io::Result<()> {
        if !self.started {
            self.begin()?;
        }
        let keep = track.positions_before(end);
        let classes = self.labels.len();
        match self.format {
            TrackFormat::Tsv => {
                let (id, chrom) = (clean(&track.id), clean(&track.chrom));
                let mut s = String::new();
                for j in 0..keep {
                    s.clear();
                    let _ = write!(s, "{id}\t{chrom}\t{}", track.start + j as i64);
                    for c in 0..classes {
                        let _ = write!(s, "\t{}", track.values[c * track.positions + j]);
                    }
                    writeln!(self.outs[0], "{s}")?;
                }
            }
            TrackFormat::BedGraph => {
                let chrom = clean(&track.chrom);
                for (c, out) in self.outs.iter_mut().enumerate() {
                    for j in 0..keep {
                        let p = track.start + j as i64;
                        writeln!(
                            out,
                            "{chrom}\t{p}\t{}\t{}",
                            p + 1,
                            track.values[c * track.positions + j]
                        )?;
                    }
                }
            }
            TrackFormat::Json => {
                let row = JsonTrack {
                    id: &track.id,
                    chrom: &track.chrom,
                    start: track.start,
                    values: (0..classes).map(|c| &track.class(c)[..keep]).collect(),
                };
                let sep = if self.tracks == 0 { "" } else { "," };
                let json = serde_json::to_string(&row).map_err(std::io::Error::other)?;
                write!(self.outs[0], "{sep}\n  {json}")?;
            }
        }
        self.tracks += 1;
        self.positions += keep as u64;
        Ok(())
    }

    /// Closes the tracks; returns the outputs and the number of positions written.
    pub fn finish(mut self) -> std::io::Result<(Vec<W>, u64)> {
        if !self.started {
            self.begin()?;
        }
        if self.format == TrackFormat::Json {
            writeln!(self.outs[0], "\n ]\n}}")?;
        }
        for o in &mut self.outs {
            o.flush()?;
        }
        Ok((self.outs, self.positions))
    }
}

/// Tabs or newlines inside a name would break the table.
fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

/// A file written beside its destination and renamed over it by [`AtomicFile::commit`], so a
/// reader never sees half a file and a failed run never clobbers an old result (dropping it
/// uncommitted deletes the temporary file, and so does a failed commit). Every error names
/// the path. Temporary files that are still open are listed, so that a process stopped by a
/// signal can delete them first ([`remove_unfinished`]; the CLI does on SIGINT and SIGTERM).
#[cfg(not(target_arch = "wasm32"))]
pub struct AtomicFile {
    tmp: std::path::PathBuf,
    path: std::path::PathBuf,
    file: Option<std::io::BufWriter<std::fs::File>>,
}

/// The temporary files of [`AtomicFile`]s not yet committed or dropped.
#[cfg(not(target_arch = "wasm32"))]
static UNFINISHED: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

/// Deletes the temporary files of every [`AtomicFile`] still being written: for a signal
/// handler, before the process exits.
#[cfg(not(target_arch = "wasm32"))]
pub fn remove_unfinished() {
    let list = UNFINISHED.lock().unwrap_or_else(|p| p.into_inner());
    for tmp in list.iter() {
        let _ = std::fs::remove_file(tmp);
    }
}

/// `e` with `path` in its message.
#[cfg(not(target_arch = "wasm32"))]
fn at_path(path: &std::path::Path, e: std::io::Error) -> std::io::Error {
    std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

#[cfg(not(target_arch = "wasm32"))]
impl AtomicFile {
    /// A temporary file beside `path`, which replaces it on commit and is removed if dropped first.
    pub fn create(path: &std::path::Path) -> std::io::Result<AtomicFile> {
        if path.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                format!("{} is a directory; name a file to write", path.display()),
            ));
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = std::fs::File::create(&tmp).map_err(|e| at_path(path, e))?;
        UNFINISHED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(tmp.clone());
        Ok(AtomicFile {
            tmp,
            path: path.to_path_buf(),
            file: Some(std::io::BufWriter::new(file)),
        })
    }

    /// Flushes, syncs and renames the file into place; on failure the temporary file is
    /// deleted and the old file, if any, is left as it was.
    pub fn commit(mut self) -> std::io::Result<()> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let done = file
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::rename(&self.tmp, &self.path));
        if done.is_err() {
            let _ = std::fs::remove_file(&self.tmp);
        }
        self.forget();
        done.map_err(|e| at_path(&self.path, e))
    }

    /// Takes the temporary file off the list of unfinished ones.
    fn forget(&self) {
        UNFINISHED
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|t| t != &self.tmp);
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl std::io::Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.file.as_mut() {
            Some(f) => f.write(buf).map_err(|e| at_path(&self.path, e)),
            None => Err(std::io::Error::other("the file is already committed")),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush().map_err(|e| at_path(&self.path, e)),
            None => Ok(()),
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl Drop for AtomicFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
            self.forget();
        }
    }
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = AtomicFile::create(path)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Whether `path` names a VCF (`.vcf`, or bgzipped `.vcf.gz`/`.vcf.bgz`), which the variant
/// writers write as a VCF rather than a table.
pub fn is_vcf_path(path: &std::path::Path) -> bool {
    let name = path.to_string_lossy().to_ascii_lowercase();
    [".vcf", ".vcf.gz", ".vcf.bgz"]
        .iter()
        .any(|e| name.ends_with(e))
}

/// Whether a VCF output at `path` is bgzip-compressed: named `.gz` or `.bgz`, in any case, as
/// [`is_vcf_path`] reads names.
fn is_bgzf_path(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz") || e.eq_ignore_ascii_case("bgz"))
}

/// Refuses a VCF output that [`write_vcf_file`] would refuse: an index asked of a VCF that is
/// not bgzip-compressed. The writers call it before scoring, so the refusal costs no work.
pub fn check_vcf_output(path: &std::path::Path, index: bool) -> std::io::Result<()> {
    if index && !is_bgzf_path(path) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{}: an index needs a bgzip-compressed VCF; name the output .vcf.gz",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Writes a VCF's bytes to `path` atomically: bgzip-compressed (noodles' bgzf writer) when
/// the name ends in `.gz` or `.bgz`, and then, with `index`, its index beside it for random access by
/// bcftools and IGV: tabix (`PATH.tbi`), or CSI (`PATH.csi`) where a contig is too long for
/// tabix. The index is made from the written file before it takes the final name, so a
/// VCF that cannot be indexed (records out of order) leaves no new file. Returns the index's
/// path.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_vcf_file(
    path: &std::path::Path,
    text: &[u8],
    index: bool,
) -> std::io::Result<Option<std::path::PathBuf>> {
    use std::io::Write;
    check_vcf_output(path, index)?;
    let mut f = AtomicFile::create(path)?;
    if is_bgzf_path(path) {
        let mut w = noodles::bgzf::io::Writer::new(&mut f);
        w.write_all(text).map_err(|e| at_path(path, e))?;
        w.finish().map_err(|e| at_path(path, e))?;
    } else {
        f.write_all(text)?;
    }
    if !index {
        f.commit()?;
        return Ok(None);
    }
    f.flush()?;
    let made = noodles::vcf::fs::index(&f.tmp).map_err(|e| {
        at_path(
            path,
            std::io::Error::new(
                e.kind(),
                format!("cannot index it ({e}); an index needs records sorted by position within each contig"),
            ),
        )
    })?;
    let (ext, bytes) = match made {
        noodles::vcf::Index::Tabix(i) => {
            let mut w = noodles::tabix::io::Writer::new(Vec::new());
            w.write_index(&i)?;
            ("tbi", w.into_inner().finish()?)
        }
        noodles::vcf::Index::Csi(i) => {
            let mut w = noodles::csi::io::Writer::new(Vec::new());
            w.write_index(&i)?;
            ("csi", w.into_inner().finish()?)
        }
    };
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".{ext}"));
    let index_path = std::path::PathBuf::from(name);
    f.commit()?;
    write_atomic(&index_path, &bytes)?;
    Ok(Some(index_path))
}

/// Float32 arrays as numpy's `.npz`: a zip of one `.npy` file per array (`NAME.npy`),
/// deflated, as `numpy.savez_compressed` writes it; `np.load(path)[NAME]` reads each back.
#[cfg(not(target_arch = "wasm32"))]
pub fn npz(arrays: &[(&str, &[f32], &[usize])]) -> std::io::Result<Vec<u8>> {
    use npyz::WriterBuilder;
    use std::io::Write;
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, values, shape) in arrays {
        if shape.iter().product::<usize>() != values.len() {
            return Err(std::io::Error::other(format!(
                "array {name}: {} values do not make the shape {shape:?}",
                values.len()
            )));
        }
        let mut npy = Vec::with_capacity(values.len() * 4 + 128);
        let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let mut w = npyz::WriteOptions::new()
            .default_dtype()
            .shape(&shape)
            .writer(&mut npy)
            .begin_nd()?;
        w.extend(values.iter().copied())?;
        w.finish()?;
        zip.start_file(format!("{name}.npy"), options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&npy)?;
    }
    Ok(zip.finish().map_err(std::io::Error::other)?.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::Window;

    fn preds() -> Predictions {
        Predictions {
            ids: vec!["a".into()],
            windows: vec![Window {
                id: "a".into(),
                chrom: "chr1".into(),
                start: 5,
                end: 9,
                seq: b"ACGT".to_vec(),
            }],
            labels: vec!["x".into(), "y z".into()],
            values: vec![0.5, 0.125],
            shape: [1, 2],
        }
    }

    #[test]
    fn tsv_has_header_coordinates_and_values() {
        assert_eq!(
            to_tsv(&preds()),
            "id\tchrom\tstart\tend\tx\ty z\na\tchr1\t5\t9\t0.5\t0.125\n"
        );
    }

    #[test]
    fn json_round_trips() {
        let v: serde_json::Value = serde_json::from_str(&to_json(&preds())).unwrap();
        assert_eq!(v["rows"][0]["values"][1], 0.125);
        assert_eq!(v["labels"][1], "y z");
    }

    #[test]
    fn chunks_stream_into_one_table() {
        let p = preds();
        for format in [Format::Tsv, Format::Json] {
            let mut w = TableWriter::new(Vec::new(), format);
            w.write(&p).unwrap();
            w.write(&p).unwrap();
            let (bytes, rows) = w.finish().unwrap();
            assert_eq!(rows, 2);
            let text = String::from_utf8(bytes).unwrap();
            if format == Format::Json {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["rows"].as_array().unwrap().len(), 2);
            } else {
                assert_eq!(text.lines().count(), 3);
            }
        }
        let (empty, _) = TableWriter::new(Vec::new(), Format::Json).finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&empty).unwrap();
        assert_eq!(v["rows"].as_array().unwrap().len(), 0);
    }

    fn track() -> crate::model::Track {
        crate::model::Track {
            id: "s".into(),
            chrom: "s".into(),
            start: 0,
            positions: 3,
            values: vec![0.5, 0.25, 0.125, 1.0, 2.0, 3.0],
        }
    }

    #[test]
    fn tracks_in_every_format() {
        let labels = vec!["a".to_string(), "b".to_string()];
        let mut w = TrackWriter::new(vec![Vec::new()], TrackFormat::Tsv, &labels).unwrap();
        w.write(&track(), 2).unwrap();
        let (outs, n) = w.finish().unwrap();
        assert_eq!(n, 2);
        assert_eq!(
            String::from_utf8(outs[0].clone()).unwrap(),
            "id\tchrom\tpos\ta\tb\ns\ts\t0\t0.5\t1\ns\ts\t1\t0.25\t2\n"
        );
        let mut w =
            TrackWriter::new(vec![Vec::new(), Vec::new()], TrackFormat::BedGraph, &labels).unwrap();
        w.write(&track(), 10).unwrap();
        let (outs, _) = w.finish().unwrap();
        assert_eq!(
            String::from_utf8(outs[1].clone()).unwrap(),
            "track type=bedGraph name=\"b\"\ns\t0\t1\t1\ns\t1\t2\t2\ns\t2\t3\t3\n"
        );
        let mut w = TrackWriter::new(vec![Vec::new()], TrackFormat::Json, &labels).unwrap();
        w.write(&track(), 10).unwrap();
        let (outs, _) = w.finish().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&outs[0]).unwrap();
        assert_eq!(v["tracks"][0]["values"][1][2], 3.0);
        assert!(TrackWriter::new(vec![Vec::<u8>::new()], TrackFormat::BedGraph, &labels).is_err());
    }

    #[test]
    fn an_uncommitted_atomic_file_leaves_nothing() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.tsv");
        let mut f = AtomicFile::create(&p).unwrap();
        f.write_all(b"half").unwrap();
        drop(f);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.tsv");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// The name decides compression as `is_vcf_path` reads it, in any case: `.VCF.GZ` is
    /// bgzip (its magic bytes 1f 8b, checked by hand), and an index of a plain VCF is refused
    /// before a file is made.
    #[test]
    fn vcf_files_are_compressed_by_name_in_any_case() {
        let dir = tempfile::tempdir().unwrap();
        let text = b"##fileformat=VCFv4.3\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n";
        let upper = dir.path().join("X.VCF.GZ");
        assert!(is_vcf_path(&upper));
        write_vcf_file(&upper, text, false).unwrap();
        assert_eq!(&std::fs::read(&upper).unwrap()[..2], &[0x1f, 0x8b]);
        let plain = dir.path().join("x.vcf");
        write_vcf_file(&plain, text, false).unwrap();
        assert_eq!(std::fs::read(&plain).unwrap(), text);
        let err = check_vcf_output(&dir.path().join("y.vcf"), true).unwrap_err();
        assert!(
            err.to_string()
                .contains("an index needs a bgzip-compressed VCF"),
            "{err}"
        );
        assert!(write_vcf_file(&dir.path().join("y.vcf"), text, true).is_err());
        assert!(!dir.path().join("y.vcf").exists());
        check_vcf_output(&dir.path().join("y.Vcf.Bgz"), true).unwrap();
    }
}
