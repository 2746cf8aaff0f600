//! What a model can do: on which backend its predictions run, and which attribution methods
//! it supports, each with what blocks it when it cannot (naming the node). `seqlens info`
//! prints it; the npm package's `info()` carries it as `capabilities`.

use serde::Serialize;

use super::Explainer;
use crate::model::backend::{gpu_forward_blocker, gpu_gradient_blocker};

/// One backend or method, and whether the model can use it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// `tract`, `cpu`, `gpu`; or `grad`, `ixg`, `ig`, `deeplift-shap`, `ism`, `fast-ism`.
    pub name: String,
    /// Whether it runs for this model.
    pub available: bool,
    /// Where it runs when it does (the engine or tract; the GPU or the CPU).
    #[serde(rename = "runsOn", skip_serializing_if = "Option::is_none")]
    pub runs_on: Option<String>,
    /// Why it is unavailable, or why part of it runs elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Every backend and every attribution method, in the CLI's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Capabilities {
    /// The backends, in the order `tract`, `cpu`, `gpu`.
    pub backends: Vec<Capability>,
    /// The attribution methods, in the order `grad`, `ixg`, `ig`, `deeplift-shap`, `ism`,
    /// `fast-ism`.
    pub methods: Vec<Capability>,
}

fn cap(name: &str, available: bool, runs_on: Option<&str>, reason: Option<String>) -> Capability {
    Capability {
        name: name.into(),
        available,
        runs_on: runs_on.map(Into::into),
        reason,
    }
}

impl Explainer {
    /// What the model can do here. Static: it reads the model and its engine graph, and
    /// looks for no GPU adapter (a GPU backend marked available still needs one at run time).
    pub fn capabilities(&self) -> Capabilities {
        let graph = self.model().engine();
        let engine = graph.err().map(str::to_string);
        let gpu_gradients = match graph {
            Ok(g) => gpu_gradient_blocker(g),
            Err(e) => Some(e.to_string()),
        };
        let grads = |name: &str| match (&engine, &gpu_gradients) {
            (Some(e), _) => cap(name, false, None, Some(e.clone())),
            (None, None) => cap(name, true, Some("gpu or cpu (the seqlens engine)"), None),
            (None, Some(why)) => cap(
                name,
                true,
                Some("cpu (the seqlens engine)"),
                Some(why.clone()),
            ),
        };
        let gpu = match (&engine, graph.ok().and_then(gpu_forward_blocker)) {
            (Some(e), _) => cap("gpu", false, None, Some(e.clone())),
            (None, Some(why)) => cap("gpu", false, None, Some(why)),
            (None, None) => cap("gpu", true, Some("the seqlens engine's kernels"), None),
        };
        Capabilities {
            backends: vec![
                cap("tract", true, Some("tract"), None),
                match &engine {
                    None => cap("cpu", true, Some("the seqlens engine"), None),
                    Some(e) => cap("cpu", true, Some("tract"), Some(e.clone())),
                },
                gpu,
            ],
            methods: vec![
                grads("grad"),
                grads("ixg"),
                grads("ig"),
                // DeepLIFT runs where gradients run, once every layer has a rule.
                match (&engine, graph.ok().and_then(|g| g.deeplift_blocker())) {
                    (Some(e), _) => cap("deeplift-shap", false, None, Some(e.clone())),
                    (None, Some(why)) => cap("deeplift-shap", false, None, Some(why)),
                    (None, None) => grads("deeplift-shap"),
                },
                cap("ism", true, Some("the selected backend"), None),
                match &engine {
                    None => cap("fast-ism", true, Some("the seqlens engine"), None),
                    Some(e) => cap("fast-ism", false, None, Some(e.clone())),
                },
            ],
        }
    }
}
