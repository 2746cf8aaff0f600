//! One test body per behaviour, run on every backend that supports it, with the backend in
//! the test's name (`prediction::tract`, `prediction::cpu`, `prediction::gpu`, ...), as
//! candle's `test_device!` does: a failure says which backend broke.
//!
//! Expected numbers come from outside seqlens and tract: onnxruntime's predictions and torch
//! autograd's gradients of DeepBind (tests/golden/exporters.json,
//! scripts/make_exporter_models.py), and onnxruntime on reverse complements, baselines,
//! mutants and hand-cut variant windows (tests/golden/backends.json,
//! scripts/backend_golden.py).
//!
//! The GPU runs on Mesa's lavapipe in CI; without an adapter its tests pass vacuously unless
//! SEQLENS_REQUIRE_GPU is set, which turns a missing adapter into a failure.

mod common;

use std::sync::OnceLock;

use common::{json_floats, max_diff, path};
use seqlens::attrib::{Baseline, Explainer, Method};
use seqlens::io::{self, IndexedFasta};
use seqlens::model::{Backend, Model, PredictOptions};
use seqlens::variants::{self, Score, Status, VariantOptions};
use serde_json::Value;

/// Generates `mod behaviour { #[test] fn tract() .. }` calling `behaviour(Backend::..)` for
/// each backend listed (all three when none is).
macro_rules! on_backends {
    ($behaviour:ident) => {
        on_backends!($behaviour: tract, cpu, gpu);
    };
    ($behaviour:ident: $($backend:ident),+) => {
        mod $behaviour {
            $(
                #[test]
                fn $backend() {
                    super::$behaviour(super::backend(stringify!($backend)));
                }
            )+
        }
    };
}

on_backends!(prediction);
on_backends!(rc_average);
on_backends!(gradient);
on_backends!(integrated_gradients);
on_backends!(ism);
// Fast ISM is the engine's alone: it recomputes each substitution's receptive field.
on_backends!(fast_ism: cpu);
on_backends!(variant_scores);

const DEEPBIND: &str = "tests/models/exporters/deepbind_legacy.onnx";
const DEMO: &str = "examples/models/demo.onnx";

fn backend(name: &str) -> Backend {
    name.parse().unwrap()
}

/// Agreement with onnxruntime: float32 rounding on the CPU; the GPU sums in other orders.
fn tol(backend: Backend) -> f32 {
    if backend == Backend::Gpu { 1e-4 } else { 1e-5 }
}

fn exporters() -> &'static Value {
    static G: OnceLock<Value> = OnceLock::new();
    G.get_or_init(|| read_json("tests/golden/exporters.json"))
}

fn golden() -> &'static Value {
    static G: OnceLock<Value> = OnceLock::new();
    G.get_or_init(|| read_json("tests/golden/backends.json"))
}

fn read_json(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path(rel)).unwrap()).unwrap()
}

/// `file` on `backend`, or `None` for the GPU where this machine has none (and may lack one).
fn load(file: &str, backend: Backend) -> Option<Model> {
    common::model_if_here(&std::fs::read(path(file)).unwrap(), backend)
}

fn records() -> Vec<io::SeqRecord> {
    common::json_records(&exporters()["sequences"])
}

fn assert_near(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let d = max_diff(got, want);
    assert!(
        d <= tol,
        "{what}: differs from the reference by {d} (> {tol})"
    );
}

/// DeepBind on `backend` with an explainer for output y[0], and the windows of the sequences.
fn explainer(backend: Backend) -> Option<(Explainer, Vec<seqlens::encode::Window>)> {
    let model = load(DEEPBIND, backend)?;
    let windows = model
        .windows(&records(), &PredictOptions::default())
        .unwrap();
    Some((Explainer::new(model), windows))
}

fn prediction(backend: Backend) {
    let Some(model) = load(DEEPBIND, backend) else {
        return;
    };
    let p = model
        .predict(&records(), &PredictOptions::default())
        .unwrap();
    let want = json_floats(&exporters()["models"]["deepbind_legacy"]["outputs"]);
    assert_near(&p.values, &want, tol(backend), "predictions");
}

fn rc_average(backend: Backend) {
    let Some(model) = load(DEEPBIND, backend) else {
        return;
    };
    let opts = PredictOptions {
        rc_average: true,
        ..Default::default()
    };
    let p = model.predict(&records(), &opts).unwrap();
    let want = json_floats(&golden()["deepbind"]["rc_average"]);
    assert_near(
        &p.values,
        &want,
        tol(backend),
        "strand-averaged predictions",
    );
}

