//! Seqlets against tangermeme 1.6's `recursive_seqlets` (tests/golden/seqlets.json, written by
//! scripts/seqlets_golden.py) on the same tracks, with its defaults and with other settings:
//! the same seqlets (track, start, end), attribution sums and p-values.

mod common;

use common::path;
use seqlens::attrib::{SeqletOptions, recursive_seqlets};

#[test]
fn seqlets_equal_tangermeme() {
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path("tests/golden/seqlets.json")).unwrap())
            .unwrap();
    let tracks: Vec<Vec<f32>> = doc["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            t.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap() as f32)
                .collect()
        })
        .collect();
    for (name, case) in doc["cases"].as_object().unwrap() {
        let o = &case["options"];
        let get = |k: &str| o.get(k).and_then(|v| v.as_f64());
        let d = SeqletOptions::default();
        let opts = SeqletOptions {
            threshold: get("threshold").unwrap_or(d.threshold),
            min_len: get("min_seqlet_len").map_or(d.min_len, |v| v as usize),
            max_len: get("max_seqlet_len").map_or(d.max_len, |v| v as usize),
            flank: get("additional_flanks").map_or(d.flank, |v| v as usize),
            bins: get("n_bins").map_or(d.bins, |v| v as usize),
            negative: false,
        };
        let got = recursive_seqlets(&tracks, &opts).unwrap();
        let want = case["seqlets"].as_array().unwrap();
        assert_eq!(got.len(), want.len(), "{name}: {got:?}");
        // Negative seqlets of the negated tracks are these, with their sums negated.
        let negated: Vec<Vec<f32>> = tracks
            .iter()
            .map(|t| t.iter().map(|v| -v).collect())
            .collect();
        let neg = recursive_seqlets(
            &negated,
            &SeqletOptions {
                negative: true,
                ..opts.clone()
            },
        )
        .unwrap();
        assert_eq!(neg.len(), got.len());
        assert!(
            neg.iter()
                .zip(&got)
                .all(|(n, g)| n.start == g.start && n.attribution == -g.attribution)
        );
        // tangermeme sorts by p-value with an unstable sort: compare in track order.
        let mut got: Vec<_> = got.iter().collect();
        got.sort_by_key(|s| (s.track, s.start));
        let mut want: Vec<_> = want.iter().map(|w| w.as_array().unwrap()).collect();
        want.sort_by_key(|w| (w[0].as_u64().unwrap(), w[1].as_u64().unwrap()));
        for (g, w) in got.iter().zip(&want) {
            let at = |i: usize| w[i].as_f64().unwrap();
            assert_eq!(
                (g.track, g.start, g.end),
                (at(0) as usize, at(1) as usize, at(2) as usize),
                "{name}"
            );
            assert!(
                (g.attribution - at(3)).abs() < 1e-9,
                "{name}: {g:?} vs {w:?}"
            );
            assert!(
                (g.p_value - at(4)).abs() <= 1e-9 * at(4).max(1e-300),
                "{name}: {g:?} vs {w:?}"
            );
        }
    }
}

#[test]
fn bad_settings_and_tracks_are_refused() {
    let opts = SeqletOptions {
        min_len: 9,
        max_len: 5,
        ..Default::default()
    };
    let e = recursive_seqlets(&[vec![0.0, 1.0]], &opts)
        .unwrap_err()
        .to_string();
    assert!(e.contains("min length (9) <= max length (5)"), "{e}");
    let e = recursive_seqlets(&[vec![0.0, 1.0], vec![0.5, f32::NAN]], &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("track 1: attribution at position 1 is not a finite number"),
        "{e}"
    );
    // A constant track has no span that stands out.
    assert!(
        recursive_seqlets(&[vec![0.3; 50]], &Default::default())
            .unwrap()
            .is_empty()
    );
}
