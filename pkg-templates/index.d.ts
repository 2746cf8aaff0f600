/** Where to load the WebAssembly from: a URL, a fetch Response, bytes, or a compiled module. */
export type WasmSource = string | URL | Response | BufferSource | WebAssembly.Module;

/**
 * Loads the WebAssembly module; by default the `seqlens_core_bg.wasm` beside this file.
 * Inside a cross-origin isolated Web Worker it loads the threaded build (`threads/`) instead,
 * whose CPU engine runs on `threads` Web Workers (default `navigator.hardwareConcurrency`);
 * `threads: 1` keeps the plain build, and more than 1 where threads cannot run is refused.
 */
export function init(
  source?: WasmSource | Promise<WasmSource>,
  options?: { threads?: number },
): Promise<void>;

/** Which build runs the CPU engine, on how many threads, and why the plain one if it does. */
export interface Threading {
  build: 'threads' | 'plain';
  threads: number;
  reason: string | null;
}

/** The build and thread count that init() chose. */
export function threading(): Threading;

export type Alphabet = 'dna' | 'rna' | 'protein';
export type Layout = 'NCL' | 'NLC';
export type NPolicy = 'zero' | 'uniform' | 'iupac';
export type UnknownPolicy = 'error' | 'as-n';

/** Values that replace the model's `seqlens.*` metadata. */
export interface Overrides {
  alphabet?: Alphabet;
  layout?: Layout;
  length?: number;
  nPolicy?: NPolicy;
  labels?: string[];
  task?: string;
}

export interface PredictOptions {
  /** Average with the reverse-complement prediction. */
  rcAverage?: boolean;
  /** Sequences per model run (default 64). */
  batchSize?: number;
  /** Characters outside the alphabet: throw (default) or treat as N. */
  unknown?: UnknownPolicy;
  /** Tile long sequences into model-length windows every `stride` bases. */
  stride?: number;
}

export type SequenceInput = string | { id?: string; seq: string };

export interface Window {
  id: string;
  chrom: string;
  /** 0-based start of the window the model saw (negative when padded with N). */
  start: number;
  end: number;
}

export interface Predictions {
  ids: string[];
  labels: string[];
  /** Row-major `[shape[0], shape[1]]`: one row per window, one column per label. */
  values: Float32Array;
  shape: [number, number];
  windows: Window[];
  /** Which backend ran the model. */
  backend: 'cpu' | 'webgpu';
}

/** 'cpu' runs the seqlens engine where the model's graph imports, tract otherwise. */
export type BackendChoice = 'auto' | 'webgpu' | 'cpu' | 'tract';

/** Where a model's predictions run, and why the CPU when it does. */
export interface BackendReport {
  backend: 'cpu' | 'webgpu';
  /** On the CPU: the seqlens engine or tract. */
  engine?: 'seqlens' | 'tract';
  /** The WebGPU adapter used, or found and not used. */
  adapter?: string;
  reason?: string;
}

export interface LoadOptions {
  /** 'auto' (default): WebGPU on a hardware adapter when the model's graph runs there. */
  backend?: BackendChoice;
  /** A model saved with ONNX external data: its files by the names the model gives them,
   * e.g. `{ 'model.onnx.data': bytes }` (torch.onnx.export writes that file by default). */
  externalData?: Record<string, Uint8Array | ArrayBuffer>;
}

export interface TensorInfo {
  name: string;
  dtype: string;
  shape: (number | string)[];
}

export interface ModelInfo {
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  ops: Record<string, number>;
  parameters: number;
  producer: string;
  opset: number;
  properties: Record<string, string>;
  metadata: {
    alphabet: Alphabet;
    layout: Layout;
    length: number | null;
    n_policy: NPolicy;
    labels: string[];
    task: string | null;
  };
  batch: { kind: 'dynamic' } | { kind: 'fixed'; size: number };
  channels: number;
  outputs_per_sequence: number | null;
}

/** Called with work done and total; return `false` to cancel (in-thread calls). */
export type ProgressCallback = (done: number, total: number) => boolean | void;

export type AttributionMethod = 'grad' | 'ixg' | 'ig' | 'deeplift-shap' | 'ism' | 'fast-ism';

