//! Sequence design: editing a sequence one base at a time toward a goal for the model's
//! outputs, greedily or with a beam, under an edit budget (tangermeme's
//! `greedy_substitution` and `beam_substitution` with single-base substitutions).
//!
//! Each round scores every single-base substitution of every sequence in the beam. Those
//! scores are exactly saturation mutagenesis, so the scoring step is ISM: fast ISM through
//! the engine where it imports the model (only the receptive field of each substitution is
//! recomputed), or every mutant predicted whole on the model's backend.
//!
//! The search follows tangermeme 1.6 step for step, so that its designs are the same:
//! - the loss is the mean squared error of the selected outputs to the goal's values, or
//!   their negated mean to maximise them (seqlens adds their mean to minimise them);
//! - each round, per beam member and per base, the `beam` positions with the lowest loss are
//!   candidates, as are the members unchanged; the `beam` best candidates are kept (a
//!   min-heap that admits a candidate only when it beats the worst kept one), then
//!   identical sequences are merged, so the beam can hold fewer than `beam` sequences;
//! - the search stops after `edits` rounds, or after a round that improves the best
//!   member's loss by no more than `tol` (that round's edit is kept).
//!
//! A beam of 1 is `greedy_substitution`.

use std::ops::Range;

use serde::Serialize;

use crate::attrib::{Ism, fast_ism, ism_async};
use crate::encode::{Layout, UnknownPolicy, Window};
use crate::metadata::Output;
use crate::model::{Model, PredictOptions};
use crate::nn::Tensor;

/// What the selected outputs should become.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// As high as possible (the loss is their negated mean).
    Maximize,
    /// As low as possible (the loss is their mean).
    Minimize,
    /// These values, one per output of the model (the loss is the mean squared error over
    /// the selected outputs).
    Values(Vec<f32>),
}

/// How each round's substitutions are scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scoring {
    /// Fast ISM when the engine imports the model, else every mutant predicted.
    Auto,
    /// Fast ISM through the engine (refused when the engine cannot import the model).
    Fast,
    /// Every mutant predicted whole on the model's backend (any model).
    Naive,
}

/// The design's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct DesignOptions {
    /// What the selected outputs should become.
    pub goal: Goal,
    /// The outputs the loss reads (indices into the labels); empty: all of them.
    pub outputs: Vec<usize>,
    /// The most rounds, each making at most one substitution per sequence.
    pub edits: usize,
    /// Sequences kept per round; 1 is greedy.
    pub beam: usize,
    /// Designs returned, best first (at most `beam`).
    pub keep: usize,
    /// The search stops after a round that improves the best loss by no more than this.
    pub tol: f64,
    /// The positions that may change (0-based, half-open, in the window); `None`: all.
    pub region: Option<Range<usize>>,
    /// How substitutions are scored.
    pub scoring: Scoring,
    /// What to do with characters outside the model's alphabet.
    pub unknown: UnknownPolicy,
}

impl Default for DesignOptions {
    /// tangermeme's defaults where it has them: maximise every output, a beam of 1 (greedy),
    /// one design, `tol` 1e-3; a budget of 10 edits.
    fn default() -> DesignOptions {
        DesignOptions {
            goal: Goal::Maximize,
            outputs: Vec::new(),
            edits: 10,
            beam: 1,
            keep: 1,
            tol: 1e-3,
            region: None,
            scoring: Scoring::Auto,
            unknown: UnknownPolicy::Error,
        }
    }
}

/// One base changed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Substitution {
    /// The position in the window (0-based).
    pub position: usize,
    /// The base before.
    pub from: char,
    /// The base after.
    pub to: char,
}

impl std::fmt::Display for Substitution {
    /// `12A>G`, as variant notations write a substitution.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}>{}", self.position, self.from, self.to)
    }
}

/// A designed sequence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Designed {
    /// The sequence, the window's length.
    pub sequence: String,
    /// The substitutions that made it from the original, in the order made (a later one can
    /// change a position again).
    pub edits: Vec<Substitution>,
    /// The model's prediction of it, one value per label.
    pub prediction: Vec<f32>,
    /// Its loss.
    pub loss: f64,
}

