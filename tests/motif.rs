//! Motif annotation: TOMTOM against memelite 0.5's `tomtom` and tangermeme 1.6's
//! `annotate_seqlets` (tests/golden/tomtom.json.gz, written by scripts/tomtom_golden.py) on the
//! bundled JASPAR 2024 database, and the MEME reader's refusals. Scores, offsets, overlaps and
//! strands are equal; p-values are within 1e-12 relative (measured: 2e-16), down to 1e-20;
//! q-values equal scipy's Benjamini-Hochberg within the same.

mod common;

use seqlens::motif::{Motif, jaspar, meme, modisco, tomtom};

fn query(q: &serde_json::Value) -> Vec<[f64; 4]> {
    match q.get("bases") {
        Some(b) => {
            Motif::one_hot("q", b.as_str().unwrap().as_bytes())
                .unwrap()
                .columns
        }
        None => q["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                let c: Vec<f64> = c
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap())
                    .collect();
                [c[0], c[1], c[2], c[3]]
            })
            .collect(),
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()) || (a - b).abs() < 1e-300
}

#[test]
fn bundled_jaspar_reads() {
    let motifs = jaspar::core_vertebrates().unwrap();
    assert_eq!(motifs.len(), 879);
    assert_eq!(motifs[0].label(), "MA0002.3 Runx1");
    assert_eq!(motifs[0].columns.len(), 9);
    assert_eq!(motifs[0].columns[1], [0.0285, 0.0, 0.0035, 0.968]);
    let ctcf = motifs.iter().find(|m| m.id == "MA0139.2").unwrap();
    assert_eq!(ctcf.name, "CTCF");
}

