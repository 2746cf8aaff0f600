//! Variant-effect scoring against the sample genome: the scores equal predictions on ref and
//! alt windows built by hand here (by slicing the FASTA text, independently of the library's
//! indexed reader), for an SNV, an insertion and a deletion; REF mismatches, unknown contigs
//! and symbolic alleles are reported, not scored.

mod common;

use std::collections::HashMap;

use common::path;
use seqlens::encode::Window;
use seqlens::io::{self, IndexedFasta};
use seqlens::model::{Model, PredictOptions};
use seqlens::variants::{self, Score, Status, VariantOptions};

fn genome_text() -> HashMap<String, Vec<u8>> {
    let text = std::fs::read_to_string(path("examples/data/genome.fa")).unwrap();
    text.split('>')
        .filter(|r| !r.is_empty())
        .map(|r| {
            let (name, rest) = r.split_once('\n').unwrap();
            let seq: Vec<u8> = rest.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            (name.split_whitespace().next().unwrap().to_string(), seq)
        })
        .collect()
}

fn model() -> Model {
    Model::from_bytes(&std::fs::read(path("examples/models/demo.onnx")).unwrap()).unwrap()
}

fn vcf(body: &str) -> Vec<io::Variant> {
    let text =
        format!("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n{body}");
    io::read_vcf(text.as_bytes(), "test.vcf").unwrap()
}

fn score(
    v: &[io::Variant],
    opts: &VariantOptions,
) -> Result<Vec<variants::AlleleEffect>, seqlens::Error> {
    let mut genome = IndexedFasta::open(&path("examples/data/genome.fa")).unwrap();
    variants::score_variants(&model(), v, &mut genome, opts, &mut |_, _| true)
}

