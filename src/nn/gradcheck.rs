//! Finite-difference checks of every layer's backward pass: the analytic gradient of
//! `L = sum(output * r)` (fixed random `r`) with respect to the input and every parameter must
//! match central differences `(L(v + h) - L(v - h)) / 2h`.

use rand::RngExt;

use super::*;

const H: f32 = 2e-3;

fn randn(n: usize, rng: &mut Rng) -> Vec<f32> {
    use rand_distr::{Distribution, StandardNormal};
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

fn loss(g: &mut Graph, x: &Tensor, r: &[f32]) -> f64 {
    // Re-seeding makes dropout draw the same mask on every evaluation.
    let tape = g.forward(x.clone(), Mode::Train(&mut rng(99))).unwrap();
    tape.output()
        .data
        .iter()
        .zip(r)
        .map(|(a, b)| (*a as f64) * (*b as f64))
        .sum()
}

fn close(analytic: f32, numeric: f64, what: &str) {
    let (a, n) = (analytic as f64, numeric);
    let tol = 2e-3 + 2e-2 * a.abs().max(n.abs());
    assert!((a - n).abs() <= tol, "{what}: analytic {a} vs numeric {n}");
}

/// Checks input and parameter gradients of `g` on a random `[batch, input_shape]` input.
fn check(mut g: Graph, batch: usize) {
    let mut r = rng(1);
    let mut shape = vec![batch];
    shape.extend(&g.input_shape);
    let x = Tensor::new(&shape, randn(shape.iter().product(), &mut r)).unwrap();
    let out = g
        .forward(x.clone(), Mode::Train(&mut rng(99)))
        .unwrap()
        .output()
        .clone();
    let weights = randn(out.len(), &mut r);

    g.zero_grad();
    let tape = g.forward(x.clone(), Mode::Train(&mut rng(99))).unwrap();
    let dx = g
        .backward(&tape, Tensor::new(&out.shape, weights.clone()).unwrap())
        .unwrap();

    // Input gradient, at up to 40 random coordinates.
    for _ in 0..40.min(x.len()) {
        let i = r.random_range(0..x.len());
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.data[i] += H;
        xm.data[i] -= H;
        let num = (loss(&mut g, &xp, &weights) - loss(&mut g, &xm, &weights)) / (2.0 * H as f64);
        close(dx.data[i], num, &format!("d/dx[{i}]"));
    }
    // Parameter gradients.
    let grads: Vec<Vec<f32>> = g.params().iter().map(|p| p.grad.clone()).collect();
    for (pi, grad) in grads.iter().enumerate() {
        for _ in 0..20.min(grad.len()) {
            let i = r.random_range(0..grad.len());
            let orig = g.params()[pi].value[i];
            g.params_mut()[pi].value[i] = orig + H;
            let lp = loss(&mut g, &x, &weights);
            g.params_mut()[pi].value[i] = orig - H;
            let lm = loss(&mut g, &x, &weights);
            g.params_mut()[pi].value[i] = orig;
            close(
                grad[i],
                (lp - lm) / (2.0 * H as f64),
                &format!("param {pi}[{i}]"),
            );
        }
    }
}

fn stack(input: &[usize], layers: Vec<Layer>) -> Graph {
    let mut g = Graph::new(input);
    for (i, l) in layers.into_iter().enumerate() {
        g.push(format!("l{i}"), l).unwrap();
    }
    g
}

fn conv(
    ci: usize,
    co: usize,
    k: usize,
    stride: usize,
    dil: usize,
    pad: Padding,
    bias: bool,
) -> Layer {
    Layer::Conv1d(Conv1d::new(ci, co, k, stride, dil, pad, bias, &mut rng(5)))
}

#[test]
fn conv1d_strided_dilated_same_padding_with_bias() {
    check(
        stack(&[3, 11], vec![conv(3, 4, 3, 2, 2, Padding::Same, true)]),
        2,
    );
}

#[test]
fn conv1d_valid_without_bias() {
    check(
        stack(&[4, 9], vec![conv(4, 2, 5, 1, 1, Padding::Valid, false)]),
        3,
    );
}

/// Grouped and depthwise convolutions: each output group reads only its input group.
#[test]
fn conv1d_grouped_and_depthwise() {
    let mut grouped = conv(4, 6, 3, 1, 1, Padding::Same, true);
    let mut depthwise = conv(4, 8, 5, 1, 2, Padding::Same, false);
    for (layer, groups) in [(&mut grouped, 2), (&mut depthwise, 4)] {
        let Layer::Conv1d(c) = layer else {
            unreachable!()
        };
        c.groups = groups;
        let shape = [c.out_channels, c.in_channels / groups, c.kernel];
        c.weight = Param::new(&shape, c.weight.value[..shape.iter().product()].to_vec());
    }
    check(stack(&[4, 9], vec![grouped]), 2);
    check(stack(&[4, 12], vec![depthwise]), 2);
}

/// A kernel more than twice the input's length (k = 21, same padding, on a 9-bp splice
/// site, which PyTorch trains without complaint; issue 12 found it panicking in im2col):
/// forward and backward agree with finite differences, with and without dilation.
#[test]
fn conv1d_kernel_longer_than_the_input() {
    check(
        stack(&[4, 9], vec![conv(4, 2, 21, 1, 1, Padding::Same, true)]),
        2,
    );
    check(
        stack(&[4, 5], vec![conv(4, 3, 7, 1, 3, Padding::Same, true)]),
        2,
    );
    check(
        stack(
            &[4, 6],
            vec![conv(4, 2, 15, 2, 1, Padding::Explicit(9, 4), false)],
        ),
        1,
    );
}

#[test]
fn linear_after_flatten() {
    let lin = Layer::Linear(Linear::new(12, 5, true, &mut rng(3)));
    check(stack(&[3, 4], vec![Layer::Flatten, lin]), 4);
}

#[test]
fn batchnorm_training_mode() {
    let mut bn = BatchNorm1d::new(3);
    bn.gamma.value = vec![0.5, 1.5, -1.0];
    bn.beta.value = vec![0.1, -0.2, 0.3];
    check(stack(&[3, 5], vec![Layer::BatchNorm1d(bn)]), 4);
}

#[test]
fn activations() {
    for act in [
        Layer::Relu,
        Layer::Elu { alpha: 1.0 },
        Layer::Softplus,
        Layer::Exp,
        Layer::Sigmoid,
        Layer::Tanh,
        Layer::LeakyRelu { alpha: 0.1 },
        Layer::Gelu { tanh: false },
        Layer::Gelu { tanh: true },
        Layer::Affine {
            scale: vec![0.5, -2.0, 1.5],
            shift: vec![0.1, 0.0, -0.3],
        },
        Layer::Softmax,
        Layer::SoftmaxLength,
    ] {
        check(stack(&[3, 6], vec![act]), 2);
    }
}

#[test]
fn pooling() {
    for pool in [
        Layer::MaxPool1d(Pool1d::new(3, 2)),
        Layer::AvgPool1d(Pool1d::new(2, 2)),
        // Padded, dilated and ceil-mode windows (the padding never wins or counts, or
        // counts with count_pad).
        Layer::MaxPool1d(Pool1d {
            dilation: 2,
            pad_left: 1,
            pad_right: 2,
            ceil: true,
            ..Pool1d::new(3, 2)
        }),
        Layer::AvgPool1d(Pool1d {
            pad_left: 1,
            pad_right: 1,
            ceil: true,
            ..Pool1d::new(3, 2)
        }),
        Layer::AvgPool1d(Pool1d {
            pad_left: 1,
            pad_right: 1,
            ceil: true,
            count_pad: true,
            ..Pool1d::new(3, 2)
        }),
        Layer::GlobalMaxPool,
        Layer::GlobalAvgPool,
        Layer::GlobalSumPool,
        Layer::ReduceChannels { op: Reduce::Max },
        Layer::ReduceChannels { op: Reduce::Mean },
        Layer::ReduceChannels { op: Reduce::Sum },
    ] {
        check(stack(&[2, 9], vec![pool]), 2);
    }
}

#[test]
fn dropout_in_training_mode() {
    check(stack(&[2, 8], vec![Layer::Dropout { p: 0.3 }]), 3);
}

#[test]
fn residual_add_concat_and_crop() {
    // x -> conv -> relu -> conv -> (+ x) -> concat(with x) -> crop
    let mut g = Graph::new(&[3, 10]);
    let a = g
        .push("c1", conv(3, 3, 3, 1, 1, Padding::Same, true))
        .unwrap();
    let b = g.add("relu", Layer::Relu, &[a]).unwrap();
    let c = g
        .add("c2", conv(3, 3, 3, 1, 2, Padding::Same, true), &[b])
        .unwrap();
    let d = g.add("add", Layer::Add, &[c, 0]).unwrap();
    let e = g.add("cat", Layer::Concat, &[d, 0]).unwrap();
    g.add("crop", Layer::Crop { left: 2, right: 3 }, &[e])
        .unwrap();
    check(g, 2);
}

#[test]
fn a_small_basset_like_stack() {
    let layers = vec![
        conv(4, 6, 5, 1, 1, Padding::Same, true),
        Layer::BatchNorm1d(BatchNorm1d::new(6)),
        Layer::Relu,
        Layer::MaxPool1d(Pool1d::new(2, 2)),
        conv(6, 4, 3, 1, 1, Padding::Valid, true),
        Layer::Relu,
        Layer::Flatten,
        Layer::Linear(Linear::new(4 * 6, 3, true, &mut rng(8))),
        Layer::Sigmoid,
    ];
    check(stack(&[4, 16], layers), 3);
}

#[test]
fn conv_forward_matches_hand_computation() {
    // One channel, kernel [1, 2, 3], bias 0.5, input [1, 0, 2, 1], valid:
    // y0 = 1*1 + 2*0 + 3*2 + .5 = 7.5; y1 = 1*0 + 2*2 + 3*1 + .5 = 7.5
    let mut c = Conv1d::new(1, 1, 3, 1, 1, Padding::Valid, true, &mut rng(0));
    c.weight.value = vec![1., 2., 3.];
    c.bias.as_mut().unwrap().value = vec![0.5];
    let y = c
        .forward(&Tensor::new(&[1, 1, 4], vec![1., 0., 2., 1.]).unwrap())
        .unwrap();
    assert_eq!(y.data, [7.5, 7.5]);
}

#[test]
fn same_seed_same_weights_and_outputs() {
    let make = || conv(4, 8, 5, 1, 1, Padding::Same, true);
    assert_eq!(make(), make());
    let g = stack(&[4, 20], vec![make(), Layer::Relu]);
    let x = Tensor::new(&[2, 4, 20], randn(160, &mut rng(2))).unwrap();
    assert_eq!(g.predict(&x).unwrap(), g.predict(&x).unwrap());
}

#[test]
fn shape_errors_name_the_layer() {
    let g = stack(&[4, 3], vec![conv(4, 2, 5, 1, 1, Padding::Valid, false)]);
    let err = g
        .predict(&Tensor::zeros(&[1, 4, 3]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("layer 'l0': shape: Conv1d kernel 5"),
        "{err}"
    );
    let err = g
        .predict(&Tensor::zeros(&[1, 3, 3]))
        .unwrap_err()
        .to_string();
    assert!(err.contains("the model takes [batch, 4, 3]"), "{err}");
}

#[test]
fn recurrent_layers_in_every_direction() {
    for cell in [Cell::Lstm, Cell::Gru] {
        for direction in [
            Direction::Forward,
            Direction::Reverse,
            Direction::Bidirectional,
        ] {
            let rnn = Rnn::new(cell, direction, 3, 4, &mut rng(5));
            check(stack(&[3, 7], vec![Layer::Rnn(rnn)]), 2);
        }
    }
}

#[test]
fn lstm_forward_matches_hand_computation() {
    // One unit, one input, two steps, every weight 0 but the input weights (i, o, f, c) =
    // (1, 1, 0, 1) and biases 0: step 1, x = 1: i = o = s(1), f = 1/2, c~ = tanh(1),
    // c1 = s(1) tanh(1), h1 = s(1) tanh(c1). Step 2, x = 0: i = o = f = 1/2, c~ = 0,
    // c2 = c1 / 2, h2 = tanh(c2) / 2.
    let mut l = Rnn::new(Cell::Lstm, Direction::Forward, 1, 1, &mut rng(0));
    l.weight_ih.value = vec![1.0, 1.0, 0.0, 1.0];
    l.weight_hh.value = vec![0.0; 4];
    l.bias.value = vec![0.0; 8];
    let s = |v: f32| 1.0 / (1.0 + (-v).exp());
    let c1 = s(1.0) * 1f32.tanh();
    let (h1, h2) = (s(1.0) * c1.tanh(), (c1 / 2.0).tanh() / 2.0);
    let (y, _) = l
        .forward(&Tensor::new(&[1, 1, 2], vec![1.0, 0.0]).unwrap())
        .unwrap();
    assert!(
        (y.data[0] - h1).abs() < 1e-6 && (y.data[1] - h2).abs() < 1e-6,
        "{y:?}"
    );
}