#[test]
fn tomtom_equals_memelite() {
    let doc = common::gz_json("tests/golden/tomtom.json.gz");
    let motifs = jaspar::core_vertebrates().unwrap();
    let names: Vec<String> = motifs.iter().map(Motif::label).collect();
    let expected: Vec<&str> = doc["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names, expected, "the database is read as memelite reads it");
    let db = tomtom::Database::new(motifs, tomtom::TomtomOptions::default()).unwrap();
    for q in doc["queries"].as_array().unwrap() {
        let id = q["id"].as_str().unwrap();
        let hits = db.compare(&query(q), id).unwrap();
        let ints = |k: &str| -> Vec<i64> {
            q[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        };
        let floats = |k: &str| -> Vec<f64> {
            q[k].as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        };
        let (p, qv, score, offset, overlap, strand) = (
            floats("p"),
            floats("q"),
            ints("score"),
            ints("offset"),
            ints("overlap"),
            ints("strand"),
        );
        for (t, h) in hits.iter().enumerate() {
            assert_eq!(h.target, t);
            let what = format!("{id} against {}", names[t]);
            assert_eq!(h.score, score[t], "score, {what}");
            assert_eq!(h.reverse, strand[t] == 1, "strand, {what}");
            assert_eq!(h.offset, offset[t], "offset, {what}");
            assert_eq!(h.overlap as i64, overlap[t], "overlap, {what}");
            assert!(
                close(h.p_value, p[t], 1e-12),
                "p-value {} against memelite's {}, {what}",
                h.p_value,
                p[t]
            );
            assert!(
                close(h.q_value, qv[t], 1e-12),
                "q-value {} against scipy's {}, {what}",
                h.q_value,
                qv[t]
            );
            assert!(close(h.e_value, p[t] * 879.0, 1e-12), "E-value, {what}");
        }
        if let Some(a) = q.get("annotate") {
            let best = db.best(&query(q), id, 3).unwrap();
            let labels: Vec<&str> = best.iter().map(|h| names[h.target].as_str()).collect();
            let want: Vec<&str> = a["motifs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(labels, want, "annotate_seqlets' three best motifs for {id}");
            for (h, p) in best.iter().zip(a["p"].as_array().unwrap()) {
                assert!(
                    close(h.p_value, p.as_f64().unwrap(), 1e-6),
                    "annotate_seqlets' p-value for {id}"
                );
            }
        }
    }
}

#[test]
fn meme_round_trips_and_refuses() {
    let motifs = jaspar::core_vertebrates().unwrap()[..3].to_vec();
    let back = meme::read(&meme::write(&motifs, None), "written.meme").unwrap();
    assert_eq!(back, motifs);

    let head = "MEME version 4\n\nALPHABET= ACGT\n\n";
    let cases = [
        (
            "MEME version 4\nALPHABET= ACDEFGHIKLMNPQRSTVWY\n",
            "line 2: alphabet",
        ),
        ("MEME version 4\n", "no motif found"),
        (
            &format!(
                "{head}MOTIF a\nletter-probability matrix: alength= 4 w= 2\n0.25 0.25 0.25 0.25\n"
            ),
            "ended after 1 of its 2 rows",
        ),
        (
            &format!("{head}MOTIF a\nletter-probability matrix: alength= 4 w= 1\n0.25 0.25 0.5\n"),
            "line 7: motif a: found 3 values",
        ),
        (
            &format!(
                "{head}MOTIF a\nletter-probability matrix: alength= 4 w= 1\n0.9 0.25 0.25 0.25\n"
            ),
            "sums to 1.65",
        ),
        (
            &format!(
                "{head}MOTIF a\nletter-probability matrix: alength= 4 w= 1\n0.25 0.25 x 0.5\n"
            ),
            "\"x\" is not a probability",
        ),
        (
            &format!("{head}MOTIF a\nletter-probability matrix: alength= 20 w= 1\n"),
            "alength= 20",
        ),
        (
            &format!("{head}MOTIF a\nletter-probability matrix: alength= 4 w= 5000\n"),
            "w= 5000",
        ),
        (
            &format!("{head}MOTIF a\nMOTIF b\n"),
            "MOTIF a (line 5) has no letter-probability matrix",
        ),
        (
            &format!("{head}MOTIF a\nletter-probability matrix: w= 1\n1 0 0 0\nMOTIF a\n"),
            "motif a appears twice",
        ),
    ];
    for (text, want) in cases {
        let err = meme::read(text, "user.meme").unwrap_err().to_string();
        assert!(
            err.contains("user.meme") && err.contains(want),
            "{err:?} should say {want:?}"
        );
    }
}

#[test]
fn tomtom_refuses_what_it_cannot_compare() {
    let db =
        tomtom::Database::new(jaspar::core_vertebrates().unwrap(), Default::default()).unwrap();
    let err = db
        .compare(&Motif::one_hot("q", b"NNNN").unwrap().columns, "seqlet 3")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("seqlet 3") && err.contains("only zero columns"),
        "{err}"
    );
    let err = db.compare(&[], "empty").unwrap_err().to_string();
    assert!(err.contains("empty is 0 columns wide"), "{err}");
    let err = tomtom::Database::new(Vec::new(), Default::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("empty"), "{err}");
}

/// tests/golden/modisco.json.gz's `large` tracks, rebuilt from the formula in
/// scripts/modisco_golden.py (exact multiples of 1/256 in float32).
fn large_tracks() -> Vec<Vec<f32>> {
    (0..1100i64)
        .map(|i| {
            (0..1000i64)
                .map(|j| {
                    let noise =
                        ((i * 7919 + j * 104729 + (i * j) % 977) % 401 - 200) as f64 / 256.0;
                    let bump = if (j + 13 * i) % 173 < 9 {
                        if i % 3 == 0 { -3.0 } else { 3.0 }
                    } else {
                        0.0
                    };
                    (noise + bump) as f32
                })
                .collect()
        })
        .collect()
}

fn coords(seqlets: &[modisco::Seqlet]) -> Vec<[usize; 3]> {
    seqlets.iter().map(|s| [s.track, s.start, s.end]).collect()
}

fn golden_coords(v: &serde_json::Value) -> Vec<[usize; 3]> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Golden (track, start, end) triples as forward seqlets.
fn forward_seqlets(v: &serde_json::Value) -> Vec<modisco::Seqlet> {
    golden_coords(v)
        .iter()
        .map(|c| modisco::Seqlet {
            track: c[0],
            start: c[1],
            end: c[2],
            revcomp: false,
        })
        .collect()
}

fn checksum(c: &[[usize; 3]]) -> String {
    let m = 1u128 << 61;
    let total = c.iter().enumerate().fold(0u128, |acc, (k, s)| {
        (acc + (k as u128 + 1) * (s[0] as u128 * 100003 + s[1] as u128)) % m
    });
    total.to_string()
}

/// TF-MoDISco-lite's seqlets equal modisco-lite 3.0.0's `extract_seqlets` and TFMoDISco's
/// metacluster split (tests/golden/modisco.json.gz, written by scripts/modisco_golden.py):
/// the same seqlets in the same order, thresholds within 1e-9 relative (the isotonic fit's
/// pooled means may round differently from scipy's), on planted tracks with two settings and
/// on 1.08 million windows, where modisco-lite subsamples.
#[test]
fn modisco_seqlets_equal_modisco_lite() {
    let doc = common::gz_json("tests/golden/modisco.json.gz");
    let planted: Vec<Vec<f32>> =
        serde_json::from_value(doc["cases"]["planted"]["tracks"].clone()).unwrap();
    let large = large_tracks();
    for (name, case) in doc["cases"].as_object().unwrap() {
        let tracks = match case["tracks"].as_str() {
            Some("large_tracks") => &large,
            _ => &planted,
        };
        let tracks: Vec<&[f32]> = tracks.iter().map(Vec::as_slice).collect();
        let opts = modisco::SeqletOptions {
            window: case["window"].as_u64().unwrap() as usize,
            flank: case["flank"].as_u64().unwrap() as usize,
            target_fdr: case["targetFdr"].as_f64().unwrap(),
            min_passing_windows_frac: case["minPassingWindowsFrac"].as_f64().unwrap(),
            max_passing_windows_frac: case["maxPassingWindowsFrac"].as_f64().unwrap(),
            ..Default::default()
        };
        let got = modisco::extract_seqlets(&tracks, &opts).unwrap();
        for (field, value) in [
            ("posThreshold", got.pos_threshold),
            ("negThreshold", got.neg_threshold),
            ("signThreshold", got.sign_threshold),
        ] {
            let want = case[field].as_f64().unwrap();
            assert!(
                close(value, want, 1e-9),
                "{name} {field}: {value} vs {want}"
            );
        }
        let (pos, neg) = modisco::metaclusters(&tracks, &got, &opts, 0, usize::MAX);
        let (seqlets, pos, neg) = (coords(&got.seqlets), coords(&pos), coords(&neg));
        if name == "large" {
            assert_eq!(
                seqlets.len() as u64,
                case["count"].as_u64().unwrap(),
                "{name}"
            );
            assert_eq!(seqlets[..50], golden_coords(&case["first"])[..], "{name}");
            assert_eq!(
                checksum(&seqlets),
                case["checksum"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(pos.len() as u64, case["positiveCount"].as_u64().unwrap());
            assert_eq!(checksum(&pos), case["positiveChecksum"].as_str().unwrap());
            assert_eq!(neg.len() as u64, case["negativeCount"].as_u64().unwrap());
            assert_eq!(checksum(&neg), case["negativeChecksum"].as_str().unwrap());
        } else {
            assert_eq!(seqlets, golden_coords(&case["seqlets"]), "{name} seqlets");
            assert_eq!(pos, golden_coords(&case["positive"]), "{name} positive");
            assert_eq!(neg, golden_coords(&case["negative"]), "{name} negative");
        }
        // modisco-lite skips a metacluster of min_size seqlets or fewer and keeps at most max.
        let (p, n) = modisco::metaclusters(&tracks, &got, &opts, pos.len(), 3);
        let kept = if neg.len() > pos.len() {
            neg.len().min(3)
        } else {
            0
        };
        assert!(p.is_empty() && n.len() == kept, "{name} size limits");
    }
}

#[test]
fn modisco_seqlets_refuse_what_they_cannot_call() {
    let opts = modisco::SeqletOptions::default();
    let short = vec![0.5f32; 40];
    let err = modisco::extract_seqlets(&[&short], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("track 1 has 40 positions") && err.contains("41"),
        "{err}"
    );
    let mut bad = vec![0.5f32; 100];
    bad[7] = f32::NAN;
    let err = modisco::extract_seqlets(&[&bad], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("non-finite attribution at position 8"),
        "{err}"
    );
    let positive: Vec<f32> = (0..200)
        .map(|i| ((i * i) % 13) as f32 * 0.37 + 0.01)
        .collect();
    let err = modisco::extract_seqlets(&[&positive], &opts)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no negative window sums"), "{err}");
    let flat = vec![1.0f32; 200];
    let err = modisco::extract_seqlets(&[&flat], &opts)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("every window sum is on one side of their mode"),
        "{err}"
    );
    let mut bad = modisco::DiscoverOptions::default();
    bad.affinity.max_len = 27;
    let set = modisco::TrackSet::new(&[b"ACGT".as_slice()], &[[0.5f32; 16].as_slice()]).unwrap();
    let err = modisco::discover(&set, &bad, &mut |_| true)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("affinity.maxLen must be from 1 to 26"),
        "{err}"
    );
    let flank0 = modisco::SeqletOptions { flank: 0, ..opts };
    let err = modisco::extract_seqlets(&[&positive], &flank0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("flank must be at least 1"), "{err}");
}

/// The planted tracks' TrackSet as scripts/modisco_golden.py's `make_track_set` builds it.
fn planted_track_set(tracks: &[Vec<f32>], bases: &str) -> modisco::TrackSet {
    let length = tracks[0].len();
    let seqs: Vec<&[u8]> = bases.as_bytes().chunks(length).collect();
    let hyp: Vec<Vec<f32>> = tracks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut h = Vec::with_capacity(length * 4);
            for (j, &v) in t.iter().enumerate() {
                let observed = b"ACGT".iter().position(|&b| b == seqs[i][j]).unwrap();
                for k in 0..4 {
                    h.push(if k == observed {
                        v
                    } else {
                        (((31 * i + 17 * j + 7 * k) % 13) as f32 - 6.0) / 4096.0
                    });
                }
            }
            h
        })
        .collect();
    let hyp: Vec<&[f32]> = hyp.iter().map(Vec::as_slice).collect();
    modisco::TrackSet::new(&seqs, &hyp).unwrap()
}

