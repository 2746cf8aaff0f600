//! The training loop: shuffled minibatches with augmentation, validation each epoch,
//! learning-rate schedule, early stopping, and a resumable [`Checkpoint`].
//!
//! Every epoch draws its randomness (shuffle, augmentation, dropout) from a generator seeded
//! by `(seed, epoch)`, so resuming from a checkpoint continues exactly as an uninterrupted
//! run would.

use rand::RngExt;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::data::{Dataset, Split};
use super::loss::{HeadLoss, Loss, Objective};
use super::metrics::{self, Metrics};
use super::optim::{OptimState, Optimizer, Schedule, Scheduler, clip_grad_norm};
use crate::encode::{self, Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use crate::metadata::Output;
use crate::nn::{self, Graph, Layer, Mode, Tensor};

/// Hyper-parameters of a training run (the `[train]` table of a config file).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Sequences per step.
    pub batch_size: usize,
    /// How weights are updated.
    pub optimizer: Optimizer,
    /// What is minimised.
    pub loss: Loss,
    /// For a model with several outputs, one loss per output (instead of `loss`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<HeadLoss>,
    /// How the learning rate changes.
    pub schedule: Schedule,
    /// Clip the global gradient norm to this value.
    pub clip_norm: Option<f32>,
    /// Stop after this many epochs without a better validation score.
    pub patience: Option<usize>,
    /// Seed of shuffling, augmentation, dropout and initialisation.
    pub seed: u64,
    /// Seed of the random validation/test split, apart from `seed`, so that runs with other
    /// training seeds are scored on the same test set.
    pub split_seed: u64,
    /// Visit the training data in a new random order each epoch (off: file order, as a
    /// PyTorch DataLoader without shuffle, for step-by-step comparisons).
    pub shuffle: bool,
    /// Train on a random strand of each sequence.
    pub augment_rc: bool,
    /// Shift each sequence by up to this many bases (filling with N).
    pub max_shift: usize,
    /// Weight positives by negatives/positives per label (binary cross-entropy only).
    pub balance: bool,
    /// How validation and test data are held out.
    pub split: Split,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 64,
            optimizer: Optimizer::adam(1e-3),
            loss: Loss::BceWithLogits { pos_weight: None },
            heads: Vec::new(),
            schedule: Schedule::Constant,
            clip_norm: None,
            patience: Some(5),
            seed: 1,
            split_seed: 1,
            shuffle: true,
            augment_rc: false,
            max_shift: 0,
            balance: false,
            split: Split::Random {
                valid: 0.1,
                test: 0.1,
                stratify: false,
            },
        }
    }
}

/// One epoch's line of the training log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    /// The epoch (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Mean validation loss, when there is validation data.
    pub valid_loss: Option<f64>,
    /// Mean AUROC (classification) or mean Pearson r (regression) on validation data; for
    /// a multi-output model, minus the validation loss (what picks its best epoch).
    pub valid_score: Option<f64>,
    /// The learning rate used.
    pub lr: f32,
    /// Wall-clock seconds of the epoch's training steps (0 where no clock is available).
    #[serde(default)]
    pub train_seconds: f64,
    /// Training sequences seen in the epoch.
    #[serde(default)]
    pub train_sequences: usize,
}

/// Seconds since `start` (a no-op in wasm32, where `Instant` has no clock).
struct Stopwatch(#[cfg(not(target_arch = "wasm32"))] std::time::Instant);

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch(
            #[cfg(not(target_arch = "wasm32"))]
            std::time::Instant::now(),
        )
    }

    fn seconds(&self) -> f64 {
        #[cfg(not(target_arch = "wasm32"))]
        {
            self.0.elapsed().as_secs_f64()
        }
        #[cfg(target_arch = "wasm32")]
        {
            0.0
        }
    }
}