fn gradient(backend: Backend) {
    let Some((mut ex, windows)) = explainer(backend) else {
        return;
    };
    // The GPU computes the gradients when the model runs there (its kernels cover DeepBind).
    let on = ex.gradient_backend();
    assert_eq!(on == "gpu", backend == Backend::Gpu, "gradients on {on}");
    let target = ex.target(&["y[0]".to_string()], None).unwrap();
    let grads = exporters()["models"]["deepbind_legacy"]["gradients_y0"]
        .as_array()
        .unwrap();
    for (w, want) in windows.iter().zip(grads) {
        let got = ex
            .explain(w, &target, &Method::Gradient, &mut |_, _| true)
            .unwrap();
        // Gradients behind a sigmoid are ~1e-3: the bound is relative to the largest.
        let want = json_floats(want);
        let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert_near(
            &got.map,
            &want,
            1e-3 * scale,
            &format!("gradient of {}", w.id),
        );
    }
}

fn integrated_gradients(backend: Backend) {
    let Some((mut ex, windows)) = explainer(backend) else {
        return;
    };
    let target = ex.target(&["y[0]".to_string()], None).unwrap();
    let fx = json_floats(&exporters()["models"]["deepbind_legacy"]["outputs"])[0];
    for (baseline, key) in [(Baseline::Zeros, "zeros"), (Baseline::Uniform, "uniform")] {
        let method = Method::IntegratedGradients {
            steps: 128,
            baseline,
        };
        let a = ex
            .explain(&windows[0], &target, &method, &mut |_, _| true)
            .unwrap();
        // Completeness (Sundararajan et al. 2017): the attributions sum to f(x) - f(b), here
        // with f from onnxruntime; the midpoint rule's error at 128 steps is well within 2%.
        let want = fx - json_floats(&golden()["deepbind"][key])[0];
        let sum: f32 = a.map.iter().sum();
        assert!(
            (sum - want).abs() <= 0.02 * want.abs() + 1e-4,
            "{key} baseline: attributions sum to {sum}, f(x) - f(b) = {want}"
        );
    }
}

/// ISM's map for y[0] over the golden positions equals onnxruntime's mutant predictions.
fn assert_ism(backend: Backend, method: Method) {
    let Some((mut ex, windows)) = explainer(backend) else {
        return;
    };
    let g = &golden()["deepbind"];
    let (from, to) = (
        g["ism_from"].as_i64().unwrap(),
        g["ism_to"].as_i64().unwrap(),
    );
    ex.range = Some((from, to));
    let target = ex.target(&["y[0]".to_string()], None).unwrap();
    let mut events = 0;
    let a = ex
        .explain(&windows[0], &target, &method, &mut |_, _| {
            events += 1;
            true
        })
        .unwrap();
    assert!(events > 0, "{method:?} reports progress");
    let n = (to - from) as usize;
    assert_eq!((a.start, a.length), (from, n));
    let rows = g["ism"].as_array().unwrap();
    let want: Vec<f32> = (0..4)
        .flat_map(|ch| (0..n).map(move |t| (t, ch)))
        .map(|(t, ch)| rows[t][ch][0].as_f64().unwrap() as f32)
        .collect();
    assert_near(&a.map, &want, tol(backend), &format!("{method:?} map"));
}

fn ism(backend: Backend) {
    assert_ism(backend, Method::Ism);
}

fn fast_ism(backend: Backend) {
    assert_ism(backend, Method::FastIsm);
}

fn variant_scores(backend: Backend) {
    let Some(model) = load(DEMO, backend) else {
        return;
    };
    let file = std::fs::File::open(path("examples/data/variants.vcf")).unwrap();
    let vcf = io::read_vcf(file, "variants.vcf").unwrap();
    let mut genome = IndexedFasta::open(&path("examples/data/genome.fa")).unwrap();
    let opts = VariantOptions {
        scores: vec![Score::Diff],
        ..Default::default()
    };
    let rows =
        variants::score_variants(&model, &vcf, &mut genome, &opts, &mut |_, _| true).unwrap();
    for want in golden()["variants"].as_array().unwrap() {
        let id = want["id"].as_str().unwrap();
        let row = rows
            .iter()
            .find(|r| r.id.as_deref() == Some(id))
            .unwrap_or_else(|| panic!("no row for {id}"));
        assert_eq!(row.status, Status::Ok, "{id}");
        assert_near(
            &row.scores[0],
            &json_floats(&want["diff"]),
            tol(backend),
            id,
        );
    }
}