/// The designs for one window.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Design {
    /// The window's id.
    pub id: String,
    /// The original sequence.
    pub sequence: String,
    /// The model's output labels.
    pub labels: Vec<String>,
    /// The prediction of the original sequence.
    pub original: Vec<f32>,
    /// The original sequence's loss.
    pub original_loss: f64,
    /// Rounds run.
    pub rounds: usize,
    /// How substitutions were scored: `fast ISM` or `ISM`.
    pub scoring: String,
    /// The designs, best (lowest loss) first.
    pub designs: Vec<Designed>,
}

/// A sequence in the beam.
#[derive(Clone)]
struct Member {
    seq: Vec<u8>,
    loss: f64,
    edits: Vec<Substitution>,
}

/// A round's candidate: a member, unchanged (`edit` None) or with one substitution.
struct Candidate {
    score: f64,
    counter: usize,
    member: usize,
    edit: Option<(usize, usize)>,
}

/// Checks `opts` against a model with `k` outputs and a window of `len` bases; returns the
/// selected outputs and the editable positions.
fn check(
    opts: &DesignOptions,
    k: usize,
    len: usize,
) -> Result<(Vec<usize>, Range<usize>), crate::Error> {
    let bad = |m: String| Err(crate::Error::Invalid(m));
    if opts.edits == 0 {
        return bad("design needs an edit budget of at least 1".into());
    }
    if opts.beam == 0 || opts.keep == 0 || opts.keep > opts.beam {
        return bad(format!(
            "design keeps {} of a beam of {}: the beam needs at least 1 sequence and keep \
             must be 1 to the beam's size",
            opts.keep, opts.beam
        ));
    }
    if !(opts.tol.is_finite() && opts.tol >= 0.0) {
        return bad(format!("tol {} is not a number >= 0", opts.tol));
    }
    let outputs = if opts.outputs.is_empty() {
        (0..k).collect()
    } else {
        opts.outputs.clone()
    };
    if let Some(&o) = outputs.iter().find(|&&o| o >= k) {
        return bad(format!(
            "output {o} is out of range: the model has {k} outputs"
        ));
    }
    if let Goal::Values(y) = &opts.goal
        && y.len() != k
    {
        return bad(format!(
            "the goal has {} values; the model has {k} outputs (give one per output; only \
             the selected ones count)",
            y.len()
        ));
    }
    let region = opts.region.clone().unwrap_or(0..len);
    if region.is_empty() || region.end > len {
        return bad(format!(
            "region {}-{} is not inside the window's {len} bases",
            region.start, region.end
        ));
    }
    Ok((outputs, region))
}

/// The loss of one prediction (as tangermeme computes it, in f64 here).
fn loss(goal: &Goal, outputs: &[usize], pred: &[f32]) -> f64 {
    let n = outputs.len() as f64;
    let sum: f64 = outputs
        .iter()
        .map(|&o| {
            let p = f64::from(pred[o]);
            match goal {
                Goal::Maximize => -p,
                Goal::Minimize => p,
                Goal::Values(y) => (p - f64::from(y[o])).powi(2),
            }
        })
        .sum();
    sum / n
}

