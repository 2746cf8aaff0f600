//! Motifs: position probability matrices, the MEME format they travel in, the bundled JASPAR
//! database, and TOMTOM's comparison of motifs against a database (`motif::tomtom`).
//!
//! A motif is DNA only (A, C, G, T columns), as everywhere in seqlens; a MEME file with another
//! alphabet is refused when read.

pub mod jaspar;
pub mod meme;
pub mod modisco;
pub mod tomtom;

/// One motif: a name and its columns of letter probabilities (or any other per-letter values,
/// such as a seqlet's one-hot bases), in the order A, C, G, T.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Motif {
    /// The identifier, the first word of a MEME `MOTIF` line (`MA0139.2`).
    pub id: String,
    /// The alternative name, the rest of that line (`CTCF`); empty when there is none.
    pub name: String,
    /// One `[A, C, G, T]` row per position.
    pub columns: Vec<[f64; 4]>,
}

impl Motif {
    /// The label a report shows: the identifier and the name, as memelite keys its motifs.
    pub fn label(&self) -> String {
        if self.name.is_empty() {
            self.id.clone()
        } else {
            format!("{} {}", self.id, self.name)
        }
    }

    /// A motif from bases, one-hot through the DNA encoder (`N` and every other letter a
    /// column of zeros, as tangermeme encodes them): how a seqlet is compared with a database.
    pub fn one_hot(id: &str, bases: &[u8]) -> Result<Motif, crate::Error> {
        use crate::encode::{Alphabet, Encoder, Layout, NPolicy, UnknownPolicy};
        let encoder = Encoder::new(Alphabet::Dna, NPolicy::Zero, UnknownPolicy::AsN);
        let values = encoder.encode(id, bases, Layout::Nlc)?;
        let columns = values
            .chunks_exact(4)
            .map(|c| [c[0] as f64, c[1] as f64, c[2] as f64, c[3] as f64])
            .collect();
        Ok(Motif {
            id: id.to_string(),
            name: String::new(),
            columns,
        })
    }
}

/// Columns reversed and complemented.
pub fn reverse_complement(columns: &[[f64; 4]]) -> Vec<[f64; 4]> {
    columns
        .iter()
        .rev()
        .map(|c| [c[3], c[2], c[1], c[0]])
        .collect()
}

/// A query's match with a database motif, as reports show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MotifMatch {
    /// The database motif's identifier.
    pub id: String,
    /// Its name.
    pub name: String,
    /// TOMTOM's p-value (both strands corrected).
    pub p_value: f64,
    /// The p-value times the database's size.
    pub e_value: f64,
    /// Benjamini-Hochberg's q-value over the database.
    pub q_value: f64,
    /// `+` for the motif as given, `-` for its reverse complement.
    pub strand: char,
    /// TOMTOM's (memelite's) offset: the motif column, on that strand, aligned with the
    /// query's first column. Negative when the motif starts inside the query, at query
    /// column `-offset`.
    pub offset: i64,
    /// How many positions overlap.
    pub overlap: usize,
}

impl MotifMatch {
    /// The matched motif's columns as TOMTOM aligned them with the query: on the matched
    /// strand, and the query column the first of them falls on (negative when the motif
    /// starts before the query).
    pub fn aligned(&self, motif: &Motif) -> (i64, Vec<[f64; 4]>) {
        let columns = if self.strand == '-' {
            reverse_complement(&motif.columns)
        } else {
            motif.columns.clone()
        };
        (-self.offset, columns)
    }
}

/// The `top` best database motifs for each sequence (a seqlet's bases, one-hot as tangermeme's
/// `annotate_seqlets` compares them), best first. A sequence with no A, C, G or T gets no
/// match; one wider than TOMTOM compares is refused, naming it by its index.
pub fn annotate<S: AsRef<[u8]> + Sync>(
    db: &tomtom::Database,
    sequences: &[S],
    top: usize,
) -> Result<Vec<Vec<MotifMatch>>, crate::Error> {
    let found = crate::nn::par_map(
        sequences.len(),
        || (),
        |_, i| {
            let name = format!("#{}", i + 1);
            let query = Motif::one_hot(&name, sequences[i].as_ref())?;
            if query.columns.iter().all(|c| c.iter().all(|&v| v == 0.0)) {
                return Ok(Vec::new());
            }
            db.matches(&query.columns, &name, top)
        },
    );
    found.into_iter().collect()
}
