import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../../pipeline/face/model-manifest.ts';
import { resolvePackageFile } from './onnx-runner.ts';

export const MANIFEST_PATH = fileURLToPath(new URL('../../../models/manifest.json', import.meta.url));

export async function loadManifest(file: string = MANIFEST_PATH): Promise<ModelManifest> {
  return JSON.parse(await readFile(file, 'utf8')) as ModelManifest;
}

/** A data file listed under `assets` in the manifest, checked against its sha256. */
export async function loadAsset(manifest: ModelManifest, name: string): Promise<Buffer> {
  const spec = manifest.assets?.[name];
  if (!spec) throw new Error(`asset ${name} is not in the models manifest`);
  const file = resolvePackageFile(spec.package, spec.file);
  const bytes = await readFile(file);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== spec.sha256)
    throw new Error(`asset ${name}: ${file} has sha256 ${sha}, manifest expects ${spec.sha256}`);
  return bytes;
}

/** The recogniser's character set, one character per line (PaddleOCR's dictionary format). */
export async function loadCharset(manifest: ModelManifest): Promise<string[]> {
  return (await loadAsset(manifest, 'text_charset'))
    .toString('utf8')
    .replace(/\r/g, '')
    .split('\n')
    .filter((c, i, a) => c !== '' || i < a.length - 1);
}
