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
    /// Names of the target columns, comma-separated (FASTA headers, BED columns, or the one
    /// label of --pos/--neg; default: label_0.., the BED `#` header, or `positive`).
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
    /// Signal tracks whose values over each --bed interval's output window are a profile
    /// model's targets (bpnet): bigWig or bedGraph, one per track in the model's order
    /// (e.g. plus,minus strand reads). --label-names names the tracks (default: file names).
    #[arg(long, value_delimiter = ',', requires = "bed")]
    pub signal: Option<Vec<PathBuf>>,
}

/// Where the targets lie in each input: the length BED intervals are centred to, and, for
/// signal tracks, the profile model's output window in it.
#[derive(Clone, Copy)]
pub struct Window {
    /// Input bases.
    pub length: usize,
    /// The profile output's geometry (from the model), for --signal.
    pub profile: Option<trainer::ProfileTargets>,
}

/// A track's name from its file: the file name without its signal-format extensions.
fn track_name(path: &Path) -> String {
    let mut name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    for ext in [
        ".gz",
        ".bw",
        ".bigwig",
        ".bigWig",
        ".bedgraph",
        ".bedGraph",
        ".bg",
    ] {
        if let Some(n) = name.strip_suffix(ext) {
            name = n.to_string();
        }
    }
    name
}

/// Validation and test files given apart from the training data, in the same form as it.
#[derive(Args)]
pub struct HeldOutArgs {
    /// Validation sequences, FASTA (labels in the headers, or in --valid-labels / --labels).
    #[arg(long)]
    valid_fasta: Option<PathBuf>,
    /// TSV of targets for --valid-fasta (default: --labels).
    #[arg(long, requires = "valid_fasta")]
    valid_labels: Option<PathBuf>,
    /// Validation positives, with --valid-neg (training data given as --pos/--neg).
    #[arg(long, requires = "valid_neg")]
    valid_pos: Option<PathBuf>,
    /// Validation negatives, with --valid-pos.
    #[arg(long, requires = "valid_pos")]
    valid_neg: Option<PathBuf>,
    /// Validation intervals, BED on --genome (training data given as --bed).
    #[arg(long)]
    valid_bed: Option<PathBuf>,
    /// Test sequences, FASTA (labels in the headers, or in --test-labels / --labels).
    #[arg(long)]
    test_fasta: Option<PathBuf>,
    /// TSV of targets for --test-fasta (default: --labels).
    #[arg(long, requires = "test_fasta")]
    test_labels: Option<PathBuf>,
    /// Test positives, with --test-neg.
    #[arg(long, requires = "test_neg")]
    test_pos: Option<PathBuf>,
    /// Test negatives, with --test-pos.
    #[arg(long, requires = "test_pos")]
    test_neg: Option<PathBuf>,
    /// Test intervals, BED on --genome.
    #[arg(long)]
    test_bed: Option<PathBuf>,
}

/// One labelled set's files, in one of the three forms.
#[derive(Clone, Copy, Default)]
struct Files<'a> {
    fasta: Option<&'a Path>,
    labels: Option<&'a Path>,
    pos: Option<&'a Path>,
    neg: Option<&'a Path>,
    bed: Option<&'a Path>,
}

impl Files<'_> {
    /// The form's flags, for messages; None when no file is given.
    fn form(&self) -> Option<&'static str> {
        if self.fasta.is_some() {
            Some("--fasta")
        } else if self.pos.is_some() || self.neg.is_some() {
            Some("--pos/--neg")
        } else if self.bed.is_some() {
            Some("--bed")
        } else {
            None
        }
    }
}

fn read_records(path: &Path) -> Result<Vec<io::SeqRecord>> {
    let name = path.display().to_string();
    Ok(io::read_sequences(
        File::open(path).with_context(|| name.clone())?,
        &name,
    )?)
}

