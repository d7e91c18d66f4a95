import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { QUALITY_THRESHOLDS } from '../../domain/image-quality-rules.ts';

const WEB = new URL('../../../web/capture/', import.meta.url);

/** Strict headers for the hosted page: own origin only, camera allowed here and nowhere else. */
const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'permissions-policy': 'camera=(self), microphone=(), geolocation=(), payment=()',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const ASSETS: Record<string, string> = {
  'capture.js': 'text/javascript; charset=utf-8',
  'i18n.js': 'text/javascript; charset=utf-8',
  'capture.css': 'text/css; charset=utf-8',
};

function send(reply: FastifyReply, type: string, body: string | Buffer, cache: string): FastifyReply {
  return reply.headers(SECURITY_HEADERS).header('cache-control', cache).type(type).send(body);
}

/** The hosted capture page at /capture/{session_id} (the client token travels in the URL fragment). */
export function registerCapturePage(app: FastifyInstance): void {
  // Read once at start: the page is small and served from memory.
  const html = readFileSync(new URL('index.html', WEB));
  const assets = new Map(Object.keys(ASSETS).map((name) => [name, readFileSync(new URL(name, WEB))]));
  const rules = JSON.stringify(QUALITY_THRESHOLDS);

  app.get('/capture/assets/quality-rules.json', { schema: { hide: true } }, async (_req, reply) =>
    send(reply, 'application/json; charset=utf-8', rules, 'public, max-age=300'),
  );
  app.get('/capture/assets/:name', { schema: { hide: true } }, async (req, reply) => {
    const name = (req.params as { name: string }).name;
    const body = assets.get(name);
    if (!body) return reply.callNotFound();
    return send(reply, ASSETS[name]!, body, 'public, max-age=300');
  });
  app.get('/capture/:id', { schema: { hide: true } }, async (req, reply) => {
    if (!/^ses_[a-z0-9]{10,40}$/.test((req.params as { id: string }).id)) return reply.callNotFound();
    return send(reply, 'text/html; charset=utf-8', html, 'no-store');
  });
}
