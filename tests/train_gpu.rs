//! Training on the GPU against the CPU engine: one test body trains the same model from the
//! same weights on both backends, step for step, and compares each step's loss, the final
//! weights and batch norm's running statistics. The CPU engine is the reference; its steps
//! match PyTorch's (tests/train_torch.rs). CI runs this on lavapipe with SEQLENS_REQUIRE_GPU=1,
//! so a missing adapter fails there instead of skipping.
#![cfg(feature = "gpu")]

use seqlens::encode::Alphabet;
use seqlens::io::SeqRecord;
use seqlens::nn::{Graph, Layer};
use seqlens::train::gpu::GpuSteps;
use seqlens::train::{
    self, Arch, Checkpoint, CpuSteps, Dataset, Event, Loss, Optimizer, Split, Steps, TrainConfig,
};

/// Step losses and final weights must agree this closely (absolute, on values of order 1).
const TOLERANCE: f64 = 1e-4;

/// `n` random sequences with two labels: 1 where a planted motif is present (a seeded LCG,
/// so the data are the same on every machine).
fn simulate(n: usize, len: usize) -> Dataset {
    let mut x = 11u64;
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        x >> 33
    };
    let recs = (0..n)
        .map(|i| {
            let mut s: Vec<u8> = (0..len).map(|_| b"ACGT"[(next() % 4) as usize]).collect();
            let mut row = String::new();
            for m in [&b"TGACTCA"[..], b"AGATAAGG"] {
                let on = next() % 2 == 0;
                if on {
                    let at = (next() as usize) % (len - m.len());
                    s[at..at + m.len()].copy_from_slice(m);
                }
                row.push_str(if on { "1 " } else { "0 " });
            }
            SeqRecord {
                id: format!("s{i}"),
                description: Some(row),
                seq: s,
            }
        })
        .collect();
    Dataset::from_headers(recs, Some(vec!["ap1".into(), "gata".into()]), "simulated").unwrap()
}

/// Every layer the GPU trains: convolutions with and without batch norm, activations, both
/// local poolings, dropout, flattening and dense layers.
fn arch() -> Arch {
    toml::from_str(
        r#"
        [[layers]]
        type = "conv"
        filters = 12
        kernel = 9
        [[layers]]
        type = "batch_norm"
        [[layers]]
        type = "relu"
        [[layers]]
        type = "max_pool"
        size = 4
        [[layers]]
        type = "dropout"
        p = 0.2
        [[layers]]
        type = "conv"
        filters = 8
        kernel = 5
        dilation = 2
        [[layers]]
        type = "elu"
        [[layers]]
        type = "avg_pool"
        size = 2
        [[layers]]
        type = "flatten"
        [[layers]]
        type = "dense"
        units = 16
        [[layers]]
        type = "batch_norm"
        [[layers]]
        type = "tanh"
        "#,
    )
    .unwrap()
}

struct Run {
    step_losses: Vec<f64>,
    ck: Checkpoint,
}

/// Two epochs (with validation between) from the same initial weights on `steps`.
fn run(steps: &mut dyn Steps, config: TrainConfig, data: &Dataset) -> Run {
    let graph = arch().build(4, 60, 2, 3).unwrap();
    let mut ck = Checkpoint::new(graph, config, Alphabet::Dna, data.labels.clone());
    let (tr, va, _) = train::split(data, &ck.config.split, 1).unwrap();
    let mut step_losses = Vec::new();
    train::fit_on(
        &mut ck,
        &data.subset(&tr),
        &data.subset(&va),
        steps,
        &mut |e| {
            if let Event::Batch { step_loss, .. } = e {
                step_losses.push(step_loss)
            }
        },
    )
    .unwrap();
    Run { step_losses, ck }
}

fn gpu_steps(config: &TrainConfig) -> Option<GpuSteps> {
    let ck = Checkpoint::new(
        arch().build(4, 60, 2, 3).unwrap(),
        config.clone(),
        Alphabet::Dna,
        Vec::new(),
    );
    match GpuSteps::new(&ck) {
        Ok(s) => Some(s),
        Err(e) if std::env::var_os("SEQLENS_REQUIRE_GPU").is_none() => {
            eprintln!("skipping GPU training: {e} (set SEQLENS_REQUIRE_GPU=1 to make this fail)");
            None
        }
        Err(e) => panic!("SEQLENS_REQUIRE_GPU is set but {e}"),
    }
}