/// Loads one labelled set; `win` re-centres BED intervals (and places signal targets) and
/// `group` names the group column (a --labels column, or `name` for BED names).
fn load_files(
    f: &Files,
    d: &DataArgs,
    win: Window,
    group: Option<&str>,
) -> Result<Option<Dataset>> {
    let length = win.length;
    let refuse_group = |form: &str| match group {
        Some(g) => bail!(
            "--group-column {g}: {form} data has no group column (use --fasta with --labels, or --bed with `name`)"
        ),
        None => Ok(()),
    };
    let mut data = if let Some(fasta) = f.fasta {
        let recs = read_records(fasta)?;
        match f.labels {
            Some(tsv) => {
                let name = tsv.display().to_string();
                let file = File::open(tsv).with_context(|| name.clone())?;
                Dataset::from_tsv(recs, file, &name, group)?
            }
            None => {
                refuse_group("FASTA-header")?;
                Dataset::from_headers(recs, None, &fasta.display().to_string())?
            }
        }
    } else if let (Some(pos), Some(neg)) = (f.pos, f.neg) {
        refuse_group("--pos/--neg")?;
        Dataset::from_pos_neg(read_records(pos)?, read_records(neg)?, "positive")
    } else if let Some(bed) = f.bed {
        let by_name = match group {
            None => false,
            Some("name") => true,
            Some(g) => bail!("--group-column {g}: BED data can be grouped by `name` only"),
        };
        let Some(genome) = &d.genome else {
            bail!("{} needs --genome (the indexed reference)", bed.display())
        };
        let text = std::fs::read_to_string(bed).with_context(|| bed.display().to_string())?;
        let mut g = IndexedFasta::open(genome)?;
        let name = bed.display().to_string();
        match &d.signal {
            None => Dataset::from_bed(&text, &name, &mut g, length, by_name)?,
            Some(paths) => {
                let Some(p) = win.profile else {
                    bail!(
                        "--signal gives a profile model's targets; this model has no profile output"
                    );
                };
                if paths.len() != p.tracks {
                    bail!(
                        "--signal gives {} tracks, but the model's profile has {} (--tracks)",
                        paths.len(),
                        p.tracks
                    );
                }
                let names = match &d.label_names {
                    Some(n) if n.len() != paths.len() => bail!(
                        "--label-names gives {} names for {} --signal tracks",
                        n.len(),
                        paths.len()
                    ),
                    Some(n) => n.clone(),
                    None => paths.iter().map(|p| track_name(p)).collect(),
                };
                let mut signals = paths
                    .iter()
                    .map(|p| io::Signal::open(p))
                    .collect::<Result<Vec<_>, _>>()?;
                let at = (p.offset, p.positions);
                Dataset::from_bed_signal(
                    &text,
                    &name,
                    &mut g,
                    length,
                    at,
                    &mut signals,
                    &names,
                    by_name,
                )?
            }
        }
    } else {
        return Ok(None);
    };
    if let Some(names) = d.label_names.as_ref().filter(|_| d.signal.is_none()) {
        if names.len() != data.labels.len() {
            bail!(
                "--label-names gives {} names, but the data has {} target columns ({})",
                names.len(),
                data.labels.len(),
                data.labels.join(", ")
            );
        }
        data.labels = names.clone();
    }
    Ok(Some(data))
}

/// Loads the labelled data; `length` re-centres BED intervals.
pub fn load_data(d: &DataArgs, length: usize) -> Result<Dataset> {
    if d.signal.is_some() {
        bail!(
            "--signal: evaluate scores one set of values per sequence; a profile model's test \
             metrics come from seqlens train (its test set)"
        );
    }
    let win = Window {
        length,
        profile: None,
    };
    load_training(d, win, None)
}

fn training_files(d: &DataArgs) -> Files<'_> {
    Files {
        fasta: d.fasta.as_deref(),
        labels: d.labels.as_deref(),
        pos: d.pos.as_deref(),
        neg: d.neg.as_deref(),
        bed: d.bed.as_deref(),
    }
}

fn load_training(d: &DataArgs, win: Window, group: Option<&str>) -> Result<Dataset> {
    load_files(&training_files(d), d, win, group)?.ok_or_else(|| {
        anyhow::anyhow!(
            "give training data: --fasta [--labels], --pos with --neg, or --bed with --genome"
        )
    })
}