/// The similarity passes equal modisco-lite 3.0.0's on the planted tracks' positive
/// metacluster (tests/golden/modisco.json.gz): the same coarse neighbours in the same order
/// with cosine similarities within 1e-12, fine (continuous Jaccard) similarities within 1e-6
/// (float32 sums), the same rows kept by the correlation filter, and the density-adapted
/// graph with the same entries within 1e-6 relative; with 500 neighbours and with 12. Leiden
/// (50 seeds) finds partitions at least as modular as leidenalg 0.11's, within 2e-3, and
/// alike (adjusted Rand index at least 0.7). Measured: 0.06473 vs 0.06462 (ARI 0.79) on the
/// dense graph of noise; the same partition (ARI 1) on the 12-neighbour graph.
#[test]
fn modisco_affinities_equal_modisco_lite() {
    let doc = common::gz_json("tests/golden/modisco.json.gz");
    let case = &doc["cases"]["planted"];
    let tracks: Vec<Vec<f32>> = serde_json::from_value(case["tracks"].clone()).unwrap();
    let set = planted_track_set(&tracks, case["affinity"]["bases"].as_str().unwrap());
    let positive = forward_seqlets(&case["positive"]);
    for run in case["affinity"]["runs"].as_array().unwrap() {
        let opts = modisco::AffinityOptions {
            n_neighbors: run["nNeighbors"].as_u64().unwrap() as usize,
            ..Default::default()
        };
        let k = opts.n_neighbors;
        let coarse = modisco::affinity::coarse(&set, &positive, 1.0, &opts);
        let want_ix: Vec<Vec<usize>> = serde_json::from_value(run["neighbors"].clone()).unwrap();
        let want_sim: Vec<Vec<f64>> = serde_json::from_value(run["coarse"].clone()).unwrap();
        assert_eq!(coarse.index, want_ix, "{k}: coarse neighbours");
        for (g, w) in coarse
            .similarity
            .iter()
            .flatten()
            .zip(want_sim.iter().flatten())
        {
            assert!((g - w).abs() < 1e-12, "{k}: coarse {g} vs {w}");
        }
        let fine = modisco::affinity::fine(&set, &positive, &coarse.index, opts.min_overlap);
        let want_fine: Vec<Vec<f64>> = serde_json::from_value(run["fine"].clone()).unwrap();
        for (g, w) in fine.iter().flatten().zip(want_fine.iter().flatten()) {
            assert!((*g as f64 - w).abs() < 1e-6, "{k}: fine {g} vs {w}");
        }
        let (kept, index, sims) =
            modisco::affinity::filter_by_correlation(&coarse, &fine, opts.correlation_threshold);
        let want_kept: Vec<usize> = serde_json::from_value(run["kept"].clone()).unwrap();
        assert_eq!(kept, want_kept, "{k}: kept rows");
        let graph = modisco::affinity::density_adaptation(&index, &sims, opts.perplexity);
        let want: Vec<Vec<(usize, f64)>> = serde_json::from_value(run["graph"].clone()).unwrap();
        assert_eq!(graph.rows.len(), want.len());
        for (i, (g, w)) in graph.rows.iter().zip(&want).enumerate() {
            let cols = |r: &[(usize, f64)]| r.iter().map(|e| e.0).collect::<Vec<_>>();
            assert_eq!(cols(g), cols(w), "{k}: graph row {i} columns");
            for (a, b) in g.iter().zip(w) {
                assert!(
                    close(a.1, b.1, 1e-6),
                    "{k}: graph row {i}: {} vs {}",
                    a.1,
                    b.1
                );
            }
        }
        // Leiden: its own random stream, so not leidenalg's partition, but one as good.
        let ours = modisco::leiden::cluster(&graph, 50);
        let theirs: Vec<usize> = serde_json::from_value(run["leiden"].clone()).unwrap();
        let (q, want) = (
            modularity(&graph, &ours),
            run["modularity"].as_f64().unwrap(),
        );
        assert!(
            (modularity(&graph, &theirs) - want).abs() < 1e-9,
            "{k}: modularity by hand"
        );
        let ari = adjusted_rand(&ours, &theirs);
        assert!(
            q >= want - 2e-3 && ari >= 0.7,
            "{k}: modularity {q} vs leidenalg {want}, ARI {ari}"
        );
    }
}