export interface AttributeOptions {
  /** grad, ixg (gradient x input), ig (integrated gradients), deeplift-shap
   * (DeepLIFT/DeepSHAP as tangermeme's deep_lift_shap), fast-ism: models in the seqlens
   * engine's op set (see `info().capabilities`); ism: any model. Default ixg. */
  method?: AttributionMethod;
  /** Output label(s) to explain, summed. Default: the first label. */
  target?: string[];
  /** Profile models (e.g. CI-SpliceAI): the bases whose predictions are explained,
   * `[from, to]` (0-based, half-open, in the coordinates of `Attribution.start`). */
  at?: [number, number];
  /** The positions attributed (and mutated by ISM), `[from, to]`. Default: the whole
   * sequence, or for a profile model `at` with 50 bases on each side. */
  range?: [number, number];
  /** Integrated gradients steps (default 50). */
  steps?: number;
  /** Integrated gradients' baseline and DeepLIFT/SHAP's references (default shuffle:
   * dinucleotide shuffles). */
  baseline?: 'zeros' | 'uniform' | 'shuffle';
  /** Number of shuffled baselines (default 10 for ig, 20 for deeplift-shap). */
  shuffles?: number;
  seed?: number;
  /** Your own references instead of shuffles: for each sequence id, reference sequences of
   * its length (the attributions are averaged over them). */
  references?: Record<string, string[]>;
}

export interface DesignOptions {
  /** The output labels the goal is about. Default: all of them. */
  labels?: string[];
  /** 'max' or 'min' (the labels' mean), or one target value per output of the model (mean
   * squared error over the chosen labels). Default 'max'. */
  goal?: 'max' | 'min' | number[];
  /** Edit budget: the most substitutions (rounds) per sequence. Default 10. */
  edits?: number;
  /** Sequences kept per round; 1 (the default) is greedy. */
  beam?: number;
  /** Designs returned per sequence, best first (at most `beam`). Default 1. */
  keep?: number;
  /** Stop after a round that improves the loss by no more than this. Default 0.001. */
  tol?: number;
  /** The positions that may change, `[from, to]` (0-based, half-open, in the model's
   * window). Default: all. */
  region?: [number, number];
  /** How substitutions are scored: fast ISM through the engine ('fast'), every mutant
   * predicted on the selected backend ('ism', any model), or fast where possible ('auto',
   * the default). */
  scoring?: 'auto' | 'fast' | 'ism';
}

export interface Substitution {
  /** 0-based, in the window. */
  position: number;
  from: string;
  to: string;
}

export interface Design {
  id: string;
  /** The original sequence (the model's window). */
  sequence: string;
  labels: string[];
  /** The original sequence's prediction, one value per label. */
  original: number[];
  originalLoss: number;
  rounds: number;
  /** 'fast ISM' or 'ISM'. */
  scoring: string;
  /** Best (lowest loss) first. */
  designs: {
    sequence: string;
    /** In the order made; a later one can change a position again. */
    edits: Substitution[];
    prediction: number[];
    loss: number;
  }[];
}

export interface Attribution {
  id: string;
  chrom: string;
  /** The coordinate of the first attributed position. */
  start: number;
  /** The attributed positions' sequence. */
  sequence: string;
  channels: number;
  length: number;
  /** `[channels, length]` row-major; for ISM, the target's change per substitution; for
   * deeplift-shap, each symbol's hypothetical contribution. */
  map: Float32Array;
  /** One score per position (for deeplift-shap, the observed base's contribution). */
  perBase: Float32Array;
  /** The target's value on the unmodified sequence. */
  targetValue: number;
  /** deeplift-shap: the largest convergence delta over the references,
   * |sum of contributions - (f(x) - f(reference))|; above 0.001 the attributions are suspect. */
  delta?: number;
}

/** Settings of the recursive seqlet caller (tangermeme's defaults). */
export interface SeqletOptions {
  /** The p-value every inner span must stay below (0.01). */
  threshold?: number;
  /** The shortest seqlet and inner span tested (4). */
  minLen?: number;
  /** The longest seqlet (25). */
  maxLen?: number;
  /** Positions added on each side after calling (0). */
  flank?: number;
  /** Histogram bins of the null (1000). */
  bins?: number;
  /** Call negative seqlets (on the negated scores) instead (false). */
  negative?: boolean;
}

/** A seqlet, in its sequence's coordinates. */
export interface Seqlet {
  id: string;
  chrom: string;
  start: number;
  end: number;
  /** The sum of the attributions over it. */
  attribution: number;
  /** The span's p-value (ranks spans; not an error rate). */
  pValue: number;
  sequence: string;
  /** Its best database motifs, best first, once annotated (annotateSeqlets). */
  motifs?: MotifMatch[];
}

