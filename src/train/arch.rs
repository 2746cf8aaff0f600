//! Architectures as data: a list of layer specs (from a TOML/JSON config or a named preset)
//! built into an `nn::Graph` with seeded initial weights.

use serde::{Deserialize, Serialize};

use crate::nn::{self, BatchNorm1d, Conv1d, Graph, Layer, Linear, Padding, Pool1d, Rng};

/// One layer of an architecture, without weights. Sizes of inputs are inferred.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// A 1-D convolution.
    Conv {
        /// Output channels.
        filters: usize,
        /// Kernel width.
        kernel: usize,
        /// Step between output positions (default 1).
        #[serde(default = "one")]
        stride: usize,
        /// Spacing between taps (default 1).
        #[serde(default = "one")]
        dilation: usize,
        /// `same` (default) keeps the length at stride 1; `valid` does not pad.
        #[serde(default = "same")]
        padding: Padding,
    },
    /// A dense layer.
    Dense {
        /// Output features.
        units: usize,
    },
    /// Batch normalisation over channels.
    BatchNorm,
    /// max(0, x).
    Relu,
    /// `x` where positive, `exp(x) - 1` elsewhere.
    Elu,
    /// ln(1 + exp(x)).
    Softplus,
    /// exp(x).
    Exp,
    /// 1 / (1 + exp(-x)).
    Sigmoid,
    /// tanh(x).
    Tanh,
    /// `x` where positive, `alpha * x` elsewhere (PyTorch's default slope, 0.01, unless given).
    LeakyRelu {
        /// The slope below zero.
        #[serde(default = "leaky_slope")]
        alpha: f32,
    },
    /// Softmax over the features.
    Softmax,
    /// Max pooling over the length.
    MaxPool {
        /// Window width.
        size: usize,
        /// Step between windows (default: the width).
        #[serde(default)]
        stride: Option<usize>,
    },
    /// Average pooling over the length.
    AvgPool {
        /// Window width.
        size: usize,
        /// Step between windows (default: the width).
        #[serde(default)]
        stride: Option<usize>,
    },
    /// The maximum over the length.
    GlobalMaxPool,
    /// The mean over the length.
    GlobalAvgPool,
    /// Zeroes values with probability `p` while training.
    Dropout {
        /// The drop probability.
        p: f32,
    },
    /// Flattens channels and positions into features.
    Flatten,
    /// Drops positions from both ends of the length.
    Crop {
        /// Positions dropped at the start.
        left: usize,
        /// Positions dropped at the end.
        right: usize,
    },
    /// An LSTM over the length axis, `units` per direction (both directions concatenated
    /// along channels when bidirectional).
    Lstm {
        /// Hidden units per direction.
        units: usize,
        /// Read both ways (default: forward only).
        #[serde(default)]
        bidirectional: bool,
    },
    /// A GRU over the length axis (PyTorch's cell; ONNX `linear_before_reset = 1`).
    Gru {
        /// Hidden units per direction.
        units: usize,
        /// Read both ways (default: forward only).
        #[serde(default)]
        bidirectional: bool,
    },
    /// `x + f(x)` where `f` is the inner stack (which must keep the shape).
    Residual {
        /// The inner stack.
        layers: Vec<LayerSpec>,
    },
}

fn one() -> usize {
    1
}

fn leaky_slope() -> f32 {
    0.01
}

fn same() -> Padding {
    Padding::Same
}

/// A complete architecture: body layers, then a dense head to `outputs`, or, when `heads`
/// are given, one output per head, each its own layers on the body's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Arch {
    /// The layers, input first.
    pub layers: Vec<LayerSpec>,
    /// The outputs of a multi-output model (BPNet's profile and counts), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub heads: Vec<HeadSpec>,
    /// How conv and dense weights start: `torch` (PyTorch's default, so that the same
    /// architecture trains as it does there), `kaiming_normal` (He) or `xavier_uniform`
    /// (Glorot). Biases and recurrent layers always start as PyTorch's do.
    #[serde(default)]
    pub init: nn::Init,
}

