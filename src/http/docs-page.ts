import type { ErrorSpec } from '../domain/errors.ts';
import { NATIVE_STATUS } from './error-status.ts';

/** A self-contained human reference (no scripts, no third-party assets) rendered from the OpenAPI document. */
function esc(s: unknown): string {
  return String(s ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

type Json = Record<string, any>;

function typeOf(s: Json | undefined): string {
  if (!s) return '';
  if (s.format === 'binary') return 'file';
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.anyOf)) return s.anyOf.map((x: Json) => typeOf(x)).join(' | ');
  if (s.enum) return s.enum.map((e: unknown) => JSON.stringify(e)).join(' | ');
  if (s.type === 'array') return `${typeOf(s.items)}[]`;
  return [s.type, s.format].filter(Boolean).join(', ');
}

function fieldsTable(schema: Json | undefined): string {
  const props = schema?.properties as Json | undefined;
  if (!props) return '';
  const required = new Set<string>(schema?.required ?? []);
  const rows = Object.entries(props)
    .map(
      ([name, s]) =>
        `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <b>required</b>' : ''}</td><td>${esc(typeOf(s))}</td><td>${esc(s.description ?? '')}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>field</th><th>type</th><th>description</th></tr>${rows}</table>`;
}

export function renderDocsPage(doc: Json, errors: Record<string, ErrorSpec>): string {
  const ops: string[] = [];
  const toc: string[] = [];
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Json)) {
    for (const [method, op] of Object.entries(item as Json)) {
      const o = op as Json;
      const anchor = `${method}-${path}`.replace(/[^a-zA-Z0-9]+/g, '-');
      toc.push(
        `<li><a href="#${anchor}"><code>${method.toUpperCase()} ${esc(path)}</code></a> ${esc(o.summary)}</li>`,
      );
      const content = (o.requestBody?.content ?? {}) as Json;
      const bodies = Object.entries(content)
        .map(([type, c]) => `<h4>Body <code>${esc(type)}</code></h4>${fieldsTable((c as Json).schema)}`)
        .join('');
      const params = ((o.parameters ?? []) as Json[])
        .map(
          (p) =>
            `<tr><td><code>${esc(p.name)}</code> (${esc(p.in)})${p.required ? ' <b>required</b>' : ''}</td><td>${esc(typeOf(p.schema))}</td><td>${esc(p.description ?? p.schema?.description ?? '')}</td></tr>`,
        )
        .join('');
      const responses = Object.entries((o.responses ?? {}) as Json)
        .map(([code, r]) => `<code>${esc(code)}</code> ${esc((r as Json).description ?? '')}`)
        .join(' · ');
      ops.push(`<section id="${anchor}"><h3><span class="m">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>
<p><b>${esc(o.summary)}</b>${o.operationId ? ` <small>(${esc(o.operationId)})</small>` : ''}</p><p>${esc(o.description ?? '')}</p>
${params ? `<h4>Parameters</h4><table><tr><th>name</th><th>type</th><th>description</th></tr>${params}</table>` : ''}${bodies}
<p>Responses: ${responses || '<code>200</code>'}</p></section>`);
    }
  }
  const errRows = Object.entries(errors)
    .map(
      ([code, e]) =>
        `<tr><td><code>${esc(code)}</code></td><td>${esc(NATIVE_STATUS[code as keyof typeof NATIVE_STATUS])}</td><td>${esc(e.type)}</td><td>${esc(e.message)}</td></tr>`,
    )
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info?.title)} reference</title><style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:0 auto;padding:1rem;color:#1a1a1a}
code{background:#f3f3f3;padding:0 .2em;border-radius:3px}table{border-collapse:collapse;width:100%;margin:.5rem 0}
td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}section{border-top:1px solid #ccc;padding-top:.5rem}
.m{background:#0b5;color:#fff;padding:0 .4em;border-radius:3px;font-size:.85em}</style></head><body>
<h1>${esc(doc.info?.title)} <small>${esc(doc.info?.version)}</small></h1><p>${esc(doc.info?.description)}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
<h2>Operations</h2><ul>${toc.join('')}</ul>${ops.join('')}
<h2 id="errors">Errors</h2><p>Every error answers <code>{"error": {"type", "code", "message", "param", "request_id"}}</code>; 429 adds <code>retry_after</code>.</p>
<table><tr><th>code</th><th>HTTP</th><th>type</th><th>meaning</th></tr>${errRows}</table></body></html>`;
}
