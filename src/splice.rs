//! Splice-variant effects, SpliceAI-style, with the rules of CI-SpliceAI's reference
//! implementation (PyPI `cispliceai`): for each ALT allele of a VCF, the change in acceptor
//! and donor probabilities around the variant, per overlapping gene, as the four delta
//! scores `DS_AG/AL/DG/DL` and their positions `DP_*`.
//!
//! This module owns the gene annotation ([`GeneTable`]: seqlens' bundled tables,
//! cispliceai's CSV, GTF), the scoring rules and their batching ([`score`]), and the outputs
//! (cispliceai's VCF INFO field, TSV, JSON). It runs any model the way `model::Model` runs it
//! (CPU engine, GPU or tract) and knows nothing about files: the genome is any indexed FASTA
//! reader.
//!
//! ```no_run
//! use seqlens::{io, model::{Backend, Model}, splice};
//! let bytes = std::fs::read("examples/models/cispliceai/cispliceai.onnx")?;
//! let model = Model::from_bytes(&bytes)?.with_backend(Backend::Auto)?;
//! let genes = splice::GeneTable::read(std::fs::File::open("examples/data/splice/genes.csv")?, "genes.csv")?;
//! let vcf = io::read_vcf(std::fs::File::open("examples/data/splice/variants.vcf")?, "variants.vcf")?;
//! let mut genome = io::IndexedFasta::open("examples/data/splice/genome.fa".as_ref())?;
//! let scores = splice::score(&model, &vcf, &mut genome, &genes, &Default::default(), &mut |_, _| true)?;
//! for s in &scores {
//!     if let Some(a) = s.most_significant() {
//!         println!("{}:{} {}>{} {} DS_DL={:.2}", s.chrom, s.pos, s.reference, s.alt, a.gene, a.ds_dl);
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod genes;
mod report;
mod score;

pub use genes::{Gene, GeneTable, Strand};
pub use report::{INFO_KEY, figure, info_header, info_value, to_json, to_tsv, write_vcf};
#[cfg(not(target_arch = "wasm32"))]
pub use score::score;
pub use score::{AlleleScore, Annotation, SpliceOptions, Status, Tracks, score_async};

/// Errors raised while reading gene annotation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A gene table that cannot be read, with the line (0: the whole file).
    #[error("{file}: {}{message}", if *.line > 0 { format!("line {}: ", .line) } else { String::new() })]
    Table {
        /// The gene table.
        file: String,
        /// Its line, 0 for the whole file.
        line: usize,
        /// What is wrong.
        message: String,
    },
}
