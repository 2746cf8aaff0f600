//! `seqlens train` and `seqlens evaluate`: argument handling, files and progress bars.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use seqlens::encode::{Alphabet, Layout, NPolicy};
use seqlens::io::{self, IndexedFasta};
use seqlens::model::{Metadata, Model, PredictOptions};
use seqlens::onnx::{self, ExportMeta};
use seqlens::output::write_atomic;
use seqlens::train::{self, Checkpoint, Dataset, Event, Loss, Metrics, RunConfig, Split, trainer};

/// Where labelled sequences come from.
#[derive(Args, Clone)]
pub struct DataArgs {
    /// FASTA/FASTQ whose headers carry the targets (`>id 1 0 1`), or with --labels.
    #[arg(long, conflicts_with_all = ["pos", "bed"])]
    pub fasta: Option<PathBuf>,
    /// TSV of targets for --fasta: header `id<TAB>label...`, one row per sequence.
    #[arg(long, requires = "fasta")]
    pub labels: Option<PathBuf>,
    /// Names of the label columns in FASTA headers, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with = "labels")]
    pub label_names: Option<Vec<String>>,
    /// Positive sequences (label 1); use with --neg.
    #[arg(long, requires = "neg")]
    pub pos: Option<PathBuf>,
    /// Negative sequences (label 0).
    #[arg(long, requires = "pos")]
    pub neg: Option<PathBuf>,
    /// BED with target columns after the coordinates (and optional name); use with --genome.
    #[arg(long, requires = "genome")]
    pub bed: Option<PathBuf>,
    /// Indexed reference FASTA for --bed.
    #[arg(long)]
    pub genome: Option<PathBuf>,
}

fn read_records(path: &Path) -> Result<Vec<io::SeqRecord>> {
    let name = path.display().to_string();
    Ok(io::read_sequences(
        File::open(path).with_context(|| name.clone())?,
        &name,
    )?)
}

/// Loads the labelled data; `length` re-centres BED intervals.
pub fn load_data(d: &DataArgs, length: usize) -> Result<Dataset> {
    if let Some(fasta) = &d.fasta {
        let recs = read_records(fasta)?;
        return Ok(match &d.labels {
            Some(tsv) => {
                let name = tsv.display().to_string();
                Dataset::from_tsv(recs, File::open(tsv).with_context(|| name.clone())?, &name)?
            }
            None => {
                Dataset::from_headers(recs, d.label_names.clone(), &fasta.display().to_string())?
            }
        });
    }
    if let (Some(pos), Some(neg)) = (&d.pos, &d.neg) {
        return Ok(Dataset::from_pos_neg(
            read_records(pos)?,
            read_records(neg)?,
            "positive",
        ));
    }
    if let (Some(bed), Some(genome)) = (&d.bed, &d.genome) {
        let text = std::fs::read_to_string(bed).with_context(|| bed.display().to_string())?;
        let mut g = IndexedFasta::open(genome)?;
        return Ok(Dataset::from_bed(
            &text,
            &bed.display().to_string(),
            &mut g,
            length,
        )?);
    }
    bail!("give training data: --fasta [--labels], --pos with --neg, or --bed with --genome")
}

#[derive(Args)]
pub struct TrainArgs {
    /// TOML config with [model] and [train] sections.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// A named architecture: deepbind, basset, deepsea, bpnet.
    #[arg(long)]
    preset: Option<String>,
    /// Fine-tune this ONNX model (imported into the engine) instead of a new architecture.
    #[arg(long, conflicts_with = "preset")]
    init: Option<PathBuf>,
    /// With --init: freeze the first N layers that have weights.
    #[arg(long, default_value_t = 0)]
    freeze: usize,
    /// With --init: replace the last dense layer by a new one sized to the data's labels.
    #[arg(long)]
    new_head: bool,
    #[command(flatten)]
    data: DataArgs,
    /// Where to write the trained model.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Sequence length (default: the config's, the --init model's, or the longest sequence).
    #[arg(long)]
    length: Option<usize>,
    #[arg(long)]
    alphabet: Option<Alphabet>,
    /// Scale a preset's filters and dense units.
    #[arg(long)]
    width: Option<f32>,
    /// Dilated residual layers of the bpnet preset.
    #[arg(long)]
    depth: Option<usize>,
    #[arg(long)]
    epochs: Option<usize>,
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate (Adam unless the config says otherwise).
    #[arg(long)]
    lr: Option<f32>,
    #[arg(long)]
    seed: Option<u64>,
    /// Loss: bce (multi-label classification), ce (softmax classes), mse, poisson.
    #[arg(long)]
    loss: Option<String>,
    /// Train on a random strand of each sequence.
    #[arg(long)]
    rc_augment: bool,
    /// Shift sequences by up to N bases.
    #[arg(long)]
    max_shift: Option<usize>,
    /// Weight positives by the negative/positive ratio of each label.
    #[arg(long)]
    balance: bool,
    #[arg(long)]
    valid_frac: Option<f32>,
    #[arg(long)]
    test_frac: Option<f32>,
    /// Hold out these chromosomes for validation (BED data), comma-separated.
    #[arg(long, value_delimiter = ',')]
    valid_chroms: Option<Vec<String>>,
    /// Hold out these chromosomes for the test set.
    #[arg(long, value_delimiter = ',')]
    test_chroms: Option<Vec<String>>,
    /// k-fold cross-validation: report each fold's validation metrics.
    #[arg(long)]
    kfold: Option<usize>,
    /// Write a checkpoint after every epoch (atomically).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Continue from a checkpoint written by --checkpoint.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// Per-epoch log, TSV (or JSON lines if it ends in .jsonl).
    #[arg(long)]
    log: Option<PathBuf>,
}