/// One output of a multi-output architecture: layers on the body's output, the last of
/// which gives the output itself (no dense layer is added).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadSpec {
    /// The output's name (the ONNX output's, and `[[train.heads]]`'s).
    pub name: String,
    /// Its layers.
    pub layers: Vec<LayerSpec>,
}

use LayerSpec::*;

/// The published reference architectures, with widths scaled by `width` (1.0 = as
/// published) and, for BPNet, `depth` dilated residual layers (published: 9).
pub fn preset(name: &str, width: f32, depth: Option<usize>) -> Option<Arch> {
    let w = |n: usize| ((n as f32 * width).round() as usize).max(1);
    let conv = |f: usize, k: usize| Conv {
        filters: w(f),
        kernel: k,
        stride: 1,
        dilation: 1,
        padding: Padding::Valid,
    };
    let layers = match name {
        // Alipanahi et al. 2015: 16 motif detectors of length 24, max pooling, 32 hidden units.
        "deepbind" => vec![
            Conv {
                filters: w(16),
                kernel: 24,
                stride: 1,
                dilation: 1,
                padding: Padding::Same,
            },
            Relu,
            GlobalMaxPool,
            Dense { units: w(32) },
            Relu,
            Dropout { p: 0.5 },
        ],
        // Kelley et al. 2016 (600 bp): 300x19, 200x11, 200x7 conv with batch norm and max
        // pooling 3, 4, 4; two dense layers of 1000 with dropout 0.3.
        "basset" => vec![
            conv(300, 19),
            BatchNorm,
            Relu,
            MaxPool {
                size: 3,
                stride: None,
            },
            conv(200, 11),
            BatchNorm,
            Relu,
            MaxPool {
                size: 4,
                stride: None,
            },
            conv(200, 7),
            BatchNorm,
            Relu,
            MaxPool {
                size: 4,
                stride: None,
            },
            Flatten,
            Dense { units: w(1000) },
            BatchNorm,
            Relu,
            Dropout { p: 0.3 },
            Dense { units: w(1000) },
            BatchNorm,
            Relu,
            Dropout { p: 0.3 },
        ],
        // Zhou & Troyanskaya 2015 (1000 bp): 320x8, 480x8, 960x8 conv, pooling 4, dense 925.
        "deepsea" => vec![
            conv(320, 8),
            Relu,
            MaxPool {
                size: 4,
                stride: None,
            },
            Dropout { p: 0.2 },
            conv(480, 8),
            Relu,
            MaxPool {
                size: 4,
                stride: None,
            },
            Dropout { p: 0.2 },
            conv(960, 8),
            Relu,
            Dropout { p: 0.5 },
            Flatten,
            Dense { units: w(925) },
            Relu,
        ],
        // Quang & Xie 2016 (1000 bp): 320x26 conv, max pooling 13, a bidirectional LSTM of
        // 320 units per direction, dense 925.
        "danq" => vec![
            conv(320, 26),
            Relu,
            MaxPool {
                size: 13,
                stride: None,
            },
            Dropout { p: 0.2 },
            Lstm {
                units: w(320),
                bidirectional: true,
            },
            Dropout { p: 0.5 },
            Flatten,
            Dense { units: w(925) },
            Relu,
        ],
        // Avsec et al. 2021 as bpnet-lite (and ChromBPNet) build it: a 64x21 conv, dilated
        // residual 64x3 convs with dilation 2, 4, ..., 2^depth (default 8), then two heads
        // (bpnet_heads): a stranded profile and the log total count.
        "bpnet" => {
            let mut l = vec![
                Conv {
                    filters: w(64),
                    kernel: 21,
                    stride: 1,
                    dilation: 1,
                    padding: Padding::Same,
                },
                Relu,
            ];
            for i in 1..=depth.unwrap_or(BPNET_DEPTH) {
                l.push(Residual {
                    layers: vec![
                        Conv {
                            filters: w(64),
                            kernel: 3,
                            stride: 1,
                            dilation: 1 << i,
                            padding: Padding::Same,
                        },
                        Relu,
                    ],
                });
            }
            l
        }
        _ => return None,
    };
    let heads = match name {
        "bpnet" => bpnet_heads(2, depth.unwrap_or(BPNET_DEPTH)),
        _ => Vec::new(),
    };
    Some(Arch {
        layers,
        heads,
        init: nn::Init::Torch,
    })
}