/// Designs `window` toward `opts.goal` on `model`. `progress(round, edits)` is called after
/// each round; returning `false` cancels. Async so that a GPU's readbacks are awaited in the
/// browser; natively, `seqlens::blocking::block_on` runs it.
pub async fn design(
    model: &Model,
    window: &Window,
    opts: &DesignOptions,
    progress: &mut dyn FnMut(usize, usize) -> bool,
) -> Result<Design, crate::Error> {
    let meta = model.metadata();
    if let Output::Profile { .. } = meta.output {
        return Err(crate::Error::Invalid(
            "design of a profile model (outputs per position) is not implemented; it needs \
             a model with one value per output"
                .into(),
        ));
    }
    let fast = match opts.scoring {
        Scoring::Naive => false,
        Scoring::Fast => {
            model.engine_for("fast ISM scoring")?;
            true
        }
        Scoring::Auto => model.engine().is_ok(),
    };
    let symbols = meta.alphabet.symbols().to_vec();
    let c = symbols.len();
    let predict_opts = PredictOptions {
        unknown: opts.unknown,
        ..Default::default()
    };
    let predict = async |seqs: Vec<Vec<u8>>| {
        let windows = seqs.into_iter().map(|seq| window.with_seq(seq)).collect();
        model
            .predict_windows_async(windows, &predict_opts, &mut |_, _| true)
            .await
    };
    let first = predict(vec![window.seq.clone()]).await?;
    let original = first.row(0).to_vec();
    let labels = first.labels.clone();
    let (outputs, region) = check(opts, original.len(), window.seq.len())?;
    let loss = |pred: &[f32]| loss(&opts.goal, &outputs, pred);
    let original_loss = loss(&original);
    let encoder = model.encoder(opts.unknown);
    let score = async |seq: &[u8]| -> Result<Ism, crate::Error> {
        if fast {
            let x = Tensor::new(
                &[1, c, seq.len()],
                encoder.encode(&window.id, seq, Layout::Ncl)?,
            )?;
            let graph = model.engine_for("fast ISM scoring")?;
            fast_ism(graph, &x, seq, &symbols, region.clone(), &mut |_, _| true)
        } else {
            let w = window.with_seq(seq.to_vec());
            ism_async(model, &w, region.clone(), &predict_opts, &mut |_, _| true).await
        }
    };

    let mut beam = vec![Member {
        seq: window.seq.clone(),
        loss: original_loss,
        edits: Vec::new(),
    }];
    let mut loss_prev = original_loss;
    let mut rounds = 0;
    while rounds < opts.edits {
        let mut kept: Vec<Candidate> = Vec::with_capacity(opts.beam + 1);
        let mut counter = 0;
        let mut consider = |score: f64, member: usize, edit: Option<(usize, usize)>| {
            let cand = Candidate {
                score,
                counter,
                member,
                edit,
            };
            counter += 1;
            if kept.len() < opts.beam {
                kept.push(cand);
            } else {
                // The heap's root: the lowest score, the earliest candidate among equals.
                let (worst, w) = kept
                    .iter()
                    .enumerate()
                    .min_by(|a, b| {
                        (a.1.score.total_cmp(&b.1.score)).then(a.1.counter.cmp(&b.1.counter))
                    })
                    .map(|(i, k)| (i, k.score))
                    .expect("the beam is not empty");
                if score > w {
                    kept[worst] = cand;
                }
            }
        };
        for (m, member) in beam.iter().enumerate() {
            let ism = score(&member.seq).await?;
            let here = loss(&ism.reference);
            consider(-member.loss, m, None);
            let mut pred = ism.reference.clone();
            for (ci, &symbol) in symbols.iter().enumerate() {
                let mut by_position: Vec<(f64, usize)> = region
                    .clone()
                    .map(|t| {
                        if member.seq[t].eq_ignore_ascii_case(&symbol) {
                            return (here, t);
                        }
                        let at = ((t - region.start) * c + ci) * ism.labels;
                        for (o, p) in pred.iter_mut().enumerate() {
                            *p = ism.reference[o] + ism.delta[at + o];
                        }
                        (loss(&pred), t)
                    })
                    .collect();
                // Stable: among equal losses the earlier position comes first.
                by_position.sort_by(|a, b| a.0.total_cmp(&b.0));
                for &(l, t) in by_position.iter().take(opts.beam) {
                    consider(-l, m, Some((t, ci)));
                }
            }
        }
        kept.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.counter.cmp(&b.counter)));
        let mut next: Vec<Member> = Vec::with_capacity(kept.len());
        for cand in kept {
            let mut member = beam[cand.member].clone();
            if let Some((t, ci)) = cand.edit {
                member.edits.push(Substitution {
                    position: t,
                    from: char::from(member.seq[t]),
                    to: char::from(symbols[ci]),
                });
                member.seq[t] = symbols[ci];
            }
            member.loss = -cand.score;
            if !next.iter().any(|n| n.seq == member.seq) {
                next.push(member);
            }
        }
        beam = next;
        rounds += 1;
        let improvement = loss_prev - beam[0].loss;
        loss_prev = beam[0].loss;
        if !progress(rounds, opts.edits) {
            return Err(crate::Error::Invalid("cancelled".into()));
        }
        if improvement <= opts.tol {
            break;
        }
    }
    beam.truncate(opts.keep);
    let preds = predict(beam.iter().map(|m| m.seq.clone()).collect()).await?;
    let designs = beam
        .into_iter()
        .enumerate()
        .map(|(i, m)| Designed {
            sequence: String::from_utf8_lossy(&m.seq).into_owned(),
            edits: m.edits,
            prediction: preds.row(i).to_vec(),
            loss: loss(preds.row(i)),
        })
        .collect();
    Ok(Design {
        id: window.id.clone(),
        sequence: String::from_utf8_lossy(&window.seq).into_owned(),
        labels,
        original,
        original_loss,
        rounds,
        scoring: if fast { "fast ISM" } else { "ISM" }.into(),
        designs,
    })
}