/// Everything needed to continue training: weights, optimiser and schedule state, progress.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The run's hyper-parameters.
    pub config: TrainConfig,
    /// The input alphabet.
    pub alphabet: Alphabet,
    /// The target columns.
    pub labels: Vec<String>,
    /// The weights now.
    pub graph: Graph,
    /// The weights of the best validation score.
    pub best: Graph,
    /// That score.
    pub best_score: Option<f64>,
    /// Epochs since it improved.
    pub stale_epochs: usize,
    /// The optimiser's state.
    pub optim: OptimState,
    /// The schedule's state.
    pub scheduler: Scheduler,
    /// Epochs completed.
    pub epoch: usize,
    /// One line per epoch.
    pub log: Vec<EpochLog>,
    /// Whether training stopped for lack of improvement.
    pub stopped_early: bool,
}

/// What the loop reports as it goes.
pub enum Event<'a> {
    /// A training step finished.
    Batch {
        /// The epoch (1-based).
        epoch: usize,
        /// Steps done in it.
        done: usize,
        /// Steps in it.
        total: usize,
        /// The mean loss of the epoch's steps so far.
        loss: f64,
        /// This step's loss.
        step_loss: f64,
        /// This step's loss per output, for a model with several (else empty).
        step_heads: Vec<f64>,
    },
    /// An epoch finished, with its checkpoint.
    Epoch {
        /// The epoch's log line.
        log: &'a EpochLog,
        /// The state to save.
        checkpoint: &'a Checkpoint,
    },
}

impl Checkpoint {
    /// A fresh run: `graph` untrained, nothing logged.
    pub fn new(
        graph: Graph,
        config: TrainConfig,
        alphabet: Alphabet,
        labels: Vec<String>,
    ) -> Checkpoint {
        let scheduler = Scheduler::new(config.schedule.clone(), config.optimizer.lr());
        Checkpoint {
            best: graph.clone(),
            graph,
            config,
            alphabet,
            labels,
            best_score: None,
            stale_epochs: 0,
            optim: OptimState::default(),
            scheduler,
            epoch: 0,
            log: Vec::new(),
            stopped_early: false,
        }
    }

    fn length(&self) -> usize {
        self.graph.input_shape.get(1).copied().unwrap_or(0)
    }

    /// Is the loss a classification loss (scores are AUROC, outputs probabilities)?
    pub fn classification(&self) -> bool {
        self.graph.heads.is_empty()
            && matches!(
                self.config.loss,
                Loss::BceWithLogits { .. } | Loss::SoftmaxCrossEntropy
            )
    }

    /// What training minimises: the config's `loss`, or for a model with several outputs
    /// its `heads`, one per output.
    pub fn objective(&self) -> Result<Objective, crate::Error> {
        let bad = |m: String| crate::Error::Invalid(m);
        if self.graph.heads.is_empty() {
            if !self.config.heads.is_empty() {
                return Err(bad(
                    "[[train.heads]] gives losses per output, but the model has one output".into(),
                ));
            }
            return Ok(Objective::single(self.config.loss.clone()));
        }
        let item = &self.graph.input_shape;
        let heads: Vec<(String, usize)> = self
            .graph
            .head_outputs(item)?
            .into_iter()
            .map(|h| (h.name, h.shape.iter().product()))
            .collect();
        Objective::heads(&heads, &self.config.heads).map_err(bad)
    }
}

/// The activation that turns the graph's logits into the predictions users see.
pub fn output_activation(loss: &Loss) -> Option<Layer> {
    match loss {
        Loss::BceWithLogits { .. } => Some(Layer::Sigmoid),
        Loss::SoftmaxCrossEntropy | Loss::MultinomialNll => Some(Layer::Softmax),
        Loss::Poisson => Some(Layer::Exp),
        Loss::Mse => None,
    }
}

