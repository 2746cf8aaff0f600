//! Marginalisation and spacing experiments against tangermeme 1.6's `marginalize` and
//! `space` (tests/golden/perturb.json, written by scripts/tangermeme_golden.py) on the same
//! PyTorch model exported to ONNX (the Basset-like model of tests/deeplift.rs) and the same
//! backgrounds: predictions before and after substituting the motifs, on every backend.

mod common;

use common::{json_floats, json_records, max_diff, path};
use seqlens::blocking::block_on;
use seqlens::model::{Backend, Model, PredictOptions};
use seqlens::perturb;

#[test]
fn marginalize_and_space_equal_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/perturb.json")).unwrap())
            .unwrap();
    let bytes = std::fs::read(path("tests/models/deeplift/basset.onnx")).unwrap();
    let backgrounds = json_records(&doc["backgrounds"]);
    for backend in [Backend::Tract, Backend::Cpu] {
        let model = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(backend)
            .unwrap();
        for case in doc["cases"].as_array().unwrap() {
            let motifs: Vec<Vec<u8>> = case["motifs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().as_bytes().to_vec())
                .collect();
            let spacing: Vec<Vec<usize>> = case["spacing"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    s.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap() as usize)
                        .collect()
                })
                .collect();
            let start = case["start"].as_u64().map(|s| s as usize);
            let opts = PredictOptions::default();
            let got = if motifs.len() == 1 {
                block_on(perturb::marginalize(
                    &model,
                    &backgrounds,
                    &motifs[0],
                    start,
                    &opts,
                ))
                .unwrap()
            } else {
                block_on(perturb::space(
                    &model,
                    &backgrounds,
                    &motifs,
                    &spacing,
                    start,
                    &opts,
                ))
                .unwrap()
            };
            let what = format!("{backend:?} {:?} at {start:?}", case["motifs"]);
            assert!(
                max_diff(&got.before, &json_floats(&case["before"])) < 1e-4,
                "{what}"
            );
            let after: Vec<f32> = case["after"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(json_floats)
                .collect();
            assert!(max_diff(&got.after, &after) < 1e-4, "{what}");
            // The motif changes the predictions (the test would pass on a no-op otherwise).
            assert!(
                max_diff(&got.before, &got.after[..got.before.len()]) > 1e-3
                    || got.spacings.len() > 1
            );
        }
    }
}

/// The arrangements tried: one motif alone; several at each gap between every pair; the
/// rest refused, saying what is missing.
#[test]
fn arrangements_follow_the_motif_count() {
    assert_eq!(
        perturb::arrangements(1, None).unwrap(),
        vec![Vec::<usize>::new()]
    );
    assert_eq!(
        perturb::arrangements(3, Some(&[0, 4])).unwrap(),
        vec![vec![0, 0], vec![4, 4]]
    );
    let refused = |n, g: Option<&[usize]>| perturb::arrangements(n, g).unwrap_err().to_string();
    assert!(refused(2, None).contains("2 motifs need the spacings to try"));
    assert!(refused(1, Some(&[3])).contains("a spacing needs two or more motifs"));
    assert!(refused(2, Some(&[])).contains("no spacing to try"));
    assert!(refused(0, None).contains("no motif to substitute"));
    // Shuffled backgrounds keep each record's dinucleotides and are named by shuffle.
    let recs = vec![seqlens::io::SeqRecord {
        id: "r".into(),
        description: None,
        seq: b"ACGTTGCAACGGTTACGATC".to_vec(),
    }];
    let bgs = perturb::shuffled_backgrounds(&recs, 2, 7).unwrap();
    let none = perturb::shuffled_backgrounds(&recs, 0, 7)
        .unwrap_err()
        .to_string();
    assert!(none.contains("at least one shuffle"), "{none}");
    assert_eq!(bgs.len(), 2);
    assert_eq!(
        (bgs[0].id.as_str(), bgs[1].id.as_str()),
        ("r/shuffle1", "r/shuffle2")
    );
    let pairs = |s: &[u8]| {
        let mut p: Vec<[u8; 2]> = s.windows(2).map(|w| [w[0], w[1]]).collect();
        p.sort();
        p
    };
    for b in &bgs {
        assert_eq!(pairs(&b.seq), pairs(&recs[0].seq));
        assert_eq!(b.seq.first(), recs[0].seq.first());
    }
}

