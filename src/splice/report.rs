//! Splice scores as files: cispliceai's VCF INFO field, a TSV table, JSON.

use std::fmt::Write as _;

use super::score::{AlleleScore, Annotation, SpliceOptions, Status, Tracks};
use crate::io::VcfFile;

/// The INFO key cispliceai writes (and seqlens, so tools that read one read the other).
pub const INFO_KEY: &str = "CISpliceAI";

const FORMAT: &str = "ALLELE|SYMBOL|DS_AG|DS_AL|DS_DG|DS_DL|DP_AG|DP_AL|DP_DG|DP_DL";

/// The `##INFO` header line for the field, saying how the scores were made.
pub fn info_header(opts: &SpliceOptions, all: bool) -> String {
    format!(
        "##INFO=<ID={INFO_KEY},Number=.,Type=String,Description=\"CI-SpliceAI variant annotation (seqlens {}) for a maximum distance of {} nucleotides from the variant; masking {}; {} nucs outside tx; {}. Format: {FORMAT} (DS=Delta Score, DP=Delta Position, AG/AL=Acceptor Gain/Acceptor Loss, DG/DL=Donor Gain/Donor Loss). An allele that was not scored has its status in place of ALLELE (ref_mismatch, unknown_contig, symbolic_allele, invalid_allele) and empty fields.\">",
        env!("CARGO_PKG_VERSION"),
        opts.distance,
        if opts.mask { "on" } else { "off" },
        if opts.outside { "keep" } else { "remove" },
        if all {
            "all effects"
        } else {
            "most significant only"
        },
    )
}

/// One annotation as cispliceai prints it: scores to 2 decimals, positions as integers.
fn annotation(alt: &str, a: &Annotation) -> String {
    // Scores are printed from their f64 value with two decimals, as Python's "%.2f" does
    // (so -0.0, which cispliceai writes for an all-zero loss, stays "-0.00").
    format!(
        "{alt}|{}|{:.2}|{:.2}|{:.2}|{:.2}|{}|{}|{}|{}",
        a.gene,
        a.ds_ag as f64,
        a.ds_al as f64,
        a.ds_dg as f64,
        a.ds_dl as f64,
        a.dp_ag,
        a.dp_al,
        a.dp_dg,
        a.dp_dl
    )
}

/// The INFO value for one VCF record's alleles: per allele the most significant
/// annotation (or, with `all`, every gene's), alleles joined by commas.
pub fn info_value(alleles: &[&AlleleScore], all: bool) -> String {
    let mut parts = Vec::new();
    for s in alleles {
        if s.status != Status::Ok {
            parts.push(format!("{}|||||||||", s.status.name()));
            continue;
        }
        if all {
            parts.extend(s.annotations.iter().map(|a| annotation(&s.alt, a)));
        } else if let Some(a) = s.most_significant() {
            parts.push(annotation(&s.alt, a));
        }
    }
    parts.join(",")
}

/// The VCF with each record's INFO field extended by (or, re-annotating, replaced with) the
/// CISpliceAI annotation. `scores` are the alleles of `vcf.variants`, in order (one per
/// ALT, or one for a record without ALT), as [`score`](super::score) returns them.
pub fn write_vcf(
    out: &mut dyn std::io::Write,
    vcf: &VcfFile,
    scores: &[AlleleScore],
    opts: &SpliceOptions,
    all: bool,
) -> std::io::Result<()> {
    let key = format!("##INFO=<ID={INFO_KEY},");
    for h in &vcf.header {
        if h.starts_with("#CHROM") {
            writeln!(out, "{}", info_header(opts, all))?;
        } else if h.starts_with(&key) {
            continue;
        }
        writeln!(out, "{h}")?;
    }
    let mut next = 0;
    for (v, line) in vcf.variants.iter().zip(&vcf.lines) {
        let n = v.alts.len().max(1);
        let alleles: Vec<&AlleleScore> = scores
            .get(next..next + n)
            .map_or(Vec::new(), |s| s.iter().collect());
        if alleles.len() != n {
            return Err(std::io::Error::other(format!(
                "line {}: {} scores for its {n} alleles",
                v.line,
                alleles.len()
            )));
        }
        next += n;
        let value = format!("{INFO_KEY}={}", info_value(&alleles, all));
        let mut cols: Vec<String> = line.split('\t').map(str::to_string).collect();
        while cols.len() < 8 {
            cols.push(".".into());
        }
        let kept: Vec<&str> = cols[7]
            .split(';')
            .filter(|f| *f != "." && !f.is_empty() && f.split('=').next() != Some(INFO_KEY))
            .collect();
        cols[7] = if kept.is_empty() {
            value
        } else {
            format!("{};{value}", kept.join(";"))
        };
        writeln!(out, "{}", cols.join("\t"))?;
    }
    Ok(())
}

