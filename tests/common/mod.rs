//! Helpers shared by the integration tests: paths and golden tables.
#![allow(dead_code)]

use std::path::PathBuf;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn path(rel: &str) -> PathBuf {
    root().join(rel)
}

/// Runs the `seqlens` binary in the repository root and returns its output; a failure panics
/// with its stderr.
pub fn seqlens_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_seqlens"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seqlens {:?}: {}",
        args.iter()
            .map(|a| a.as_ref().to_owned())
            .collect::<Vec<_>>(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A gzipped JSON golden (`tests/golden/*.json.gz`).
pub fn gz_json(rel: &str) -> serde_json::Value {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path(rel)).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    serde_json::from_str(&text).unwrap()
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
    (
        json_records(&case["sequences"]),
        json_floats(&case["outputs"]),
    )
}

/// A golden script's list of sequences as records `s0, s1, ...`.
pub fn json_records(v: &serde_json::Value) -> Vec<seqlens::io::SeqRecord> {
    v.as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, s)| seqlens::io::SeqRecord {
            id: format!("s{i}"),
            description: None,
            seq: s.as_str().unwrap().as_bytes().to_vec(),
        })
        .collect()
}

/// A golden script's numbers, a list or a list of rows, flattened in order.
pub fn json_floats(v: &serde_json::Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .flat_map(|r| match r.as_array() {
            Some(row) => row.iter().map(|x| x.as_f64().unwrap() as f32).collect(),
            None => vec![r.as_f64().unwrap() as f32],
        })
        .collect()
}

/// The largest absolute difference between two equally long vectors.
pub fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
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
        precision: Default::default(),
    };
    seqlens::onnx::export(graph, &meta).expect("the engine exports its own graphs")
}

/// A small model with CI-SpliceAI's geometry (5,000 bases of context a side, any length,
/// classes neither/acceptor/donor): a pointwise stem and skip path, two residual units of
/// dilated convolutions with batch norm (radius 2 x 2 x 1,250), a crop and a softmax head,
/// random weights. Cheap enough to run the splice scorer on software GPUs; exported as ONNX
/// with the profile metadata.
#[allow(dead_code)]
pub fn tiny_splice_model() -> Vec<u8> {
    use seqlens::encode::{Alphabet, Layout, NPolicy};
    use seqlens::nn::{BatchNorm1d, Conv1d, Graph, Layer, Padding, rng};
    let mut r = rng(11);
    let mut g = Graph::new(&[4, 0]);
    g.any_length = true;
    let conv = |ci, co, k, d, r: &mut _| {
        Layer::Conv1d(Conv1d::new(ci, co, k, 1, d, Padding::Same, true, r))
    };
    let bn = |seed: f32| {
        let mut b = BatchNorm1d::new(6);
        b.running_mean = (0..6).map(|i| 0.1 * (i as f32 - 2.5) * seed).collect();
        b.running_var = (0..6).map(|i| 0.5 + 0.2 * i as f32).collect();
        Layer::BatchNorm1d(b)
    };
    let stem = g.push("stem", conv(4, 6, 1, 1, &mut r)).unwrap();
    let skip = g.add("skip", conv(6, 6, 1, 1, &mut r), &[stem]).unwrap();
    let mut x = stem;
    for u in 0..2 {
        let b1 = g.add(format!("u{u}bn1"), bn(1.0), &[x]).unwrap();
        let a1 = g.add(format!("u{u}relu1"), Layer::Relu, &[b1]).unwrap();
        let c1 = g
            .add(format!("u{u}conv1"), conv(6, 6, 11, 250, &mut r), &[a1])
            .unwrap();
        let b2 = g.add(format!("u{u}bn2"), bn(-1.0), &[c1]).unwrap();
        let a2 = g.add(format!("u{u}relu2"), Layer::Relu, &[b2]).unwrap();
        let c2 = g
            .add(format!("u{u}conv2"), conv(6, 6, 11, 250, &mut r), &[a2])
            .unwrap();
        x = g.add(format!("u{u}add"), Layer::Add, &[c2, x]).unwrap();
    }
    let s = g.add("join", Layer::Add, &[skip, x]).unwrap();
    let c = g
        .add(
            "crop",
            Layer::Crop {
                left: 5000,
                right: 5000,
            },
            &[s],
        )
        .unwrap();
    let h = g.add("head", conv(6, 3, 1, 1, &mut r), &[c]).unwrap();
    g.add("softmax", Layer::Softmax, &[h]).unwrap();
    let meta = seqlens::onnx::ExportMeta {
        metadata: seqlens::model::Metadata {
            alphabet: Alphabet::Dna,
            layout: Layout::Ncl,
            length: None,
            n_policy: NPolicy::Zero,
            labels: vec!["neither".into(), "acceptor".into(), "donor".into()],
            task: Some("a random model with CI-SpliceAI's geometry, for tests".into()),
            output: seqlens::model::Output::Profile {
                offset: 5000,
                context: 10000,
                log_total: false,
            },
        },
        extra: vec![],
        precision: Default::default(),
    };
    seqlens::onnx::export(&g, &meta).unwrap()
}