/** A seqlet's match with a database motif by TOMTOM (memelite's numbers). */
export interface MotifMatch {
  /** The motif's identifier, e.g. "MA0139.2". */
  id: string;
  /** Its name, e.g. "CTCF". */
  name: string;
  /** TOMTOM's p-value, corrected for both strands. */
  pValue: number;
  /** The p-value times the database's size. */
  eValue: number;
  /** Benjamini-Hochberg's q-value over the database. */
  qValue: number;
  /** '+' for the motif as given, '-' for its reverse complement. */
  strand: '+' | '-';
  /** TOMTOM's (memelite's) offset: the motif column, on that strand, aligned with the
   * query's first base; negative when the motif starts inside the query, at `-offset`. */
  offset: number;
  /** How many positions overlap. */
  overlap: number;
}

export interface AnnotateOptions {
  /** A MEME file's text to compare with (default: the bundled JASPAR 2024 CORE vertebrates). */
  motifs?: string;
  /** How many motifs per seqlet, best first (1). */
  top?: number;
}

export interface MarginalizeOptions {
  /** The motifs, in order (an N keeps the background's base). */
  motifs: string[];
  /** With two or more motifs: the gaps to try between consecutive motifs. */
  spacings?: number[];
  /** Where the first motif starts (default: the arrangement is centred, as tangermeme's). */
  start?: number;
  /** Use this many dinucleotide shuffles of each input sequence as the backgrounds. */
  shuffles?: number;
  /** Seeds those shuffles (0). */
  seed?: number;
}

export interface Marginalization {
  ids: string[];
  labels: string[];
  /** [backgrounds, labels], row-major. */
  before: number[];
  /** The arrangements tried: the gaps between consecutive motifs. */
  spacings: number[][];
  /** [backgrounds, spacings, labels], row-major. */
  after: number[];
  /** Mean of after - before over the backgrounds: [spacings, labels]. */
  meanEffect: number[];
}

export interface AblateOptions {
  /** [from, to): the positions of each window shuffled. */
  region: [number, number];
  /** Shuffles per sequence (20). */
  shuffles?: number;
  /** Keep dinucleotide counts (Altschul-Erickson) instead of permuting bases (false). */
  dinucleotide?: boolean;
  seed?: number;
}

export interface Ablation {
  ids: string[];
  labels: string[];
  /** [sequences, labels], row-major. */
  before: number[];
  shuffles: number;
  /** [sequences, shuffles, labels], row-major. */
  after: number[];
  /** Mean of after - before over the sequences and shuffles, per label. */
  meanEffect: number[];
}

/** Settings of motif discovery (modisco-lite 3.0's defaults, camelCased), and of its report. */
export interface DiscoverOptions {
  /** How many database motifs per pattern, best first (3). */
  top?: number;
  /** A MEME file's text to name patterns with (default: the bundled JASPAR 2024 CORE vertebrates). */
  motifs?: string;
  seqlets?: {
    /** The window attributions are summed over (21). */
    window?: number;
    /** Positions added on each side of a seqlet (10). */
    flank?: number;
    targetFdr?: number;
    minPassingWindowsFrac?: number;
    maxPassingWindowsFrac?: number;
    weakThresholdForCountingSign?: number;
  };
  metaclusters?: {
    /** A metacluster of this many seqlets or fewer is skipped (100). */
    minSize?: number;
    /** At most this many seqlets per metacluster (20000). */
    maxSeqlets?: number;
  };
  affinity?: {
    nNeighbors?: number;
    topn?: number;
    minK?: number;
    maxK?: number;
    maxGap?: number;
    maxLen?: number;
    maxEntries?: number;
    minOverlap?: number;
    correlationThreshold?: number;
    perplexity?: number;
  };
  patterns?: {
    minOverlap?: number;
    fracSupportToTrimTo?: number;
    minNumToTrimTo?: number;
    trimToWindowSize?: number;
    initialFlankToAdd?: number;
  };
  collapse?: {
    mergeThresholds?: [number, number][];
    dealbreakerThresholds?: [number, number][];
    subclusterPerplexity?: number;
    maxSeqletsSubsample?: number;
    /** The fewest seqlets a reported pattern holds (20). */
    finalMinClusterSize?: number;
    minIcInWindow?: number;
    minIcWindowsize?: number;
    ppmPseudocount?: number;
    leidenRuns?: number;
  };
}

