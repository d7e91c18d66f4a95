#!/usr/bin/env node
// A deepidv client pointed at Huwiya: only the base URL changes.
//   HUWIYA_KEY=hw_… node examples/deepidv-client.mjs document.jpg selfie.jpg [http://127.0.0.1:8080]
// It presigns two uploads, PUTs both images, verifies with the two file keys, then compares the faces
// with base64 bodies (forms mix freely).
import { readFile } from 'node:fs/promises';

const [documentPath, selfiePath, server = 'http://127.0.0.1:8080'] = process.argv.slice(2);
const key = process.env.HUWIYA_KEY;
if (!documentPath || !selfiePath || !key) {
  console.error('usage: HUWIYA_KEY=hw_… node examples/deepidv-client.mjs <document image> <selfie> [server]');
  process.exit(2);
}
const base = `${server}/compat/deepidv/v1`;

async function post(route, body) {
  const res = await fetch(`${base}${route}`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${route}: ${res.status} ${json.error}`);
  return json;
}

const images = [await readFile(documentPath), await readFile(selfiePath)];
const type = (b) =>
  b[0] === 0x89 ? 'image/png' : b.subarray(8, 12).toString() === 'WEBP' ? 'image/webp' : 'image/jpeg';
const { uploads } = await post('/upload/presign', {
  files: images.map((b) => ({ contentType: type(b), byteLength: b.length })),
});
for (const [i, u] of uploads.entries()) {
  const put = await fetch(u.uploadUrl, {
    method: 'PUT',
    headers: { 'content-type': type(images[i]) },
    body: images[i],
  });
  if (!put.ok) throw new Error(`upload ${i}: ${put.status} ${await put.text()}`);
}
const result = await post('/identity/verify', {
  documentImage: uploads[0].fileKey,
  faceImage: uploads[1].fileKey,
  documentType: 'auto',
});
console.log(JSON.stringify(result, null, 2));

const compare = await post('/face/compare', {
  source: images[0].toString('base64'),
  target: images[1].toString('base64url'),
});
console.log('face compare:', compare);