/// bpnet-lite's default number of dilated residual layers.
pub(crate) const BPNET_DEPTH: usize = 8;

/// BPNet's two outputs after `depth` dilated layers, as bpnet-lite's `BPNet` (without control
/// tracks): `profile`, a 75-wide convolution to `tracks` logits per position (2: one per
/// strand), cropped by bpnet-lite's default trimming, 47 + 2 + 4 + ... + 2^depth positions
/// at either end (the receptive field's reach, so that every output position sees only real
/// sequence); and `counts`, the log total count, a dense layer on the body's mean over the
/// output window widened by 37 positions either side.
pub fn bpnet_heads(tracks: usize, depth: usize) -> Vec<HeadSpec> {
    let trim = 47 + (1..=depth).map(|i| 1usize << i).sum::<usize>();
    vec![
        HeadSpec {
            name: "profile".into(),
            layers: vec![
                Conv {
                    filters: tracks,
                    kernel: 75,
                    stride: 1,
                    dilation: 1,
                    padding: Padding::Same,
                },
                Crop {
                    left: trim,
                    right: trim,
                },
            ],
        },
        HeadSpec {
            name: "counts".into(),
            layers: vec![
                Crop {
                    left: trim - 37,
                    right: trim - 37,
                },
                GlobalAvgPool,
                Dense { units: 1 },
            ],
        },
    ]
}

/// The losses a preset's outputs train with, by default: for BPNet, bpnet-lite's
/// `_mixture_loss` (the profile's multinomial NLL plus the MSE of the log count against
/// log(1 + the profile's total), weight 1). Empty for one-output presets.
pub fn preset_losses(name: &str) -> Vec<super::HeadLoss> {
    use super::{HeadLoss, HeadTarget, Loss};
    match name {
        "bpnet" => vec![
            HeadLoss {
                name: "profile".into(),
                loss: Loss::MultinomialNll,
                weight: 1.0,
                target: HeadTarget::Columns,
            },
            HeadLoss {
                name: "counts".into(),
                loss: Loss::Mse,
                weight: 1.0,
                target: HeadTarget::LogTotal {
                    of: "profile".into(),
                },
            },
        ],
        _ => Vec::new(),
    }
}

/// The preset names `preset` knows.
pub const PRESETS: &[&str] = &["deepbind", "basset", "deepsea", "danq", "bpnet"];

/// The per-item shape of value `v` of `g`.
fn shape_of(g: &Graph, v: usize) -> Result<Vec<usize>, nn::Error> {
    Ok(g.shapes(&g.input_shape)?.swap_remove(v))
}