/// The table `seqlens design` writes: id, rank, loss, edits (how many), substitutions
/// (`12A>G`, comma-separated, in the order made), one column per label with the design's
/// prediction, and the sequence. Rank 0 is the original sequence.
pub fn to_tsv(designs: &[Design]) -> String {
    let mut text = String::from("id\trank\tloss\tedits\tsubstitutions");
    if let Some(d) = designs.first() {
        for l in &d.labels {
            text.push('\t');
            text.push_str(l);
        }
    }
    text.push_str("\tsequence\n");
    let row = |text: &mut String, id: &str, rank: usize, loss: f64, edits: &[Substitution]| {
        let subs: Vec<String> = edits.iter().map(Substitution::to_string).collect();
        text.push_str(&format!(
            "{id}\t{rank}\t{loss}\t{}\t{}",
            edits.len(),
            subs.join(",")
        ));
    };
    for d in designs {
        // The original, for comparison: its sequence is the input's.
        row(&mut text, &d.id, 0, d.original_loss, &[]);
        for v in &d.original {
            text.push_str(&format!("\t{v}"));
        }
        text.push_str(&format!("\t{}\n", d.sequence));
        for (i, x) in d.designs.iter().enumerate() {
            row(&mut text, &d.id, i + 1, x.loss, &x.edits);
            for v in &x.prediction {
                text.push_str(&format!("\t{v}"));
            }
            text.push_str(&format!("\t{}\n", x.sequence));
        }
    }
    text
}

impl std::str::FromStr for Goal {
    type Err = String;

    /// `max`, `min`, or comma-separated values (one per output).
    fn from_str(text: &str) -> Result<Goal, String> {
        match text.trim() {
            "max" => Ok(Goal::Maximize),
            "min" => Ok(Goal::Minimize),
            t => t
                .split(',')
                .map(|v| match v.trim().parse::<f32>() {
                    Ok(x) if x.is_finite() => Ok(x),
                    _ => Err(format!(
                        "goal '{text}': '{v}' is not a number; expected max, min, or one \
                         value per output, comma-separated"
                    )),
                })
                .collect::<Result<_, _>>()
                .map(Goal::Values),
        }
    }
}

impl std::str::FromStr for Scoring {
    type Err = String;

    /// `auto`, `fast` (fast ISM) or `ism` (every mutant predicted).
    fn from_str(text: &str) -> Result<Scoring, String> {
        match text {
            "auto" => Ok(Scoring::Auto),
            "fast" => Ok(Scoring::Fast),
            "ism" => Ok(Scoring::Naive),
            _ => Err(format!(
                "scoring '{text}': expected auto, fast (fast ISM through the engine) or ism \
                 (every mutant predicted)"
            )),
        }
    }
}
