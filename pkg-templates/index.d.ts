/** Where to load the WebAssembly from: a URL, a fetch Response, bytes, or a compiled module. */
export type WasmSource = string | URL | Response | BufferSource | WebAssembly.Module;

/** Loads the WebAssembly module; by default the `seqlens_core_bg.wasm` beside this file. */
export function init(source?: WasmSource | Promise<WasmSource>): Promise<void>;

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

export class Model {
  private constructor();
  static load(bytes: ArrayBuffer | Uint8Array, overrides?: Overrides): Promise<Model>;
  info(): ModelInfo;
  predict(
    input: string | Uint8Array | ArrayBuffer | SequenceInput[],
    options?: PredictOptions,
  ): Promise<Predictions>;
  free(): void;
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
