//! Formatting predictions as TSV or JSON, and writing files atomically.
//!
//! Shared by the CLI and the JS bindings so a download from the browser and a file from the
//! command line are byte-for-byte the same format.

use std::fmt::Write as _;

use serde::Serialize;

use crate::model::Predictions;

/// One row per window: `id, chrom, start, end`, then one column per label. Coordinates are
/// 0-based half-open; values use the shortest text that reads back to the same `f32`.
pub fn to_tsv(p: &Predictions) -> String {
    let mut s = String::from("id\tchrom\tstart\tend");
    for l in &p.labels {
        s.push('\t');
        s.push_str(&clean(l));
    }
    s.push('\n');
    for (i, w) in p.windows.iter().enumerate() {
        let _ = write!(
            s,
            "{}\t{}\t{}\t{}",
            clean(&w.id),
            clean(&w.chrom),
            w.start,
            w.end
        );
        for v in p.row(i) {
            let _ = write!(s, "\t{v}");
        }
        s.push('\n');
    }
    s
}

/// Tabs or newlines inside a name would break the table.
fn clean(s: &str) -> String {
    s.replace(['\t', '\n', '\r'], " ")
}

#[derive(Serialize)]
struct JsonRow<'a> {
    id: &'a str,
    chrom: &'a str,
    start: i64,
    end: i64,
    values: &'a [f32],
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    labels: &'a [String],
    rows: Vec<JsonRow<'a>>,
}

/// `{"labels": [...], "rows": [{"id", "chrom", "start", "end", "values": [...]}]}`.
pub fn to_json(p: &Predictions) -> String {
    let doc = JsonDoc {
        labels: &p.labels,
        rows: p
            .windows
            .iter()
            .enumerate()
            .map(|(i, w)| JsonRow {
                id: &w.id,
                chrom: &w.chrom,
                start: w.start,
                end: w.end,
                values: p.row(i),
            })
            .collect(),
    };
    serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so a reader
/// never sees half a file and a failed run never clobbers an old result.
#[cfg(not(target_arch = "wasm32"))]
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
    fn atomic_write_replaces_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.tsv");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