/// The validation and test sets given as files (checked against the training data's form and
/// labels); None where that part is to be held out of the training data.
fn load_held_out(
    h: &HeldOutArgs,
    d: &DataArgs,
    train: &Dataset,
    win: Window,
    group: Option<&str>,
) -> Result<[Option<Dataset>; 2]> {
    let form = training_files(d).form();
    let sets = [
        (
            "validation",
            Files {
                fasta: h.valid_fasta.as_deref(),
                labels: h.valid_labels.as_deref().or(d.labels.as_deref()),
                pos: h.valid_pos.as_deref(),
                neg: h.valid_neg.as_deref(),
                bed: h.valid_bed.as_deref(),
            },
        ),
        (
            "test",
            Files {
                fasta: h.test_fasta.as_deref(),
                labels: h.test_labels.as_deref().or(d.labels.as_deref()),
                pos: h.test_pos.as_deref(),
                neg: h.test_neg.as_deref(),
                bed: h.test_bed.as_deref(),
            },
        ),
    ];
    let mut out = [None, None];
    for (slot, (role, files)) in out.iter_mut().zip(sets) {
        if files.form().is_some() && files.form() != form {
            bail!(
                "the {role} data is given as {} but the training data as {}; give both in one form",
                files.form().unwrap_or("-"),
                form.unwrap_or("-")
            );
        }
        let Some(set) = load_files(&files, d, win, group)? else {
            continue;
        };
        if set.labels != train.labels {
            bail!(
                "the {role} data's targets ({}) differ from the training data's ({})",
                set.labels.join(", "),
                train.labels.join(", ")
            );
        }
        if set.is_empty() {
            bail!("the {role} data holds no sequences");
        }
        let shared = train::shared_sequences(train, &set);
        if shared > 0 {
            eprintln!(
                "warning: {shared} of {} {role} sequences also occur in the training data",
                set.len()
            );
        }
        *slot = Some(set);
    }
    Ok(out)
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
    #[command(flatten)]
    held_out: HeldOutArgs,
    /// Keep sequences that share a group in one part of the split: a column of --labels
    /// (then not a target), or `name` for the BED name column. Identical sequences are
    /// always kept together.
    #[arg(long)]
    group_column: Option<String>,
    /// Where to write the trained model.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// How --out stores its weights: fp32 (default), fp16 (half the size) or int8 (a
    /// quarter, one scale per output channel); the change in test metrics is reported.
    #[arg(long, requires = "out")]
    precision: Option<onnx::Precision>,
    /// Sequence length (default: the config's, the --init model's, or the longest sequence).
    #[arg(long)]
    length: Option<usize>,
    /// Input alphabet: dna (default), rna or protein.
    #[arg(long)]
    alphabet: Option<Alphabet>,
    /// Scale a preset's filters and dense units.
    #[arg(long)]
    width: Option<f32>,
    /// Dilated residual layers of the bpnet preset (default 8, as bpnet-lite).
    #[arg(long)]
    depth: Option<usize>,
    /// Profile tracks of the bpnet preset (default 2, one per strand; 1 for unstranded data).
    #[arg(long)]
    tracks: Option<usize>,
    /// How conv and dense weights start: torch (PyTorch's default, uniform in
    /// +-1/sqrt(fan_in)), kaiming_normal (He) or xavier_uniform (Glorot).
    #[arg(long)]
    weight_init: Option<seqlens::nn::Init>,
    /// Passes over the training data (default 10, or the config's).
    #[arg(long)]
    epochs: Option<usize>,
    /// Sequences per step (default 64, or the config's).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Learning rate (Adam unless the config says otherwise).
    #[arg(long)]
    lr: Option<f32>,
    /// Seed of initialisation, shuffling, augmentation and dropout (default 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Seed of the random validation/test split (default 1), apart from --seed so that
    /// every training seed is scored on the same test set.
    #[arg(long)]
    split_seed: Option<u64>,
    /// Loss: bce (multi-label classification), ce (softmax classes), mse, poisson.
    #[arg(long)]
    loss: Option<String>,
    /// Visit the training data in file order every epoch instead of a new random order
    /// (with no augmentation or dropout, steps are then PyTorch's without shuffle).
    #[arg(long)]
    no_shuffle: bool,
    /// Train on a random strand of each sequence.
    #[arg(long)]
    rc_augment: bool,
    /// Shift sequences by up to N bases.
    #[arg(long)]
    max_shift: Option<usize>,
    /// Weight positives by the negative/positive ratio of each label.
    #[arg(long)]
    balance: bool,
    /// Fraction of the training data held out for validation (default 0.1), unless
    /// validation files are given.
    #[arg(long)]
    valid_frac: Option<f32>,
    /// Fraction of the training data held out for testing (default 0.1), unless test files
    /// are given.
    #[arg(long)]
    test_frac: Option<f32>,
    /// Give the held-out parts each class's share of the data (class targets, random split).
    #[arg(long)]
    stratify: bool,
    /// Hold out these chromosomes for validation (BED data), comma-separated.
    #[arg(long, value_delimiter = ',')]
    valid_chroms: Option<Vec<String>>,
    /// Hold out these chromosomes for the test set.
    #[arg(long, value_delimiter = ',')]
    test_chroms: Option<Vec<String>>,
    /// Write the split as a TSV (id, part: train, valid or test), to record or reuse it.
    #[arg(long)]
    save_split: Option<PathBuf>,
    /// k-fold cross-validation (grouped, and stratified with --stratify): report each
    /// fold's validation metrics.
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
    /// Per-step log, TSV: epoch, step, loss (each step's mean loss over its batch).
    #[arg(long)]
    step_log: Option<PathBuf>,
    /// Where the training steps run: cpu (the seqlens engine) or gpu (wgpu; its steps agree
    /// with the CPU's to about 1e-7, and a model with a layer the GPU cannot train is refused
    /// with its name). Validation and testing run on the CPU.
    #[arg(long, value_enum, default_value = "cpu")]
    backend: StepBackend,
}

