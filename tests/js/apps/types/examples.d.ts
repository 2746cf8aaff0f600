// The free variables of the READMEs' examples: what a reader already holds when the example
// begins (a loaded model, bytes fetched, files a user picked). Only these are declared; every
// seqlens name must be imported by the example itself.
declare const model: import('seqlens').Model;
declare const bytes: Uint8Array;
declare const modelBytes: Uint8Array;
declare const ciSpliceAiBytes: Uint8Array;
declare const grch38TableBytes: Uint8Array;
declare const seq: string;
declare const records: import('seqlens').SequenceInput[];
declare const backgrounds: import('seqlens').SequenceInput[];
declare const vcfText: string;
declare const genome: import('seqlens').GenomeSource;
declare const file: File;
declare const vcfFile: File;
declare const genomeFile: File;
declare const faiFile: File;
declare const signal: AbortSignal;
declare const bar: HTMLProgressElement;
