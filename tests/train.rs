//! Training end to end on simulated data with planted motifs (seeded generator below):
//! the engine must learn them (AUROC from the metrics module, checked by hand in its unit
//! tests), and a run resumed from a checkpoint must end with the same weights.

use seqlens::encode::Alphabet;
use seqlens::io::SeqRecord;
use seqlens::train::{self, Arch, Checkpoint, Dataset, Event, Optimizer, Split, TrainConfig};

const MOTIFS: [&[u8]; 2] = [b"TGACTCA", b"AGATAAGG"];

/// `n` random sequences of length `len`; label j is 1 when motif j was planted (p = 0.5).
fn simulate(n: usize, len: usize, seed: u64) -> Dataset {
    let mut x = seed;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let mut recs = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let mut s: Vec<u8> = (0..len).map(|_| b"ACGT"[(next() % 4) as usize]).collect();
        let mut row = String::new();
        for m in MOTIFS {
            let on = next() % 2 == 0;
            if on {
                let at = (next() as usize) % (len - m.len());
                s[at..at + m.len()].copy_from_slice(m);
            }
            row.push_str(if on { "1 " } else { "0 " });
        }
        recs.push(SeqRecord {
            id: format!("s{i}"),
            description: Some(row.clone()),
            seq: s,
        });
        labels.push(row);
    }
    Dataset::from_headers(recs, Some(vec!["ap1".into(), "gata".into()]), "simulated").unwrap()
}

fn arch() -> Arch {
    toml::from_str(
        r#"
        [[layers]]
        type = "conv"
        filters = 16
        kernel = 9
        [[layers]]
        type = "relu"
        [[layers]]
        type = "global_max_pool"
        "#,
    )
    .unwrap()
}

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 32,
        optimizer: Optimizer::adam(3e-3),
        augment_rc: true,
        max_shift: 3,
        seed: 5,
        split: Split::Random {
            valid: 0.15,
            test: 0.15,
            stratify: false,
        },
        ..Default::default()
    }
}

#[test]
fn learns_planted_motifs_to_auroc_095() {
    let data = simulate(1500, 100, 42);
    let cfg = TrainConfig {
        optimizer: Optimizer::adam(1e-2),
        ..config(12)
    };
    let (tr, va, te) = train::split(&data, &cfg.split, cfg.split_seed).unwrap();
    let graph = arch().build(4, 100, 2, cfg.seed).unwrap();
    let mut ck = Checkpoint::new(graph, cfg, Alphabet::Dna, data.labels.clone());
    let mut epochs = 0;
    train::fit(&mut ck, &data.subset(&tr), &data.subset(&va), &mut |e| {
        if let Event::Epoch { .. } = e {
            epochs += 1
        }
    })
    .unwrap();
    assert!(epochs >= 1);
    let (m, _) = train::trainer::evaluate(&ck, &ck.best, &data.subset(&te)).unwrap();
    let auroc = m.last().unwrap().auroc.unwrap();
    assert!(
        auroc >= 0.95,
        "test AUROC {auroc:.3} < 0.95 after {} epochs; log {:?}",
        ck.epoch,
        ck.log
    );
}

#[test]
fn resuming_from_a_checkpoint_gives_the_same_weights() {
    let data = simulate(300, 60, 7);
    let (tr, va, _) = train::split(&data, &config(1).split, 1).unwrap();
    let (tr, va) = (data.subset(&tr), data.subset(&va));
    let fresh = || {
        Checkpoint::new(
            arch().build(4, 60, 2, 5).unwrap(),
            config(3),
            Alphabet::Dna,
            data.labels.clone(),
        )
    };

    let mut straight = fresh();
    train::fit(&mut straight, &tr, &va, &mut |_| {}).unwrap();

    let mut first = fresh();
    first.config.epochs = 2;
    train::fit(&mut first, &tr, &va, &mut |_| {}).unwrap();
    // Round-trip through the checkpoint file format.
    let json = serde_json::to_string(&first).unwrap();
    let mut resumed: Checkpoint = serde_json::from_str(&json).unwrap();
    resumed.config.epochs = 3;
    train::fit(&mut resumed, &tr, &va, &mut |_| {}).unwrap();

    assert_eq!(resumed.epoch, 3);
    let a: Vec<&Vec<f32>> = straight.graph.params().iter().map(|p| &p.value).collect();
    let b: Vec<&Vec<f32>> = resumed.graph.params().iter().map(|p| &p.value).collect();
    assert!(a == b, "weights differ after resuming");
}
