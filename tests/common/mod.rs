//! Helpers shared by the integration tests: paths and golden tables.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// A predictions table: ids, labels, (start, end) and values per row.
#[derive(Debug)]
pub struct Table {
    pub ids: Vec<String>,
    pub labels: Vec<String>,
    pub coords: Vec<(i64, i64)>,
    pub values: Vec<Vec<f64>>,
}

pub fn parse_tsv(text: &str) -> Table {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    assert_eq!(&header[..4], ["id", "chrom", "start", "end"]);
    let mut t = Table {
        ids: vec![],
        labels: header[4..].iter().map(|s| s.to_string()).collect(),
        coords: vec![],
        values: vec![],
    };
    for line in lines {
        let f: Vec<&str> = line.split('\t').collect();
        t.ids.push(f[0].to_string());
        t.coords
            .push((f[2].parse().unwrap(), f[3].parse().unwrap()));
        t.values
            .push(f[4..].iter().map(|v| v.parse().unwrap()).collect());
    }
    t
}

pub fn golden(name: &str) -> Table {
    parse_tsv(&std::fs::read_to_string(path(&format!("tests/golden/{name}"))).unwrap())
}

/// Asserts ids, labels, coordinates match and every value is within `tol`; returns the worst.
pub fn assert_close(got: &Table, want: &Table, tol: f64) -> f64 {
    assert_eq!(got.ids, want.ids);
    assert_eq!(got.labels, want.labels);
    assert_eq!(got.coords, want.coords);
    let mut worst = 0.0f64;
    for (g, w) in got.values.iter().zip(&want.values) {
        assert_eq!(g.len(), w.len());
        for (a, b) in g.iter().zip(w) {
            worst = worst.max((a - b).abs());
        }
    }
    assert!(worst <= tol, "max abs difference {worst} > {tol}");
    worst
}

/// Sequences and expected outputs stored by a golden script as
/// `{"sequences": [...], "outputs": [[...], ...]}`, under `key` when given.
pub fn golden_case(file: &str, key: Option<&str>) -> (Vec<seqlens::io::SeqRecord>, Vec<f32>) {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(path(&format!("tests/golden/{file}"))).unwrap(),
    )
    .unwrap();
    let case = key.map_or(&doc, |k| &doc[k]);
    let recs = case["sequences"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| seqlens::io::SeqRecord {
            id: format!("s{i}"),
            description: None,
            seq: s.as_str().unwrap().as_bytes().to_vec(),
        })
        .collect();
    let want = case["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
        })
        .collect();
    (recs, want)
}

/// `n` records `s0, s1, ...` of seeded random DNA, drawn in order from one 64-bit LCG (the
/// same bases on every platform).
pub fn random_records(n: usize, len: usize, seed: u64) -> Vec<seqlens::io::SeqRecord> {
    let mut x = seed;
    (0..n)
        .map(|i| seqlens::io::SeqRecord {
            id: format!("s{i}"),
            description: None,
            seq: (0..len)
                .map(|_| {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    b"ACGT"[(x >> 62) as usize]
                })
                .collect(),
        })
        .collect()
}

/// One sequence of seeded random DNA (the first record of [`random_records`]).
pub fn random_dna(len: usize, seed: u64) -> Vec<u8> {
    random_records(1, len, seed).remove(0).seq
}

/// An engine graph exported to ONNX and loaded in tract: the independent implementation that
/// engine and GPU results are checked against. DNA, NCL, fixed `length`, labels `y0..`.
pub fn tract_model(
    graph: &seqlens::nn::Graph,
    length: usize,
    outputs: usize,
) -> seqlens::model::Model {
    let bytes = export_bytes(graph, length, outputs);
    seqlens::model::Model::from_bytes(&bytes).expect("tract loads the export")
}

/// `graph` exported as ONNX for DNA of `length` with labels y0..y{outputs-1}.
#[allow(dead_code)]
pub fn export_bytes(graph: &seqlens::nn::Graph, length: usize, outputs: usize) -> Vec<u8> {
    use seqlens::encode::{Alphabet, Layout, NPolicy};
    let meta = seqlens::onnx::ExportMeta {
        metadata: seqlens::model::Metadata {
            alphabet: Alphabet::Dna,
            layout: Layout::Ncl,
            length: Some(length),
            n_policy: NPolicy::Zero,
            labels: (0..outputs).map(|i| format!("y{i}")).collect(),
            task: None,
            output: Default::default(),
        },
        extra: Vec::new(),
    };
    seqlens::onnx::export(graph, &meta).expect("the engine exports its own graphs")
}
