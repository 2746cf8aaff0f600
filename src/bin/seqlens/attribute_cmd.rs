//! `seqlens attribute`: per-base attribution maps for every sequence of a FASTA file.

use std::fs::File;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use seqlens::attrib::{self, Method, Target};
use seqlens::encode::{Encoder, Layout};
use seqlens::io;
use seqlens::model::{Model, PredictOptions};
use seqlens::nn::Tensor;
use seqlens::output::AtomicFile;

#[derive(Args)]
pub struct AttributeArgs {
    /// ONNX model.
    #[arg(long, short)]
    model: PathBuf,
    /// FASTA/FASTQ input (each record is fitted to the model's length).
    #[arg(long, short)]
    fasta: PathBuf,
    /// grad (gradient), ixg (gradient x input): engine models; ism: any model.
    #[arg(long, default_value = "ixg")]
    method: String,
    /// Output label(s) to explain, comma-separated (summed); default: the first.
    #[arg(long, value_delimiter = ',')]
    target: Option<Vec<String>>,
    /// Output TSV (default: stdout): id, chrom, pos, ref, one column per base, score.
    #[arg(long, short)]
    out: Option<PathBuf>,
}

pub fn attribute(a: &AttributeArgs) -> Result<()> {
    let bytes = std::fs::read(&a.model).with_context(|| a.model.display().to_string())?;
    let model = Model::from_bytes(&bytes).with_context(|| a.model.display().to_string())?;
    let meta = model.metadata().clone();
    let labels = &meta.labels;
    let idx: Vec<usize> = match &a.target {
        None => vec![0],
        Some(names) => names
            .iter()
            .map(|n| {
                labels.iter().position(|l| l == n).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown target label '{n}'; the model has: {}",
                        labels.join(", ")
                    )
                })
            })
            .collect::<Result<_>>()?,
    };
    let target = Target::Sum(idx.clone());
    let name = a.fasta.display().to_string();
    let recs = io::read_sequences(File::open(&a.fasta).with_context(|| name.clone())?, &name)?;
    let opts = PredictOptions::default();
    let windows = model.windows(&recs, &opts)?;
    let symbols = meta.alphabet.symbols();
    let c = symbols.len();

    let mut text = String::from("id\tchrom\tpos\tref");
    for s in symbols {
        text.push('\t');
        text.push(*s as char);
    }
    text.push_str("\tscore\n");
    let mut emit = |w: &seqlens::encode::Window,
                    map: &dyn Fn(usize, usize) -> f32,
                    score: &dyn Fn(usize) -> f32| {
        for t in 0..w.seq.len() {
            text.push_str(&format!(
                "{}\t{}\t{}\t{}",
                w.id,
                w.chrom,
                w.start + t as i64,
                w.seq[t] as char
            ));
            for ch in 0..c {
                text.push_str(&format!("\t{}", map(t, ch)));
            }
            text.push_str(&format!("\t{}\n", score(t)));
        }
    };
    match a.method.as_str() {
        "grad" | "ixg" => {
            let mut graph = seqlens::onnx::import(&bytes, meta.length).with_context(|| {
                format!(
                    "{} (use --method ism for models outside the engine's op set)",
                    a.model.display()
                )
            })?;
            let method = if a.method == "grad" {
                Method::Gradient
            } else {
                Method::GradientTimesInput
            };
            let enc = Encoder::new(meta.alphabet, meta.n_policy, opts.unknown);
            for w in &windows {
                let x = Tensor::new(
                    &[1, c, w.seq.len()],
                    enc.encode(&w.id, &w.seq, Layout::Ncl)?,
                )?;
                let m = attrib::saliency(&mut graph, &x, &target, method)?;
                let l = w.seq.len();
                let per_base = attrib::per_base(&m.data, c);
                emit(w, &|t, ch| m.data[ch * l + t], &|t| per_base[t]);
            }
        }
        "ism" => {
            for w in &windows {
                let r = attrib::ism(&model, w, &opts)?;
                let d = |t: usize, ch: usize| {
                    idx.iter()
                        .map(|&o| r.delta[(t * c + ch) * r.labels + o])
                        .sum::<f32>()
                };
                // Per-base score: the mean effect of mutating the base away (ISM convention).
                emit(w, &d, &|t| {
                    -(0..c).map(|ch| d(t, ch)).sum::<f32>() / (c - 1) as f32
                });
            }
        }
        m => bail!("unknown method '{m}'; expected grad, ixg or ism"),
    }
    match &a.out {
        None => print!("{text}"),
        Some(p) => {
            let mut f =
                AtomicFile::create(p).with_context(|| format!("writing {}", p.display()))?;
            f.write_all(text.as_bytes())?;
            f.commit()
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!(
                "wrote {} positions to {}",
                text.lines().count() - 1,
                p.display()
            );
        }
    }
    Ok(())
}