fn epoch_rng(seed: u64, epoch: usize) -> nn::Rng {
    nn::rng(seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Strand and shift augmentation of a batch: the draws, whether to take a random strand,
/// the largest shift, and the target columns a reverse complement reverses (a profile's).
struct Augment<'a> {
    rng: &'a mut nn::Rng,
    rc: bool,
    shift: usize,
    flip: std::ops::Range<usize>,
}

/// Encodes rows `idx` of `d` as `[n, C, L]`, with optional strand and shift augmentation.
fn batch(
    d: &Dataset,
    idx: &[usize],
    enc: &Encoder,
    length: usize,
    aug: Option<Augment>,
) -> Result<(Tensor, Tensor), crate::Error> {
    let c = enc.channels();
    let k = d.labels.len();
    let mut x = vec![0.0; idx.len() * c * length];
    let mut y = Vec::with_capacity(idx.len() * k);
    let wildcard = enc.alphabet().wildcard();
    let mut aug = aug;
    for (b, &i) in idx.iter().enumerate() {
        let (mut s, _) = encode::fit(&d.seqs[i], length, wildcard);
        y.extend_from_slice(d.row(i));
        if let Some(Augment {
            rng,
            rc,
            shift,
            flip,
        }) = aug.as_mut()
        {
            if *rc && rng.random::<bool>() {
                encode::reverse_complement_in_place(&mut s, enc.alphabet())?;
                // A profile row [tracks, positions] reversed: positions run backwards and
                // the tracks swap (plus for minus), as on the other strand.
                let row = y.len() - k;
                y[row + flip.start..row + flip.end].reverse();
            }
            if *shift > 0 {
                let sh = rng.random_range(-(*shift as i64)..=*shift as i64);
                let mut out = vec![wildcard; length];
                for (t, o) in out.iter_mut().enumerate() {
                    let src = t as i64 - sh;
                    if (0..length as i64).contains(&src) {
                        *o = s[src as usize];
                    }
                }
                s = out;
            }
        }
        enc.encode_into(
            &d.ids[i],
            &s,
            Layout::Ncl,
            &mut x[b * c * length..(b + 1) * c * length],
        )?;
    }
    Ok((
        Tensor::new(&[idx.len(), c, length], x)?,
        Tensor::new(&[idx.len(), k], y)?,
    ))
}

fn encoder(alphabet: Alphabet) -> Encoder {
    Encoder::new(alphabet, NPolicy::Zero, UnknownPolicy::AsN)
}

/// Predictions (after the output activation of a single loss; a multi-output model's raw
/// outputs) and the mean loss of `graph` on `d`.
pub fn predict(
    graph: &Graph,
    objective: &Objective,
    alphabet: Alphabet,
    d: &Dataset,
) -> Result<(Vec<f32>, f64), crate::Error> {
    let enc = encoder(alphabet);
    let length = graph.input_shape[1];
    let act = objective.loss().and_then(output_activation);
    let (mut out, mut total) = (Vec::with_capacity(d.targets.len()), 0.0);
    let idx: Vec<usize> = (0..d.len()).collect();
    for chunk in idx.chunks(256) {
        let (x, y) = batch(d, chunk, &enc, length, None)?;
        let logits = graph.predict(&x)?;
        total += objective.compute(&logits, &y)?.0 * chunk.len() as f64;
        let probs = match &act {
            Some(a) => a.forward(&[&logits], &mut Mode::Eval)?.0,
            None => logits,
        };
        out.extend_from_slice(&probs.data);
    }
    Ok((out, total / d.len().max(1) as f64))
}

/// Metrics of `graph` on `d`: one row per label, then the mean.
pub fn evaluate(
    ck: &Checkpoint,
    graph: &Graph,
    d: &Dataset,
) -> Result<(Vec<Metrics>, f64), crate::Error> {
    let objective = ck.objective()?;
    let (pred, loss) = predict(graph, &objective, ck.alphabet, d)?;
    let m = if objective.loss().is_some() {
        metrics::evaluate(&pred, &d.targets, &d.labels, ck.classification())
    } else {
        metrics::evaluate_heads(&pred, &d.targets, &objective)
    };
    Ok((m, loss))
}

/// The target columns a reverse complement reverses for a multi-output model: its profile
/// (the first output, `[tracks, positions]`, centred in the input so that the other strand
/// sees the same window), when every other output is a log total, which a strand does not
/// change. bpnet-lite augments so.
fn rc_columns(g: &Graph, objective: &Objective) -> Result<std::ops::Range<usize>, String> {
    let p = profile_targets(g)?;
    let size = p.tracks * p.positions;
    if 2 * p.offset + p.positions != g.input_shape[1] {
        return Err(format!(
            "the profile's {} positions from {} are not centred in the {}-base input, so the \
             other strand sees another window",
            p.positions, p.offset, g.input_shape[1]
        ));
    }
    let terms = objective.terms();
    let profile_first = terms
        .first()
        .is_some_and(|t| !t.log_total && t.out == (0..size) && t.columns == (0..size));
    let rest_totals = terms.iter().skip(1).all(|t| t.log_total);
    if !(profile_first && rest_totals) {
        return Err(format!(
            "only a profile with log-total outputs ({}) can be flipped to the other strand",
            objective.head_names().join(", ")
        ));
    }
    Ok(0..size)
}

/// The validation score that picks the best epoch: mean AUROC or Pearson r; none for a
/// multi-output model, which (as bpnet-lite) is picked by its validation loss.
fn score(ck: &Checkpoint, m: &[Metrics]) -> Option<f64> {
    if !ck.graph.heads.is_empty() {
        return None;
    }
    let classification = ck.classification();
    let mean = m.last()?;
    if classification {
        mean.auroc
    } else {
        mean.pearson
    }
}

/// Where training steps run: the CPU engine ([`CpuSteps`]) or a device that keeps its own
/// copy of the weights between steps (`train::gpu::GpuSteps`).
pub trait Steps {
    /// One step on the batch `x` with targets `y`: forward in training mode (dropout drawn
    /// from `rng`), the objective, backward, gradient clipping (`ck.config.clip_norm`) and
    /// the optimiser's update at rate `lr`. Returns the loss and each output's loss.
    fn step(
        &mut self,
        ck: &mut Checkpoint,
        x: Tensor,
        y: &Tensor,
        objective: &Objective,
        rng: &mut nn::Rng,
        lr: f32,
    ) -> Result<(f64, Vec<f64>), crate::Error>;

    /// Brings the weights and optimiser state into `ck` (before validation, checkpoints and
    /// the end of training).
    fn sync(&mut self, ck: &mut Checkpoint) -> Result<(), crate::Error>;
}

/// Training steps on the CPU engine, in place on `ck.graph`.
pub struct CpuSteps;

impl Steps for CpuSteps {
    fn step(
        &mut self,
        ck: &mut Checkpoint,
        x: Tensor,
        y: &Tensor,
        objective: &Objective,
        rng: &mut nn::Rng,
        lr: f32,
    ) -> Result<(f64, Vec<f64>), crate::Error> {
        ck.graph.zero_grad();
        let tape = ck.graph.forward(x, Mode::Train(rng))?;
        let (l, heads, dy) = objective.compute(tape.output(), y)?;
        ck.graph.backward_params(&tape, dy)?;
        let mut params = ck.graph.params_mut();
        if let Some(max) = ck.config.clip_norm {
            clip_grad_norm(&mut params, max);
        }
        ck.optim.step(&ck.config.optimizer, &mut params, lr);
        Ok((l, heads))
    }

    fn sync(&mut self, _: &mut Checkpoint) -> Result<(), crate::Error> {
        Ok(())
    }
}

/// Trains on the CPU from `ck.epoch` until `ck.config.epochs` or early stopping.
pub fn fit(
    ck: &mut Checkpoint,
    train: &Dataset,
    valid: &Dataset,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), crate::Error> {
    fit_on(ck, train, valid, &mut CpuSteps, on_event)
}

/// Trains from `ck.epoch` until `ck.config.epochs` or early stopping, with the steps run by
/// `steps`.
pub fn fit_on(
    ck: &mut Checkpoint,
    train: &Dataset,
    valid: &Dataset,
    steps: &mut dyn Steps,
    on_event: &mut dyn FnMut(Event),
) -> Result<(), crate::Error> {
    let enc = encoder(ck.alphabet);
    let length = ck.length();
    let mut objective = ck.objective()?;
    if ck.config.augment_rc
        && let Some(loss) = objective.loss()
    {
        // One output with values per position: which of them the other strand's values are
        // depends on what the classes mean (strands swap, splice sites do not), so the
        // targets cannot be flipped blindly.
        let out = ck.graph.shapes(&ck.graph.input_shape)?;
        if out.last().is_some_and(|s| s.len() == 2) || *loss == Loss::MultinomialNll {
            return Err(crate::Error::Invalid(
                "reverse-complement augmentation of one output with values per position would \
                 leave its targets unflipped; train without it (or as a profile with a count \
                 output, whose strands flip)"
                    .into(),
            ));
        }
    }
    let mut flip = 0..0;
    if let Some(k) = objective.target_columns() {
        // Shifting a sequence would need its per-position targets shifted too, with values
        // from beyond the window; class balancing has no meaning for profiles.
        let c = &ck.config;
        if c.augment_rc {
            flip = rc_columns(&ck.graph, &objective).map_err(|why| {
                crate::Error::Invalid(format!("reverse-complement augmentation: {why}"))
            })?;
        }
        for (on, what) in [
            (c.max_shift > 0, "shift augmentation"),
            (c.balance, "class balancing"),
        ] {
            if on {
                return Err(crate::Error::Invalid(format!(
                    "{what} is not supported for a model with several outputs ({})",
                    objective.head_names().join(", ")
                )));
            }
        }
        if train.labels.len() != k {
            return Err(crate::Error::Invalid(format!(
                "the heads ({}) are trained on {k} target columns; the data has {}",
                objective.head_names().join(", "),
                train.labels.len()
            )));
        }
    }
    if ck.config.balance
        && let Some(mut loss) = objective.loss().cloned()
        && let Loss::BceWithLogits { pos_weight } = &mut loss
    {
        let k = train.labels.len();
        *pos_weight = Some(
            (0..k)
                .map(|j| {
                    let pos = (0..train.len())
                        .filter(|&i| train.row(i)[j] > 0.5)
                        .count()
                        .max(1);
                    (train.len() - pos).max(1) as f32 / pos as f32
                })
                .collect(),
        );
        objective = Objective::single(loss);
    }
    while ck.epoch < ck.config.epochs && !ck.stopped_early {
        let epoch = ck.epoch;
        let lr = ck.scheduler.update(epoch, ck.best_score);
        let mut rng = epoch_rng(ck.config.seed, epoch);
        let mut order: Vec<usize> = (0..train.len()).collect();
        if ck.config.shuffle {
            order.shuffle(&mut rng);
        }
        let bs = ck.config.batch_size.max(1);
        let total = order.len().div_ceil(bs);
        let mut sum = 0.0;
        let clock = Stopwatch::start();
        for (b, chunk) in order.chunks(bs).enumerate() {
            let (x, y) = batch(
                train,
                chunk,
                &enc,
                length,
                Some(Augment {
                    rng: &mut rng,
                    rc: ck.config.augment_rc,
                    shift: ck.config.max_shift,
                    flip: flip.clone(),
                }),
            )?;
            let (l, heads) = steps.step(ck, x, &y, &objective, &mut rng, lr)?;
            sum += l;
            on_event(Event::Batch {
                epoch,
                done: b + 1,
                total,
                loss: sum / (b + 1) as f64,
                step_loss: l,
                step_heads: heads,
            });
        }
        steps.sync(ck)?;
        let train_seconds = clock.seconds();
        let (valid_loss, valid_score) = if valid.is_empty() {
            (None, None)
        } else {
            let (m, l) = evaluate(ck, &ck.graph, valid)?;
            (Some(l), score(ck, &m).or(Some(-l)))
        };
        let improved = match (valid_score, ck.best_score) {
            (Some(s), Some(b)) => s > b,
            (Some(_), None) => true,
            (None, _) => true,
        };
        if improved {
            ck.best_score = valid_score;
            ck.best = ck.graph.clone();
            ck.stale_epochs = 0;
        } else {
            ck.stale_epochs += 1;
        }
        ck.epoch += 1;
        if ck.config.patience.is_some_and(|p| ck.stale_epochs >= p) {
            ck.stopped_early = true;
        }
        let log = EpochLog {
            epoch: ck.epoch,
            train_loss: sum / total.max(1) as f64,
            valid_loss,
            valid_score,
            lr,
            train_seconds,
            train_sequences: order.len(),
        };
        ck.log.push(log.clone());
        on_event(Event::Epoch {
            log: &log,
            checkpoint: ck,
        });
    }
    Ok(())
}

/// The graph users get: the best weights with the output activation appended.
pub fn final_graph(ck: &Checkpoint) -> Graph {
    let mut g = ck.best.clone();
    if !g.heads.is_empty() {
        return g;
    }
    if let Some(act) = output_activation(&ck.config.loss) {
        let name = format!("{}_out", ck.config.loss.name());
        g.push(name, act)
            .expect("appending one activation to a non-empty graph");
    }
    g
}

/// Where a profile model's first output lies in its input window: `tracks` values per
/// position over `positions` bases from input position `offset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProfileTargets {
    /// Values per position (strands, or tasks).
    pub tracks: usize,
    /// The input position of output position 0.
    pub offset: usize,
    /// Output positions.
    pub positions: usize,
}