/// Where `train` runs its steps.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StepBackend {
    Cpu,
    Gpu,
}

/// The steps `--backend` asks for, said on stderr when they run on a GPU.
fn steps_for(ck: &Checkpoint, backend: StepBackend) -> Result<Box<dyn train::Steps>> {
    match backend {
        StepBackend::Cpu => Ok(Box::new(train::CpuSteps)),
        #[cfg(feature = "gpu")]
        StepBackend::Gpu => {
            let steps = train::gpu::GpuSteps::new(ck).context("--backend gpu")?;
            eprintln!(
                "training steps on the GPU: {}{}",
                steps.adapter(),
                if steps.software() {
                    " (a software adapter: correct, but slower than the CPU engine)"
                } else {
                    ""
                }
            );
            Ok(Box::new(steps))
        }
        #[cfg(not(feature = "gpu"))]
        StepBackend::Gpu => {
            let _ = ck;
            bail!("--backend gpu: this build of seqlens has no GPU backend")
        }
    }
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
    m.tracks = a.tracks.or(m.tracks);
    m.init = a.weight_init.or(m.init);
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
    t.shuffle &= !a.no_shuffle;
    t.max_shift = a.max_shift.unwrap_or(t.max_shift);
    t.balance |= a.balance;
    t.split_seed = a.split_seed.unwrap_or(t.split_seed);
    if a.valid_chroms.is_some() || a.test_chroms.is_some() {
        if a.valid_frac.is_some() || a.test_frac.is_some() || a.stratify {
            bail!(
                "--valid-chroms/--test-chroms hold out whole chromosomes; --valid-frac, --test-frac and --stratify are for random splits"
            );
        }
        t.split = Split::Chromosomes {
            valid: a.valid_chroms.clone().unwrap_or_default(),
            test: a.test_chroms.clone().unwrap_or_default(),
        };
    } else if a.valid_frac.is_some() || a.test_frac.is_some() || a.stratify {
        let (v, te, st) = match &t.split {
            Split::Random {
                valid,
                test,
                stratify,
            } => (*valid, *test, *stratify),
            Split::Chromosomes { .. } => (0.1, 0.1, false),
        };
        t.split = Split::Random {
            valid: a.valid_frac.unwrap_or(v),
            test: a.test_frac.unwrap_or(te),
            stratify: st || a.stratify,
        };
    }
    c.fill_preset_losses();
    if a.loss.is_some() && !c.train.heads.is_empty() {
        let names: Vec<&str> = c.train.heads.iter().map(|h| h.name.as_str()).collect();
        bail!(
            "--loss sets one loss, but the outputs {} each have their own ([[train.heads]] in --config)",
            names.join(", ")
        );
    }
    Ok(c)
}