/// Appends `spec` reading value `from`; returns the value id of its output.
fn push_spec(
    g: &mut Graph,
    spec: &LayerSpec,
    from: usize,
    init: nn::Init,
    rng: &mut Rng,
) -> Result<usize, nn::Error> {
    let mut at = from;
    // Conv1d and Linear start as PyTorch's do; another scheme redraws their weights.
    let reinit = |w: &mut nn::Param, rng: &mut Rng| {
        if init != nn::Init::Torch {
            *w = nn::Param::init(&w.shape.clone(), init, rng);
        }
    };
    let shape = shape_of(g, from)?;
    let n = g.nodes.len();
    let name = |kind: &str| format!("{kind}{n}");
    let channels = || {
        shape
            .first()
            .copied()
            .ok_or_else(|| nn::Error::Shape("no channels".into()))
    };
    let need3 = |what: &str| -> Result<(), nn::Error> {
        if shape.len() != 2 {
            return Err(nn::Error::Shape(format!(
                "{what} needs [channels, length] input, got {shape:?} (after Flatten or global pooling?)"
            )));
        }
        Ok(())
    };
    match spec {
        Conv {
            filters,
            kernel,
            stride,
            dilation,
            padding,
        } => {
            need3("conv")?;
            let mut c = Conv1d::new(
                channels()?,
                *filters,
                *kernel,
                *stride,
                *dilation,
                *padding,
                true,
                rng,
            );
            reinit(&mut c.weight, rng);
            at = g.add(name("conv"), Layer::Conv1d(c), &[at])?;
        }
        Dense { units } => {
            let fi: usize = shape.iter().product();
            if shape.len() != 1 {
                at = g.add(name("flatten"), Layer::Flatten, &[at])?;
            }
            let mut l = Linear::new(fi, *units, true, rng);
            reinit(&mut l.weight, rng);
            at = g.add(name("dense"), Layer::Linear(l), &[at])?;
        }
        BatchNorm => {
            at = g.add(
                name("bn"),
                Layer::BatchNorm1d(BatchNorm1d::new(channels()?)),
                &[at],
            )?;
        }
        Relu => {
            at = g.add(name("relu"), Layer::Relu, &[at])?;
        }
        Elu => {
            at = g.add(name("elu"), Layer::Elu { alpha: 1.0 }, &[at])?;
        }
        Softplus => {
            at = g.add(name("softplus"), Layer::Softplus, &[at])?;
        }
        Exp => {
            at = g.add(name("exp"), Layer::Exp, &[at])?;
        }
        Sigmoid => {
            at = g.add(name("sigmoid"), Layer::Sigmoid, &[at])?;
        }
        Tanh => {
            at = g.add(name("tanh"), Layer::Tanh, &[at])?;
        }
        LeakyRelu { alpha } => {
            if !(*alpha >= 0.0 && alpha.is_finite()) {
                return Err(nn::Error::Shape(format!(
                    "leaky_relu alpha {alpha}: it must be finite and >= 0"
                )));
            }
            at = g.add(
                name("leaky_relu"),
                Layer::LeakyRelu { alpha: *alpha },
                &[at],
            )?;
        }
        Softmax => {
            at = g.add(name("softmax"), Layer::Softmax, &[at])?;
        }
        MaxPool { size, stride } => {
            need3("max_pool")?;
            at = g.add(
                name("maxpool"),
                Layer::MaxPool1d(Pool1d::new(*size, stride.unwrap_or(*size))),
                &[at],
            )?;
        }
        AvgPool { size, stride } => {
            need3("avg_pool")?;
            at = g.add(
                name("avgpool"),
                Layer::AvgPool1d(Pool1d::new(*size, stride.unwrap_or(*size))),
                &[at],
            )?;
        }
        GlobalMaxPool => {
            need3("global_max_pool")?;
            at = g.add(name("gmp"), Layer::GlobalMaxPool, &[at])?;
        }
        GlobalAvgPool => {
            need3("global_avg_pool")?;
            at = g.add(name("gap"), Layer::GlobalAvgPool, &[at])?;
        }
        Dropout { p } => {
            at = g.add(name("dropout"), Layer::Dropout { p: *p }, &[at])?;
        }
        Flatten => {
            at = g.add(name("flatten"), Layer::Flatten, &[at])?;
        }
        Crop { left, right } => {
            at = g.add(
                name("crop"),
                Layer::Crop {
                    left: *left,
                    right: *right,
                },
                &[at],
            )?;
        }
        Lstm {
            units,
            bidirectional,
        }
        | Gru {
            units,
            bidirectional,
        } => {
            need3("a recurrent layer")?;
            let cell = match spec {
                Lstm { .. } => nn::Cell::Lstm,
                _ => nn::Cell::Gru,
            };
            let direction = if *bidirectional {
                nn::Direction::Bidirectional
            } else {
                nn::Direction::Forward
            };
            at = g.add(
                name(if cell == nn::Cell::Lstm {
                    "lstm"
                } else {
                    "gru"
                }),
                Layer::Rnn(nn::Rnn::new(cell, direction, channels()?, *units, rng)),
                &[at],
            )?;
        }
        Residual { layers } => {
            for l in layers {
                at = push_spec(g, l, at, init, rng)?;
            }
            if shape_of(g, at)? != shape {
                return Err(nn::Error::Shape(format!(
                    "a residual block must keep the shape {shape:?}"
                )));
            }
            at = g.add(format!("add{}", g.nodes.len()), Layer::Add, &[at, from])?;
        }
    }
    Ok(at)
}

