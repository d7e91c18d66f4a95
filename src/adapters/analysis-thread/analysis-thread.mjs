// Entry of an analysis worker thread: the TypeScript sources through tsx's loader, as bin/huwiya.js does
// for the main thread (docs/adr/0001-run-typescript-with-tsx.md).
import { register } from 'tsx/esm/api';

register();
await import('./analysis-thread.ts');