#[test]
fn scores_equal_predictions_on_hand_built_windows() {
    let g = genome_text();
    let m = model();
    let file = std::fs::File::open(path("examples/data/variants.vcf")).unwrap();
    let v = io::read_vcf(file, "variants.vcf").unwrap();
    let opts = VariantOptions {
        scores: Score::ALL.to_vec(),
        ..Default::default()
    };
    let rows = score(&v, &opts).unwrap();
    // Five records, one with two ALT alleles: six rows.
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.status == Status::Ok), "{rows:?}");
    assert_eq!((rows[4].alt.as_str(), rows[5].alt.as_str()), ("A", "G"));

    // L = 500. SNV chrA:2006 C>A: 249 bases of left flank in both windows.
    // Insertion chrA:9010 G>GGGAA: ref window keeps 249 left; the alt window 247 left, the
    // 5-bp allele, then 248 bases after the REF base. Deletion chrB:1502 AAAG>A: ref 248
    // left; alt 249 left, "A", then 250 bases after the 4-bp REF.
    let slice = |c: &str, a: usize, b: usize| g[c][a..b].to_vec();
    let cases: Vec<(usize, Vec<u8>, Vec<u8>)> = vec![
        (0, slice("chrA", 2005 - 249, 2005 + 251), {
            let mut s = slice("chrA", 2005 - 249, 2005 + 251);
            s[249] = b'A';
            s
        }),
        (2, slice("chrA", 9009 - 249, 9009 + 251), {
            let mut s = slice("chrA", 9009 - 247, 9009);
            s.extend_from_slice(b"GGGAA");
            s.extend(slice("chrA", 9010, 9010 + 248));
            s
        }),
        (3, slice("chrB", 1501 - 248, 1501 + 252), {
            let mut s = slice("chrB", 1501 - 249, 1501);
            s.push(b'A');
            s.extend(slice("chrB", 1505, 1505 + 250));
            s
        }),
    ];
    assert_eq!(&g["chrA"][2005..2006], b"C");
    assert_eq!(&g["chrB"][1501..1505], b"AAAG");
    let with_seqs = score(
        &v,
        &VariantOptions {
            include_sequences: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(rows.iter().all(|r| r.windows.is_none()));
    for (row, r, a) in cases {
        assert_eq!((r.len(), a.len()), (500, 500));
        let text = |s: &[u8]| String::from_utf8(s.to_vec()).unwrap();
        assert_eq!(with_seqs[row].windows, Some([text(&r), text(&a)]));
        let w = |seq: Vec<u8>| Window {
            id: "w".into(),
            chrom: String::new(),
            start: 0,
            end: 500,
            seq,
        };
        let p = m
            .predict_windows(vec![w(r), w(a)], &PredictOptions::default(), &mut |_, _| {
                true
            })
            .unwrap();
        let e = &rows[row];
        for k in 0..8 {
            let (pr, pa) = (p.row(0)[k], p.row(1)[k]);
            assert!((e.ref_pred[k] - pr).abs() <= 1e-5, "{} ref {k}", e.alt);
            assert!((e.alt_pred[k] - pa).abs() <= 1e-5, "{} alt {k}", e.alt);
            // Score formulas by hand.
            let logit = |p: f32| {
                let p = p.clamp(1e-6, 1.0 - 1e-6);
                (p / (1.0 - p)).ln()
            };
            let want = [
                pa - pr,
                (pa - pr).abs(),
                logit(pa) - logit(pr),
                ((pa + 1e-6) / (pr + 1e-6)).log2(),
            ];
            for (s, w) in want.iter().enumerate() {
                let got = e.scores[s][k];
                assert!(
                    (got - w).abs() <= 1e-4 * w.abs().max(1.0),
                    "{} {:?} label {k}: {got} vs {w}",
                    e.alt,
                    Score::ALL[s]
                );
            }
        }
    }
    // The insertion adds an SPI1 core (GGAA): the SPI1 output must move.
    assert!(rows[2].scores[0][2].abs() > 1e-3);

    // Strand averaging changes the numbers but keeps the rows.
    let both = score(
        &v,
        &VariantOptions {
            predict: PredictOptions {
                rc_average: true,
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(both.len(), 6);
    assert_ne!(both[0].ref_pred, rows[0].ref_pred);
}

#[test]
fn mismatches_unknown_contigs_symbolic_iupac_and_out_of_contig_alleles_are_reported() {
    let v = vcf("chrA\t2006\tbad_ref\tG\tA\t.\t.\t.\n\
         chrQ\t10\tnowhere\tA\tC\t.\t.\t.\n\
         chrA\t3000\tsv\tA\t<DEL>\t.\t.\t.\n\
         chrA\t2006\tgood\tC\tT\t.\t.\t.\n\
         chrA\t2006\tiupac\tC\tY\t.\t.\t.\n\
         chrA\t19999\tpast_end\tNNN\tA\t.\t.\t.\n\
         chrA\t20000\tlast_base\tN\tA\t.\t.\t.\n");
    let rows = score(&v, &VariantOptions::default()).unwrap();
    let status: Vec<&Status> = rows.iter().map(|r| &r.status).collect();
    assert_eq!(
        status,
        [
            &Status::RefMismatch("C".into()),
            &Status::UnknownContig,
            &Status::Symbolic,
            &Status::Ok,
            &Status::InvalidAllele,
            &Status::BeyondContig(20000),
            // the genome's last base of chrA, read from the FASTA text by the test
            &Status::RefMismatch((genome_text()["chrA"][19_999] as char).to_string()),
        ]
    );
    // IUPAC codes are named, never scored as N; the contig end is named with its length
    assert!(rows[4].status.message(&v[4]).contains("IUPAC"));
    assert!(
        rows[5]
            .status
            .message(&v[5])
            .contains("past the end of the contig (20000")
    );
    assert!(rows[0].scores.is_empty() && rows[3].scores.len() == 2);
    let msg = rows[0].status.message(&v[0]);
    assert!(
        msg.contains("line 3") && msg.contains("does not match"),
        "{msg}"
    );
    let tsv = variants::to_tsv(
        &rows,
        &model().metadata().labels,
        &[Score::Diff, Score::LogOdds],
    );
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines.len(), 8);
    assert!(lines[1].starts_with("chrA\t2006\tbad_ref\tG\tA\tref_mismatch\t\t"));
    assert_eq!(lines[0].split('\t').count(), 6 + 8 * 4);
    assert_eq!(lines[4].split('\t').count(), 6 + 8 * 4);

    // A VCF whose contigs are all absent from the reference is an error, not a table.
    let err = score(
        &vcf("chr1\t10\t.\tA\tC\t.\t.\t.\n"),
        &VariantOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("none of the VCF's contigs (chr1)") && msg.contains("chrA"),
        "{msg}"
    );
}