fn parse_loss(s: &str) -> Result<Loss> {
    Ok(match s {
        "bce" => Loss::BceWithLogits { pos_weight: None },
        "ce" => Loss::SoftmaxCrossEntropy,
        "mse" => Loss::Mse,
        "poisson" => Loss::Poisson,
        "multinomial" => Loss::MultinomialNll,
        _ => bail!("unknown loss '{s}'; expected bce, ce, mse, poisson or multinomial"),
    })
}

fn run_config(a: &TrainArgs) -> Result<RunConfig> {
    let mut c = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
            RunConfig::from_toml(&text, &p.display().to_string()).map_err(anyhow::Error::msg)?
        }
        None => RunConfig::default(),
    };
    let m = &mut c.model;
    if a.preset.is_some() {
        m.preset = a.preset.clone();
        m.layers = None;
    }
    m.length = a.length.or(m.length);
    m.alphabet = a.alphabet.or(m.alphabet);
    m.width = a.width.or(m.width);
    m.depth = a.depth.or(m.depth);
    let t = &mut c.train;
    t.epochs = a.epochs.unwrap_or(t.epochs);
    t.batch_size = a.batch_size.unwrap_or(t.batch_size);
    t.seed = a.seed.unwrap_or(t.seed);
    if let Some(lr) = a.lr {
        match &mut t.optimizer {
            train::Optimizer::Sgd { lr: l, .. } | train::Optimizer::Adam { lr: l, .. } => *l = lr,
        }
    }
    if let Some(l) = &a.loss {
        t.loss = parse_loss(l)?;
    }
    t.augment_rc |= a.rc_augment;
    t.max_shift = a.max_shift.unwrap_or(t.max_shift);
    t.balance |= a.balance;
    if a.valid_chroms.is_some() || a.test_chroms.is_some() {
        t.split = Split::Chromosomes {
            valid: a.valid_chroms.clone().unwrap_or_default(),
            test: a.test_chroms.clone().unwrap_or_default(),
        };
    } else if a.valid_frac.is_some() || a.test_frac.is_some() {
        t.split = Split::Random {
            valid: a.valid_frac.unwrap_or(0.1),
            test: a.test_frac.unwrap_or(0.1),
        };
    }
    Ok(c)
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.4}"))
}

/// Prints a metrics table (one row per label, then the mean).
pub fn print_metrics(title: &str, rows: &[Metrics], classification: bool) {
    println!("{title}");
    if classification {
        println!(
            "{:<24} {:>8} {:>8} {:>8}",
            "label", "auroc", "auprc", "accuracy"
        );
        for m in rows {
            println!(
                "{:<24} {:>8} {:>8} {:>8}",
                m.label,
                fmt(m.auroc),
                fmt(m.auprc),
                fmt(m.accuracy)
            );
        }
    } else {
        println!("{:<24} {:>8} {:>8}", "label", "pearson", "spearman");
        for m in rows {
            println!(
                "{:<24} {:>8} {:>8}",
                m.label,
                fmt(m.pearson),
                fmt(m.spearman)
            );
        }
    }
}

