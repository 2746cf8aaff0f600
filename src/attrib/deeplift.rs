//! DeepLIFT/DeepSHAP (Shrikumar et al. 2017; Lundberg and Lee 2017) as tangermeme's
//! `deep_lift_shap` computes it: DeepLIFT multipliers of the target for the sequence against
//! each of several references (dinucleotide shuffles, or the user's), turned into
//! hypothetical contributions for every symbol at every position and averaged over the
//! references. Each (sequence, reference) pair also gets its convergence delta: how far the
//! contributions' sum is from `f(x) - f(reference)`, which DeepLIFT's rules make equal.
//!
//! The multipliers come from the model's DeepLIFT backward pass ([`Model::deeplift`]): on
//! the GPU where its kernels cover the graph, else the CPU engine's ([`Graph::deeplift`]);
//! both refuse any layer without a rule.

use crate::model::Model;
#[cfg(doc)]
use crate::nn::Graph;
use crate::nn::Tensor;

/// (sequence, reference) pairs per pass: each pass holds every activation of twice this
/// many inputs.
const PAIRS_PER_PASS: usize = 16;

/// tangermeme's default `warning_threshold`: a convergence delta above it is reported.
pub const DELTA_TOLERANCE: f32 = 1e-3;

/// DeepLIFT/DeepSHAP attributions of one sequence.
#[derive(Clone, Debug, PartialEq)]
pub struct DeepShap {
    /// `[channels, length]`: the hypothetical contribution of each symbol at each position,
    /// had it been the observed one, averaged over the references (tangermeme's
    /// `hypothetical=True`; what TF-MoDISco reads).
    pub hypothetical: Vec<f32>,
    /// One value per position: the contribution of the observed input there, the
    /// hypothetical contributions weighted by the input (tangermeme's `hypothetical=False`,
    /// summed over the symbols).
    pub per_base: Vec<f32>,
    /// Per reference, `|sum((x - r) * m) - (f(x) - f(r))|`.
    pub deltas: Vec<f32>,
    /// The target's value on the sequence.
    pub value: f32,
}

impl DeepShap {
    /// The largest convergence delta over the references.
    pub fn max_delta(&self) -> f32 {
        self.deltas.iter().copied().fold(0.0, f32::max)
    }
}

/// DeepLIFT/DeepSHAP of the target `sum_j weights[j] * output[j]` for one input `x`
/// (`[1, channels, length]`) against `references` (each shaped like `x`).
pub async fn deep_lift_shap(
    model: &mut Model,
    x: &Tensor,
    references: &[Tensor],
    weights: &[f32],
) -> Result<DeepShap, crate::Error> {
    let (c, l) = match x.shape[..] {
        [1, c, l] => (c, l),
        _ => {
            return Err(crate::Error::Invalid(format!(
                "DeepLIFT/SHAP explains one sequence [1, channels, length] at a time, got {:?}",
                x.shape
            )));
        }
    };
    if references.is_empty() {
        return Err(crate::Error::Invalid(
            "DeepLIFT/SHAP needs at least one reference".into(),
        ));
    }
    if let Some(r) = references.iter().find(|r| r.shape != x.shape) {
        return Err(crate::Error::Invalid(format!(
            "a reference of shape {:?} for a sequence of shape {:?}",
            r.shape, x.shape
        )));
    }
    let per = c * l;
    let mut hypothetical = vec![0.0f32; per];
    let mut deltas = Vec::with_capacity(references.len());
    let mut value = 0.0;
    for chunk in references.chunks(PAIRS_PER_PASS) {
        let n = chunk.len();
        let xs = Tensor::new(&[n, c, l], x.data.repeat(n))?;
        let refs = Tensor::new(
            &[n, c, l],
            chunk.iter().flat_map(|r| r.data.iter().copied()).collect(),
        )?;
        let m = model.deeplift(&xs, &refs, weights).await?;
        value = m.input_values[0];
        for (k, r) in chunk.iter().enumerate() {
            let mk = &m.multipliers.data[k * per..(k + 1) * per];
            let sum: f32 = (0..per).map(|j| (x.data[j] - r.data[j]) * mk[j]).sum();
            deltas.push((sum - (m.input_values[k] - m.reference_values[k])).abs());
            // Hypothetical contribution of symbol s at t: the multipliers of the one-hot
            // input that has s there, against the reference.
            for t in 0..l {
                let base: f32 = (0..c).map(|ch| r.data[ch * l + t] * mk[ch * l + t]).sum();
                for s in 0..c {
                    hypothetical[s * l + t] += mk[s * l + t] - base;
                }
            }
        }
    }
    let scale = 1.0 / references.len() as f32;
    hypothetical.iter_mut().for_each(|h| *h *= scale);
    let per_base = (0..l)
        .map(|t| {
            (0..c)
                .map(|s| hypothetical[s * l + t] * x.data[s * l + t])
                .sum()
        })
        .collect();
    Ok(DeepShap {
        hypothetical,
        per_base,
        deltas,
        value,
    })
}
