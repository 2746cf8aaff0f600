//! The `seqlens` command line: argument parsing, files and formatting only; the work is in the
//! library.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use seqlens::encode::{Alphabet, Layout, NPolicy, UnknownPolicy};
use seqlens::io::{self, IndexedFasta};
use seqlens::model::{Backend, Model, Overrides, PredictOptions};
use seqlens::output::bigwig::ProfileTracks;
use seqlens::output::{AtomicFile, Format, TableWriter, TrackFormat, TrackWriter};
use seqlens::shard::Shard;
use std::io::Write;

mod ablate_cmd;
mod attribute_cmd;
mod design_cmd;
mod marginalize_cmd;
mod motifs_cmd;
mod progress;
mod seqlets_cmd;
mod shard_cmd;
mod splice_cmd;
mod train_cmd;
mod variants_cmd;

/// A help text's examples, each wrapped at 92 columns with shell continuations (so that a
/// terminal never breaks one where a copy would not run), then `notes`.
fn examples(commands: &[&str], notes: &str) -> String {
    let mut out = String::from(if commands.len() > 1 {
        "Examples:"
    } else {
        "Example:"
    });
    for c in commands {
        let mut line = String::from("\n  ");
        for (i, word) in c.split(' ').enumerate() {
            if i > 0 && line.len() + word.len() + 3 > 92 {
                out.push_str(&line);
                out.push_str(" \\");
                line = String::from("\n      ");
            } else if i > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
    }
    if !notes.is_empty() {
        out.push_str("\n\n");
        out.push_str(notes);
    }
    out
}

#[derive(Parser)]
#[command(
    name = "seqlens",
    version,
    about = "Run deep-learning models on genomic sequences (ONNX, via tract)",
    after_help = examples(
        &[
            "seqlens predict --model examples/models/demo.onnx --fasta examples/data/sample.fa",
            "seqlens predict --model examples/models/demo.onnx --bed examples/data/regions.bed --genome examples/data/genome.fa --out preds.json",
            "seqlens info --model examples/models/demo.onnx",
        ],
        "",
    )
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Predict every sequence (or window) of a FASTA/FASTQ file or of BED regions.
    #[command(after_help = examples(
        &[
            "seqlens predict --model examples/models/demo.onnx --fasta examples/data/sample.fa --rc-average --out preds.tsv",
            "seqlens predict --model examples/models/demo.onnx --fasta examples/data/genome.fa --stride 250 --out tiles.tsv",
            "seqlens predict --model examples/models/demo.onnx --bed examples/data/regions.bed --genome examples/data/genome.fa --out preds.json",
        ],
        concat!(
            "Sequences longer than the model are center-cropped and shorter ones padded with N,\n",
            "unless --stride tiles them into windows. BED intervals are re-centred to the model's\n",
            "length on the genome. The TSV has columns id, chrom, start, end (0-based, half-open,\n",
            "the window the model saw), then one column per output label.",
        ),
    ))]
    Predict(PredictArgs),
    /// Train a model with the engine and export it as ONNX.
    #[command(after_help = examples(
        &[
            "seqlens train --preset deepbind --fasta examples/data/train/train.fa --valid-fasta examples/data/train/valid.fa --test-fasta examples/data/train/test.fa --label-names CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53 --out deepbind.onnx",
            "seqlens train --config examples/models/demo.toml --fasta examples/data/train/train.fa --label-names CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53 --stratify --split-seed 2 --epochs 3 --save-split split.tsv --out demo.onnx",
            "seqlens train --preset deepbind --pos examples/data/train/ctcf_pos.fa --neg examples/data/train/ctcf_neg.fa --label-names CTCF --stratify --kfold 3 --epochs 2",
            "seqlens train --init examples/models/demo.onnx --freeze 1 --new-head --pos examples/data/train/ctcf_pos.fa --neg examples/data/train/ctcf_neg.fa --label-names CTCF --epochs 2 --out tuned.onnx",
            "seqlens train --preset deepbind --weight-init kaiming_normal --fasta examples/data/train/train.fa --label-names CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53 --epochs 2 --checkpoint ck.json",
            "seqlens train --resume ck.json --fasta examples/data/train/train.fa --label-names CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53 --epochs 4 --checkpoint ck.json",
            "seqlens train --preset bpnet --depth 3 --width 0.25 --length 300 --bed examples/data/profile/peaks.bed --genome examples/data/profile/profiles.fa --signal examples/data/profile/plus.bw,examples/data/profile/minus.bw --epochs 2 --out bpnet.onnx",
        ],
        concat!(
            "Validation and test data come from their own files (--valid-*, --test-*, in the training\n",
            "data's form), or are held out of the training data: whole chromosomes (--valid-chroms,\n",
            "--test-chroms), or random fractions drawn with --split-seed, stratified by class with\n",
            "--stratify. A random split never separates identical sequences, nor sequences that share\n",
            "a --group-column value.\n\n",
            "The bpnet preset trains a stranded profile and its log total count together, as\n",
            "bpnet-lite does. Its targets are read counts per strand and position over each peak's\n",
            "output window: --signal tracks (bigWig or bedGraph) with --bed and --genome, or a\n",
            "--labels TSV with columns plus_0.., minus_0... Its export predicts counts per position,\n",
            "which predict writes as tracks (a long TSV, or one bedGraph or bigWig per strand).",
        ),
    ))]
    Train(Box<train_cmd::TrainArgs>),
    /// Print a metrics table for a model on labelled data.
    #[command(
        after_help = examples(
        &[
            "seqlens evaluate --model examples/models/demo.onnx --fasta examples/data/train/test.fa --label-names CTCF,GATA1,SPI1,FOXA1,HNF4A,CEBPB,REST,TP53",
        ],
        "",
    )
    )]
    Evaluate(train_cmd::EvaluateArgs),
    /// Attribution maps per base: gradient, gradient x input, integrated gradients, or
    /// in-silico mutagenesis (full or fast).
    #[command(after_help = examples(
        &[
            "seqlens attribute --model examples/models/demo.onnx --fasta examples/data/sample.fa --method ixg --target SPI1 --svg logos/",
            "seqlens attribute --model examples/models/demo.onnx --fasta examples/data/sample.fa --method ig --steps 20 --baseline shuffle --shuffles 5",
            "seqlens attribute --model examples/models/demo.onnx --fasta examples/data/sample.fa --method fast-ism --target CTCF,REST --out ism.tsv --svg heatmaps/",
        ],
        "",
    ))]
    Attribute(attribute_cmd::AttributeArgs),
    /// Seqlets (short spans of high attribution) in an attribution table, with tangermeme's
    /// recursive seqlet caller and p-values.
    #[command(after_help = examples(
        &[
            "seqlens attribute -m examples/models/demo.onnx -f examples/data/sample.fa --method deeplift-shap --target CTCF --out attr.tsv",
            "seqlens seqlets --attributions attr.tsv --out seqlets.tsv",
            "seqlens seqlets -a attr.tsv --threshold 0.001 --min-len 6 --flank 3 --negative",
            "seqlens seqlets -a attr.tsv --annotate --top 3",
            "seqlens seqlets -a attr.tsv --motifs examples/data/planted_motifs.meme",
        ],
        concat!(
            "The p-values rank spans against a null in which positions are independent; they are\n",
            "not error rates. --annotate compares each seqlet's bases with JASPAR 2024 CORE\n",
            "vertebrates (bundled, CC BY 4.0) by TOMTOM, as tangermeme's annotate_seqlets does.",
        ),
    ))]
    Seqlets(seqlets_cmd::SeqletsArgs),
    /// Compare motifs (a MEME file) with a motif database by TOMTOM: p-, E- and q-values,
    /// memelite's numbers.
    #[command(after_help = examples(
        &[
            "seqlens motifs --query examples/data/planted_motifs.meme",
            "seqlens motifs --query examples/data/planted_motifs.meme --motifs examples/data/planted_motifs.meme --top 3 --out matches.tsv",
        ],
        concat!(
            "The default database is JASPAR 2024 CORE vertebrates (879 matrices, bundled; CC BY 4.0,\n",
            "cite Rauluseviciute et al., NAR 2024). q-values are Benjamini-Hochberg over the database\n",
            "for each query, as MEME Suite's Tomtom reports them.",
        ),
    ))]
    Motifs(motifs_cmd::MotifsArgs),
    /// The effect of motifs substituted into background sequences (tangermeme's
    /// marginalize), or of motif pairs at a range of spacings (its space).
    #[command(after_help = examples(
        &[
            "seqlens marginalize -m examples/models/demo.onnx -f examples/data/sample.fa --shuffles 20 --motif CCACCAGGGGGCGC",
            "seqlens marginalize -m examples/models/demo.onnx -f examples/data/sample.fa --motif TGACTCA --motif GATAAG --spacing 0-20 --out space.tsv",
        ],
        concat!(
            "An N in a motif keeps the background's base. By default the motifs and their gaps are\n",
            "centred as tangermeme centres them; --start places the first motif.",
        ),
    ))]
    Marginalize(marginalize_cmd::MarginalizeArgs),
    /// The effect of shuffling a region of each sequence away (tangermeme's ablate): each
    /// sequence's prediction before, and after each of N shuffles of the region.
    #[command(after_help = examples(
        &[
            "seqlens ablate -m examples/models/demo.onnx -f examples/data/sample.fa --region 230-270",
            "seqlens ablate -m examples/models/demo.onnx -f examples/data/sample.fa --region 230-270 --shuffles 50 --dinucleotide --seed 1 --out ablation.tsv",
        ],
        concat!(
            "The region is in the model's window (the sequence centred or cropped to its length, as\n",
            "predict fits it). The mean effect per label goes to stderr.",
        ),
    ))]
    Ablate(ablate_cmd::AblateArgs),
    /// Design sequences: edit each one base at a time toward a goal for the model's outputs
    /// under an edit budget, greedily or with a beam (tangermeme's greedy_substitution and
    /// beam_substitution).
    #[command(after_help = examples(
        &[
            "seqlens design -m examples/models/demo.onnx -f examples/data/sample.fa --labels CTCF --edits 5",
            "seqlens design -m examples/models/demo.onnx -f examples/data/sample.fa --labels SPI1 --goal min --beam 4 --keep 4 --region 200-300 --out designs.tsv",
            "seqlens design -m examples/models/demo.onnx -f examples/data/sample.fa --labels CTCF,REST --goal 2,0,0,0,0,0,0,0 --edits 3 --tol 0",
        ],
        concat!(
            "Each round scores every single-base substitution by ISM (fast ISM through the seqlens\n",
            "engine where it imports the model) and keeps the best. The loss is the chosen labels'\n",
            "negated mean (max), their mean (min), or their mean squared error to the goal's values.",
        ),
    ))]
    Design(design_cmd::DesignArgs),
    /// Score VCF variants: predictions on reference and alternate windows, and their
    /// differences per label.
    #[command(after_help = examples(
        &[
            "seqlens variants --model examples/models/demo.onnx --vcf examples/data/variants.vcf --genome examples/data/genome.fa",
            "seqlens variants --model examples/models/demo.onnx --vcf examples/data/variants.vcf --genome examples/data/genome.fa --scores diff,abs_diff,log_odds,log2_fc --rc-average --out effects.json",
        ],
        concat!(
            "Each allele is centred in a window of the model's length; for indels the flanks shift\n",
            "so both windows keep that length. A REF that differs from the genome, an unknown\n",
            "contig or a symbolic ALT is reported in the status column and left unscored.",
        ),
    ))]
    Variants(variants_cmd::VariantsArgs),
    /// Join the outputs of a job's shards (--shard I/N of predict or variants), in shard
    /// order, into the output of the unsharded run.
    #[command(after_help = examples(
        &[
            "seqlens predict --model examples/models/demo.onnx --fasta examples/data/genome.fa --stride 250 --shard 1/2 --out part1.tsv",
            "seqlens predict --model examples/models/demo.onnx --fasta examples/data/genome.fa --stride 250 --shard 2/2 --out part2.tsv",
            "seqlens merge part1.tsv part2.tsv --out tiles.tsv",
        ],
        concat!(
            "TSV tables keep one header line; VCFs their header lines. Every part must come from\n",
            "the same command with the same options; a header that differs is refused.",
        ),
    ))]
    Merge(shard_cmd::MergeArgs),
    /// Index a FASTA file as `samtools faidx` does: FASTA.fai, and FASTA.gzi for a bgzip file
    /// (byte for byte the files samtools writes).
    #[command(after_help = examples(
        &[
            "seqlens index examples/data/splice/genome.fa.gz",
            "seqlens index examples/data/genome.fa",
        ],
        "",
    ))]
    Index {
        /// FASTA file, plain or bgzip-compressed.
        fasta: PathBuf,
    },
    /// Splice-variant effects with CI-SpliceAI (bundled): delta scores for acceptor and
    /// donor gain and loss per allele and gene, cispliceai's numbers, on your machine.
    #[command(after_help = examples(
        &[
            "seqlens splice --vcf examples/data/splice/variants.vcf --genome examples/data/splice/genome.fa -a examples/data/splice/genes.csv --out scored.vcf",
            "seqlens splice --vcf examples/data/splice/variants.vcf --genome examples/data/splice/genome.fa.gz -a examples/data/splice/genes.gtf --mask --distance 500 --out scores.tsv",
        ],
        concat!(
            "The output VCF carries cispliceai's INFO field CISpliceAI=ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL\n",
            "(delta scores in [0, 1]; positions relative to POS). CI-SpliceAI (Strauch et al., PLOS ONE 2022)\n",
            "is licensed CC BY 4.0. Research use only: not a clinical or diagnostic device.",
        ),
    ))]
    Splice(splice_cmd::SpliceArgs),
    /// Show a model's inputs, outputs, seqlens metadata, operators and parameter count.
    #[command(after_help = examples(
        &[
            "seqlens info --model examples/models/demo.onnx --json",
        ],
        "",
    ))]
    Info {
        /// ONNX model file.
        #[arg(long, short)]
        model: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct PredictArgs {
    /// ONNX model file.
    #[arg(long, short)]
    model: PathBuf,
    /// FASTA or FASTQ input, plain, gzip or bgzf.
    #[arg(long, short, conflicts_with = "bed", required_unless_present = "bed")]
    fasta: Option<PathBuf>,
    /// BED intervals to predict, read from --genome.
    #[arg(long, requires = "genome")]
    bed: Option<PathBuf>,
    /// Reference FASTA for --bed (uses GENOME.fai, or indexes the file in memory).
    #[arg(long)]
    genome: Option<PathBuf>,
    /// Average each prediction with that of the reverse complement.
    #[arg(long)]
    rc_average: bool,
    /// Output file: .json for JSON, anything else for TSV. Default: TSV on stdout. A profile
    /// model's tracks also go to .bedgraph or .bw (bigWig), one file per class, named
    /// PATH-STEM.CLASS.EXT.
    #[arg(long, short)]
    out: Option<PathBuf>,
    /// Tile long FASTA sequences into model-length windows every STRIDE bases.
    #[arg(long)]
    stride: Option<usize>,
    /// Sequences per model run.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Characters outside the alphabet: `error` or `as-n`.
    #[arg(long, default_value = "error")]
    unknown: UnknownPolicy,
    #[command(flatten)]
    overrides: OverrideArgs,
    #[command(flatten)]
    backend: BackendArg,
    /// --regions (tiled with --stride; FASTA input) and --shard.
    #[command(flatten)]
    shard: shard_cmd::ShardArgs,
}

/// Where the model's predictions run.
#[derive(Args, Clone, Copy)]
pub struct BackendArg {
    /// auto (a hardware GPU when the model's graph runs there, else the CPU), gpu (fail
    /// with the reason if it cannot), cpu (the seqlens engine where the model's graph
    /// imports, tract otherwise) or tract. The backend used is printed on stderr.
    #[arg(long, default_value = "auto")]
    pub backend: Backend,
}

/// Values that replace the model's seqlens metadata.
#[derive(Args)]
struct OverrideArgs {
    /// Alphabet: dna, rna or protein.
    #[arg(long)]
    alphabet: Option<Alphabet>,
    /// Input layout: NCL or NLC.
    #[arg(long)]
    layout: Option<Layout>,
    /// Sequence length the model takes.
    #[arg(long)]
    length: Option<usize>,
    /// Encoding of N and other ambiguity codes: zero, uniform or iupac.
    #[arg(long)]
    n_policy: Option<NPolicy>,
    /// Output labels, comma-separated.
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
}

impl OverrideArgs {
    fn to_overrides(&self) -> Overrides {
        Overrides {
            alphabet: self.alphabet,
            layout: self.layout,
            length: self.length,
            n_policy: self.n_policy,
            labels: self.labels.clone(),
            task: None,
            output: None,
        }
    }
}

/// Loads a model; with a backend, selects it and says on stderr which one runs and why.
pub fn load_model(path: &Path, overrides: &Overrides, backend: Option<Backend>) -> Result<Model> {
    let bytes = seqlens::onnx::read_model_file(path)?;
    let mut model =
        Model::from_bytes_with(&bytes, overrides).with_context(|| format!("{}", path.display()))?;
    if let Some(b) = backend {
        model = model
            .with_backend(b)
            .with_context(|| format!("{}", path.display()))?;
        report_backend(&model);
    }
    Ok(model)
}

/// `START-END` (0-based, half-open, START < END) as a range; `flag` names it in the error.
pub fn parse_region(text: &str, flag: &str) -> anyhow::Result<std::ops::Range<usize>> {
    match text
        .split_once('-')
        .map(|(s, e)| (s.trim().parse::<usize>(), e.trim().parse::<usize>()))
    {
        Some((Ok(s), Ok(e))) if s < e => Ok(s..e),
        _ => anyhow::bail!(
            "{flag} '{text}': expected START-END with START < END (0-based, half-open)"
        ),
    }
}

/// Writes a command's output: atomically to `out`, then `wrote {what} to PATH` on stderr; or
/// to stdout when no file is given.
pub fn emit(out: Option<&std::path::Path>, text: &str, what: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    match out {
        None => print!("{text}"),
        Some(p) => {
            seqlens::output::write_atomic(p, text.as_bytes())
                .with_context(|| format!("writing {}", p.display()))?;
            eprintln!("wrote {what} to {}", p.display());
        }
    }
    Ok(())
}

/// Says on stderr which backend runs the model, and why.
pub fn report_backend(model: &Model) {
    eprintln!("seqlens: running the model on {}", model.backend());
}

/// Windows per model call in the CLI: enough to keep batches full, few enough that a
/// chromosome streams through in bounded memory.
const CHUNK_WINDOWS: usize = 4096;

fn predict(a: &PredictArgs) -> Result<()> {
    let model = load_model(
        &a.model,
        &a.overrides.to_overrides(),
        Some(a.backend.backend),
    )?;
    let opts = PredictOptions {
        rc_average: a.rc_average,
        batch_size: a.batch_size,
        unknown: a.unknown,
        stride: a.stride,
    };
    if model.profile().is_ok() {
        return predict_tracks(a, &model, &opts);
    }
    // A name the table writer does not write must not get a TSV under it.
    if let Some(e) = out_extension(a)
        && matches!(e.as_str(), "bw" | "bigwig" | "bb" | "bigbed")
    {
        bail!(
            "predict does not write .{e} for this model: it predicts one value per window, \
             written as a table (.tsv or .json); bigWig is for per-base outputs (a profile \
             model's tracks, or `seqlens attribute --out FILE.bw`)"
        );
    }
    let format = a.out.as_deref().map_or(Format::Tsv, Format::for_path);
    let sink = match &a.out {
        Some(path) => Sink::File(
            AtomicFile::create(path).with_context(|| format!("writing {}", path.display()))?,
        ),
        None => Sink::Stdout(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut table = TableWriter::new(sink, format).with_labels(model.output_labels());
    let bar = progress::counter("predicting", "windows");
    let mut run = |windows: Vec<seqlens::encode::Window>| -> Result<()> {
        if !windows.is_empty() {
            let mut shown = 0;
            let preds = model.predict_windows(windows, &opts, &mut |done, _| {
                bar.inc(done.saturating_sub(shown) as u64);
                shown = done;
                true
            })?;
            table.write(&preds).context("writing predictions")?;
        }
        Ok(())
    };
    let regions = a.shard.regions()?;
    let shard = a.shard.shard()?;
    if let Some(fasta) = &a.fasta {
        if regions.is_some() && a.stride.is_none() {
            bail!(
                "--regions tiles each region: give --stride (to predict one window centred on \
                 each interval, use --bed with --genome)"
            );
        }
        let regions = regions.as_deref();
        // A shard needs the number of windows first: one pass that cuts none of them.
        let range = if shard == Shard::ALL {
            0..usize::MAX
        } else {
            let total = fasta_windows(fasta, &model, &opts, regions, 0..0, &mut |_| Ok(()))?;
            shard.units(total, CHUNK_WINDOWS)
        };
        // Windows are cut as they are predicted: a chromosome at a small stride holds one
        // chunk of windows at a time, not all of them.
        let mut pending = Vec::new();
        fasta_windows(fasta, &model, &opts, regions, range, &mut |w| {
            pending.push(w);
            if pending.len() >= CHUNK_WINDOWS {
                run(std::mem::take(&mut pending))?;
            }
            Ok(())
        })?;
        run(pending)?;
    } else {
        let (Some(bed), Some(genome)) = (&a.bed, &a.genome) else {
            bail!("give --fasta, or --bed with --genome");
        };
        if regions.is_some() {
            bail!("--regions limits --fasta input; --bed already names the intervals to predict");
        }
        let name = bed.display().to_string();
        let intervals = io::read_bed(File::open(bed).with_context(|| name.clone())?, &name)?;
        let mut genome = IndexedFasta::open(genome)?;
        let range = shard.units(intervals.len(), CHUNK_WINDOWS);
        for chunk in intervals[range].chunks(CHUNK_WINDOWS) {
            run(model.bed_windows(chunk, &mut genome)?)?;
        }
    }
    bar.finish_and_clear();
    let (sink, rows) = table.finish().context("writing predictions")?;
    // Only a complete table replaces an output file: the temporary file is renamed here.
    sink.commit().context("writing predictions")?;
    if let Some(path) = &a.out {
        eprintln!("wrote {rows} predictions to {}", path.display());
    }
    Ok(())
}

/// Streams the windows `predict` cuts from a FASTA/FASTQ file (each record fitted or tiled;
/// with `regions`, each region's tiles, in the record's coordinates) and hands those whose
/// index in that order is in `range` to `take`, cutting no others. Returns how many windows
/// there are in all.
fn fasta_windows(
    path: &Path,
    model: &Model,
    opts: &PredictOptions,
    regions: Option<&[io::Interval]>,
    range: std::ops::Range<usize>,
    take: &mut dyn FnMut(seqlens::encode::Window) -> Result<()>,
) -> Result<usize> {
    let name = path.display().to_string();
    let file = File::open(path).with_context(|| name.clone())?;
    let mut seen = 0;
    let mut records = 0;
    let mut used = vec![false; regions.map_or(0, <[_]>::len)];
    // A region must hold at least one window of the model's length.
    let width = model.metadata().length.unwrap_or(1) as u64;
    // One record's (or region's) windows; `offset` places a region's in its record.
    let mut each = |rec: &io::SeqRecord, offset: Option<(&str, i64)>| -> Result<()> {
        let mut windows = model.record_windows(rec, opts)?;
        let first = seen;
        seen += windows.remaining();
        let (from, to) = (range.start.max(first), range.end.min(seen));
        if from < to {
            windows.skip_windows(from - first);
            for mut w in windows.take(to - from) {
                if let Some((chrom, off)) = offset {
                    w.start += off;
                    w.end += off;
                    w.chrom = chrom.to_string();
                    w.id = format!("{chrom}:{}-{}", w.start, w.end);
                }
                take(w)?;
            }
        }
        Ok(())
    };
    for rec in io::SequenceReader::new(file, &name)? {
        let rec = rec?;
        records += 1;
        let Some(regions) = regions else {
            each(&rec, None)?;
            continue;
        };
        let len = rec.seq.len() as u64;
        for (i, r) in regions
            .iter()
            .enumerate()
            .filter(|(_, r)| r.chrom == rec.id)
        {
            used[i] = true;
            let end = r.end.min(len);
            let shown = format!("{}:{}-{}", r.chrom, r.start + 1, end);
            if r.start >= len || end - r.start < width {
                bail!(
                    "{name}: region {shown} (record '{}' has {len} bases) is shorter than the \
                     model's {width}; widen it, or predict one window centred on it with --bed \
                     and --genome",
                    rec.id
                );
            }
            let sub = io::SeqRecord {
                id: shown,
                description: None,
                seq: rec.seq[r.start as usize..end as usize].to_vec(),
            };
            each(&sub, Some((&rec.id, r.start as i64)))?;
        }
    }
    if records == 0 {
        bail!("{name}: no sequences found");
    }
    if let Some(i) = used.iter().position(|u| !u) {
        let r = &regions.unwrap_or_default()[i];
        bail!(
            "{name}: region on '{}' names no record of the file",
            r.chrom
        );
    }
    Ok(seen)
}

/// `predict` for a profile model: one row (or bedGraph line) per base of each sequence or
/// BED interval, streamed window by window; or bigWig files, written once every window is
/// predicted.
fn predict_tracks(a: &PredictArgs, model: &Model, opts: &PredictOptions) -> Result<()> {
    if a.shard.regions.is_some() || a.shard.shard.is_some() {
        bail!(
            "--regions and --shard are not implemented for profile models (one track per \
             base); predict the whole input, or split it into FASTA or BED files yourself"
        );
    }
    if a.stride.is_some() {
        bail!(
            "--stride tiles sequences for models with one prediction per window; this model \
             predicts a profile per base and covers every base already"
        );
    }
    let labels = model.metadata().labels.clone();
    let format = a
        .out
        .as_deref()
        .map_or(TrackFormat::Tsv, TrackFormat::for_path);
    let ext = out_extension(a);
    if let Some(e) = ext.as_deref().filter(|e| matches!(*e, "bb" | "bigbed")) {
        bail!("predict does not write .{e}: write the tracks as .bw (bigWig) or .bedgraph");
    }
    let bigwig = matches!(ext.as_deref(), Some("bw" | "bigwig"));
    // bedGraph and bigWig: one file per class, PATH with the class name before the extension.
    let paths: Vec<PathBuf> = match (&a.out, format) {
        (Some(p), _) if bigwig || format == TrackFormat::BedGraph => labels
            .iter()
            .map(|l| {
                let stem = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let ext = p
                    .extension()
                    .map(|e| e.to_string_lossy().into_owned())
                    .unwrap_or_default();
                p.with_file_name(format!("{stem}.{}.{ext}", l.replace(['/', ' '], "_")))
            })
            .collect(),
        (Some(p), _) => vec![p.clone()],
        (None, TrackFormat::BedGraph) => bail!("bedGraph output needs --out FILE.bedgraph"),
        (None, _) => Vec::new(),
    };
    let mut tracks = if bigwig {
        TrackOut::BigWig(ProfileTracks::new(labels.len(), BIGWIG_VALUES))
    } else {
        let sinks = if paths.is_empty() {
            vec![Sink::Stdout(std::io::BufWriter::new(
                std::io::stdout().lock(),
            ))]
        } else {
            paths
                .iter()
                .map(|p| {
                    AtomicFile::create(p)
                        .map(Sink::File)
                        .with_context(|| format!("writing {}", p.display()))
                })
                .collect::<Result<_>>()?
        };
        TrackOut::Text(TrackWriter::new(sinks, format, &labels)?)
    };
    // The records' lengths, for a bigWig's chromosome list.
    let mut chroms: Vec<(String, u64)> = Vec::new();
    // Windows per model call: a few batches' worth, so a chromosome streams through.
    let per_call = opts.batch_size.max(1) * 4;
    let bar = progress::counter("predicting", "windows");
    let mut run = |windows: Vec<seqlens::encode::Window>, end: i64| -> Result<()> {
        for chunk in windows.chunks(per_call) {
            let p = model.predict_profile_windows(chunk, opts, &mut |_, _| true)?;
            for t in &p.tracks {
                match &mut tracks {
                    TrackOut::Text(w) => w.write(t, end).context("writing tracks")?,
                    TrackOut::BigWig(b) => b.push(t, end)?,
                }
            }
            bar.inc(chunk.len() as u64);
        }
        Ok(())
    };
    if let Some(fasta) = &a.fasta {
        let name = fasta.display().to_string();
        let file = File::open(fasta).with_context(|| name.clone())?;
        let mut records = 0;
        for rec in io::SequenceReader::new(file, &name)? {
            let rec = rec?;
            let len = rec.seq.len() as i64;
            chroms.push((rec.id.clone(), len as u64));
            // Windows are cut as they are predicted, a few batches at a time.
            let mut windows = model.record_profile_windows(&rec, 0, len, opts)?;
            loop {
                let chunk: Vec<_> = windows.by_ref().take(per_call).collect();
                if chunk.is_empty() {
                    break;
                }
                run(chunk, len)?;
            }
            records += 1;
        }
        if records == 0 {
            bail!("{name}: no sequences found");
        }
    } else {
        let (Some(bed), Some(genome)) = (&a.bed, &a.genome) else {
            bail!("give --fasta, or --bed with --genome");
        };
        let name = bed.display().to_string();
        let intervals = io::read_bed(File::open(bed).with_context(|| name.clone())?, &name)?;
        let mut genome = IndexedFasta::open(genome)?;
        chroms = genome.contigs();
        for iv in &intervals {
            let id = iv
                .name
                .clone()
                .unwrap_or_else(|| format!("{}:{}-{}", iv.chrom, iv.start, iv.end));
            let mut windows = model.profile_windows_over(
                &id,
                &iv.chrom,
                iv.start as i64,
                iv.end as i64,
                |from, to| genome.fetch(&iv.chrom, from, to),
            )?;
            loop {
                let chunk = windows
                    .by_ref()
                    .take(per_call)
                    .collect::<Result<Vec<_>, _>>()?;
                if chunk.is_empty() {
                    break;
                }
                run(chunk, iv.end as i64)?;
            }
        }
    }
    let positions = match tracks {
        TrackOut::Text(w) => {
            let (sinks, positions) = w.finish().context("writing tracks")?;
            for s in sinks {
                s.commit().context("writing tracks")?;
            }
            positions
        }
        TrackOut::BigWig(b) => {
            b.write(&paths, &chroms)?;
            b.positions()
        }
    };
    for p in &paths {
        eprintln!("wrote {positions} positions to {}", p.display());
    }
    Ok(())
}

/// At most this many values (4 GiB) are held for a profile model's bigWig output.
const BIGWIG_VALUES: usize = 1 << 30;

/// Where a profile model's tracks go: text streamed to its sinks, or values gathered for
/// bigWig files.
enum TrackOut {
    Text(TrackWriter<Sink>),
    BigWig(ProfileTracks),
}

/// `--out`'s extension, lower-cased.
fn out_extension(a: &PredictArgs) -> Option<String> {
    let e = a.out.as_deref()?.extension()?;
    Some(e.to_string_lossy().to_ascii_lowercase())
}

/// Where `predict` writes: standard output, or a file that appears only when complete.
enum Sink {
    Stdout(std::io::BufWriter<std::io::StdoutLock<'static>>),
    File(AtomicFile),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(f) => f.flush(),
        }
    }
}

impl Sink {
    fn commit(self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::File(f) => f.commit(),
        }
    }
}

fn info(path: &Path, json: bool) -> Result<()> {
    let bytes = seqlens::onnx::read_model_file(path)?;
    let model = Model::from_bytes(&bytes).with_context(|| format!("{}", path.display()))?;
    let explainer = seqlens::attrib::Explainer::new(model);
    let caps = explainer.capabilities();
    let info = explainer.model().info();
    if json {
        let mut v = serde_json::to_value(info)?;
        v["capabilities"] = serde_json::to_value(&caps)?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let s = &info.summary;
    let shape = |t: &seqlens::model::TensorInfo| {
        let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
        format!("{} {} [{}]", t.name, t.dtype, dims.join(", "))
    };
    println!("model       {}", path.display());
    println!("producer    {} (opset {})", s.producer, s.opset);
    for i in &s.inputs {
        println!("input       {}", shape(i));
    }
    for o in &s.outputs {
        println!("output      {}", shape(o));
    }
    let m = &info.metadata;
    println!("alphabet    {}", m.alphabet);
    println!("layout      {}", m.layout);
    println!(
        "length      {}",
        m.length.map_or("any".to_string(), |l| l.to_string())
    );
    println!("n_policy    {}", m.n_policy);
    println!("task        {}", m.task.as_deref().unwrap_or("-"));
    // A profile flattened into values has hundreds of labels: the first and last few say
    // what they are (`--json` lists them all).
    let labels = match m.labels.len() {
        n if n > 12 => format!(
            "{}, ... {} ({n} values)",
            m.labels[..6].join(", "),
            m.labels[n - 3..].join(", ")
        ),
        _ => m.labels.join(", "),
    };
    println!("labels      {labels}");
    println!("parameters  {}", s.parameters);
    let ops: Vec<String> = s.ops.iter().map(|(k, v)| format!("{k} x{v}")).collect();
    println!("ops         {}", ops.join(", "));
    for (k, v) in &s.properties {
        println!("property    {k} = {v}");
    }
    // What runs where: one line per backend and per attribution method.
    for (title, list) in [("backend", &caps.backends), ("method", &caps.methods)] {
        for c in list {
            let mut line = format!(
                "{title:<12}{:<14}{}",
                c.name,
                if c.available { "yes" } else { "no" }
            );
            if let Some(on) = &c.runs_on {
                line += &format!(", on {on}");
            }
            if let Some(why) = &c.reason {
                line += &format!(" ({why})");
            }
            println!("{line}");
        }
    }
    Ok(())
}

/// `seqlens index`: writes FASTA.fai (and FASTA.gzi for bgzf) atomically.
fn index(fasta: &Path) -> Result<()> {
    let ix = seqlens::io::index_fasta(fasta)?;
    let beside = |ext: &str| {
        let mut p = fasta.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let mut written = vec![beside(".fai")];
    seqlens::output::write_atomic(&written[0], &ix.fai)?;
    if let Some(gzi) = &ix.gzi {
        written.push(beside(".gzi"));
        seqlens::output::write_atomic(&written[1], gzi)?;
    }
    let names: Vec<String> = written.iter().map(|p| p.display().to_string()).collect();
    eprintln!("wrote {}", names.join(" and "));
    Ok(())
}

/// Makes glibc's allocator keep freed memory for reuse. By default each tensor above its
/// mmap threshold is mapped fresh and unmapped on free, so every training step or batch
/// faulted its activations' pages in again (a quarter of a training step's time, measured
/// with perf). The price is that the peak of memory stays mapped until the process exits.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's parameters, and runs before any other
    // thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    // Ctrl-C, SIGTERM or SIGHUP while an output is half written: delete its temporary file
    // (the old output, if any, stays as it was), then exit as a shell expects (128 + SIGINT).
    // If the handler cannot be installed, outputs are still atomic; only the temporary file
    // could be left behind.
    let _ = ctrlc::set_handler(|| {
        seqlens::output::remove_unfinished();
        eprintln!("seqlens: interrupted; unfinished outputs removed");
        std::process::exit(130);
    });
    let result = match &cli.command {
        Command::Predict(a) => predict(a),
        Command::Info { model, json } => info(model, *json),
        Command::Train(a) => train_cmd::train(a),
        Command::Attribute(a) => attribute_cmd::attribute(a),
        Command::Seqlets(a) => seqlets_cmd::seqlets(a),
        Command::Motifs(a) => motifs_cmd::motifs(a),
        Command::Marginalize(a) => marginalize_cmd::marginalize(a),
        Command::Ablate(a) => ablate_cmd::ablate(a),
        Command::Design(a) => design_cmd::design(a),
        Command::Variants(a) => variants_cmd::variants(a),
        Command::Merge(a) => shard_cmd::merge(a),
        Command::Index { fasta } => index(fasta),
        Command::Splice(a) => splice_cmd::splice(a),
        Command::Evaluate(a) => train_cmd::evaluate(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Every flag of every command says what it does in `--help`.
    #[test]
    fn every_flag_has_help() {
        let cli = super::Cli::command();
        let mut missing = Vec::new();
        for cmd in cli.get_subcommands() {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && arg.get_help().is_none() && arg.get_long_help().is_none() {
                    missing.push(format!("{} --{id}", cmd.get_name()));
                }
            }
        }
        assert!(missing.is_empty(), "flags without help: {missing:?}");
    }
}