#[test]
fn motifs_that_do_not_fit_are_refused() {
    let e = perturb::substitute(b"ACGTACGT", b"GGGG", 6)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a motif of 4 bases at 6 does not fit in 8 bases"),
        "{e}"
    );
    // N keeps the background.
    assert_eq!(
        perturb::substitute(b"ACGTACGT", b"GNG", 2).unwrap(),
        b"ACGTGCGT"
    );
    let e = perturb::multisubstitute(b"ACGTACGT", &[b"GG".to_vec(), b"TT".to_vec()], &[7], None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("span 11 bases; the sequence has 8"), "{e}");
}

/// Ablation (tangermeme's `ablate`): the shuffled regions are permutations of the region's
/// bases (or keep its dinucleotide counts) and leave the rest alone; the predictions after
/// are the model's predictions of exactly those sequences, on tract and on the CPU engine; a
/// region of one repeated base shuffles to itself, so nothing changes; and shuffling the CTCF
/// motif that scripts/make_sample_data.py planted at 240 in `ctcf_site` removes the demo
/// model's CTCF signal.
#[test]
fn ablation_shuffles_the_region_and_predicts_the_results() {
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    let fasta = std::fs::read(path("examples/data/sample.fa")).unwrap();
    let records = seqlens::io::read_sequences(&fasta[..], "sample.fa").unwrap();
    let ctcf: Vec<_> = records
        .iter()
        .filter(|r| r.id == "ctcf_site")
        .cloned()
        .collect();
    let region = 230..270;
    let opts = PredictOptions::default();

    let seq = ctcf[0].seq.clone();
    let mut rng = seqlens::nn::rng(7);
    for how in [perturb::Shuffle::Bases, perturb::Shuffle::Dinucleotides] {
        for s in perturb::shuffled_region(&seq, &region, 5, how, &mut rng).unwrap() {
            assert_eq!(s[..region.start], seq[..region.start]);
            assert_eq!(s[region.end..], seq[region.end..]);
            let (mut a, mut b) = (s[region.clone()].to_vec(), seq[region.clone()].to_vec());
            if how == perturb::Shuffle::Dinucleotides {
                let pairs = |x: &[u8]| {
                    let mut p: Vec<_> = x.windows(2).map(|w| (w[0], w[1])).collect();
                    p.sort();
                    p
                };
                assert_eq!(pairs(&a), pairs(&b), "dinucleotide counts kept");
            }
            a.sort();
            b.sort();
            assert_eq!(a, b, "the region's bases are permuted");
        }
    }
    let err = perturb::shuffled_region(&seq, &(490..510), 1, perturb::Shuffle::Bases, &mut rng)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("region 490-510 is not inside the window's 500 bases"),
        "{err}"
    );

    for backend in [Backend::Tract, Backend::Cpu] {
        let model = Model::from_bytes(&bytes)
            .unwrap()
            .with_backend(backend)
            .unwrap();
        let got = block_on(perturb::ablate(
            &model,
            &ctcf,
            region.clone(),
            4,
            perturb::Shuffle::Bases,
            3,
            &opts,
        ))
        .unwrap();
        // The same shuffles, drawn from the same seed, predicted directly.
        let windows = model.windows(&ctcf, &opts).unwrap();
        let shuffled = perturb::shuffled_region(
            &windows[0].seq,
            &region,
            4,
            perturb::Shuffle::Bases,
            &mut seqlens::nn::rng(3),
        )
        .unwrap();
        let direct: Vec<seqlens::io::SeqRecord> = shuffled
            .into_iter()
            .map(|seq| seqlens::io::SeqRecord {
                id: "s".into(),
                description: None,
                seq,
            })
            .collect();
        let want = model.predict(&direct, &opts).unwrap();
        assert!(max_diff(&got.after, &want.values) == 0.0, "{backend:?}");
        let before = model.predict(&ctcf, &opts).unwrap();
        assert_eq!(got.before, before.values);
        let c = got.labels.iter().position(|l| l == "CTCF").unwrap();
        let mean = got.mean_effect();
        assert!(
            got.before[c] > 0.1 && mean[c] < -0.9 * got.before[c],
            "CTCF {} -> mean effect {}",
            got.before[c],
            mean[c]
        );

        // A run of one base: every shuffle is the sequence itself.
        let mut flat = ctcf.clone();
        flat[0].seq[region.clone()].fill(b'A');
        let same = block_on(perturb::ablate(
            &model,
            &flat,
            region.clone(),
            3,
            perturb::Shuffle::Dinucleotides,
            0,
            &opts,
        ))
        .unwrap();
        for j in 0..3 {
            assert_eq!(
                same.after[j * same.labels.len()..(j + 1) * same.labels.len()],
                same.before[..]
            );
        }
    }
}
