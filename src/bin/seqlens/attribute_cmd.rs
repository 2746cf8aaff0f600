//! `seqlens attribute`: attribution maps for every sequence of a FASTA file, as a per-base
//! TSV (or JSON) and optionally one SVG logo or ISM heatmap per sequence.

use std::fs::File;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use seqlens::attrib::{Attribution, Baseline, DELTA_TOLERANCE, Explainer, Method};
use seqlens::encode::{Layout, UnknownPolicy};
use seqlens::io;
use seqlens::model::Model;
use seqlens::output::{Format, npz, write_atomic};
use seqlens::plot::{self, Palette, PlotOptions};

use crate::progress;

#[derive(Args)]
pub struct AttributeArgs {
    /// ONNX model.
    #[arg(long, short)]
    model: PathBuf,
    /// FASTA/FASTQ input (each record is fitted to the model's length).
    #[arg(long, short)]
    fasta: PathBuf,
    /// grad, ixg (gradient x input), ig (integrated gradients), deeplift-shap
    /// (DeepLIFT/DeepSHAP, as tangermeme's deep_lift_shap), fast-ism: models in the engine's
    /// op set; ism: any model.
    #[arg(long, default_value = "ixg")]
    method: String,
    /// Output label(s) to explain, comma-separated (summed); default: the first.
    #[arg(long, value_delimiter = ',')]
    target: Vec<String>,
    /// Profile models (e.g. CI-SpliceAI): the bases whose predictions are explained, as
    /// POS or START-END (0-based, half-open, in the coordinates of the output's pos
    /// column), e.g. --target donor --at 7400.
    #[arg(long, value_parser = parse_span)]
    at: Option<(i64, i64)>,
    /// The positions attributed (and mutated by ISM), START-END as for --at. Default: the
    /// whole sequence, or for a profile model the --at positions and 50 bases on each side.
    #[arg(long, value_parser = parse_span)]
    range: Option<(i64, i64)>,
    /// Integrated gradients: number of steps.
    #[arg(long, default_value_t = 50)]
    steps: usize,
    /// Integrated gradients' baseline and DeepLIFT/SHAP's references: zeros, uniform or
    /// shuffle (dinucleotide shuffles).
    #[arg(long, default_value = "shuffle")]
    baseline: String,
    /// Number of dinucleotide-shuffled baselines (averaged). Default: 10 for ig, 20 for
    /// deeplift-shap (tangermeme's default).
    #[arg(long)]
    shuffles: Option<usize>,
    /// DeepLIFT/SHAP or ig: a FASTA file of your own reference sequences instead of
    /// shuffles; each record is a reference for the input sequence of the same id (repeat
    /// the id for several), of the same length.
    #[arg(long, conflicts_with_all = ["baseline", "shuffles", "seed"])]
    references: Option<PathBuf>,
    /// Seed for the shuffles.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output: .json for JSON; .npz for numpy (arr_0: the maps as [sequences, symbols,
    /// positions] float32, what tangermeme returns and `modisco motifs -a` reads); .bedgraph
    /// for each base's score on its record (chrom, pos, pos + 1, score); .bw or .bigwig for
    /// the same as a bigWig (IGV, UCSC, deepTools; windows must not overlap); anything else
    /// for TSV (id, chrom, pos, ref, one column per symbol, score). Default: TSV on stdout.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Also write the attributed sequences one-hot encoded ([sequences, symbols, positions],
    /// arr_0) as this .npz: `modisco motifs -s` reads it beside the attributions.
    #[arg(long)]
    ohe: Option<PathBuf>,
    /// Also write one SVG per sequence into this directory: a logo of the attribution (of the
    /// observed bases for grad/ig/ixg), or a heatmap for ISM.
    #[arg(long)]
    svg: Option<PathBuf>,
    /// The SVGs' colours: classic (logomaker's letters, a blue-red heatmap) or colorblind
    /// (Okabe-Ito letters, a purple-orange heatmap).
    #[arg(long, default_value = "classic")]
    palette: Palette,
    /// Backend for ISM's predictions and the gradient methods (fast ISM uses the CPU engine).
    #[command(flatten)]
    backend: crate::BackendArg,
}