impl Arch {
    /// Builds the graph for inputs `[channels, length]` with a dense head to `outputs` logits.
    pub fn build(
        &self,
        channels: usize,
        length: usize,
        outputs: usize,
        seed: u64,
    ) -> Result<Graph, nn::Error> {
        if matches!(self.init, nn::Init::Zeros | nn::Init::Ones) {
            return Err(nn::Error::Graph(format!(
                "init {:?}: equal weights never break symmetry; use torch, kaiming_normal or xavier_uniform",
                self.init
            )));
        }
        let mut rng = nn::rng(seed);
        let mut g = Graph::new(&[channels, length]);
        let mut body = 0;
        for spec in &self.layers {
            body = push_spec(&mut g, spec, body, self.init, &mut rng)?;
        }
        if self.heads.is_empty() {
            push_spec(&mut g, &Dense { units: outputs }, body, self.init, &mut rng)?;
            return Ok(g);
        }
        // Each head reads the body; the outputs, flattened, are joined as Graph::heads says.
        let mut joined = Vec::with_capacity(self.heads.len());
        for head in &self.heads {
            let mut at = body;
            for spec in &head.layers {
                at = push_spec(&mut g, spec, at, self.init, &mut rng)?;
            }
            if at == body {
                return Err(nn::Error::Graph(format!(
                    "head '{}' has no layers",
                    head.name
                )));
            }
            if shape_of(&g, at)?.len() != 1 {
                at = g.add(format!("{}_flat", head.name), Layer::Flatten, &[at])?;
            }
            joined.push(at);
        }
        g.add("outputs", Layer::Concat, &joined)?;
        g.heads = self.heads.iter().map(|h| h.name.clone()).collect();
        g.head_outputs(&[channels, length])?;
        Ok(g)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Tensor;

    /// The input size of the first dense layer of preset `name` built for `length` bases.
    fn first_dense_inputs(name: &str, width: f32, length: usize, outputs: usize) -> Option<usize> {
        let g = preset(name, width, None)
            .unwrap()
            .build(4, length, outputs, 1)
            .unwrap();
        g.nodes.iter().find_map(|n| match &n.layer {
            Layer::Linear(l) => Some(l.in_features),
            _ => None,
        })
    }

    /// The weights of every conv and dense layer of a small DeepSEA, with their fan-in.
    fn weights(init: nn::Init) -> Vec<(usize, Vec<f32>)> {
        let arch = Arch {
            init,
            ..preset("deepsea", 0.25, None).unwrap()
        };
        let g = arch.build(4, 400, 10, 3).unwrap();
        g.nodes
            .iter()
            .filter_map(|n| match &n.layer {
                Layer::Conv1d(c) => Some((c.in_channels * c.kernel, c.weight.value.clone())),
                Layer::Linear(l) => Some((l.in_features, l.weight.value.clone())),
                _ => None,
            })
            .collect()
    }

    /// PyTorch's default (kaiming_uniform_ with a = sqrt(5), torch.nn.Conv1d/Linear
    /// reset_parameters): uniform in +-1/sqrt(fan_in), so variance 1/(3 fan_in); He's is
    /// normal with variance 2/fan_in. Hand-derived bounds, checked on every layer.
    #[test]
    fn weights_start_as_pytorch_by_default() {
        for (init, var) in [(nn::Init::Torch, 1.0 / 3.0), (nn::Init::KaimingNormal, 2.0)] {
            for (fan_in, w) in weights(init) {
                let n = w.len() as f64;
                let mean = w.iter().map(|&v| v as f64).sum::<f64>() / n;
                let v = w.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
                let want = var / fan_in as f64;
                assert!(
                    (v / want - 1.0).abs() < 0.1,
                    "{init:?} fan_in {fan_in}: {v} vs {want}"
                );
                let bound = 1.0 / (fan_in as f32).sqrt();
                let inside = w.iter().all(|x| x.abs() <= bound);
                assert_eq!(inside, init == nn::Init::Torch, "{init:?} fan_in {fan_in}");
            }
        }
        let zeros = Arch {
            init: nn::Init::Zeros,
            ..preset("deepbind", 1.0, None).unwrap()
        };
        let err = zeros.build(4, 100, 1, 1).unwrap_err().to_string();
        assert!(err.contains("never break symmetry"), "{err}");
    }

    #[test]
    fn presets_build_with_published_sizes() {
        // Basset at 600 bp: 600-19+1=582 -> /3=194 -> -10=184 -> /4=46 -> -6=40 -> /4=10;
        // 200*10=2000 features into the first dense layer, as in the paper.
        assert_eq!(first_dense_inputs("basset", 1.0, 600, 164), Some(2000));
        // DeepSEA at 1000 bp: 960 x 53 into the 925-unit layer.
        assert_eq!(
            first_dense_inputs("deepsea", 0.25, 1000, 919),
            Some(240 * 53)
        );
        // DanQ at 1000 bp: 1000-26+1=975 -> /13=75 positions of 2 x 320 LSTM units, 48,000
        // features into the 925-unit layer, as in the paper.
        assert_eq!(first_dense_inputs("danq", 1.0, 1000, 919), Some(640 * 75));
        let g = preset("bpnet", 0.25, Some(3))
            .unwrap()
            .build(4, 200, 2, 1)
            .unwrap();
        assert_eq!(g.nodes.iter().filter(|n| n.layer == Layer::Add).count(), 3);
        assert!(
            preset("deepbind", 1.0, None)
                .unwrap()
                .build(4, 101, 1, 1)
                .is_ok()
        );
        assert!(preset("nope", 1.0, None).is_none());
    }

    /// BPNet as bpnet-lite's `BPNet(n_filters=16, n_layers=3, n_control_tracks=0)`: the
    /// same parameters, counted by hand (first conv 4x16x21 + 16 = 1,360; three dilated
    /// 16x16x3 + 16 = 2,352; profile conv 16x2x75 + 2 = 2,402; count layer 16 + 1 = 17), and
    /// bpnet-lite's trimming, 47 + 2 + 4 + 8 = 61 positions a side.
    #[test]
    fn bpnet_preset_has_bpnet_lites_heads() {
        let g = preset("bpnet", 0.25, Some(3))
            .unwrap()
            .build(4, 300, 356, 1)
            .unwrap();
        assert_eq!(g.param_count(), 1360 + 2352 + 2402 + 17);
        let heads = g.head_outputs(&[4, 300]).unwrap();
        let shapes: Vec<(&str, &[usize])> = heads
            .iter()
            .map(|h| (h.name.as_str(), h.shape.as_slice()))
            .collect();
        assert_eq!(shapes, [("profile", &[2, 178][..]), ("counts", &[1][..])]);
        assert_eq!(g.position_offset(heads[0].value), Some(61));
        assert_eq!(
            g.predict(&Tensor::zeros(&[2, 4, 300])).unwrap().shape,
            [2, 2 * 178 + 1]
        );
        // Too short for the trimming: a clear error, not a panic.
        let err = preset("bpnet", 0.25, Some(3))
            .unwrap()
            .build(4, 100, 1, 1)
            .unwrap_err()
            .to_string();
        assert!(err.contains("crop"), "{err}");
    }

    #[test]
    fn config_parses_from_toml() {
        let arch: Arch = toml::from_str(
            r#"
            [[layers]]
            type = "conv"
            filters = 8
            kernel = 5
            [[layers]]
            type = "relu"
            [[layers]]
            type = "residual"
            layers = [{ type = "conv", filters = 8, kernel = 3, dilation = 2 }, { type = "relu" }]
            [[layers]]
            type = "global_max_pool"
            "#,
        )
        .unwrap();
        let g = arch.build(4, 50, 3, 7).unwrap();
        assert_eq!(
            g.predict(&Tensor::zeros(&[2, 4, 50])).unwrap().shape,
            [2, 3]
        );
        let err = toml::from_str::<Arch>("[[layers]]\ntype = \"conv\"\nfilters = 2\n").unwrap_err();
        assert!(err.to_string().contains("kernel"), "{err}");
    }
}