/** A discovered pattern (modisco-lite's naming), with its best database motifs. */
export interface Pattern {
  /** 'pos_patterns.pattern_0', 'neg_patterns.pattern_1', ... */
  name: string;
  /** How many seqlets it holds. */
  seqlets: number;
  /** Position probability matrix: [A, C, G, T] per position. */
  sequence: [number, number, number, number][];
  /** Mean contributions (the contribution weight matrix). */
  contrib: [number, number, number, number][];
  /** Mean hypothetical contributions. */
  hypothetical: [number, number, number, number][];
  /** [start, end): the positions compared with the database (0.3 of the largest contribution). */
  trimmed: [number, number];
  /** Each seqlet: [index of its attribution, start, end, reverse strand]. */
  positions: [number, number, number, boolean][];
  /** The best database motifs for the trimmed matrix, best first. */
  matches: MotifMatch[];
}

export interface Discovery {
  /** Seqlets called. */
  seqlets: number;
  /** Seqlets clustered in the positive and negative metaclusters (0: skipped). */
  metaclusterSizes: [number, number];
  /** Positive metacluster's patterns first, most seqlets first. */
  patterns: Pattern[];
}

/** A reference FASTA read by slices. */
export interface GenomeSource {
  /** Text of the .fai index. */
  fai: string | Uint8Array;
  /** Size of the FASTA in bytes. */
  size: number;
  read(offset: number, length: number): Uint8Array;
  name?: string;
  /** Bytes of the .gzi index, for a bgzf-compressed FASTA (bgzip). */
  gzi?: Uint8Array;
}

/** Profile predictions (models with `seqlens.output = profile`, e.g. CI-SpliceAI). */
export interface ProfilePredictions {
  kind: 'profile';
  /** One name per class. */
  labels: string[];
  /** One track per window; position `j` describes base `start + j` of `chrom` (0-based). */
  tracks: { id: string; chrom: string; start: number; positions: number; values: Float32Array }[];
  /** When every track has the same length: `[n, classes, positions]` row-major. */
  values?: Float32Array;
  shape?: [number, number, number];
  backend: 'cpu' | 'webgpu';
}

export interface SpliceOptions {
  /** Positions scored on each side of the variant (default 1000). */
  distance?: number;
  /** Zero gains at annotated splice sites and losses elsewhere. */
  mask?: boolean;
  /** Keep the bases outside the overlapping gene (default: masked to N). */
  outside?: boolean;
  /** Every gene in the VCF/TSV output, not only the most significant. */
  all?: boolean;
  /** Keep reference and alternate acceptor/donor tracks per gene (for figures). */
  includeTracks?: boolean;
  batchSize?: number;
}

/** One allele's effect in one gene (outside genes: on one strand, gene '+' or '-'). */
export interface SpliceAnnotation {
  gene: string;
  strand: '+' | '-';
  ds_ag: number;
  ds_al: number;
  ds_dg: number;
  ds_dl: number;
  /** Offsets from POS of the largest gain/loss. */
  dp_ag: number;
  dp_al: number;
  dp_dg: number;
  dp_dl: number;
  /** With includeTracks: position `i` is genome position `start + i` (1-based). */
  tracks?: {
    start: number;
    ref_acceptor: number[];
    ref_donor: number[];
    alt_acceptor: number[];
    alt_donor: number[];
  };
}

export interface SpliceAllele {
  chrom: string;
  pos: number;
  id: string | null;
  ref: string;
  alt: string;
  line: number;
  status: 'ok' | 'ref_mismatch' | 'unknown_contig' | 'symbolic_allele' | 'invalid_allele' | 'beyond_contig';
  /** For ref_mismatch, the genome's bases. */
  detail?: string;
  /** N bases read past the contig's start and end. */
  padded: [number, number];
  annotations: SpliceAnnotation[];
  /** Index into `annotations` of the most significant gene. */
  most_significant: number | null;
  /** A sentence about the status or padding (empty when there is nothing to say). */
  message: string;
}

