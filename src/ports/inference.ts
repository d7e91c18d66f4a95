/** The face models the pipeline runs; the adapter maps each to a file listed in models/manifest.json. */
export type ModelName =
  'face_detect' | 'face_landmark' | 'face_embed' | 'face_liveness' | 'text_detect' | 'text_recognize';

export interface Tensor {
  data: Float32Array;
  dims: readonly number[];
}

/** Runs one model on one input tensor. Implemented by adapters/onnx; the pipeline never imports onnxruntime. */
export interface InferenceRunner {
  run(model: ModelName, input: Tensor): Promise<Record<string, Tensor>>;
}
