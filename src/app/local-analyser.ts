import type { DecodedImage } from '../pipeline/image/decode.ts';
import type {
  Analyser,
  Analysis,
  AnalysedImages,
  AnalysisRequest,
  FaceReport,
  FaceRequest,
} from '../ports/analyser.ts';
import { analyseFace, analyseImages, type AnalysisDeps } from './analyse-images.ts';

/** The image checks on the calling thread (the CLI, and a server started with HUWIYA_ANALYSIS_THREADS=0). */
export class LocalAnalyser implements Analyser {
  constructor(private readonly deps: AnalysisDeps) {}

  analyse(request: AnalysisRequest, images: AnalysedImages): Promise<Analysis> {
    return analyseImages(this.deps, request, images);
  }

  face(request: FaceRequest, image: DecodedImage): Promise<FaceReport> {
    return analyseFace(this.deps, request, image);
  }

  async close(): Promise<void> {}
}