export interface SpliceScores {
  options: { distance: number; mask: boolean; outside: boolean };
  alleles: SpliceAllele[];
  /** The input as VCF with cispliceai's INFO field CISpliceAI=ALLELE|SYMBOL|DS_AG|...|DP_DL. */
  vcf: string;
  /** One row per allele (and gene with `all`), unrounded. */
  tsv: string;
}

/** A gene annotation for splice scoring (bundled table, cispliceai CSV or GTF). */
export class Genes {
  private constructor();
  static load(bytes: ArrayBuffer | Uint8Array, name?: string): Promise<Genes>;
  readonly length: number;
  free(): void;
}

export type VariantScore = 'diff' | 'abs_diff' | 'log_odds' | 'log2_fc';

export interface VariantOptions {
  /** Default ['diff', 'log_odds']. */
  scores?: VariantScore[];
  /** Added to both predictions for log2_fc (default 1e-6). */
  pseudocount?: number;
  predict?: PredictOptions;
  /** Return each allele's reference and alternate windows (`windows`, `allele_at`). */
  includeSequences?: boolean;
}

export interface AlleleEffect {
  chrom: string;
  pos: number;
  id: string | null;
  ref: string;
  alt: string;
  line: number;
  status: 'ok' | 'ref_mismatch' | 'unknown_contig' | 'symbolic_allele' | 'allele_too_long' | 'invalid_allele' | 'beyond_contig';
  /** For ref_mismatch, the genome's bases; for allele_too_long, the model length; for
   * beyond_contig, the contig's length. */
  detail?: string | number;
  ref_pred: number[];
  alt_pred: number[];
  /** `[score][label]`, in the order of `scores`. */
  scores: number[][];
  /** With includeSequences: the reference and alternate windows the model saw. */
  windows?: [string, string];
  /** With includeSequences: where the reference and the alternate allele start in them. */
  allele_at?: [number, number];
}

export interface VariantEffects {
  labels: string[];
  scores: VariantScore[];
  variants: AlleleEffect[];
  /** The table `seqlens variants` writes. */
  tsv: string;
}

export interface CallOptions {
  onProgress?: ProgressCallback;
}

/** One backend (`tract`, `cpu`, `gpu`) or attribution method (`grad`, `ixg`, `ig`, `ism`,
 * `fast-ism`): whether the model can use it, where it runs, and why not (naming the node). */
export interface Capability {
  name: string;
  available: boolean;
  runsOn?: string;
  reason?: string;
}

export class Model {
  private constructor();
  static load(bytes: ArrayBuffer | Uint8Array, overrides?: Overrides | null, options?: LoadOptions): Promise<Model>;
  info(): ModelInfo & {
    gradients: boolean;
    gradientsUnavailable?: string;
    backend: BackendReport;
    /** Where the gradient methods and DeepLIFT/SHAP run: `gpu`, or `cpu (why)`. */
    gradientBackend: string;
    threading: Threading;
    /** What runs where, and what blocks what cannot (as `seqlens info` prints it). */
    capabilities: { backends: Capability[]; methods: Capability[] };
  };
  /** Where predictions, ISM and variant scoring run (fast ISM uses the CPU engine). */
  readonly backend: BackendReport;
  /** Where the gradient methods (grad, ixg, ig) and DeepLIFT/SHAP run: `gpu`, or `cpu (why)`. */
  readonly gradientBackend: string;
  predict(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: PredictOptions,
    call?: CallOptions,
  ): Promise<Predictions | ProfilePredictions>;
  attribute(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: AttributeOptions,
    call?: CallOptions,
  ): Promise<Attribution[]>;
  /** Motifs substituted into backgrounds, predicted before and after (tangermeme's
   * marginalize; its space with two or more motifs). */
  marginalize(input: string | Uint8Array | ArrayBuffer | SequenceInput[], options: MarginalizeOptions): Promise<Marginalization>;
  /** A region of each sequence shuffled, predicted before and after (tangermeme's ablate). */
  ablate(input: string | Uint8Array | ArrayBuffer | SequenceInput[], options: AblateOptions): Promise<Ablation>;
  /** Sequence design by single-base substitutions (tangermeme's greedy_substitution and
   * beam_substitution). */
  design(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: DesignOptions,
    call?: CallOptions,
  ): Promise<Design[]>;
  scoreVariants(
    vcf: string | Uint8Array | ArrayBuffer,
    genome: GenomeSource,
    options?: VariantOptions,
    call?: CallOptions,
  ): Promise<VariantEffects>;
  /** VCF text/bytes, or variants typed one per line (`chr1:12345 A>G`). */
  scoreSplice(
    variants: string | Uint8Array | ArrayBuffer,
    genome: GenomeSource,
    genes: Genes,
    options?: SpliceOptions,
    call?: CallOptions,
  ): Promise<SpliceScores>;
  free(): void;
}

