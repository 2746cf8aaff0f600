//! Gradient saliency through the engine: the gradient, gradient x input, and integrated
//! gradients (Sundararajan et al. 2017) from zero, uniform or dinucleotide-shuffled baselines.

use serde::{Deserialize, Serialize};

use super::Target;
use super::shuffle::dinucleotide_shuffle;
use crate::encode::{Encoder, Layout};
use crate::model::Model;
use crate::nn::{Error, Graph, Tensor};

/// What computes input gradients: the CPU engine's [`Graph`], or a [`Model`] on the backend
/// it runs on (the GPU where its kernels cover the graph, else the CPU engine). Async so that
/// the GPU's readbacks are awaited, in the browser too; the CPU engine never waits.
// Used through generics on one thread (wasm futures are not Send), so no Send bound.
#[allow(async_fn_in_trait)]
pub trait Gradients {
    /// The gradient of the weighted target summed over the batch, with respect to each input
    /// item (items are independent in evaluation mode, so each row is that item's gradient).
    async fn input_gradient(&mut self, x: &Tensor, target: &Target)
    -> Result<Tensor, crate::Error>;
}

impl Gradients for Graph {
    async fn input_gradient(
        &mut self,
        x: &Tensor,
        target: &Target,
    ) -> Result<Tensor, crate::Error> {
        let w = target.weights(self.output_len(&x.shape[1..])?)?;
        Ok(self.weighted_input_gradient(x, &w)?)
    }
}

impl Gradients for Model {
    async fn input_gradient(
        &mut self,
        x: &Tensor,
        target: &Target,
    ) -> Result<Tensor, crate::Error> {
        let k = self
            .engine_for("an input gradient")?
            .output_len(&x.shape[1..])?;
        let w = target.weights(k)?;
        Ok(self.weighted_input_gradient(x, &w).await?)
    }
}

/// Gradient attribution maps `[batch, channels, length]` for one-hot inputs `x` of an engine
/// graph (evaluation mode: batch norm uses running statistics, dropout is off).
pub async fn gradient<G: Gradients>(
    graph: &mut G,
    x: &Tensor,
    target: &Target,
) -> Result<Tensor, crate::Error> {
    graph.input_gradient(x, target).await
}

/// The gradient times the (one-hot) input: the contribution of each observed base.
pub async fn gradient_times_input<G: Gradients>(
    graph: &mut G,
    x: &Tensor,
    target: &Target,
) -> Result<Tensor, crate::Error> {
    let mut dx = graph.input_gradient(x, target).await?;
    dx.data.iter_mut().zip(&x.data).for_each(|(g, v)| *g *= v);
    Ok(dx)
}

/// The reference inputs that integrated gradients starts from and DeepLIFT/DeepSHAP
/// compares with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Baseline {
    /// All-zero input.
    Zeros,
    /// Every symbol equally likely at every position (1 / channels).
    Uniform,
    /// `count` dinucleotide-shuffled copies of the sequence (Altschul-Erickson), seeded; the
    /// attributions are averaged over them.
    Shuffle {
        /// Shuffled copies.
        count: usize,
        /// The shuffles' random seed.
        seed: u64,
    },
    /// The user's own reference sequences for each window, by the window's id (as
    /// `Attribution::id` names it); the attributions are averaged over them.
    Given {
        /// Reference sequences per window id, each of the window's length.
        references: std::collections::BTreeMap<String, Vec<String>>,
    },
}

impl Baseline {
    /// The CLI's and the package's names: zeros, uniform, or shuffle (`count` shuffles from
    /// `seed`).
    pub fn parse(name: &str, count: usize, seed: u64) -> Result<Baseline, crate::Error> {
        Ok(match name {
            "zeros" => Baseline::Zeros,
            "uniform" => Baseline::Uniform,
            "shuffle" => Baseline::Shuffle { count, seed },
            b => {
                return Err(crate::Error::Invalid(format!(
                    "unknown baseline '{b}'; expected zeros, uniform or shuffle"
                )));
            }
        })
    }

