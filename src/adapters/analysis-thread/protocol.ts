import type {
  Analysis,
  AnalysedImages,
  AnalysisRequest,
  FaceReport,
  FaceRequest,
} from '../../ports/analyser.ts';
import type { DecodedImage } from '../../pipeline/image/decode.ts';
import type { ModelName, Tensor, TopClassReduction } from '../../ports/inference.ts';
import type { LineReading, OcrScript } from '../../ports/line-ocr.ts';
import type { RgbImage } from '../../pipeline/image/rgb-image.ts';
import type { AnalysisDeps } from '../../app/analyse-images.ts';
import { errorCatalogue, HuwiyaError, type ErrorCode } from '../../domain/errors.ts';

/** What a thread is started with: everything its checks read but the models and the line reader. */
export type ThreadSetup = Pick<AnalysisDeps, 'manifest' | 'charset' | 'limits' | 'policy'>;

/** An error as it crosses threads: its message and, for a coded one, its code and details. */
export interface WireError {
  message: string;
  code?: string;
  param?: string;
  details?: Record<string, unknown>;
}

/** Main thread → analysis thread. */
export type ToThread =
  | { type: 'analyse'; id: number; request: AnalysisRequest; images: AnalysedImages }
  | { type: 'face'; id: number; request: FaceRequest; image: DecodedImage }
  | { type: 'inferred'; id: number; outputs?: Record<string, Tensor>; error?: WireError }
  | { type: 'read'; id: number; reading?: LineReading; error?: WireError };

/** Analysis thread → main thread. */
export type FromThread =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'analysed'; id: number; analysis?: Analysis | FaceReport; error?: WireError }
  | { type: 'infer'; id: number; model: ModelName; input: Tensor; topClass?: TopClassReduction }
  | { type: 'read'; id: number; crop: RgbImage; script: OcrScript; mode?: 'line' | 'word' };

export function toWire(e: unknown): WireError {
  if (!(e instanceof Error)) return { message: String(e) };
  const coded = e as Error & { code?: unknown; param?: unknown; details?: unknown };
  return {
    message: e.message,
    ...(typeof coded.code === 'string' ? { code: coded.code } : {}),
    ...(typeof coded.param === 'string' ? { param: coded.param } : {}),
    ...(coded.details && typeof coded.details === 'object'
      ? { details: coded.details as Record<string, unknown> }
      : {}),
  };
}

/** The error again on the other side: the same coded `HuwiyaError` for a catalogued code, else an Error. */
export function fromWire(e: WireError): Error {
  if (e.code && Object.hasOwn(errorCatalogue, e.code))
    return new HuwiyaError(e.code as ErrorCode, e.message, {
      ...(e.param ? { param: e.param } : {}),
      ...(e.details ? { details: e.details } : {}),
    });
  return new Error(e.message);
}
