#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader (see docs/adr/0001-run-typescript-with-tsx.md).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
