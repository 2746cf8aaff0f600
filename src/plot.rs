//! SVG figures: sequence logos of attributions (letters scaled by attribution, positive above
//! the axis and negative below, in logomaker's classic colours), ISM heatmaps, and
//! reference-vs-alternate profile tracks (splice-site probabilities around a variant).
//!
//! Output is self-contained SVG text with no fonts or scripts for nucleotides (the letters are
//! vector paths that fill their box exactly, as logomaker draws them), so it renders the same
//! in a browser, in a paper figure and in a test.

use std::fmt::Write;

/// Layout of a figure.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PlotOptions {
    /// Pixels per position.
    pub base_width: f32,
    /// Height of the plotting area in pixels.
    pub height: f32,
    /// First position drawn (0-based) and one past the last; `None` draws everything.
    pub start: Option<usize>,
    /// One past the last position drawn.
    pub end: Option<usize>,
    /// Genomic coordinate of position 0, for the axis labels.
    pub offset: i64,
    /// A title drawn above the plot.
    pub title: Option<String>,
    /// A logo's y axis as `[lowest, highest]` (lowest ≤ 0 ≤ highest) instead of the range of
    /// the positions drawn, so that two logos (a reference and an alternate allele) compare
    /// by height: pass both the union of their [`logo_range`]s. Letters beyond it are clipped.
    pub y_range: Option<[f32; 2]>,
    /// Positions (0-based, like `start` and `end`) shaded behind the letters or cells, such
    /// as a variant's bases.
    pub marks: Vec<usize>,
    /// The letters' and the heatmap's colours.
    pub palette: Palette,
}

/// The colours of a figure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Palette {
    /// logomaker's classic letters (green A, blue C, orange G, red T), and a blue-white-red
    /// heatmap (the ends of ColorBrewer's RdBu).
    #[default]
    Classic,
    /// Okabe and Ito's colour-blind-safe letters (bluish green A, blue C, orange G, vermillion
    /// T), and a purple-white-orange heatmap (the ends of ColorBrewer's PuOr): told apart with
    /// any common colour-vision deficiency, where classic's green A and red T are not.
    Colorblind,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            base_width: 12.0,
            height: 120.0,
            start: None,
            end: None,
            offset: 0,
            title: None,
            y_range: None,
            marks: Vec::new(),
            palette: Palette::Classic,
        }
    }
}

impl PlotOptions {
    /// Refuses options no figure can be drawn with, naming the option: a `yRange` must be
    /// finite with its lowest at most 0 and its highest at least 0.
    pub fn check(&self) -> Result<(), String> {
        match self.y_range {
            Some([low, high])
                if !(low.is_finite() && high.is_finite() && low <= 0.0 && high >= 0.0) =>
            {
                Err(format!(
                    "yRange [{low}, {high}]: expected [lowest, highest], finite, with lowest <= 0 <= highest"
                ))
            }
            _ => Ok(()),
        }
    }
}

impl std::str::FromStr for Palette {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "classic" => Ok(Palette::Classic),
            "colorblind" => Ok(Palette::Colorblind),
            other => Err(format!(
                "unknown palette '{other}'; expected classic or colorblind"
            )),
        }
    }
}

/// Glyph outlines in a 100 x 100 box (y down), drawn with the even-odd rule.
fn glyph(symbol: u8) -> Option<&'static str> {
    Some(match symbol.to_ascii_uppercase() {
        b'A' => "M0 100L40 0H60L100 100H78L69 76H31L22 100ZM38 58H62L50 26Z",
        b'C' => "M96 28A48 50 0 1 0 96 72L78 63A30 32 0 1 1 78 37Z",
        b'G' => "M96 28A48 50 0 1 0 99 62V46H56V62H80A30 32 0 1 1 78 37Z",
        b'T' => "M0 0H100V18H60V100H40V18H0Z",
        b'U' => "M0 0H20V62A30 30 0 0 0 80 62V0H100V62A50 38 0 0 1 0 62Z",
        _ => return None,
    })
}

/// A nucleotide's colour in `palette`; a neutral grey for other symbols.
pub fn color(symbol: u8, palette: Palette) -> &'static str {
    match (palette, symbol.to_ascii_uppercase()) {
        (Palette::Classic, b'A') => "#109648",
        (Palette::Classic, b'C') => "#255C99",
        (Palette::Classic, b'G') => "#F7B32B",
        (Palette::Classic, b'T' | b'U') => "#D62839",
        (Palette::Colorblind, b'A') => "#009E73",
        (Palette::Colorblind, b'C') => "#0072B2",
        (Palette::Colorblind, b'G') => "#E69F00",
        (Palette::Colorblind, b'T' | b'U') => "#D55E00",
        _ => "#4d4d4d",
    }
}