/// The weights and running statistics to compare. A layer that feeds a batch norm is
/// compared without its bias, and the norm without its running mean: the bias's gradient is
/// zero up to rounding (the norm subtracts the batch mean), and Adam scales that rounding
/// noise, which differs between backends, into steps of the learning rate; the running mean
/// follows the bias. Neither changes what the model computes in training, which the step
/// losses compare; the validation losses bound their effect in evaluation.
fn state(g: &Graph) -> Vec<f32> {
    let mut v = Vec::new();
    let mut biased = false;
    for (i, n) in g.nodes.iter().enumerate() {
        let feeds_norm = g
            .nodes
            .iter()
            .any(|m| m.inputs == [i + 1] && matches!(m.layer, Layer::BatchNorm1d(_)));
        let (w, b) = match &n.layer {
            Layer::Conv1d(c) => (&c.weight, &c.bias),
            Layer::Linear(l) => (&l.weight, &l.bias),
            Layer::BatchNorm1d(bn) => {
                v.extend(&bn.gamma.value);
                v.extend(&bn.beta.value);
                if !std::mem::take(&mut biased) {
                    v.extend(&bn.running_mean);
                }
                v.extend(&bn.running_var);
                continue;
            }
            _ => continue,
        };
        v.extend(&w.value);
        biased = feeds_norm && b.is_some();
        if !biased {
            v.extend(b.iter().flat_map(|b| &b.value));
        }
    }
    v
}

fn compare(name: &str, config: TrainConfig) {
    let data = simulate(150, 60);
    let Some(mut gpu) = gpu_steps(&config) else {
        return;
    };
    let cpu = run(&mut CpuSteps, config.clone(), &data);
    let dev = run(&mut gpu, config, &data);
    assert_eq!(cpu.step_losses.len(), dev.step_losses.len(), "{name}");
    assert!(
        cpu.step_losses.len() >= 8,
        "{name}: too few steps to compare"
    );
    for (i, (a, b)) in cpu.step_losses.iter().zip(&dev.step_losses).enumerate() {
        assert!(
            (a - b).abs() <= TOLERANCE,
            "{name}: step {i} loss CPU {a} GPU {b}"
        );
    }
    // The losses must move, or agreeing would prove little.
    assert!(
        (cpu.step_losses[0] - cpu.step_losses.last().unwrap()).abs() > 1e-3,
        "{name}: the loss did not change ({:?})",
        cpu.step_losses
    );
    let (a, b) = (state(&cpu.ck.graph), state(&dev.ck.graph));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs() as f64)
        .fold(0.0, f64::max);
    let steps = cpu
        .step_losses
        .iter()
        .zip(&dev.step_losses)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    eprintln!(
        "{name}: {} steps, losses differ by up to {steps:.2e}, weights by up to {worst:.2e}",
        cpu.step_losses.len()
    );
    assert!(
        worst <= TOLERANCE,
        "{name}: weights differ by up to {worst}"
    );
    assert_eq!(cpu.ck.optim.step, dev.ck.optim.step, "{name}");
    let (m1, m2): (Vec<f32>, Vec<f32>) = (cpu.ck.optim.m.concat(), dev.ck.optim.m.concat());
    let worst = m1
        .iter()
        .zip(&m2)
        .map(|(x, y)| (x - y).abs() as f64)
        .fold(0.0, f64::max);
    assert!(
        worst <= TOLERANCE,
        "{name}: first moments differ by up to {worst}"
    );
    assert_eq!(cpu.ck.log.len(), dev.ck.log.len(), "{name}");
    for (x, y) in cpu.ck.log.iter().zip(&dev.ck.log) {
        let (x, y) = (x.valid_loss.unwrap(), y.valid_loss.unwrap());
        assert!(
            (x - y).abs() <= TOLERANCE,
            "{name}: valid loss CPU {x} GPU {y}"
        );
    }
}

fn base() -> TrainConfig {
    TrainConfig {
        epochs: 2,
        batch_size: 16,
        seed: 9,
        patience: None,
        split: Split::Random {
            valid: 0.2,
            test: 0.0,
            stratify: false,
        },
        ..Default::default()
    }
}

#[test]
fn adam_with_clipping_and_weight_decay_agrees_with_the_cpu() {
    compare(
        "adam",
        TrainConfig {
            optimizer: Optimizer::Adam {
                lr: 3e-3,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weight_decay: 1e-2,
                decoupled: false,
            },
            clip_norm: Some(0.5),
            augment_rc: true,
            balance: true,
            ..base()
        },
    );
}

#[test]
fn adamw_and_sgd_with_momentum_agree_with_the_cpu() {
    compare(
        "adamw",
        TrainConfig {
            optimizer: Optimizer::Adam {
                lr: 3e-3,
                beta1: 0.8,
                beta2: 0.99,
                eps: 1e-7,
                weight_decay: 0.1,
                decoupled: true,
            },
            ..base()
        },
    );
    compare(
        "sgd",
        TrainConfig {
            optimizer: Optimizer::Sgd {
                lr: 0.05,
                momentum: 0.9,
                weight_decay: 1e-3,
            },
            loss: Loss::Mse,
            max_shift: 2,
            ..base()
        },
    );
}