/// The split with the parts given as files taken out: those parts come from their files.
fn held_out_split(a: &TrainArgs, split: &Split, files: &[Option<Dataset>; 2]) -> Result<Split> {
    let given = [files[0].is_some(), files[1].is_some()];
    let flags = [
        (
            given[0],
            a.valid_frac.is_some() || a.valid_chroms.is_some(),
            "validation",
            "--valid-frac/--valid-chroms",
        ),
        (
            given[1],
            a.test_frac.is_some() || a.test_chroms.is_some(),
            "test",
            "--test-frac/--test-chroms",
        ),
    ];
    for (file, held, role, flag) in flags {
        if file && held {
            bail!("the {role} data is given as files and also by {flag}; give one");
        }
    }
    Ok(match split.clone() {
        Split::Random {
            valid,
            test,
            stratify,
        } => Split::Random {
            valid: if given[0] { 0.0 } else { valid },
            test: if given[1] { 0.0 } else { test },
            stratify,
        },
        Split::Chromosomes { valid, test } => Split::Chromosomes {
            valid: if given[0] { Vec::new() } else { valid },
            test: if given[1] { Vec::new() } else { test },
        },
    })
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
    // A multi-output model's steps also log each output's loss.
    let mut steps = format!(
        "epoch\tstep\tloss{}\n",
        ck.objective()?
            .head_names()
            .iter()
            .map(|h| format!("\t{h}"))
            .collect::<String>()
    );
    let mut on = steps_for(ck, a.backend)?;
    train::fit_on(ck, tr, va, on.as_mut(), &mut |e| match e {
        Event::Batch {
            epoch,
            done,
            total,
            loss,
            step_loss,
            step_heads,
        } => {
            if a.step_log.is_some() {
                let heads: String = step_heads.iter().map(|l| format!("\t{l}")).collect();
                steps.push_str(&format!("{}\t{done}\t{step_loss}{heads}\n", epoch + 1));
            }
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
                } else if checkpoint.graph.heads.is_empty() {
                    "pearson"
                } else {
                    "score (-loss)"
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
            if let Some(p) = &a.step_log
                && let Err(e) = write_atomic(p, steps.as_bytes())
            {
                failure.get_or_insert(anyhow::anyhow!("writing {}: {e}", p.display()));
            }
        }
    })?;
    bar.finish_and_clear();
    failure.map_or(Ok(()), Err)
}

