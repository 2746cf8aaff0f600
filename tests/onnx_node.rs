//! ONNX's own backend node tests (scripts/make_onnx_node_tests.py generates them with the
//! `onnx` package's case code, expected numbers from its numpy reference) through the
//! engine's importer, for every op the importer claims. Each case either imports and equals
//! ONNX's numbers on the CPU engine and on the GPU, or is refused with an error naming the
//! node and its op: never a wrong number. The cases the engine cannot represent (rank other
//! than 3, non-float tensors) are listed by the script with the reason, and printed here.

mod common;

use common::path;
use seqlens::encode::Layout;
use seqlens::nn::Tensor;
use serde_json::Value;

fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    // Infinities and NaN are strings in JSON ("inf", "-inf", "nan").
    let data = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| match x.as_str() {
            Some(s) => s.parse::<f32>().unwrap(),
            None => x.as_f64().unwrap() as f32,
        })
        .collect();
    Tensor::new(&shape, data).unwrap()
}

/// `[a, b, c]` -> `[a, c, b]`.
fn transpose12(x: &Tensor) -> Tensor {
    let (a, b, c) = (x.shape[0], x.shape[1], x.shape[2]);
    let mut data = vec![0.0; x.data.len()];
    for i in 0..a {
        for j in 0..b {
            for k in 0..c {
                data[(i * c + k) * b + j] = x.data[(i * b + j) * c + k];
            }
        }
    }
    Tensor::new(&[a, c, b], data).unwrap()
}

/// ONNX's own bound for node tests is rtol 1e-3, atol 1e-7; this is tighter in relative terms.
fn close(got: &[f32], want: &[f32]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} values, expected {}", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = (g - w).abs() <= 1e-5 + 1e-5 * w.abs() || (g.is_nan() && w.is_nan());
        if !ok {
            return Err(format!("value {i} is {g}, expected {w}"));
        }
    }
    Ok(())
}

#[test]
fn onnx_node_tests_import_exactly_or_are_refused_by_name() {
    let golden: Value = serde_json::from_str(
        &std::fs::read_to_string(path("tests/golden/onnx_node.json")).unwrap(),
    )
    .unwrap();
    #[cfg(feature = "gpu")]
    let gpu = match seqlens::blocking::block_on(seqlens::gpu::Gpu::new()) {
        Ok(g) => Some(g),
        Err(e) if std::env::var_os("SEQLENS_REQUIRE_GPU").is_some() => {
            panic!("SEQLENS_REQUIRE_GPU is set but {e}")
        }
        Err(_) => None,
    };
    let mut on_gpu = 0;
    let cases = golden["cases"].as_object().unwrap();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    let (mut exact, mut refused, mut wrong) = (Vec::new(), Vec::new(), Vec::new());
    for (name, case) in cases {
        let bytes = std::fs::read(path(&format!("tests/models/onnx_node/{name}.onnx"))).unwrap();
        // The input read as [batch, channels, length], or else as [batch, length, channels]
        // (an LSTM with layout 1), which the engine then takes transposed.
        let import = |layout| seqlens::onnx::import(&bytes, None, layout).map(|g| (g, layout));
        let mut x = tensor(&case["input"]);
        let graph = match import(Layout::Ncl).or_else(|e| import(Layout::Nlc).map_err(|_| e)) {
            Ok((g, layout)) => {
                if layout == Layout::Nlc {
                    x = transpose12(&x);
                }
                g
            }
            Err(e) => {
                let e = e.to_string();
                // A refusal names the node (its op in parentheses) or the graph-level reason.
                let named = case["ops"].as_array().unwrap().iter().any(|op| {
                    let op = op.as_str().unwrap();
                    e.contains(&format!("({op})")) || e.contains(&format!("operator '{op}'"))
                }) || e.contains("output")
                    || e.contains("input '");
                if !named {
                    wrong.push(format!("{name}: refused without naming the node: {e}"));
                }
                refused.push(format!("{name}: {e}"));
                continue;
            }
        };
        let want: Vec<f32> = case["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| tensor(o).data)
            .collect();
        match graph.predict(&x) {
            Ok(y) => match close(&y.data, &want) {
                Ok(()) => exact.push(name.clone()),
                Err(e) => wrong.push(format!("{name} on the CPU engine: {e}")),
            },
            Err(e) => wrong.push(format!("{name}: imported but does not run: {e}")),
        }
        #[cfg(feature = "gpu")]
        if let Some(gpu) = &gpu
            && seqlens::gpu::forward_blocker(&graph).is_none()
        {
            let y = seqlens::blocking::block_on(async {
                let g = seqlens::gpu::GpuGraph::new(gpu, &graph).await?;
                g.predict(gpu, &x).await
            });
            // The GPU's tolerance is 1e-4 elsewhere too (its exp and reductions differ).
            on_gpu += 1;
            match y.map(|y| y.data) {
                Ok(y)
                    if common::max_diff(&y, &want)
                        <= 1e-4 * (1.0 + want.iter().fold(0f32, |m, v| m.max(v.abs()))) => {}
                Ok(y) => wrong.push(format!(
                    "{name} on the GPU: differs by {}",
                    common::max_diff(&y, &want)
                )),
                Err(e) => wrong.push(format!("{name} on the GPU: {e}")),
            }
        }
    }
    for (name, why) in golden["skipped"].as_object().unwrap() {
        eprintln!("skipped\t{name}\t{}", why.as_str().unwrap());
    }
    for r in &refused {
        eprintln!("refused\t{r}");
    }
    #[cfg(not(feature = "gpu"))]
    let on_gpu = 0;
    eprintln!(
        "{} exact ({on_gpu} also on the GPU), {} refused by name, {} skipped (listed above)",
        exact.len(),
        refused.len(),
        golden["skipped"].as_object().unwrap().len()
    );
    assert!(wrong.is_empty(), "wrong:\n{}", wrong.join("\n"));
    // What the engine covers today; a regression that refuses more fails here.
    assert!(
        exact.len() >= 30,
        "only {} cases import exactly",
        exact.len()
    );
}