/** A reference genome backed by a File/Blob (inside a Web Worker); `gzi` for bgzf. */
export function fileGenome(file: Blob & { name?: string }, fai: string, gzi?: Uint8Array): GenomeSource;

export interface PlotOptions {
  /** Pixels per position (default 12). */
  baseWidth?: number;
  /** Plot height in pixels (default 120). */
  height?: number;
  start?: number;
  end?: number;
  /** Coordinate of position 0 for the axis. */
  offset?: number;
  title?: string;
  /** A logo's y axis [lowest, highest] instead of the range of the positions drawn (shared
   * by a reference and an alternate logo, from logoRange); letters beyond it are clipped. */
  yRange?: [number, number];
  /** Positions (0-based, like start and end) shaded in a logo and outlined in a heatmap. */
  marks?: number[];
  /** 'classic' (logomaker's letters, blue-red heatmap; default) or 'colorblind' (Okabe-Ito
   * letters, purple-orange heatmap). */
  palette?: 'classic' | 'colorblind';
}

/** SVG sequence logo of a [channels, length] map; symbols names the channels, e.g. "ACGT". */
export function logoSvg(map: Float32Array, symbols: string, options?: PlotOptions): string;
/** The table `seqlens predict --out` writes for `predictions`, byte for byte. */
export function formatPredictions(predictions: Predictions, format?: 'tsv' | 'json'): string;
/** The y range [lowest, highest] a logo of `map` needs over options' start..end. */
export function logoRange(map: Float32Array, symbols: string, options?: PlotOptions): [number, number];
/** Seqlets in attributions (as attribute() resolves them; `perBase` is called on) with
 * tangermeme's recursive seqlet caller, one null pooled over all of them; by p-value. */
export function callSeqlets(
  attributions: Array<Pick<Attribution, 'id' | 'perBase'> & Partial<Attribution>>,
  options?: SeqletOptions,
): Seqlet[];
/** Seqlets with their best database motifs by TOMTOM (as tangermeme's annotate_seqlets). */
export function annotateSeqlets(seqlets: Seqlet[], options?: AnnotateOptions): Seqlet[];
/** Motif discovery (TF-MoDISco-lite) in deeplift-shap attributions, patterns named by TOMTOM. */
export function discoverMotifs(
  attributions: Array<Pick<Attribution, 'sequence' | 'perBase' | 'map'> & Partial<Attribution>>,
  options?: DiscoverOptions,
  callbacks?: { onProgress?: (done: number, total: number, stage: string) => boolean | void },
): Discovery;
/** SVG figure of a discovered pattern above its best match's logo, aligned. */
export function patternSvg(
  pattern: Pattern,
  options?: Pick<PlotOptions, 'baseWidth' | 'height' | 'palette'> & { motifs?: string },
): string;
/** SVG figure of a splice allele's effect in one gene (scoreSplice with includeTracks). */
export function spliceFigureSvg(allele: SpliceAllele, annotation: SpliceAnnotation): string;
/** SVG ISM heatmap of [channels, length] substitution effects over `sequence`. */
export function heatmapSvg(
  effects: Float32Array,
  sequence: string,
  symbols: string,
  options?: PlotOptions,
): string;