/// The scores as TSV: one row per allele with its most significant gene (or, with `all`,
/// one per gene); unscored alleles get their status and empty scores. Scores are
/// unrounded, positions are offsets from POS; `padded` counts the N bases past a contig's
/// ends.
pub fn to_tsv(scores: &[AlleleScore], all: bool) -> String {
    let mut out = String::from(
        "chrom\tpos\tid\tref\talt\tstatus\tgene\tstrand\tDS_AG\tDS_AL\tDS_DG\tDS_DL\tDP_AG\tDP_AL\tDP_DG\tDP_DL\tpadded_start\tpadded_end\n",
    );
    for s in scores {
        let head = format!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            s.chrom,
            s.pos,
            s.id.as_deref().unwrap_or("."),
            s.reference,
            s.alt,
            s.status.name()
        );
        let shown: Vec<&Annotation> = if all {
            s.annotations.iter().collect()
        } else {
            s.most_significant().into_iter().collect()
        };
        if shown.is_empty() {
            let _ = writeln!(
                out,
                "{head}\t\t\t\t\t\t\t\t\t\t\t{}\t{}",
                s.padded[0], s.padded[1]
            );
        }
        for a in shown {
            let _ = writeln!(
                out,
                "{head}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                a.gene,
                a.strand.symbol(),
                a.ds_ag,
                a.ds_al,
                a.ds_dg,
                a.ds_dl,
                a.dp_ag,
                a.dp_al,
                a.dp_dg,
                a.dp_dl,
                s.padded[0],
                s.padded[1]
            );
        }
    }
    out
}

/// The scores as JSON: `{options, alleles: [{..., annotations: [...], most_significant}]}`
/// (`most_significant` indexes `annotations`).
pub fn to_json(scores: &[AlleleScore], opts: &SpliceOptions) -> String {
    let alleles: Vec<serde_json::Value> = scores
        .iter()
        .map(|s| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            let best = s
                .most_significant()
                .and_then(|b| s.annotations.iter().position(|a| std::ptr::eq(a, b)));
            v["most_significant"] = serde_json::json!(best);
            v["message"] = serde_json::json!(s.message());
            v
        })
        .collect();
    serde_json::json!({
        "options": {"distance": opts.distance, "mask": opts.mask, "outside": opts.outside},
        "alleles": alleles,
    })
    .to_string()
}

/// The figure of one allele's effect in one gene: reference and alternate acceptor and
/// donor probabilities around the variant (`pos`, REF of `ref_len` bases), with the four
/// delta scores' positions marked and labelled.
pub fn figure(tracks: &Tracks, pos: u64, ref_len: usize, a: &Annotation, title: &str) -> String {
    use crate::plot::{Mark, Panel, tracks as draw};
    let panels = [
        Panel {
            name: "acceptor",
            reference: &tracks.ref_acceptor,
            alternate: &tracks.alt_acceptor,
        },
        Panel {
            name: "donor",
            reference: &tracks.ref_donor,
            alternate: &tracks.alt_donor,
        },
    ];
    let at = |dp: i64| pos as i64 + dp;
    let marks = [
        (0, "gain", a.ds_ag, a.dp_ag),
        (0, "loss", a.ds_al, a.dp_al),
        (1, "gain", a.ds_dg, a.dp_dg),
        (1, "loss", a.ds_dl, a.dp_dl),
    ]
    .into_iter()
    .filter(|m| m.2 >= 0.01)
    .map(|(panel, kind, ds, dp)| Mark {
        at: at(dp),
        label: format!("{kind} {ds:.2} ({dp:+})"),
        panel,
    })
    .collect::<Vec<_>>();
    draw(
        &panels,
        tracks.start as i64,
        (pos as i64, pos as i64 + ref_len as i64),
        &marks,
        title,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::splice::Strand;

    #[test]
    fn figure_labels_panels_axis_and_changed_sites() {
        let t = Tracks {
            start: 95,
            ref_acceptor: vec![0.0; 11],
            ref_donor: vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.9, 0.0, 0.0, 0.0, 0.0, 0.0],
            alt_acceptor: vec![0.0; 11],
            alt_donor: vec![0.0; 11],
        };
        let a = Annotation {
            gene: "G".into(),
            strand: Strand::Plus,
            ds_ag: 0.0,
            ds_al: 0.0,
            ds_dg: 0.0,
            ds_dl: 0.9,
            dp_ag: 0,
            dp_al: 0,
            dp_dg: 0,
            dp_dl: 1,
            tracks: None,
        };
        let svg = figure(&t, 99, 1, &a, "chr1:99 G>A");
        for s in [
            "acceptor",
            "donor",
            ">100<",
            "loss 0.90 (+1)",
            "chr1:99 G&gt;A",
            "</svg>",
        ] {
            assert!(svg.contains(s), "{s} missing");
        }
        // only the donor loss is marked
        assert_eq!(svg.matches("<circle").count(), 1);
    }
}