const MARGIN_LEFT: f32 = 48.0;
const MARGIN_TOP: f32 = 24.0;
const MARGIN_BOTTOM: f32 = 28.0;

fn range(opts: &PlotOptions, len: usize) -> (usize, usize) {
    let end = opts.end.unwrap_or(len).min(len);
    (opts.start.unwrap_or(0).min(end), end)
}

fn header(out: &mut String, w: f32, h: f32, title: &Option<String>) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" font-family=\"Helvetica,Arial,sans-serif\" \
         font-size=\"11\"><rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
    );
    if let Some(t) = title {
        let _ = write!(
            out,
            "<text x=\"{MARGIN_LEFT}\" y=\"15\" font-size=\"13\">{}</text>",
            escape(t)
        );
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Position ticks under the plot, about every 80 px.
fn ticks(out: &mut String, opts: &PlotOptions, a: usize, b: usize, y: f32) {
    let every = ((80.0 / opts.base_width).ceil() as usize).max(1);
    let every = [
        1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000,
    ]
    .into_iter()
    .find(|&s| s >= every)
    .unwrap_or(every);
    for t in (a..b).filter(|t| (*t as i64 + opts.offset) % every as i64 == 0) {
        let x = MARGIN_LEFT + (t - a) as f32 * opts.base_width + opts.base_width / 2.0;
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{y:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            y + 4.0,
            y + 15.0,
            t as i64 + opts.offset
        );
    }
}

/// The y range `[lowest, highest]` a logo of `map` needs over the positions `opts` draws:
/// the deepest stack of negative letters and the tallest of positive ones.
pub fn logo_range(map: &[f32], channels: usize, opts: &PlotOptions) -> [f32; 2] {
    let c = channels.max(1);
    let len = map.len() / c;
    let (a, b) = range(opts, len);
    let at = |ch: usize, t: usize| {
        let v = map[ch * len + t];
        if v.is_finite() { v } else { 0.0 }
    };
    let (mut up, mut down) = (0f32, 0f32);
    for t in a..b {
        up = up.max((0..c).map(|ch| at(ch, t).max(0.0)).sum());
        down = down.max((0..c).map(|ch| (-at(ch, t)).max(0.0)).sum());
    }
    [-down, up]
}

/// Draws a box over the plotting area's column for each of `opts.marks` in `[a, b)`, styled
/// by `style` (a shade behind a logo's letters, an outline over a heatmap's cells).
fn marks(out: &mut String, opts: &PlotOptions, a: usize, b: usize, style: &str) {
    for &t in opts.marks.iter().filter(|&&t| t >= a && t < b) {
        let _ = write!(
            out,
            "<rect class=\"mark\" x=\"{:.2}\" y=\"{MARGIN_TOP:.1}\" width=\"{:.2}\" \
             height=\"{:.1}\" {style}/>",
            MARGIN_LEFT + (t - a) as f32 * opts.base_width,
            opts.base_width,
            opts.height
        );
    }
}

/// A sequence logo of an attribution map `[channels, length]` (channel `i` = `symbols[i]`):
/// at each position the letters are stacked by value, positive ones above the axis (largest
/// on top) and negative ones below it (largest magnitude at the bottom).
pub fn logo(map: &[f32], symbols: &[u8], opts: &PlotOptions) -> String {
    let c = symbols.len().max(1);
    let len = map.len() / c;
    let (a, b) = range(opts, len);
    let at = |ch: usize, t: usize| {
        let v = map[ch * len + t];
        if v.is_finite() { v } else { 0.0 }
    };
    let [low, high] = opts.y_range.unwrap_or_else(|| logo_range(map, c, opts));
    let (up, down) = (high.max(0.0), (-low).max(0.0));
    let span = (up + down).max(f32::MIN_POSITIVE);
    let scale = opts.height / span;
    let axis = MARGIN_TOP + up * scale;
    let w = MARGIN_LEFT + (b - a) as f32 * opts.base_width + 8.0;
    let h = MARGIN_TOP + opts.height + MARGIN_BOTTOM;
    let mut out = String::new();
    header(&mut out, w, h, &opts.title);
    marks(
        &mut out,
        opts,
        a,
        b,
        "fill=\"#ffd84d\" fill-opacity=\"0.45\"",
    );
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
        MARGIN_LEFT - 4.0,
        MARGIN_TOP + 8.0,
        fmt_value(up),
        MARGIN_LEFT - 4.0,
        MARGIN_TOP + opts.height,
        fmt_value(-down)
    );
    // Letters past a given y range are clipped to the plotting area: a nested <svg> clips to
    // its viewport (a clipPath would need an id unique across every figure on a page).
    let _ = write!(
        out,
        "<svg x=\"{MARGIN_LEFT}\" y=\"{MARGIN_TOP}\" width=\"{0:.1}\" height=\"{1:.1}\" \
         viewBox=\"{MARGIN_LEFT} {MARGIN_TOP} {0:.1} {1:.1}\">",
        w - MARGIN_LEFT,
        opts.height
    );
    for t in a..b {
        let x = MARGIN_LEFT + (t - a) as f32 * opts.base_width;
        let mut order: Vec<usize> = (0..c).collect();
        order.sort_by(|&i, &j| at(i, t).abs().total_cmp(&at(j, t).abs()));
        let (mut top, mut bottom) = (axis, axis);
        for &ch in &order {
            let v = at(ch, t);
            let hgt = v.abs() * scale;
            if hgt < 0.05 {
                continue;
            }
            let y = if v > 0.0 {
                top -= hgt;
                top
            } else {
                bottom += hgt;
                bottom - hgt
            };
            let fill = color(symbols[ch], opts.palette);
            letter(
                &mut out,
                symbols[ch],
                fill,
                [x, y, opts.base_width, hgt],
                v < 0.0,
            );
        }
    }
    out.push_str("</svg>");
    let _ = write!(
        out,
        "<line x1=\"{MARGIN_LEFT}\" x2=\"{:.1}\" y1=\"{axis:.1}\" y2=\"{axis:.1}\" \
         stroke=\"#333\" stroke-width=\"0.8\"/>",
        w - 8.0
    );
    ticks(&mut out, opts, a, b, MARGIN_TOP + opts.height + 2.0);
    out.push_str("</svg>");
    out
}

