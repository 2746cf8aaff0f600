//! Motif annotation: TOMTOM against memelite 0.5's `tomtom` and tangermeme 1.6's
//! `annotate_seqlets` (tests/golden/tomtom.json.gz, written by scripts/tomtom_golden.py) on the
//! bundled JASPAR 2024 database, and the MEME reader's refusals. Scores, offsets, overlaps and
//! strands are equal; p-values are within 1e-12 relative (measured: 2e-16), down to 1e-20;
//! q-values equal scipy's Benjamini-Hochberg within the same.

mod common;

use seqlens::motif::{Motif, jaspar, meme, tomtom};

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
