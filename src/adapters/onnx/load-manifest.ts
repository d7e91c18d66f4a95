import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { ModelManifest } from '../../pipeline/face/model-manifest.ts';

export const MANIFEST_PATH = fileURLToPath(new URL('../../../models/manifest.json', import.meta.url));

export async function loadManifest(file: string = MANIFEST_PATH): Promise<ModelManifest> {
  return JSON.parse(await readFile(file, 'utf8')) as ModelManifest;
}
