//! Attribution on the bundled trained model and on every preset architecture: gradients
//! match finite differences of the model's own outputs, gradient x input is the gradient at
//! the observed bases, integrated gradients are complete (they sum to f(x) - f(baseline)),
//! ISM equals predicting each mutant directly, and fast ISM equals ISM.

mod common;

use common::path;
use seqlens::attrib::{self, Baseline, Explainer, Method, Target};
use seqlens::blocking::block_on;
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
    let mut g = seqlens::onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).unwrap();
    let rec = &sample()[0]; // ctcf_site, 500 bp
    let x = onehot(&rec.seq);
    let target = Target::Output(0);
    let grad = block_on(attrib::gradient(&mut g, &x, &target)).unwrap();
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

    let ixg = block_on(attrib::gradient_times_input(&mut g, &x, &target)).unwrap();
    for ((a, b), v) in ixg.data.iter().zip(&grad.data).zip(&x.data) {
        assert_eq!(*a, b * v);
    }
    let bases = attrib::per_base(&ixg.data, 4);
    assert_eq!(bases.len(), 500);
    assert!(matches!(
        block_on(attrib::gradient(&mut g, &x, &Target::Output(99))),
        Err(seqlens::Error::Nn(seqlens::nn::Error::Shape(_)))
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
    let ism = attrib::ism(&model, w, 0..w.seq.len(), &opts, &mut |_, _| true).unwrap();
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

#[test]
fn integrated_gradients_are_complete() {
    // Completeness (Sundararajan et al. 2017): the attributions sum to f(x) - f(baseline).
    // The midpoint rule's error shrinks with the step count; 256 steps on this ReLU network
    // keep it within 2 % of the difference (checked against f computed by the engine).
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    let mut g = seqlens::onnx::import(&bytes, None, seqlens::encode::Layout::Ncl).unwrap();
    let rec = &sample()[0]; // ctcf_site
    let x = onehot(&rec.seq);
    let e = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::Error);
    let f = |g: &seqlens::nn::Graph, t: &Tensor| g.predict(t).unwrap().data[0];
    for baseline in [
        Baseline::Zeros,
        Baseline::Uniform,
        Baseline::Shuffle { count: 3, seed: 5 },
    ] {
        let bs = baseline.inputs(&rec.id, &rec.seq, &e).unwrap();
        let ig = block_on(attrib::integrated_gradients(
            &mut g,
            &x,
            &bs,
            &Target::Output(0),
            256,
        ))
        .unwrap();
        let sum: f32 = ig.data.iter().sum();
        let want = f(&g, &x) - bs.iter().map(|b| f(&g, b)).sum::<f32>() / bs.len() as f32;
        assert!(
            (sum - want).abs() <= 0.02 * want.abs() + 1e-4,
            "{baseline:?}: attributions sum to {sum}, f(x) - f(b) = {want}"
        );
    }
    // Shuffled baselines keep the sequence's composition: each is a permutation of columns.
    let bs = Baseline::Shuffle { count: 2, seed: 1 }
        .inputs(&rec.id, &rec.seq, &e)
        .unwrap();
    assert_ne!(bs[0].data, bs[1].data);
    assert_eq!(bs[0].data.iter().sum::<f32>(), x.data.iter().sum::<f32>());
}

/// ISM by predicting every mutant through the engine: the definition fast ISM must meet.
fn engine_ism(g: &seqlens::nn::Graph, seq: &[u8]) -> (Vec<f32>, Vec<f32>) {
    let x = onehot(seq);
    let reference = g.predict(&x).unwrap().data;
    let k = reference.len();
    let mut delta = vec![0.0; seq.len() * 4 * k];
    let mut batch = Vec::new();
    let mut slots = Vec::new();
    for t in 0..seq.len() {
        for (c, &b) in b"ACGT".iter().enumerate() {
            if seq[t] != b {
                let mut m = seq.to_vec();
                m[t] = b;
                batch.extend(onehot(&m).data);
                slots.push(t * 4 + c);
            }
        }
    }
    let n = slots.len();
    let y = g
        .predict(&Tensor::new(&[n, 4, seq.len()], batch).unwrap())
        .unwrap();
    for (j, s) in slots.iter().enumerate() {
        for o in 0..k {
            delta[s * k + o] = y.data[j * k + o] - reference[o];
        }
    }
    (reference, delta)
}

#[test]
fn fast_ism_equals_ism_on_every_preset() {
    // Strided pooling, dilations, residual adds (BPNet), crop and batch norm all change
    // which positions a substitution reaches; each preset exercises a different mix. BPNet's
    // two outputs (a profile of 2 x 78 positions, flattened, and a count) make 157 values.
    for (name, len, k) in [
        ("deepbind", 120, 3),
        ("basset", 600, 3),
        ("deepsea", 400, 3),
        ("bpnet", 200, 157),
    ] {
        let seq = common::random_dna(len, 11);
        let arch = seqlens::train::preset(name, 0.1, Some(3)).unwrap();
        let g = arch.build(4, len, 3, 7).unwrap();
        let (reference, want) = engine_ism(&g, &seq);
        let got = attrib::fast_ism(
            &g,
            &onehot(&seq),
            &seq,
            b"ACGT",
            0..seq.len(),
            &mut |_, _| true,
        )
        .unwrap();
        assert_eq!((got.length, got.channels, got.labels), (len, 4, k));
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        assert!(scale > 1e-5, "{name}: mutations must change the output");
        for (i, (a, b)) in got.delta.iter().zip(&want).enumerate() {
            assert!(
                (a - b).abs() <= 1e-4 * scale + 1e-6,
                "{name}: substitution {i}: fast {a} vs full {b}"
            );
        }
        assert!(
            got.reference
                .iter()
                .zip(&reference)
                .all(|(a, b)| (a - b).abs() <= 1e-6)
        );
    }
}

#[test]
fn explainer_runs_every_method_and_fast_ism_matches_tract_ism() {
    let bytes = std::fs::read(path("examples/models/demo.onnx")).unwrap();
    let model = Model::from_bytes(&bytes).unwrap();
    let mut ex = Explainer::new(model);
    assert!(ex.engine_error().is_none());
    let target = ex.target(&["SPI1".to_string()], None).unwrap();
    let w = ex
        .model()
        .windows(&sample()[2..3], &PredictOptions::default())
        .unwrap()
        .remove(0);
    let mut run = |m: Method| ex.explain(&w, &target, &m, &mut |_, _| true).unwrap();
    let ism = run(Method::Ism);
    let fast = run(Method::FastIsm);
    // tract (ISM) and the engine (fast ISM) are independent implementations of the model.
    for (a, b) in ism.map.iter().zip(&fast.map) {
        assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
    }
    assert!((ism.target_value - fast.target_value).abs() <= 1e-5);
    for m in [
        Method::Gradient,
        Method::GradientTimesInput,
        Method::IntegratedGradients {
            steps: 16,
            baseline: Baseline::Zeros,
        },
    ] {
        let r = run(m.clone());
        assert_eq!((r.channels, r.length, r.map.len()), (4, 500, 2000), "{m:?}");
        assert!(r.per_base.iter().any(|v| *v != 0.0));
    }
    assert!(ex.target(&["NOPE".to_string()], None).is_err());

    // A model outside the engine's op set still gets ISM, and a clear error for gradients.
    // (The JASPAR scanner runs in tract but uses operators the engine does not import.)
    let bytes = std::fs::read(path("examples/models/jaspar_scanner.onnx")).unwrap();
    {
        let model = Model::from_bytes(&bytes).unwrap();
        let mut ex = Explainer::new(model);
        assert!(ex.engine_error().is_some());
        let err = ex
            .explain(&w, &Target::Output(0), &Method::Gradient, &mut |_, _| true)
            .unwrap_err();
        assert!(err.to_string().contains("use ism"), "{err}");
    }
}

/// A profile model (a random one of CI-SpliceAI's geometry: 5,000 bases of context a side):
/// the donor output at two positions is explained. Fast ISM carries each substitution through
/// its cone only and must equal ISM through tract, which predicts every mutant window whole;
/// gradients must match finite differences of the target computed through tract. Both
/// cover the target's positions with 50 bases on each side unless a range is given.
#[test]
fn profile_targets_fast_ism_equals_tract_ism_and_gradients_match_finite_differences() {
    use seqlens::model::Backend;
    let bytes = common::tiny_splice_model();
    let tract = Model::from_bytes(&bytes)
        .unwrap()
        .with_backend(Backend::Tract)
        .unwrap();
    let mut by_tract = Explainer::new(tract);
    let mut engine = Explainer::new(Model::from_bytes(&bytes).unwrap());
    let seq = common::random_dna(10_060, 5);
    let rec = SeqRecord {
        id: "s".into(),
        description: None,
        seq: seq.clone(),
    };
    let w = engine
        .model()
        .windows(&[rec], &PredictOptions::default())
        .unwrap()
        .remove(0);
    let at = (5020, 5022);
    let target = engine.target(&["donor".to_string()], Some(at)).unwrap();
    let run = |ex: &mut Explainer, m: Method| ex.explain(&w, &target, &m, &mut |_, _| true);
    let fast = run(&mut engine, Method::FastIsm).unwrap();
    let ism = run(&mut by_tract, Method::Ism).unwrap();
    assert_eq!((fast.start, fast.length), (4970, 102));
    assert_eq!(fast.sequence.as_bytes(), &seq[4970..5072]);
    assert!((fast.target_value - ism.target_value).abs() <= 1e-5);
    let scale = ism.map.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(
        scale > 1e-4,
        "the donor output must depend on the bases around it"
    );
    for (a, b) in fast.map.iter().zip(&ism.map) {
        assert!((a - b).abs() <= 1e-5 + 1e-4 * scale, "{a} vs {b}");
    }

    // d target / d x against central differences through tract (the model is piecewise
    // linear before its softmax, so a small step stays on one piece almost everywhere)
    let grad = run(&mut engine, Method::Gradient).unwrap();
    let len = seq.len();
    let plan = {
        use tract_onnx::prelude::*;
        tract_onnx::onnx()
            .model_for_read(&mut &bytes[..])
            .unwrap()
            .with_input_fact(0, f32::fact([1, 4, len]).into())
            .unwrap()
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap()
    };
    let f = |x: &[f32]| -> f64 {
        use tract_onnx::prelude::*;
        let y = plan
            .run(tvec![Tensor::from_shape(&[1, 4, len], x).unwrap().into()])
            .unwrap();
        let y = y[0].to_plain_array_view::<f32>().unwrap();
        let y: Vec<f32> = y.iter().copied().collect();
        let positions = len - 10_000;
        (at.0..at.1)
            .map(|p| y[2 * positions + (p as usize - 5000)] as f64)
            .sum()
    };
    let x = onehot(&seq).data;
    let h = 1e-2f32;
    for t in [4975usize, 5000, 5019, 5021, 5030, 5065] {
        for ch in 0..4 {
            let i = ch * seq.len() + t;
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[i] += h;
            xm[i] -= h;
            let num = (f(&xp) - f(&xm)) / (2.0 * h as f64);
            let ana = grad.map[ch * grad.length + (t - 4970)] as f64;
            assert!(
                (ana - num).abs() <= 1e-4 + 2e-2 * num.abs().max(ana.abs()),
                "position {t} channel {ch}: {ana} vs {num}"
            );
        }
    }

    // a range overrides the default, and the wrong kind of target is refused
    engine.range = Some((5010, 5015));
    let r = run(&mut engine, Method::FastIsm).unwrap();
    assert_eq!((r.start, r.length), (5010, 5));
    engine.range = None;
    let plain = engine.target(&["donor".to_string()], None).unwrap();
    let e = engine
        .explain(&w, &plain, &Method::FastIsm, &mut |_, _| true)
        .unwrap_err();
    assert!(e.to_string().contains("name the positions"), "{e}");
    let outside = engine.target(&[], Some((10, 12))).unwrap();
    let e = engine
        .explain(&w, &outside, &Method::Gradient, &mut |_, _| true)
        .unwrap_err();
    assert!(e.to_string().contains("5000 bases of context"), "{e}");
}