/// Newman's modularity of `membership` on a symmetric weighted graph.
fn modularity(g: &modisco::Graph, membership: &[usize]) -> f64 {
    let k: Vec<f64> = g.rows.iter().map(|r| r.iter().map(|e| e.1).sum()).collect();
    let total: f64 = k.iter().sum();
    let mut q = 0.0;
    for (i, row) in g.rows.iter().enumerate() {
        for &(j, w) in row {
            if membership[i] == membership[j] {
                q += w;
            }
        }
        for j in 0..k.len() {
            if membership[i] == membership[j] {
                q -= k[i] * k[j] / total;
            }
        }
    }
    q / total
}

/// The adjusted Rand index of two partitions (Hubert and Arabie).
fn adjusted_rand(a: &[usize], b: &[usize]) -> f64 {
    let pairs = |n: f64| n * (n - 1.0) / 2.0;
    let (na, nb) = (a.iter().max().unwrap() + 1, b.iter().max().unwrap() + 1);
    let mut table = vec![vec![0f64; nb]; na];
    for (&x, &y) in a.iter().zip(b) {
        table[x][y] += 1.0;
    }
    let index: f64 = table.iter().flatten().map(|&c| pairs(c)).sum();
    let rows: f64 = table.iter().map(|r| pairs(r.iter().sum())).sum();
    let cols: f64 = (0..nb)
        .map(|j| pairs(table.iter().map(|r| r[j]).sum()))
        .sum();
    let expected = rows * cols / pairs(a.len() as f64);
    (index - expected) / ((rows + cols) / 2.0 - expected)
}