export interface WorkerCallOptions {
  onProgress?: (done: number, total: number) => void;
  /** Aborting stops the worker at once; the promise rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The API in a Web Worker: the page never blocks. */
export class SeqlensWorker {
  /**
   * `wasm`, `threads`: as init()'s, in the worker (which is cross-origin isolated when the page
   * is). `workerUrl`: where worker.js is served, when an app copies the package's files itself
   * (default: the worker.js beside the package, which Vite and webpack bundle). `viaBlob`: start
   * the worker through a blob: module importing worker.js, so that the page's service worker
   * also serves it (unbundled pages that work offline).
   */
  constructor(options?: { workerUrl?: string | URL; viaBlob?: boolean; wasm?: WasmSource; threads?: number });
  /** Replaces the worker's model once the new one has loaded: a model that fails to load
   * (the promise rejects) leaves the one before in place. */
  load(
    bytes: ArrayBuffer | Uint8Array | Blob,
    overrides?: Overrides | null,
    options?: LoadOptions,
  ): Promise<ModelInfo & { gradients: boolean; backend: BackendReport; gradientBackend: string; threading: Threading }>;
  predict(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: PredictOptions,
    call?: WorkerCallOptions,
  ): Promise<Predictions>;
  attribute(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: AttributeOptions,
    call?: WorkerCallOptions,
  ): Promise<Attribution[]>;
  marginalize(input: string | Uint8Array | ArrayBuffer | SequenceInput[], options: MarginalizeOptions, call?: WorkerCallOptions): Promise<Marginalization>;
  ablate(input: string | Uint8Array | ArrayBuffer | SequenceInput[], options: AblateOptions, call?: WorkerCallOptions): Promise<Ablation>;
  design(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: DesignOptions,
    call?: WorkerCallOptions,
  ): Promise<Design[]>;
  scoreVariants(
    vcf: string | Uint8Array | ArrayBuffer | Blob,
    reference: { fasta: Blob; fai: Blob | string },
    options?: VariantOptions,
    call?: WorkerCallOptions,
  ): Promise<VariantEffects>;
  loadGenes(bytes: ArrayBuffer | Uint8Array | Blob, name?: string): Promise<{ genes: number }>;
  scoreSplice(
    variants: string | Uint8Array | ArrayBuffer | Blob,
    reference: { fasta: Blob; fai: Blob | string; gzi?: Blob },
    options?: SpliceOptions,
    call?: WorkerCallOptions,
  ): Promise<SpliceScores>;
  parseFasta(data: string | Uint8Array | ArrayBuffer | Blob, name?: string): Promise<SeqRecord[]>;
  spliceFigureSvg(allele: SpliceAllele, annotation: SpliceAnnotation): Promise<string>;
  logoSvg(map: Float32Array, symbols: string, options?: PlotOptions): Promise<string>;
  logoRange(map: Float32Array, symbols: string, options?: PlotOptions): Promise<[number, number]>;
  /** As callSeqlets, computed in the worker. */
  callSeqlets(attributions: Array<Pick<Attribution, 'id' | 'perBase'> & Partial<Attribution>>, options?: SeqletOptions): Promise<Seqlet[]>;
  /** As annotateSeqlets, computed in the worker. */
  annotateSeqlets(seqlets: Seqlet[], options?: AnnotateOptions): Promise<Seqlet[]>;
  /** As discoverMotifs, in the worker (onProgress is also told each stage's name). */
  discoverMotifs(
    attributions: Array<Pick<Attribution, 'sequence' | 'perBase' | 'map'> & Partial<Attribution>>,
    options?: DiscoverOptions,
    opts?: { onProgress?: (done: number, total: number, stage: string) => void; signal?: AbortSignal },
  ): Promise<Discovery>;
  /** As patternSvg, computed in the worker. */
  patternSvg(pattern: Pattern, options?: Pick<PlotOptions, 'baseWidth' | 'height' | 'palette'> & { motifs?: string }): Promise<string>;
  formatPredictions(predictions: Predictions, format?: 'tsv' | 'json'): Promise<string>;
  heatmapSvg(effects: Float32Array, sequence: string, symbols: string, options?: PlotOptions): Promise<string>;
  terminate(): void;
}

export interface OneHotOptions {
  alphabet?: Alphabet;
  layout?: Layout;
  nPolicy?: NPolicy;
  unknown?: UnknownPolicy;
}

export function oneHot(sequence: string, options?: OneHotOptions): Float32Array;
export function reverseComplement(sequence: string, alphabet?: 'dna' | 'rna'): string;

export interface SeqRecord {
  id: string;
  description: string | null;
  seq: string;
}
export function parseFasta(data: string | Uint8Array | ArrayBuffer, name?: string): SeqRecord[];

export interface Variant {
  chrom: string;
  /** 1-based, as in the VCF. */
  pos: number;
  id: string | null;
  ref: string;
  alts: string[];
  line: number;
}
export function parseVcf(data: string | Uint8Array | ArrayBuffer, name?: string): Variant[];

/** Node only (import from 'seqlens' under Node): a reference FASTA on disk and its .fai. */
export function fsGenome(path: string, faiPath?: string, gziPath?: string): GenomeSource & { close(): void };