    /// The baseline inputs for the window `id` with sequence `seq`, each
    /// `[1, channels, length]`.
    pub fn inputs(
        &self,
        id: &str,
        seq: &[u8],
        encoder: &Encoder,
    ) -> Result<Vec<Tensor>, crate::Error> {
        let (c, l) = (encoder.channels(), seq.len());
        let encode = |name: &str, s: &[u8]| -> Result<Tensor, crate::Error> {
            Ok(Tensor::new(
                &[1, c, l],
                encoder.encode(name, s, Layout::Ncl)?,
            )?)
        };
        Ok(match self {
            Baseline::Zeros => vec![Tensor::zeros(&[1, c, l])],
            Baseline::Uniform => vec![Tensor::new(&[1, c, l], vec![1.0 / c as f32; c * l])?],
            Baseline::Shuffle { count, seed } => {
                if *count == 0 {
                    return Err(crate::Error::Invalid(
                        "a shuffled baseline needs at least one shuffle".into(),
                    ));
                }
                let mut rng = crate::nn::rng(*seed);
                (0..*count)
                    .map(|_| encode("shuffle", &dinucleotide_shuffle(seq, &mut rng)))
                    .collect::<Result<_, crate::Error>>()?
            }
            Baseline::Given { references } => {
                let given = references
                    .get(id)
                    .filter(|r| !r.is_empty())
                    .ok_or_else(|| {
                        crate::Error::Invalid(format!(
                            "no reference sequence is given for '{id}' (references are matched to \
                         sequences by id)"
                        ))
                    })?;
                given
                    .iter()
                    .enumerate()
                    .map(|(k, r)| {
                        let name = format!("reference {} of '{id}'", k + 1);
                        if r.len() != l {
                            return Err(crate::Error::Invalid(format!(
                                "{name} has {} bases; the sequence has {l}",
                                r.len()
                            )));
                        }
                        encode(&name, r.as_bytes())
                    })
                    .collect::<Result<_, crate::Error>>()?
            }
        })
    }
}

/// How many interpolated inputs go through the engine at once.
const IG_BATCH: usize = 32;

/// Integrated gradients of `target` for one input `x` (`[1, channels, length]`), averaged
/// over `baselines`: `(x - b) * mean over alpha of grad f(b + alpha (x - b))`, with the
/// midpoint rule over `steps` values of alpha. The attributions sum to approximately
/// `f(x) - mean f(b)` (completeness); more steps make that closer.
pub async fn integrated_gradients<G: Gradients>(
    graph: &mut G,
    x: &Tensor,
    baselines: &[Tensor],
    target: &Target,
    steps: usize,
) -> Result<Tensor, crate::Error> {
    if x.batch() != 1 || steps == 0 || baselines.is_empty() {
        return Err(Error::Shape(format!(
            "integrated gradients takes one input, at least one baseline and one step; got \
             batch {}, {} baselines, {steps} steps",
            x.batch(),
            baselines.len()
        ))
        .into());
    }
    let per = x.len();
    let mut total = vec![0.0f32; per];
    for b in baselines {
        if b.shape != x.shape {
            return Err(Error::Shape(format!(
                "baseline shape {:?} differs from input {:?}",
                b.shape, x.shape
            ))
            .into());
        }
        let diff: Vec<f32> = x.data.iter().zip(&b.data).map(|(x, b)| x - b).collect();
        let mut grad_sum = vec![0.0f32; per];
        let mut first = 0;
        while first < steps {
            let n = IG_BATCH.min(steps - first);
            let mut shape = x.shape.clone();
            shape[0] = n;
            let mut data = Vec::with_capacity(n * per);
            for i in first..first + n {
                let alpha = (i as f32 + 0.5) / steps as f32;
                data.extend(b.data.iter().zip(&diff).map(|(b, d)| b + alpha * d));
            }
            let g = graph
                .input_gradient(&Tensor::new(&shape, data)?, target)
                .await?;
            for item in g.data.chunks(per) {
                grad_sum.iter_mut().zip(item).for_each(|(s, v)| *s += v);
            }
            first += n;
        }
        let scale = 1.0 / (steps * baselines.len()) as f32;
        for ((t, g), d) in total.iter_mut().zip(&grad_sum).zip(&diff) {
            *t += g * d * scale;
        }
    }
    Ok(Tensor::new(&x.shape, total)?)
}