fn log_line(path: &Path, log: &[train::EpochLog]) -> Result<()> {
    let text = if path.extension().is_some_and(|e| e == "jsonl") {
        log.iter()
            .map(|l| serde_json::to_string(l).unwrap_or_default() + "\n")
            .collect::<String>()
    } else {
        let mut s = String::from("epoch\ttrain_loss\tvalid_loss\tvalid_score\tlr\n");
        for l in log {
            s.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\n",
                l.epoch,
                l.train_loss,
                fmt(l.valid_loss),
                fmt(l.valid_score),
                l.lr
            ));
        }
        s
    };
    write_atomic(path, text.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

fn run_fit(ck: &mut Checkpoint, tr: &Dataset, va: &Dataset, a: &TrainArgs) -> Result<()> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} batches, loss {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let mut failure = None;
    train::fit(ck, tr, va, &mut |e| match e {
        Event::Batch {
            epoch,
            done,
            total,
            loss,
        } => {
            bar.set_length(total as u64);
            bar.set_prefix(format!("{}", epoch + 1));
            bar.set_position(done as u64);
            bar.set_message(format!("{loss:.4}"));
        }
        Event::Epoch { log, checkpoint } => {
            let line = format!(
                "epoch {:>3}: train loss {:.4}, valid loss {}, valid {} {}",
                log.epoch,
                log.train_loss,
                fmt(log.valid_loss),
                if checkpoint.classification() {
                    "auroc"
                } else {
                    "pearson"
                },
                fmt(log.valid_score)
            );
            // A hidden bar (stderr is not a terminal) drops println; the log still matters.
            if bar.is_hidden() {
                eprintln!("{line}");
            } else {
                bar.println(line);
            }
            if let Some(p) = &a.checkpoint {
                let json = serde_json::to_vec(checkpoint).unwrap_or_default();
                if let Err(e) = write_atomic(p, &json) {
                    failure
                        .get_or_insert(anyhow::anyhow!("writing checkpoint {}: {e}", p.display()));
                }
            }
            if let Some(p) = &a.log
                && let Err(e) = log_line(p, &checkpoint.log)
            {
                failure.get_or_insert(e);
            }
        }
    })?;
    bar.finish_and_clear();
    failure.map_or(Ok(()), Err)
}