/// One letter filling the box `[x, y, w, h]`; negative letters are drawn upside down, as
/// logomaker's `flip_below`.
fn letter(out: &mut String, symbol: u8, fill: &str, [x, y, w, h]: [f32; 4], flip: bool) {
    let (sy, ty) = if flip {
        (-h / 100.0, y + h)
    } else {
        (h / 100.0, y)
    };
    match glyph(symbol) {
        Some(d) => {
            let _ = write!(
                out,
                "<path d=\"{d}\" fill=\"{fill}\" fill-rule=\"evenodd\" \
                 transform=\"matrix({:.4} 0 0 {sy:.4} {x:.2} {ty:.2})\"/>",
                w / 100.0
            );
        }
        // Other alphabets (protein) use text, stretched to the box by its cap height.
        None => {
            let _ = write!(
                out,
                "<text font-size=\"100\" font-weight=\"bold\" fill=\"{fill}\" \
                 text-anchor=\"middle\" transform=\"matrix({:.4} 0 0 {:.4} {:.2} {:.2})\">{}</text>",
                w / 70.0,
                sy * 100.0 / 72.0,
                x + w / 2.0,
                if flip { y } else { y + h },
                escape(&(symbol as char).to_string())
            );
        }
    }
}

fn fmt_value(v: f32) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 0.01 && v.abs() < 1000.0 {
        format!("{v:.3}")
    } else {
        format!("{v:.2e}")
    }
}

