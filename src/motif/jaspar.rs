//! The bundled motif database: JASPAR 2024 CORE vertebrates, the latest version of each of its
//! 879 matrices, as letter probabilities (counts over their column's total).
//!
//! Source: the `pyjaspar` 4.0.0 package from PyPI, converted by `scripts/jaspar_meme.py` into
//! `data/jaspar2024_core_vertebrates.meme.gz`. JASPAR is CC BY 4.0
//! (`data/JASPAR_LICENSE.md`): cite Rauluseviciute et al., JASPAR 2024, Nucleic Acids Research
//! 52:D174 (2024). Compressed it is 126 KiB of the binary; it is inflated only when asked for.

use super::Motif;
use std::io::Read;

const GZIPPED: &[u8] = include_bytes!("../../data/jaspar2024_core_vertebrates.meme.gz");

/// How the bundled database is named in reports and errors.
pub const NAME: &str = "JASPAR 2024 CORE vertebrates";

/// The bundled database prepared for TOMTOM with its default settings, built once per
/// process (inflating, parsing and merging its columns is the same work every time).
pub fn database() -> Result<&'static super::tomtom::Database, crate::Error> {
    static DB: std::sync::OnceLock<super::tomtom::Database> = std::sync::OnceLock::new();
    if let Some(db) = DB.get() {
        return Ok(db);
    }
    let db = super::tomtom::Database::new(core_vertebrates()?, Default::default())?;
    Ok(DB.get_or_init(|| db))
}

/// The bundled database's motifs, in matrix-identifier order. It cannot fail unless the
/// binary was built from a damaged copy of the file (tests/motif.rs reads it).
pub fn core_vertebrates() -> Result<Vec<Motif>, crate::Error> {
    let mut text = String::new();
    flate2::read::GzDecoder::new(GZIPPED)
        .read_to_string(&mut text)
        .map_err(|e| crate::Error::Invalid(format!("the bundled {NAME} file: {e}")))?;
    super::meme::read(&text, NAME)
}