/// Patterns from clusters equal modisco-lite 3.0.0's `_patterns_from_clusters` given the same
/// clusters (leidenalg's, from tests/golden/modisco.json.gz) on the planted tracks' positive
/// seqlets, strongest first: the same background, the same patterns with the same seqlets
/// (positions and strands) in the same order, and mean bases, contributions and hypothetical
/// contributions within 1e-9.
#[test]
fn modisco_patterns_equal_modisco_lite() {
    let doc = common::gz_json("tests/golden/modisco.json.gz");
    let case = &doc["cases"]["planted"];
    let tracks: Vec<Vec<f32>> = serde_json::from_value(case["tracks"].clone()).unwrap();
    let set = planted_track_set(&tracks, case["affinity"]["bases"].as_str().unwrap());
    let positive = forward_seqlets(&case["positive"]);
    let golden = &case["affinity"]["patterns"];
    let order: Vec<usize> = serde_json::from_value(golden["order"].clone()).unwrap();
    let mut by_strength: Vec<usize> = (0..positive.len()).collect();
    let keys: Vec<f32> = positive
        .iter()
        .map(|s| modisco::pattern::strength(&set, s))
        .collect();
    by_strength.sort_by(|&a, &b| keys[b].total_cmp(&keys[a]));
    assert_eq!(by_strength, order, "strongest first");
    let seqlets: Vec<modisco::Seqlet> = order.iter().map(|&i| positive[i]).collect();
    let membership: Vec<usize> =
        serde_json::from_value(case["affinity"]["runs"][0]["leiden"].clone()).unwrap();
    let clusters: Vec<usize> = order.iter().map(|&i| membership[i]).collect();
    let background = modisco::pattern::background(&set, &seqlets);
    // float32 values (serde_json reads decimals to within an ulp of float64).
    let want_bg: Vec<f32> = serde_json::from_value(golden["background"].clone()).unwrap();
    assert_eq!(background.to_vec(), want_bg);
    let got = modisco::pattern::from_clusters(
        &set,
        &seqlets,
        &clusters,
        1.0,
        &background,
        &Default::default(),
    );
    let want = golden["patterns"].as_array().unwrap();
    assert_eq!(got.len(), want.len(), "patterns");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let coords: Vec<(usize, usize, usize, bool)> =
            serde_json::from_value(w["seqlets"].clone()).unwrap();
        let ours: Vec<(usize, usize, usize, bool)> = g
            .seqlets
            .iter()
            .map(|s| (s.track, s.start, s.end, s.revcomp))
            .collect();
        assert_eq!(ours, coords, "pattern {i} seqlets");
        for (name, matrix) in [
            ("sequence", g.sequence()),
            ("contrib", g.contrib()),
            ("hypothetical", g.hypothetical()),
        ] {
            let want: Vec<[f64; 4]> = serde_json::from_value(w[name].clone()).unwrap();
            assert_eq!(matrix.len(), want.len(), "pattern {i} {name} length");
            for (a, b) in matrix.iter().flatten().zip(want.iter().flatten()) {
                assert!((a - b).abs() < 1e-9, "pattern {i} {name}: {a} vs {b}");
            }
        }
    }
}

