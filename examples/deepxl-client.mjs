#!/usr/bin/env node
// A DeepXL client pointed at Huwiya: only the base URL changes.
//   HUWIYA_KEY=hw_… node examples/deepxl-client.mjs id.jpg selfie.jpg [http://127.0.0.1:8080]
// It verifies the pair with tags, reads the verification back by its integer id, lists by tag and
// downloads the stored ID image through the returned URL.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

const [idPath, selfiePath, server = 'http://127.0.0.1:8080'] = process.argv.slice(2);
const key = process.env.HUWIYA_KEY;
if (!idPath || !selfiePath || !key) {
  console.error('usage: HUWIYA_KEY=hw_… node examples/deepxl-client.mjs <id image> <selfie> [server]');
  process.exit(2);
}
const base = `${server}/compat/deepxl/v1`;
const auth = { authorization: `Bearer ${key}` };

async function call(url, init = {}) {
  const res = await fetch(url, { ...init, headers: { ...auth, ...init.headers } });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.arrayBuffer();
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
}

const form = new FormData();
form.append('idFile', new Blob([await readFile(idPath)]), path.basename(idPath));
form.append('selfieFile', new Blob([await readFile(selfiePath)]), path.basename(selfiePath));
form.append('tags', JSON.stringify({ customerId: '9999', customerName: 'Acme Corp' }));
const { result } = await call(`${base}/verification`, { method: 'POST', body: form });
console.log('verified:', result.verified, 'id:', result.verificationId);
for (const c of result.modelResults.technicalChecks)
  console.log(` ${c.type} ${c.status} ${c.confidence} — ${c.details}`);

const again = await call(`${base}/verification/${result.verificationId}`);
console.log('read back:', again.result.verificationId === result.verificationId);
const list = await call(`${base}/verification?tagFilter=customerId=9999&limit=5`);
console.log(`tagged customerId=9999: ${list.totalCount} verification(s)`);

const image = await call(result.files[0].url);
await writeFile('downloaded-id-image', Buffer.from(image));
console.log(`downloaded ${result.files[0].fileName} (${image.byteLength} bytes) to ./downloaded-id-image`);