/// The geometry of `g`'s profile output (its first output, `[tracks, positions]`, placed
/// by [`Graph::position_offset`]): where signal-track targets are read.
pub fn profile_targets(g: &Graph) -> Result<ProfileTargets, String> {
    let heads = g.head_outputs(&g.input_shape).map_err(|e| e.to_string())?;
    let Some(first) = heads.first() else {
        return Err(
            "the model has one output; signal tracks are the targets of a profile \
                    model with a count output (the bpnet preset)"
                .into(),
        );
    };
    let [tracks, positions] = first.shape[..] else {
        return Err(format!(
            "the model's first output '{}' is {:?} per sequence, not [tracks, positions]",
            first.name, first.shape
        ));
    };
    let length = g.input_shape[1];
    match g.position_offset(first.value) {
        Some(offset) if offset + positions <= length => Ok(ProfileTargets {
            tracks,
            offset,
            positions,
        }),
        _ => Err(format!(
            "the positions of the model's output '{}' cannot be placed in its input (only \
             stride-1 convolutions, crops and element-wise layers keep them)",
            first.name
        )),
    }
}

/// How an exported model describes its outputs: its labels and [`Output`].
///
/// One output: the target columns' names. A BPNet-style pair (a profile `[classes,
/// positions]` trained with the multinomial NLL, then one value trained on its log total) is
/// a profile model whose tracks are predicted counts (`seqlens.output = profile`,
/// `seqlens.counts = log_total`), when [`Graph::position_offset`] places its positions in the
/// input; its labels are the classes' names from the target columns (`plus_0, plus_1, ...`
/// gives `plus`), else `class_0, ...`. Any other multi-output model reports its values, which
/// the reader names.
pub fn output_metadata(ck: &Checkpoint, g: &Graph) -> Result<(Vec<String>, Output), crate::Error> {
    if g.heads.is_empty() {
        return Ok((ck.labels.clone(), Output::Values));
    }
    let values = Ok((Vec::new(), Output::Values));
    let heads = g.head_outputs(&g.input_shape)?;
    let [profile, count] = heads.as_slice() else {
        return values;
    };
    let loss = |name: &str| ck.config.heads.iter().find(|h| h.name == name);
    let bpnet = matches!(
        (loss(&profile.name), loss(&count.name)),
        (Some(p), Some(c))
            if p.loss == Loss::MultinomialNll
                && p.target == super::HeadTarget::Columns
                && c.target == (super::HeadTarget::LogTotal { of: profile.name.clone() })
    );
    let Ok(ProfileTargets {
        tracks: classes,
        offset,
        positions,
    }) = profile_targets(g)
    else {
        return values;
    };
    let context = g.input_shape[1] - positions;
    if !bpnet || count.shape != [1] || ck.labels.len() != classes * positions {
        return values;
    }
    let labels = (0..classes)
        .map(|c| {
            let cols = &ck.labels[c * positions..(c + 1) * positions];
            let prefix = cols[0].strip_suffix("_0").unwrap_or_default();
            let named = !prefix.is_empty()
                && cols
                    .iter()
                    .enumerate()
                    .all(|(j, l)| *l == format!("{prefix}_{j}"));
            if named {
                prefix.to_string()
            } else {
                format!("class_{c}")
            }
        })
        .collect();
    Ok((
        labels,
        Output::Profile {
            offset,
            context,
            log_total: true,
        },
    ))
}