/// An ISM heatmap: one row per symbol, one column per position, coloured by the effect of
/// substituting that symbol (`effects` is `[channels, length]`, like an attribution map),
/// blue for decreases and red for increases on a symmetric scale. The reference base's
/// cells are outlined.
pub fn heatmap(effects: &[f32], reference: &[u8], symbols: &[u8], opts: &PlotOptions) -> String {
    let c = symbols.len().max(1);
    let len = effects.len() / c;
    let (a, b) = range(opts, len);
    let max = (0..c)
        .flat_map(|ch| &effects[ch * len + a..ch * len + b])
        .filter(|v| v.is_finite())
        .fold(0f32, |m, v| m.max(v.abs()))
        .max(f32::MIN_POSITIVE);
    let cell_h = opts.height / c as f32;
    let w = MARGIN_LEFT + (b - a) as f32 * opts.base_width + 8.0;
    let h = MARGIN_TOP + opts.height + MARGIN_BOTTOM + 16.0;
    let mut out = String::new();
    header(&mut out, w, h, &opts.title);
    for (ch, &s) in symbols.iter().enumerate() {
        let y = MARGIN_TOP + ch as f32 * cell_h;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{}\" \
             font-weight=\"bold\">{}</text>",
            MARGIN_LEFT - 6.0,
            y + cell_h / 2.0 + 4.0,
            color(s, opts.palette),
            s as char
        );
        for t in a..b {
            let v = effects[ch * len + t];
            let x = MARGIN_LEFT + (t - a) as f32 * opts.base_width;
            let is_ref = reference.get(t).is_some_and(|r| r.eq_ignore_ascii_case(&s));
            let _ = write!(
                out,
                "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{:.2}\" height=\"{cell_h:.2}\" \
                 fill=\"{}\"{}/>",
                opts.base_width,
                diverging(v / max, opts.palette),
                if is_ref {
                    " stroke=\"#222\" stroke-width=\"0.8\""
                } else {
                    ""
                }
            );
        }
    }
    // A marked column is outlined over its cells (shading would change their colours).
    marks(
        &mut out,
        opts,
        a,
        b,
        "fill=\"none\" stroke=\"#e0a800\" stroke-width=\"2\"",
    );
    ticks(&mut out, opts, a, b, MARGIN_TOP + opts.height + 2.0);
    let _ = write!(
        out,
        "<text x=\"{MARGIN_LEFT}\" y=\"{:.1}\">effect: <tspan fill=\"{}\">{}</tspan> .. \
         <tspan fill=\"{}\">+{}</tspan></text>",
        h - 4.0,
        diverging(-1.0, opts.palette),
        fmt_value(-max),
        diverging(1.0, opts.palette),
        fmt_value(max)
    );
    out.push_str("</svg>");
    out
}