#[test]
fn graphs_the_gpu_cannot_train_are_refused_by_name() {
    let danq = train::preset("danq", 0.25, None).unwrap();
    let g = danq.build(4, 200, 2, 1).unwrap();
    let msg = seqlens::gpu::train_blocker(&g).expect("an LSTM was accepted");
    assert!(
        msg.contains("LSTM") && msg.contains("--backend cpu"),
        "{msg}"
    );
    let softmax: Arch = toml::from_str(
        "[[layers]]\ntype = \"conv\"\nfilters = 4\nkernel = 3\n[[layers]]\ntype = \"softmax\"",
    )
    .unwrap();
    let msg = seqlens::gpu::train_blocker(&softmax.build(4, 20, 4, 1).unwrap()).unwrap();
    assert!(
        msg.contains("does not cover node") && msg.contains("(softmax)"),
        "{msg}"
    );
    assert!(seqlens::gpu::train_blocker(&arch().build(4, 60, 2, 3).unwrap()).is_none());
    let bpnet = train::preset("bpnet", 0.25, Some(2)).unwrap();
    assert!(seqlens::gpu::train_blocker(&bpnet.build(4, 200, 2, 1).unwrap()).is_none());
}

/// `seqlens train --backend gpu` logs the same steps as `--backend cpu` (the basset preset at
/// a quarter width: convolutions, batch norm, ReLU, max pooling, dropout, dense layers), and
/// refuses a model it cannot train (DanQ's LSTM) with the node's name and a non-zero exit. One epoch (12
/// steps): Adam turns rounding differences in near-zero gradients into steps of the learning
/// rate, so two correct backends drift apart over many steps (here 1e-6 by step 17 and
/// 1.6e-4 by step 24), as PyTorch's CPU and CUDA runs do.
#[test]
fn the_cli_trains_on_the_gpu_with_the_cpus_steps() {
    if gpu_steps(&base()).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_str().unwrap().to_string();
    let root = env!("CARGO_MANIFEST_DIR");
    let data = format!("{root}/examples/data/train/train.fa");
    let valid = format!("{root}/examples/data/train/valid.fa");
    let run = |backend: &str, preset: &str, more: &[&str]| {
        let log = p(&format!("{backend}-steps.tsv"));
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_seqlens"))
            .args([
                "train",
                "--preset",
                preset,
                "--width",
                "0.25",
                "--length",
                "200",
                "--fasta",
                &data,
                "--valid-fasta",
                &valid,
                "--epochs",
                "1",
                "--batch-size",
                "32",
                "--backend",
                backend,
                "--step-log",
                &log,
                "--out",
                &p(&format!("{backend}.onnx")),
            ])
            .args(more)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        (
            out.status.success(),
            err,
            std::fs::read_to_string(&log).ok(),
        )
    };
    let losses = |tsv: &str| -> Vec<f64> {
        tsv.lines()
            .skip(1)
            .map(|l| l.split('\t').nth(2).unwrap().parse().unwrap())
            .collect()
    };
    let (ok, err, cpu) = run("cpu", "basset", &[]);
    assert!(ok, "{err}");
    let (ok, err, gpu) = run("gpu", "basset", &[]);
    assert!(ok, "{err}");
    assert!(err.contains("training steps on the GPU:"), "{err}");
    let (cpu, gpu) = (losses(&cpu.unwrap()), losses(&gpu.unwrap()));
    assert_eq!(cpu.len(), gpu.len());
    assert!(cpu.len() >= 10, "{} steps", cpu.len());
    for (i, (a, b)) in cpu.iter().zip(&gpu).enumerate() {
        assert!((a - b).abs() <= TOLERANCE, "step {i}: CPU {a}, GPU {b}");
    }
    let (ok, err, _) = run("gpu", "danq", &[]);
    assert!(!ok && !err.contains("panicked"), "{err}");
    assert!(
        err.contains("--backend gpu") && err.contains("LSTM"),
        "{err}"
    );
}

/// A run resumed from a checkpoint on the GPU continues with the moments and step count it
/// saved: its weights equal those of one uninterrupted GPU run.
#[test]
fn resuming_on_the_gpu_continues_the_same_steps() {
    let config = TrainConfig {
        epochs: 3,
        ..base()
    };
    if gpu_steps(&config).is_none() {
        return;
    }
    let data = simulate(100, 60);
    let fresh = |epochs| {
        let mut ck = Checkpoint::new(
            arch().build(4, 60, 2, 3).unwrap(),
            config.clone(),
            Alphabet::Dna,
            data.labels.clone(),
        );
        ck.config.epochs = epochs;
        ck
    };
    let (tr, va, _) = train::split(&data, &config.split, 1).unwrap();
    let (tr, va) = (data.subset(&tr), data.subset(&va));
    let fit = |ck: &mut Checkpoint| {
        let mut steps = GpuSteps::new(ck).unwrap();
        train::fit_on(ck, &tr, &va, &mut steps, &mut |_| {}).unwrap();
    };
    let mut straight = fresh(3);
    fit(&mut straight);
    let mut first = fresh(2);
    fit(&mut first);
    let json = serde_json::to_string(&first).unwrap();
    let mut resumed: Checkpoint = serde_json::from_str(&json).unwrap();
    resumed.config.epochs = 3;
    fit(&mut resumed);
    assert_eq!(resumed.optim.step, straight.optim.step);
    let (a, b) = (state(&straight.graph), state(&resumed.graph));
    let worst = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(
        worst <= 1e-6,
        "weights differ by up to {worst} after resuming"
    );
}