pub fn attribute(a: &AttributeArgs) -> Result<()> {
    let bytes = seqlens::onnx::read_model_file(&a.model)?;
    // Fast ISM runs on the CPU engine; the other methods use the selected backend.
    let on_backend = a.method != "fast-ism" && a.method != "fast_ism";
    let model = Model::from_bytes(&bytes).with_context(|| a.model.display().to_string())?;
    let symbols = model.metadata().alphabet.symbols().to_vec();
    // The sequences as the model encoded them, for --ohe.
    let encoder = model.encoder(UnknownPolicy::AsN);
    // The explainer imports the graph once; selecting the backend reuses that import.
    let mut explainer = Explainer::new(model);
    if on_backend {
        explainer = explainer
            .with_backend(a.backend.backend)
            .with_context(|| a.model.display().to_string())?;
        crate::report_backend(explainer.model());
    }
    let baseline = match &a.references {
        Some(path) => read_references(path)?,
        None => Baseline::parse(
            &a.baseline,
            a.shuffles.unwrap_or(Method::default_shuffles(&a.method)),
            a.seed,
        )?,
    };
    let method = Method::parse(&a.method, a.steps, baseline)?;
    if a.references.is_some() && !method.uses_baseline() {
        anyhow::bail!(
            "--references is for ig and deeplift-shap; method '{}' takes no references",
            a.method
        );
    }
    // DeepLIFT's multipliers run where gradients run.
    if matches!(method, Method::DeepLiftShap { .. }) {
        eprintln!("seqlens: DeepLIFT/SHAP on {}", explainer.gradient_backend());
    } else if on_backend && a.method != "ism" {
        eprintln!("seqlens: gradients on {}", explainer.gradient_backend());
    }
    let target = explainer.target(&a.target, a.at)?;
    explainer.range = a.range;
    let name = a.fasta.display().to_string();
    let recs = io::read_sequences(File::open(&a.fasta).with_context(|| name.clone())?, &name)?;
    let windows = explainer.windows(&recs, &target)?;
    if let Some(dir) = &a.svg {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let bar = progress::bar(windows.len() as u64, "attributing");
    let mut results = Vec::with_capacity(windows.len());
    for w in &windows {
        let r = explainer
            .explain(w, &target, &method, &mut |_, _| true)
            .with_context(|| format!("{}: sequence '{}'", a.model.display(), w.id))?;
        if let Some(delta) = r.delta.filter(|&d| d > DELTA_TOLERANCE) {
            bar.suspend(|| {
                eprintln!(
                    "seqlens: warning: '{}': DeepLIFT's convergence delta is {delta:.3e} (above \
                     {DELTA_TOLERANCE}): the contributions do not sum to the prediction's change",
                    r.id
                )
            });
        }
        if let Some(dir) = &a.svg {
            write_svg(dir, &r, &symbols, &method, a.palette)?;
        }
        results.push(r);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let what = format!("attributions for {} sequences", results.len());
    if let Some(path) = &a.ohe {
        let (x, shape) = stacked(&results, |r| {
            encoder.encode(&r.id, r.sequence.as_bytes(), Layout::Ncl)
        })?;
        let bytes = npz(&[("arr_0", &x, &shape)])?;
        write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote the sequences one-hot encoded to {}", path.display());
    }
    let ext = a
        .out
        .as_deref()
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match (ext.as_deref(), &a.out) {
        (Some("npz"), Some(path)) => {
            let (x, shape) = stacked(&results, |r| Ok(r.map.clone()))?;
            let bytes = npz(&[("arr_0", &x, &shape)])?;
            write_atomic(path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {what} to {}", path.display());
            return Ok(());
        }
        (Some("bw" | "bigwig"), Some(path)) => {
            seqlens::attrib::write_bigwig(path, &results, &recs)?;
            eprintln!("wrote {what} to {}", path.display());
            return Ok(());
        }
        (Some("bedgraph" | "bg"), _) => {
            let text = seqlens::attrib::to_bedgraph(&results);
            return crate::emit(a.out.as_deref(), &text, &what);
        }
        _ => {}
    }
    let text = match a.out.as_deref().map(Format::for_path) {
        Some(Format::Json) => serde_json::to_string(&results)?,
        _ => seqlens::attrib::to_tsv(&results, &symbols),
    };
    crate::emit(a.out.as_deref(), &text, &what)
}

/// One array per attribution (`item`: the map, or the sequence encoded) stacked as
/// `[sequences, symbols, positions]`; sequences of different lengths cannot be stacked.
fn stacked(
    results: &[Attribution],
    item: impl Fn(&Attribution) -> std::result::Result<Vec<f32>, seqlens::encode::Error>,
) -> Result<(Vec<f32>, [usize; 3])> {
    let (c, l) = results.first().map_or((0, 0), |r| (r.channels, r.length));
    let mut x = Vec::with_capacity(results.len() * c * l);
    for r in results {
        if (r.channels, r.length) != (c, l) {
            anyhow::bail!(
                "'{}' is attributed over {} positions but '{}' over {l}: an .npz array needs \
                 one length (set --range, or a model with a fixed length)",
                r.id,
                r.length,
                results[0].id
            );
        }
        x.extend(item(r)?);
    }
    Ok((x, [results.len(), c, l]))
}

/// `POS` (one base) or `START-END` (half-open).
fn parse_span(s: &str) -> Result<(i64, i64), String> {
    let num = |v: &str| {
        v.trim()
            .parse::<i64>()
            .map_err(|_| format!("'{s}' is not POS or START-END (0-based, half-open)"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            if a < b {
                Ok((a, b))
            } else {
                Err(format!("'{s}': START must be below END (half-open)"))
            }
        }
        None => num(s).map(|p| (p, p + 1)),
    }
}

fn write_svg(
    dir: &std::path::Path,
    r: &Attribution,
    symbols: &[u8],
    method: &Method,
    palette: Palette,
) -> Result<()> {
    let opts = PlotOptions {
        offset: r.start,
        palette,
        title: Some(format!("{} ({})", r.id, method_name(method))),
        ..Default::default()
    };
    let svg = match method {
        Method::Ism | Method::FastIsm => {
            plot::heatmap(&r.map, r.sequence.as_bytes(), symbols, &opts)
        }
        // Hypothetical contributions: every symbol's gradient.
        Method::Gradient => plot::logo(&r.map, symbols, &opts),
        // Contributions of the observed bases.
        _ => plot::logo(&r.observed_map(symbols), symbols, &opts),
    };
    let safe: String =
        r.id.chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() || "._-".contains(ch) {
                    ch
                } else {
                    '_'
                }
            })
            .collect();
    let path = dir.join(format!("{safe}.svg"));
    write_atomic(&path, svg.as_bytes()).with_context(|| format!("writing {}", path.display()))
}

fn method_name(m: &Method) -> String {
    match m {
        Method::Gradient => "gradient".into(),
        Method::GradientTimesInput => "gradient x input".into(),
        Method::IntegratedGradients { steps, baseline } => {
            format!("integrated gradients, {steps} steps, {baseline:?} baseline")
        }
        Method::DeepLiftShap { references } => format!("DeepLIFT/SHAP, {references:?} references"),
        Method::Ism => "ISM".into(),
        Method::FastIsm => "fast ISM".into(),
    }
}

/// `--references`: each record is a reference for the input sequence of its id.
fn read_references(path: &std::path::Path) -> Result<Baseline> {
    let name = path.display().to_string();
    let recs = io::read_sequences(File::open(path).with_context(|| name.clone())?, &name)?;
    let mut references = std::collections::BTreeMap::<String, Vec<String>>::new();
    for r in recs {
        references
            .entry(r.id)
            .or_default()
            .push(String::from_utf8_lossy(&r.seq).into_owned());
    }
    Ok(Baseline::Given { references })
}