/// The input window of `g`, with its profile's geometry when the targets are --signal tracks.
fn window_for(g: &seqlens::nn::Graph, d: &DataArgs) -> Result<Window> {
    let profile = match d.signal {
        Some(_) => Some(trainer::profile_targets(g).map_err(|e| anyhow::anyhow!("--signal: {e}"))?),
        None => None,
    };
    Ok(Window {
        length: g.input_shape[1],
        profile,
    })
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
        let data = load_training(
            &a.data,
            window_for(&ck.graph, &a.data)?,
            a.group_column.as_deref(),
        )?;
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
        let build = |length: usize, k: usize| -> Result<seqlens::nn::Graph> {
            Ok(match graph.clone() {
                Some(g) => {
                    trainer::prepare_finetune(g, a.freeze, a.new_head.then_some(k), cfg.train.seed)?
                }
                None => cfg.arch().map_err(anyhow::Error::msg)?.build(
                    alphabet.size(),
                    length,
                    k,
                    cfg.train.seed,
                )?,
            })
        };
        // Signal targets are read where the model's profile lies, so the model comes first.
        let (data, graph) = if a.data.signal.is_some() {
            if length == 0 {
                bail!("--signal needs the input length: --length, [model] length, or --init's");
            }
            if a.new_head {
                bail!(
                    "--new-head sizes a dense head to the data's labels; a profile model's outputs are its heads"
                );
            }
            let g = build(length, 1)?;
            let data = load_training(&a.data, window_for(&g, &a.data)?, a.group_column.as_deref())?;
            (data, g)
        } else {
            let win = Window {
                length,
                profile: None,
            };
            let data = load_training(&a.data, win, a.group_column.as_deref())?;
            let length = if length > 0 {
                length
            } else {
                data.seqs.iter().map(Vec::len).max().unwrap_or(0)
            };
            let g = build(length, data.labels.len())?;
            (data, g)
        };
        if data.is_empty() {
            bail!("the training data holds no sequences");
        }
        let k = data.labels.len();
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

    let files = load_held_out(
        &a.held_out,
        &a.data,
        &data,
        window_for(&ck.graph, &a.data)?,
        a.group_column.as_deref(),
    )?;
    let stratify = matches!(ck.config.split, Split::Random { stratify: true, .. });
    if let Some(k) = a.kfold {
        if files.iter().any(Option::is_some) {
            bail!("--kfold draws its own validation folds; drop the validation and test files");
        }
        // Options that only mean something for one run with a held-out split.
        let one_run = [
            ("--step-log", a.step_log.is_some()),
            ("--out", a.out.is_some()),
            ("--save-split", a.save_split.is_some()),
            ("--valid-frac", a.valid_frac.is_some()),
            ("--test-frac", a.test_frac.is_some()),
            ("--valid-chroms", a.valid_chroms.is_some()),
            ("--test-chroms", a.test_chroms.is_some()),
        ];
        if let Some((flag, _)) = one_run.iter().find(|(_, given)| *given) {
            bail!("{flag} is for one training run; --kfold trains one per fold and keeps none");
        }
        let mut means = Vec::new();
        for f in 0..k {
            let (tr, va) = train::kfold(&data, k, f, stratify, ck.config.split_seed)
                .map_err(anyhow::Error::msg)?;
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

    let how = held_out_split(a, &ck.config.split, &files)?;
    let (tr, va, te) =
        train::split(&data, &how, ck.config.split_seed).map_err(anyhow::Error::msg)?;
    let [valid_file, test_file] = files;
    let (tr, va, te) = (
        data.subset(&tr),
        valid_file.unwrap_or_else(|| data.subset(&va)),
        test_file.unwrap_or_else(|| data.subset(&te)),
    );
    eprintln!(
        "split: {} train, {} validation, {} test",
        tr.len(),
        va.len(),
        te.len()
    );
    if let Some(path) = &a.save_split {
        let mut text = String::from("id\tpart\n");
        for (set, part) in [(&tr, "train"), (&va, "valid"), (&te, "test")] {
            for id in &set.ids {
                text.push_str(&format!("{id}\t{part}\n"));
            }
        }
        write_atomic(path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    run_fit(&mut ck, &tr, &va, a)?;
    let (secs, seen) = ck.log.iter().fold((0.0, 0), |(t, n), l| {
        (t + l.train_seconds, n + l.train_sequences)
    });
    if secs > 0.0 {
        eprintln!(
            "trained {} epochs: {seen} sequences in {secs:.1} s of training steps ({:.1} sequences/s, {})",
            ck.log.len(),
            seen as f64 / secs,
            match a.backend {
                StepBackend::Cpu => format!("{} threads", rayon::current_num_threads()),
                StepBackend::Gpu => "on the GPU".into(),
            }
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
        let (labels, output) = trainer::output_metadata(&ck, &g)?;
        let meta = ExportMeta {
            metadata: Metadata {
                alphabet: ck.alphabet,
                layout: Layout::Ncl,
                length: Some(g.input_shape[1]),
                n_policy: NPolicy::Zero,
                labels,
                task: Some(
                    if ck.classification() {
                        "classification"
                    } else {
                        "regression"
                    }
                    .into(),
                ),
                output,
            },
            extra,
            precision: a.precision.unwrap_or_default(),
        };
        let bytes = onnx::export(&g, &meta)?;
        if let Some(p) = a.precision.filter(|&p| p != onnx::Precision::F32) {
            report_precision(&ck, &g, &bytes, &te, p)?;
        }
        write_atomic(out, &bytes).with_context(|| format!("writing {}", out.display()))?;
        eprintln!(
            "wrote {} ({} parameters, {} bytes)",
            out.display(),
            g.param_count(),
            bytes.len()
        );
    }
    Ok(())
}

/// Prints how storing the weights at `precision` changes the test metrics and predictions:
/// the exported model is imported back and scored beside the float32 graph.
fn report_precision(
    ck: &Checkpoint,
    f32_graph: &seqlens::nn::Graph,
    bytes: &[u8],
    test: &Dataset,
    precision: onnx::Precision,
) -> Result<()> {
    if test.is_empty() {
        eprintln!("{precision} export: no test set to measure the accuracy change on");
        return Ok(());
    }
    let low = onnx::import(bytes, Some(f32_graph.input_shape[1]), Layout::Ncl)?;
    let (full, _) = trainer::evaluate(ck, f32_graph, test)?;
    let (lowered, _) = trainer::evaluate(ck, &low, test)?;
    let (name, pick): (&str, fn(&Metrics) -> Option<f64>) = if ck.classification() {
        ("AUROC", |m| m.auroc)
    } else {
        ("Pearson r", |m| m.pearson)
    };
    let (a, b) = (full.last().and_then(pick), lowered.last().and_then(pick));
    eprintln!(
        "{precision} export: test mean {name} {} (float32 {}, change {})",
        fmt(b),
        fmt(a),
        a.zip(b)
            .map_or("-".into(), |(a, b)| format!("{:+.4}", b - a))
    );
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
