//! Attribution on the bundled trained model: gradients match finite differences of the
//! model's own outputs, gradient x input is the gradient at the observed bases, and ISM
//! equals predicting each mutant directly.

mod common;

use common::path;
use seqlens::attrib::{self, Method, Target};
use seqlens::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
use seqlens::io::{self, SeqRecord};
use seqlens::model::{Model, PredictOptions};
use seqlens::nn::Tensor;

fn sample() -> Vec<SeqRecord> {
    let f = std::fs::File::open(path("examples/data/sample.fa")).unwrap();
    io::read_sequences(f, "sample.fa").unwrap()
}

fn onehot(seq: &[u8]) -> Tensor {
    let e = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    Tensor::new(&[1, 4, seq.len()], e.encode("s", seq, Layout::Ncl).unwrap()).unwrap()
}

#[test]
fn gradients_match_finite_differences_on_the_demo_model() {
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    let mut g = seqlens::onnx::import(&bytes, None).unwrap();
    let rec = &sample()[0]; // ctcf_site, 500 bp
    let x = onehot(&rec.seq);
    let target = Target::Output(0);
    let grad = attrib::saliency(&mut g, &x, &target, Method::Gradient).unwrap();
    assert_eq!(grad.shape, [1, 4, 500]);
    let f = |x: &Tensor| g.predict(x).unwrap().data[0] as f64;
    let h = 1e-3f32;
    let mut checked = 0;
    for i in (0..2000).step_by(37) {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.data[i] += h;
        xm.data[i] -= h;
        let num = (f(&xp) - f(&xm)) / (2.0 * h as f64);
        let ana = grad.data[i] as f64;
        assert!(
            (ana - num).abs() <= 1e-3 + 2e-2 * num.abs().max(ana.abs()),
            "input {i}: {ana} vs {num}"
        );
        checked += 1;
    }
    assert!(checked > 50);
    assert!(
        grad.data.iter().any(|v| v.abs() > 1e-6),
        "the CTCF output must depend on the input"
    );

    let ixg = attrib::saliency(&mut g, &x, &target, Method::GradientTimesInput).unwrap();
    for ((a, b), v) in ixg.data.iter().zip(&grad.data).zip(&x.data) {
        assert_eq!(*a, b * v);
    }
    let bases = attrib::per_base(&ixg.data, 4);
    assert_eq!(bases.len(), 500);
    assert!(matches!(
        attrib::saliency(&mut g, &x, &Target::Output(99), Method::Gradient),
        Err(seqlens::nn::Error::Shape(_))
    ));
}

#[test]
fn ism_equals_predicting_each_mutant() {
    let model =
        Model::from_bytes(&std::fs::read(path("examples/models/demo.onnx")).unwrap()).unwrap();
    let opts = PredictOptions::default();
    // A 500-bp window holding the planted SPI1 site (spi1_short, N-padded to 500).
    let windows = model.windows(&sample()[2..3], &opts).unwrap();
    let w = &windows[0];
    let ism = attrib::ism(&model, w, &opts).unwrap();
    assert_eq!((ism.length, ism.channels, ism.labels), (500, 4, 8));
    let direct = |seq: Vec<u8>| {
        let mut m = w.clone();
        m.seq = seq;
        model
            .predict_windows(vec![m], &opts, &mut |_, _| true)
            .unwrap()
            .values
    };
    // Batched and single predictions may take different SIMD paths: 1e-6 absolute.
    let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6);
    assert!(close(&ism.reference, &direct(w.seq.clone())));
    for t in [0usize, 150, 222, 240, 499] {
        for (c, &b) in b"ACGT".iter().enumerate() {
            let got = &ism.delta[(t * 4 + c) * 8..(t * 4 + c + 1) * 8];
            if w.seq[t].eq_ignore_ascii_case(&b) {
                assert!(got.iter().all(|&v| v == 0.0));
                continue;
            }
            let mut seq = w.seq.clone();
            seq[t] = b;
            let want: Vec<f32> = direct(seq)
                .iter()
                .zip(&ism.reference)
                .map(|(m, r)| m - r)
                .collect();
            assert!(
                close(got, &want),
                "position {t} -> {}: {got:?} vs {want:?}",
                b as char
            );
        }
    }
}