/// Readies an imported model for fine-tuning: drops a trailing output activation (training
/// works on logits), freezes the parameters of the first `freeze` layers that have any, and
/// with `new_head = Some(k)` replaces the last dense layer by a fresh one with `k` outputs.
pub fn prepare_finetune(
    mut g: Graph,
    freeze: usize,
    new_head: Option<usize>,
    seed: u64,
) -> Result<Graph, nn::Error> {
    if g.nodes.len() > 1
        && matches!(
            g.nodes.last().map(|n| &n.layer),
            Some(Layer::Sigmoid | Layer::Softmax | Layer::Exp)
        )
    {
        g.nodes.pop();
    }
    let mut frozen = 0;
    for node in &mut g.nodes {
        if frozen >= freeze {
            break;
        }
        let params = node.layer.params_mut();
        if !params.is_empty() {
            params.into_iter().for_each(|p| p.frozen = true);
            frozen += 1;
        }
    }
    if let Some(k) = new_head {
        let Some(Layer::Linear(last)) = g.nodes.last().map(|n| &n.layer) else {
            return Err(nn::Error::Graph(
                "--new-head needs a model that ends in a dense layer".into(),
            ));
        };
        let fresh = nn::Linear::new(last.in_features, k, true, &mut nn::rng(seed));
        if let Some(n) = g.nodes.last_mut() {
            n.layer = Layer::Linear(fresh);
        }
    }
    Ok(g)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reverse-complemented sequence's profile targets run backwards with the strands
    /// swapped (by hand: [plus 1 2 3, minus 4 5 6] becomes [plus 6 5 4, minus 3 2 1]); a
    /// sequence left as it is keeps them. The BPNet preset flips its whole profile and no
    /// more.
    #[test]
    fn reverse_complement_flips_profile_targets() {
        let d = Dataset {
            ids: vec!["s".into()],
            seqs: vec![b"AACG".to_vec()],
            chroms: vec![None],
            groups: Vec::new(),
            labels: (0..7).map(|i| format!("c{i}")).collect(),
            targets: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0],
        };
        let enc = encoder(Alphabet::Dna);
        let forward = batch(&d, &[0], &enc, 4, None).unwrap().0;
        let mut seen = [false; 2];
        for seed in 0..20 {
            let mut rng = nn::rng(seed);
            let aug = Augment {
                rng: &mut rng,
                rc: true,
                shift: 0,
                flip: 0..6,
            };
            let (x, y) = batch(&d, &[0], &enc, 4, Some(aug)).unwrap();
            let flipped = x.data != forward.data;
            let want: &[f32] = if flipped {
                &[6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 9.0]
            } else {
                &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 9.0]
            };
            assert_eq!(y.data, want, "seed {seed}");
            seen[usize::from(flipped)] = true;
        }
        assert_eq!(seen, [true, true]);

        let g = super::super::preset("bpnet", 0.25, Some(3))
            .unwrap()
            .build(4, 300, 356, 1)
            .unwrap();
        let heads: Vec<(String, usize)> = g
            .head_outputs(&g.input_shape)
            .unwrap()
            .into_iter()
            .map(|h| (h.name, h.shape.iter().product()))
            .collect();
        let objective = Objective::heads(&heads, &super::super::preset_losses("bpnet")).unwrap();
        assert_eq!(rc_columns(&g, &objective), Ok(0..356));

        // One output trained as a profile: its targets cannot be flipped, so refused.
        let g = super::super::preset("deepbind", 0.25, None)
            .unwrap()
            .build(4, 4, 7, 1)
            .unwrap();
        let config = TrainConfig {
            loss: Loss::MultinomialNll,
            augment_rc: true,
            ..Default::default()
        };
        let mut ck = Checkpoint::new(g, config, Alphabet::Dna, d.labels.clone());
        let err = fit(&mut ck, &d, &Dataset::default(), &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("unflipped"), "{err}");
    }
}
