/** The face models the pipeline runs; the adapter maps each to a file listed in models/manifest.json. */
export type ModelName =
  'face_detect' | 'face_landmark' | 'face_embed' | 'face_liveness' | 'text_detect' | 'text_recognize';

export interface Tensor {
  data: Float32Array;
  dims: readonly number[];
}

/**
 * Asked of a classifier whose output's last axis holds class scores (the text recogniser: a position per
 * CTC step, 6,625 classes): instead of every score, each position's best class among `allowed` (a 0/1
 * mask over the classes; all when absent; ties go to the lower index), its score, and the scores of the
 * `also` classes. The output tensor is then [...leading dims, 2 + also.length]. It saves sending and
 * collecting megabytes of scores per text line that the caller would only scan for their maximum.
 */
export interface TopClassReduction {
  allowed?: Uint8Array;
  also?: readonly number[];
}

/** Runs one model on one input tensor. Implemented by adapters/onnx; the pipeline never imports onnxruntime. */
export interface InferenceRunner {
  run(model: ModelName, input: Tensor, topClass?: TopClassReduction): Promise<Record<string, Tensor>>;
}