/// Motif discovery end to end on the bundled data: the demo model's DeepLIFT/SHAP
/// attributions (all labels summed, 10 seeded shuffles, the CPU engine) on the first 300 of
/// its training sequences, whose planted JASPAR motifs the patterns must name. Expected: the
/// patterns modisco-lite 3.0.0 finds in the same attributions (`discovery` in
/// tests/golden/modisco.json.gz, from scripts/modisco_golden.py through `seqlens attribute`
/// and TFMoDISco, matched to the bundled JASPAR by memelite's TOMTOM): the same patterns in
/// the same order with the same best match, seqlet counts within 10%.
#[test]
fn modisco_discovers_what_modisco_lite_discovers() {
    use seqlens::attrib::{Baseline, Explainer, Method};
    let doc = common::gz_json("tests/golden/modisco.json.gz");
    let golden = &doc["discovery"];
    let n = golden["sequences"].as_u64().unwrap() as usize;
    let model = seqlens::model::Model::from_bytes(
        &std::fs::read(common::path("examples/models/demo.onnx")).unwrap(),
    )
    .unwrap();
    let labels: Vec<String> = model.metadata().labels.clone();
    let mut explainer = Explainer::new(model);
    let target = explainer.target(&labels, None).unwrap();
    let name = "examples/data/train/motifs.fa";
    let recs = seqlens::io::read_sequences(std::fs::File::open(common::path(name)).unwrap(), name)
        .unwrap();
    let windows = explainer.windows(&recs[..n], &target).unwrap();
    let method = Method::parse(
        "deeplift-shap",
        0,
        Baseline::parse("shuffle", 10, 0).unwrap(),
    )
    .unwrap();
    let tables: Vec<seqlens::attrib::Track> = windows
        .iter()
        .map(|w| {
            let a = explainer
                .explain(w, &target, &method, &mut |_, _| true)
                .unwrap();
            seqlens::attrib::Track::from(&a)
        })
        .collect();
    let tracks = modisco::TrackSet::from_table(&tables, name).unwrap();
    let mut stages = Vec::new();
    let found = modisco::discover(&tracks, &Default::default(), &mut |s| {
        stages.push(s.to_string());
        true
    })
    .unwrap();
    // Both metaclusters ran both rounds: every stage was reported, in order.
    assert_eq!(stages.len(), modisco::STAGES, "{stages:?}");
    assert_eq!(stages[0], "seqlets");
    assert!(
        stages[10].starts_with("negative metacluster: merging"),
        "{stages:?}"
    );
    let err = modisco::discover(&tracks, &Default::default(), &mut |s| s == "seqlets")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cancelled at positive metacluster, round 1: similarities of"),
        "{err}"
    );
    let db = jaspar::database().unwrap();
    let report = modisco::report(&found, db, 1).unwrap();
    let want = golden["patterns"].as_array().unwrap();
    let ours: Vec<(String, usize, String)> = report
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.seqlets,
                p.matches
                    .first()
                    .map_or(String::new(), |m| format!("{} {}", m.id, m.name)),
            )
        })
        .collect();
    let theirs: Vec<(String, usize, String)> = want
        .iter()
        .map(|w| serde_json::from_value(w.clone()).unwrap())
        .collect();
    assert_eq!(ours.len(), theirs.len(), "patterns: {ours:?} vs {theirs:?}");
    for (o, t) in ours.iter().zip(&theirs) {
        assert_eq!((&o.0, &o.2), (&t.0, &t.2), "{ours:?} vs {theirs:?}");
        let (a, b) = (o.1 as f64, t.1 as f64);
        assert!((a - b).abs() <= 0.1 * b, "{}: {a} vs {b} seqlets", o.0);
    }
}