pub fn train(a: &TrainArgs) -> Result<()> {
    let cfg = run_config(a)?;
    let (mut ck, data) = if let Some(path) = &a.resume {
        let ck: Checkpoint = serde_json::from_slice(
            &std::fs::read(path).with_context(|| path.display().to_string())?,
        )
        .with_context(|| format!("{}: not a seqlens checkpoint", path.display()))?;
        let mut ck = ck;
        ck.config.epochs = a.epochs.unwrap_or(ck.config.epochs);
        let data = load_data(&a.data, ck.graph.input_shape[1])?;
        (ck, data)
    } else {
        let (graph, length, alphabet) = match &a.init {
            Some(p) => {
                let bytes = seqlens::onnx::read_model_file(p)?;
                let meta = Model::from_bytes(&bytes)
                    .with_context(|| p.display().to_string())?
                    .metadata()
                    .clone();
                let g = onnx::import(&bytes, meta.length, meta.layout)
                    .with_context(|| p.display().to_string())?;
                let length = g.input_shape[1];
                (Some(g), length, meta.alphabet)
            }
            None => (None, 0, cfg.model.alphabet.unwrap_or_default()),
        };
        let length = cfg.model.length.unwrap_or(length);
        let data = load_data(&a.data, length)?;
        if data.is_empty() {
            bail!("the training data holds no sequences");
        }
        let length = if length > 0 {
            length
        } else {
            data.seqs.iter().map(Vec::len).max().unwrap_or(0)
        };
        let k = data.labels.len();
        let graph = match graph {
            Some(g) => {
                trainer::prepare_finetune(g, a.freeze, a.new_head.then_some(k), cfg.train.seed)?
            }
            None => cfg.arch().map_err(anyhow::Error::msg)?.build(
                alphabet.size(),
                length,
                k,
                cfg.train.seed,
            )?,
        };
        eprintln!(
            "model: {} layers, {} parameters, input [{}, {length}], {} labels; {} sequences",
            graph.nodes.len(),
            graph.param_count(),
            alphabet.size(),
            k,
            data.len()
        );
        (
            Checkpoint::new(graph, cfg.train.clone(), alphabet, data.labels.clone()),
            data,
        )
    };

    if let Some(k) = a.kfold {
        if k < 2 {
            bail!("--kfold needs at least 2 folds");
        }
        let mut means = Vec::new();
        for f in 0..k {
            let (tr, va) = train::kfold(data.len(), k, f, &mut seqlens::nn::rng(ck.config.seed));
            let mut fold = Checkpoint::new(
                ck.graph.clone(),
                ck.config.clone(),
                ck.alphabet,
                ck.labels.clone(),
            );
            run_fit(&mut fold, &data.subset(&tr), &data.subset(&va), a)?;
            let (m, _) = trainer::evaluate(&fold, &fold.best, &data.subset(&va))?;
            print_metrics(
                &format!("fold {}/{k} (validation)", f + 1),
                &m,
                fold.classification(),
            );
            means.push(m.last().cloned().unwrap_or_default());
        }
        print_metrics(
            "cross-validation: mean of each fold's mean",
            &means,
            ck.classification(),
        );
        return Ok(());
    }

    let (tr, va, te) = train::split(
        &data,
        &ck.config.split,
        &mut seqlens::nn::rng(ck.config.seed),
    );
    let (tr, va, te) = (data.subset(&tr), data.subset(&va), data.subset(&te));
    eprintln!(
        "split: {} train, {} validation, {} test",
        tr.len(),
        va.len(),
        te.len()
    );
    run_fit(&mut ck, &tr, &va, a)?;
    let (secs, seen) = ck.log.iter().fold((0.0, 0), |(t, n), l| {
        (t + l.train_seconds, n + l.train_sequences)
    });
    if secs > 0.0 {
        eprintln!(
            "trained {} epochs: {seen} sequences in {secs:.1} s of training steps ({:.1} sequences/s, {} threads)",
            ck.log.len(),
            seen as f64 / secs,
            rayon::current_num_threads()
        );
    }
    if ck.stopped_early {
        eprintln!(
            "stopped early after epoch {} (no validation improvement)",
            ck.epoch
        );
    }
    let mut extra = vec![("seqlens.train.epochs".to_string(), ck.epoch.to_string())];
    if !te.is_empty() {
        let (m, _) = trainer::evaluate(&ck, &ck.best, &te)?;
        print_metrics("test set", &m, ck.classification());
        if let Some(mean) = m.last() {
            extra.push((
                "seqlens.train.test_metrics".into(),
                serde_json::to_string(mean).unwrap_or_default(),
            ));
        }
    }
    if let Some(out) = &a.out {
        let g = trainer::final_graph(&ck);
        let meta = ExportMeta {
            metadata: Metadata {
                alphabet: ck.alphabet,
                layout: Layout::Ncl,
                length: Some(g.input_shape[1]),
                n_policy: NPolicy::Zero,
                labels: ck.labels.clone(),
                task: Some(
                    if ck.classification() {
                        "classification"
                    } else {
                        "regression"
                    }
                    .into(),
                ),
                output: Default::default(),
            },
            extra,
        };
        let bytes = onnx::export(&g, &meta)?;
        write_atomic(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        eprintln!("wrote {} ({} parameters)", out.display(), g.param_count());
    }
    Ok(())
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// ONNX model (any model seqlens can run).
    #[arg(long, short)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// classification or regression (default: the model's seqlens.task, else from the targets).
    #[arg(long)]
    task: Option<String>,
    #[command(flatten)]
    backend: crate::BackendArg,
}

pub fn evaluate(a: &EvaluateArgs) -> Result<()> {
    let model = crate::load_model(&a.model, &Default::default(), Some(a.backend.backend))?;
    let length = model.metadata().length.unwrap_or(0);
    let data = load_data(&a.data, length)?;
    let recs: Vec<io::SeqRecord> = data
        .ids
        .iter()
        .zip(&data.seqs)
        .map(|(id, s)| io::SeqRecord {
            id: id.clone(),
            description: None,
            seq: s.clone(),
        })
        .collect();
    let preds = model.predict(
        &recs,
        &PredictOptions {
            unknown: seqlens::encode::UnknownPolicy::AsN,
            ..Default::default()
        },
    )?;
    if preds.shape[1] != data.labels.len() {
        bail!(
            "the model outputs {} values per sequence but the data has {} labels",
            preds.shape[1],
            data.labels.len()
        );
    }
    let task = a
        .task
        .clone()
        .or_else(|| model.metadata().task.clone())
        .unwrap_or_default();
    let classification = match task.as_str() {
        "classification" | "binary" => true,
        "regression" => false,
        _ => data.targets.iter().all(|&v| v == 0.0 || v == 1.0),
    };
    let labels: Vec<String> = model.metadata().labels.clone();
    let m = train::evaluate(
        &preds.values,
        &data.targets,
        if labels.len() == data.labels.len() {
            &labels
        } else {
            &data.labels
        },
        classification,
    );
    print_metrics(
        &format!("{} on {} sequences", a.model.display(), data.len()),
        &m,
        classification,
    );
    Ok(())
}