/// From the palette's colour for -1 through white (0) to its colour for +1: blue to red
/// (classic), or purple to orange (colour-blind safe).
fn diverging(x: f32, palette: Palette) -> String {
    let x = if x.is_finite() {
        x.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let (low, high) = match palette {
        Palette::Classic => ([33.0, 102.0, 172.0], [178.0, 24.0, 43.0]),
        Palette::Colorblind => ([84.0, 39.0, 136.0], [179.0, 88.0, 6.0]),
    };
    let (end, f) = if x < 0.0 { (low, -x) } else { (high, x) };
    let [r, g, b] = end.map(|c: f32| (255.0 - f * (255.0 - c)) as u8);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// One panel of [`tracks`]: a reference and an alternate profile over the same positions.
pub struct Panel<'a> {
    /// The panel's name (acceptor, donor).
    pub name: &'a str,
    /// The reference profile.
    pub reference: &'a [f32],
    /// The alternate profile, over the same positions.
    pub alternate: &'a [f32],
}

/// A labelled position marked on every panel (e.g. a delta score's position).
pub struct Mark {
    /// Coordinate, on the same axis as `start`.
    pub at: i64,
    /// The text drawn beside it.
    pub label: String,
    /// Which panel it belongs to (its label is drawn there).
    pub panel: usize,
}

/// Reference (grey) and alternate (coloured) profiles in stacked panels on one coordinate
/// axis (`start` is the coordinate of index 0), values in [0, 1], with the variant's span
/// shaded and each mark drawn as a dot on its panel's alternate line with its label. Every
/// panel keeps its name and y scale, and the axis its coordinates, however wide the figure.
pub fn tracks(
    panels: &[Panel],
    start: i64,
    variant: (i64, i64),
    marks: &[Mark],
    title: &str,
) -> String {
    const PLOT_W: f32 = 900.0;
    const PANEL_H: f32 = 110.0;
    const GAP: f32 = 26.0;
    let n = panels
        .iter()
        .map(|p| p.reference.len().max(p.alternate.len()))
        .max()
        .unwrap_or(0);
    let w = MARGIN_LEFT + PLOT_W + 24.0;
    let h = MARGIN_TOP + panels.len() as f32 * (PANEL_H + GAP) + MARGIN_BOTTOM;
    let mut out = String::new();
    header(&mut out, w, h, &Some(title.to_string()));
    let xs = |i: f32| {
        MARGIN_LEFT
            + if n > 1 {
                i / (n - 1) as f32 * PLOT_W
            } else {
                0.0
            }
    };
    let xc = |c: i64| xs((c - start) as f32);
    for (k, p) in panels.iter().enumerate() {
        let top = MARGIN_TOP + k as f32 * (PANEL_H + GAP) + 10.0;
        let y = |v: f32| top + PANEL_H * (1.0 - v.clamp(0.0, 1.0));
        // variant span, frame, y scale
        let (va, vb) = (
            xc(variant.0),
            xc(variant.1.max(variant.0 + 1)).max(xc(variant.0) + 1.0),
        );
        let _ = write!(
            out,
            "<rect x=\"{va:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{PANEL_H}\" fill=\"#ffe9a8\"/>\
             <rect x=\"{MARGIN_LEFT}\" y=\"{top:.1}\" width=\"{PLOT_W}\" height=\"{PANEL_H}\" fill=\"none\" stroke=\"#bbb\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-weight=\"bold\">{}</text>",
            vb - va,
            MARGIN_LEFT + 4.0,
            top - 3.0,
            escape(p.name)
        );
        for v in [0.0f32, 0.5, 1.0] {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.1}</text>",
                MARGIN_LEFT - 4.0,
                y(v) + 4.0
            );
        }
        for (values, color, width) in [(p.reference, "#8a8a8a", 2.5), (p.alternate, "#c2185b", 1.3)]
        {
            let pts: Vec<String> = values
                .iter()
                .enumerate()
                .map(|(i, v)| format!("{:.1},{:.1}", xs(i as f32), y(*v)))
                .collect();
            let _ = write!(
                out,
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\"/>",
                pts.join(" ")
            );
        }
        for m in marks.iter().filter(|m| m.panel == k) {
            let i = (m.at - start) as usize;
            let v = p.alternate.get(i).copied().unwrap_or(0.0);
            let (mx, my) = (xc(m.at), y(v));
            let _ = write!(
                out,
                "<circle cx=\"{mx:.1}\" cy=\"{my:.1}\" r=\"3.5\" fill=\"none\" stroke=\"#1d2430\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\">{}</text>",
                mx + 5.0,
                (my - 5.0).max(top + 10.0),
                escape(&m.label)
            );
        }
    }
    // coordinate axis: about 8 ticks at round numbers
    let base = MARGIN_TOP + panels.len() as f32 * (PANEL_H + GAP) - GAP + 12.0;
    let step = [
        1i64, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000,
    ]
    .into_iter()
    .find(|&s| n as i64 / s <= 8)
    .unwrap_or(10000);
    let first = start.div_euclid(step) * step;
    for c in (0..)
        .map(|k| first + k * step)
        .take_while(|&c| c < start + n as i64)
    {
        if c < start {
            continue;
        }
        let x = xc(c);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{base:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{c}</text>",
            base + 4.0,
            base + 15.0
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#5b6675\">grey: reference allele; pink: alternate allele; shaded: the variant</text></svg>",
        MARGIN_LEFT + PLOT_W,
        h - 4.0
    );
    out
}

