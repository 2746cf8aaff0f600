//! The training config file: `[model]` (architecture) and `[train]` (hyper-parameters).
//!
//! ```toml
//! [model]
//! preset = "basset"      # or: layers = [{ type = "conv", filters = 64, kernel = 19 }, ...]
//! length = 600
//! width = 0.5            # scale filters and units of a preset
//!
//! [train]
//! epochs = 20
//! batch_size = 64
//! optimizer = { type = "adam", lr = 0.001 }
//! loss = { type = "bce_with_logits" }
//! ```

use serde::{Deserialize, Serialize};

use super::arch::{Arch, HeadSpec, LayerSpec, bpnet_heads, preset, preset_losses};
use super::trainer::TrainConfig;
use crate::encode::Alphabet;

/// The `[model]` table: a preset or explicit layers, and what the input is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelSection {
    /// A published architecture (`PRESETS`).
    pub preset: Option<String>,
    /// Explicit layers, instead of a preset.
    pub layers: Option<Vec<LayerSpec>>,
    /// Outputs of a multi-output model, each its own layers after `layers` (with explicit
    /// layers; losses in `[[train.heads]]`).
    pub heads: Option<Vec<HeadSpec>>,
    /// Profile tracks of the BPNet preset (default 2: one per strand).
    pub tracks: Option<usize>,
    /// Input length in bases.
    pub length: Option<usize>,
    /// The input alphabet (default DNA).
    pub alphabet: Option<Alphabet>,
    /// Scales a preset's filters and units (1.0 as published).
    pub width: Option<f32>,
    /// Dilated residual layers of the BPNet preset (published: 9).
    pub depth: Option<usize>,
    /// Conv and dense weight initialisation: torch (default), kaiming_normal, xavier_uniform.
    pub init: Option<crate::nn::Init>,
}

/// A whole config file: `[model]` and `[train]`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunConfig {
    /// What is trained.
    pub model: ModelSection,
    /// How it is trained.
    pub train: TrainConfig,
}

impl RunConfig {
    /// Parses a config file's text; `name` is used in messages.
    pub fn from_toml(text: &str, name: &str) -> Result<RunConfig, String> {
        toml::from_str(text).map_err(|e| format!("{name}: {e}"))
    }

    /// The architecture: explicit layers, else the named preset.
    pub fn arch(&self) -> Result<Arch, String> {
        let m = &self.model;
        if m.tracks.is_some() && m.preset.as_deref() != Some("bpnet") {
            return Err(
                "[model] tracks sizes the bpnet preset's profile; for explicit layers, \
                        size the profile head's last convolution"
                    .into(),
            );
        }
        if m.heads.is_some() && m.layers.is_none() {
            return Err("[model] heads go with explicit layers; a preset brings its own".into());
        }
        match (&m.layers, &m.preset) {
            (Some(layers), None) => Ok(Arch {
                layers: layers.clone(),
                heads: m.heads.clone().unwrap_or_default(),
                init: m.init.unwrap_or_default(),
            }),
            (None, Some(p)) => {
                let mut arch = preset(p, m.width.unwrap_or(1.0), m.depth).ok_or_else(|| {
                    format!(
                        "unknown preset '{p}'; expected one of {}",
                        super::PRESETS.join(", ")
                    )
                })?;
                if let Some(tracks) = m.tracks {
                    if tracks == 0 {
                        return Err("[model] tracks must be at least 1".into());
                    }
                    arch.heads = bpnet_heads(tracks, m.depth.unwrap_or(super::arch::BPNET_DEPTH));
                }
                arch.init = m.init.unwrap_or_default();
                Ok(arch)
            }
            (Some(_), Some(_)) => Err("give either [model] layers or preset, not both".into()),
            (None, None) => Err(
                "the architecture is missing: set [model] preset or layers (or --preset)".into(),
            ),
        }
    }
}

impl RunConfig {
    /// Fills in a preset's per-output losses where `[train]` gives none (BPNet: bpnet-lite's
    /// profile and count losses).
    pub fn fill_preset_losses(&mut self) {
        if self.train.heads.is_empty()
            && self.model.layers.is_none()
            && let Some(p) = &self.model.preset
        {
            self.train.heads = preset_losses(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_model_and_train_sections() {
        let c = RunConfig::from_toml(
            "[model]\npreset = \"deepbind\"\nlength = 101\n[train]\nepochs = 3\noptimizer = { type = \"sgd\", lr = 0.1, momentum = 0.9 }\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.train.epochs, 3);
        assert_eq!(c.model.length, Some(101));
        assert!(c.arch().is_ok());
        let err = RunConfig::from_toml("[train]\nepochz = 3\n", "c.toml").unwrap_err();
        assert!(err.starts_with("c.toml") && err.contains("epochz"), "{err}");
        // The bpnet preset: bpnet-lite's losses by default, its profile sized by tracks.
        let mut c =
            RunConfig::from_toml("[model]\npreset = \"bpnet\"\ntracks = 1\n", "c.toml").unwrap();
        c.fill_preset_losses();
        let names: Vec<&str> = c.train.heads.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["profile", "counts"]);
        let arch = c.arch().unwrap();
        assert!(matches!(
            arch.heads[0].layers[0],
            LayerSpec::Conv { filters: 1, .. }
        ));
        let err = RunConfig::from_toml("[model]\npreset = \"basset\"\ntracks = 2\n", "c.toml")
            .unwrap()
            .arch()
            .unwrap_err();
        assert!(err.contains("tracks"), "{err}");
        let err = RunConfig::from_toml("[model]\npreset = \"alexnet\"\n", "c.toml")
            .unwrap()
            .arch()
            .unwrap_err();
        assert!(err.contains("unknown preset 'alexnet'"), "{err}");
    }
}