/// `bytes` loaded on `backend`.
/// The backends this machine has: tract and the engine always, the GPU where an adapter is
/// found (required when SEQLENS_REQUIRE_GPU is set, as in CI on lavapipe). Where the GPU must
/// refuse the model, `gpu_refusal` is part of the reason it must give, and the GPU is left out.
#[allow(dead_code)]
pub fn backends(
    bytes: &[u8],
    gpu_refusal: Option<&str>,
) -> Vec<(seqlens::model::Backend, seqlens::model::Model)> {
    use seqlens::model::{Backend, Model};
    let mut out = vec![
        (Backend::Tract, model_on(bytes, Backend::Tract)),
        (Backend::Cpu, model_on(bytes, Backend::Cpu)),
    ];
    if cfg!(feature = "gpu") {
        match gpu_refusal {
            Some(why) => {
                let gpu = Model::from_bytes(bytes).unwrap().with_backend(Backend::Gpu);
                let e = gpu
                    .err()
                    .unwrap_or_else(|| panic!("the GPU must refuse ({why}) but took the model"))
                    .to_string();
                assert!(e.contains(why), "the GPU must refuse with '{why}': {e}");
            }
            None => out.extend(model_if_here(bytes, Backend::Gpu).map(|m| (Backend::Gpu, m))),
        }
    }
    out
}

/// `bytes` loaded on `backend`, or `None` for the GPU where this machine has no adapter (a
/// failure instead when SEQLENS_REQUIRE_GPU is set, as in CI on lavapipe).
#[allow(dead_code)]
pub fn model_if_here(
    bytes: &[u8],
    backend: seqlens::model::Backend,
) -> Option<seqlens::model::Model> {
    use seqlens::model::{Backend, Model};
    match Model::from_bytes(bytes).unwrap().with_backend(backend) {
        Ok(m) => Some(m),
        Err(e) if backend == Backend::Gpu && std::env::var_os("SEQLENS_REQUIRE_GPU").is_none() => {
            eprintln!("no GPU here ({e}); skipped");
            None
        }
        Err(e) if backend == Backend::Gpu => panic!("SEQLENS_REQUIRE_GPU is set but {e}"),
        Err(e) => panic!("on {backend:?}: {e}"),
    }
}

#[allow(dead_code)]
pub fn model_on(bytes: &[u8], backend: seqlens::model::Backend) -> seqlens::model::Model {
    seqlens::model::Model::from_bytes(bytes)
        .unwrap()
        .with_backend(backend)
        .unwrap()
}

/// Two runs of the splice scorer agree: the same statuses, and every delta score within
/// `tol` (`what` names the runs in the message).
#[allow(dead_code)]
pub fn assert_splice_close(
    a: &[seqlens::splice::AlleleScore],
    b: &[seqlens::splice::AlleleScore],
    tol: f32,
    what: &str,
) {
    assert_eq!(a.len(), b.len(), "{what}: alleles");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x.status, y.status, "{what}: {:?}", x.id);
        assert_eq!(
            x.annotations.len(),
            y.annotations.len(),
            "{what}: {:?}",
            x.id
        );
        for (p, q) in x.annotations.iter().zip(&y.annotations) {
            for (u, v) in [
                (p.ds_ag, q.ds_ag),
                (p.ds_al, q.ds_al),
                (p.ds_dg, q.ds_dg),
                (p.ds_dl, q.ds_dl),
            ] {
                assert!(
                    (u - v).abs() <= tol,
                    "{what}: {:?} {}: {u} vs {v}",
                    x.id,
                    p.gene
                );
            }
        }
    }
}

/// A bigWig's contents: its chromosomes with their lengths, and one (chrom, position, value)
/// per base it covers.
#[allow(dead_code)]
pub struct BigWig {
    pub chroms: Vec<(String, u64)>,
    pub values: Vec<(String, u64, f32)>,
}

/// A bigWig as read by Debian's pyBigWig (python3-pybigwig, over libBigWig: a reader
/// independent of bigtools). `None` (and the caller passes without it) unless
/// SEQLENS_REQUIRE_PYBIGWIG is set, as the test command sets it (`.ci/run` installs it).
#[allow(dead_code)]
pub fn read_bigwig(file: &std::path::Path) -> Option<BigWig> {
    let python = "/usr/bin/python3";
    let here = std::process::Command::new(python)
        .args(["-c", "import pyBigWig"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !here {
        assert!(
            std::env::var_os("SEQLENS_REQUIRE_PYBIGWIG").is_none(),
            "SEQLENS_REQUIRE_PYBIGWIG is set but {python} cannot import pyBigWig"
        );
        eprintln!(
            "pyBigWig is not installed: {} is not read back",
            file.display()
        );
        return None;
    }
    let script = "import sys, pyBigWig\n\
        bw = pyBigWig.open(sys.argv[1])\n\
        for c, n in bw.chroms().items():\n\
        \x20   print('#', c, n, sep='\\t')\n\
        \x20   for s, e, v in bw.intervals(c) or []:\n\
        \x20       for p in range(s, e): print(c, p, repr(v), sep='\\t')\n";
    let out = std::process::Command::new(python)
        .args(["-c", script])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (mut chroms, mut values) = (Vec::new(), Vec::new());
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let f: Vec<&str> = line.split('\t').collect();
        if f[0] == "#" {
            chroms.push((f[1].to_string(), f[2].parse().unwrap()));
        } else {
            // pyBigWig gives the stored float32 as a Python float: exact in f64.
            let v = f[2].parse::<f64>().unwrap() as f32;
            values.push((f[0].to_string(), f[1].parse().unwrap(), v));
        }
    }
    Some(BigWig { chroms, values })
}