/// A discovered pattern's figure: the logo of its contribution weight matrix over the
/// positions its report compares with the database (`trimmed`), and under it the information
/// content logo (bits) of its best match, aligned as TOMTOM aligned them (on the matched
/// strand), each widened to cover the other. `opts` gives the letters' width, each logo's
/// height and the palette; the figure sets its own span, axis and titles, so the other
/// options are refused, naming them.
pub fn pattern(
    p: &crate::motif::modisco::PatternReport,
    matched: Option<(&crate::motif::MotifMatch, &crate::motif::Motif)>,
    opts: &PlotOptions,
) -> Result<String, String> {
    let set = [
        ("start", opts.start.is_some()),
        ("end", opts.end.is_some()),
        ("offset", opts.offset != 0),
        ("title", opts.title.is_some()),
        ("yRange", opts.y_range.is_some()),
        ("marks", !opts.marks.is_empty()),
    ];
    if let Some((name, _)) = set.iter().find(|(_, given)| *given) {
        return Err(format!(
            "option '{name}' does not apply to a pattern figure, which sets its own span, axis and titles"
        ));
    }
    let (first, end) = p.trimmed;
    if first >= end || end > p.contrib.len() {
        return Err(format!(
            "{}: trimmed span {first}..{end} is not within its {} positions",
            p.name,
            p.contrib.len()
        ));
    }
    let aligned = matched.map(|(m, motif)| (m, m.aligned(motif)));
    // Columns relative to the trimmed span's first position.
    let (mut left, mut right) = (0i64, (end - first) as i64);
    if let Some((_, (at, cols))) = &aligned {
        left = left.min(*at);
        right = right.max(at + cols.len() as i64);
    }
    let titles = [
        format!("{} ({} seqlets): contributions", p.name, p.seqlets),
        aligned.as_ref().map_or(String::new(), |(m, _)| {
            format!(
                "{} {} ({}), q = {:.1e}: bits",
                m.id, m.name, m.strand, m.q_value
            )
        }),
    ];
    // Blank columns on the right keep the titles (13 px, about 7.5 px a character) in view.
    let chars = titles.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    let need = ((chars as f32 * 7.5 - 8.0) / opts.base_width).ceil() as usize;
    let span = (right - left) as usize;
    let width = span.max(need);
    let [top_title, bottom_title] = titles;
    let column = |rows: &[[f64; 4]], origin: i64, t: usize| -> Option<[f64; 4]> {
        let i = left + t as i64 - origin;
        usize::try_from(i).ok().and_then(|i| rows.get(i).copied())
    };
    let channel_major = |col: &dyn Fn(usize) -> [f64; 4]| -> Vec<f32> {
        let cols: Vec<[f64; 4]> = (0..width).map(col).collect();
        (0..4)
            .flat_map(|k| cols.iter().map(move |c| c[k] as f32))
            .collect()
    };
    let cwm = channel_major(&|t| {
        column(&p.contrib, -(first as i64), t)
            .filter(|_| t < span)
            .unwrap_or([0.0; 4])
    });
    let sub = |title: String| PlotOptions {
        title: Some(title),
        offset: first as i64 + left,
        ..opts.clone()
    };
    let top = logo(&cwm, b"ACGT", &sub(top_title));
    let panel_height = MARGIN_TOP + opts.height + MARGIN_BOTTOM;
    let w = MARGIN_LEFT + width as f32 * opts.base_width + 8.0;
    let mut out = String::new();
    let panels = if aligned.is_some() { 2.0 } else { 1.0 };
    header(&mut out, w, panels * panel_height, &None);
    out.push_str(&top);
    if let Some((_, (at, cols))) = &aligned {
        let bits = channel_major(&|t| {
            column(cols, *at, t).map_or([0.0; 4], |c| {
                let total: f64 = c.iter().sum();
                if total <= 0.0 {
                    return [0.0; 4];
                }
                let q = c.map(|v| v / total);
                let ic = 2.0
                    + q.iter()
                        .filter(|&&v| v > 0.0)
                        .map(|v| v * v.log2())
                        .sum::<f64>();
                q.map(|v| v * ic)
            })
        });
        let bottom = logo(
            &bits,
            b"ACGT",
            &PlotOptions {
                y_range: Some([0.0, 2.0]),
                ..sub(bottom_title)
            },
        );
        let _ = write!(
            out,
            "<g transform=\"translate(0 {panel_height:.1})\">{bottom}</g>"
        );
    }
    out.push_str("</svg>");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logo_stacks_positive_above_and_negative_below() {
        // Two positions, DNA: t0 = A +2, C +1 ; t1 = G -1.5, T +0.5. Hand layout:
        // up = 3, down = 1.5, height 90 => scale 20 px/unit, axis at 24 + 60 = 84.
        let map = [2.0, 0.0, 1.0, 0.0, 0.0, -1.5, 0.0, 0.5];
        let opts = PlotOptions {
            height: 90.0,
            base_width: 10.0,
            ..Default::default()
        };
        let svg = logo(&map, b"ACGT", &opts);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // A (height 40) on top of C (height 20): C from 64 to 84, A from 24 to 64.
        assert!(svg.contains("fill=\"#255C99\" fill-rule=\"evenodd\" transform=\"matrix(0.1000 0 0 0.2000 48.00 64.00)\""), "{svg}");
        assert!(svg.contains("fill=\"#109648\" fill-rule=\"evenodd\" transform=\"matrix(0.1000 0 0 0.4000 48.00 24.00)\""));
        // G below the axis, flipped: box 84..114.
        assert!(svg.contains("fill=\"#F7B32B\" fill-rule=\"evenodd\" transform=\"matrix(0.1000 0 0 -0.3000 58.00 114.00)\""));
        assert_eq!(svg.matches("<path").count(), 4);
    }

    #[test]
    fn a_shared_y_range_scales_logos_alike_and_marks_shade_positions() {
        // The map of the first test needs [-1.5, 3]; drawn on [-3, 6] its letters are half
        // as tall (scale 10 px/unit on height 90), with the axis at 24 + 60 = 84.
        let map = [2.0, 0.0, 1.0, 0.0, 0.0, -1.5, 0.0, 0.5];
        let opts = PlotOptions {
            height: 90.0,
            base_width: 10.0,
            ..Default::default()
        };
        assert_eq!(logo_range(&map, 4, &opts), [-1.5, 3.0]);
        // only the positions drawn count
        let second = PlotOptions {
            start: Some(1),
            ..opts.clone()
        };
        assert_eq!(logo_range(&map, 4, &second), [-1.5, 0.5]);
        let svg = logo(
            &map,
            b"ACGT",
            &PlotOptions {
                y_range: Some([-3.0, 6.0]),
                marks: vec![1, 7],
                ..opts
            },
        );
        // C (1 unit, 10 px) sits on the axis at 74..84, A (20 px) above it at 54..74
        assert!(svg.contains("fill=\"#109648\" fill-rule=\"evenodd\" transform=\"matrix(0.1000 0 0 0.2000 48.00 54.00)\""), "{svg}");
        assert!(svg.contains(">6.000</text>") && svg.contains(">-3.000</text>"));
        // position 1 is shaded; 7 is outside the drawn range
        assert_eq!(svg.matches("class=\"mark\"").count(), 1);
        assert!(svg.contains(
            "<rect class=\"mark\" x=\"58.00\" y=\"24.0\" width=\"10.00\" height=\"90.0\""
        ));
        let heat = heatmap(
            &map,
            b"AT",
            b"ACGT",
            &PlotOptions {
                marks: vec![0],
                ..Default::default()
            },
        );
        assert_eq!(heat.matches("class=\"mark\"").count(), 1);
    }

    #[test]
    fn heatmap_colours_and_marks_the_reference() {
        // [channels, length]: A = (0, 0), C = (-2, 0), G = (1, 0), T = (0.5, 2).
        let effects = [0.0, 0.0, -2.0, 0.0, 1.0, 0.0, 0.5, 2.0];
        let svg = heatmap(&effects, b"AT", b"ACGT", &PlotOptions::default());
        assert_eq!(svg.matches("<rect x").count(), 8);
        assert_eq!(svg.matches("stroke=\"#222\"").count(), 2);
        // the ends of ColorBrewer's RdBu, by hand: (33, 102, 172) and (178, 24, 43)
        assert!(svg.contains("#2166ac") && svg.contains("#b2182b"));
        assert_eq!(diverging(0.0, Palette::Classic), "#ffffff");
        // halfway to blue: 255 - 0.5 * (255 - 33) = 144, 178.5, 213.5 (truncated)
        assert_eq!(diverging(-0.5, Palette::Classic), "#90b2d5");
    }

    #[test]
    fn the_colour_blind_palette_changes_letters_and_heatmap() {
        let map = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0];
        let opts = PlotOptions {
            palette: Palette::Colorblind,
            ..Default::default()
        };
        // Okabe-Ito bluish green for A, vermillion for T
        let svg = logo(&map, b"ACGT", &opts);
        assert!(svg.contains("fill=\"#009E73\"") && svg.contains("fill=\"#D55E00\""));
        assert!(!svg.contains("#109648") && !svg.contains("#D62839"));
        // PuOr's ends, by hand: (84, 39, 136) = #542788 and (179, 88, 6) = #b35806
        let heat = heatmap(&map, b"AT", b"ACGT", &opts);
        assert!(heat.contains("#542788") && heat.contains("#b35806"));
        assert!(!heat.contains("#2166ac"));
        // the name a caller passes
        let parsed: PlotOptions = serde_json::from_str(r#"{"palette": "colorblind"}"#).unwrap();
        assert_eq!(parsed.palette, Palette::Colorblind);
        assert!(serde_json::from_str::<PlotOptions>(r#"{"palette": "rainbow"}"#).is_err());
    }
}
