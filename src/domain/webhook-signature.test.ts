import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  newWebhookSecret,
  signLegacy,
  verifyWebhook,
  WebhookVerificationError,
  webhookHeaders,
} from './webhook-signature.ts';

const body = JSON.stringify({ id: 'evt_1', type: 'identity.verification.completed', data: { id: 'ver_1' } });
const now = 1_800_000_000;

test('a delivery verifies with its secret and yields the event', () => {
  const secret = newWebhookSecret();
  const h = webhookHeaders([secret], 'evt_1', now, body);
  assert.deepEqual(verifyWebhook(body, h, secret, { nowSeconds: now + 10 }), JSON.parse(body));
  assert.equal(h['x-txcloud-signature'], signLegacy(secret, body));
});

test('during rotation either secret verifies', () => {
  const [oldS, newS] = [newWebhookSecret(), newWebhookSecret()];
  const h = webhookHeaders([newS, oldS], 'evt_1', now, body);
  assert.ok(verifyWebhook(body, h, oldS, { nowSeconds: now }));
  assert.ok(verifyWebhook(body, h, newS, { nowSeconds: now }));
});

test('tampering, a wrong secret, a replay older than 5 minutes and missing headers are rejected', () => {
  const secret = newWebhookSecret();
  const h = webhookHeaders([secret], 'evt_1', now, body);
  assert.throws(
    () => verifyWebhook(body.replace('ver_1', 'ver_2'), h, secret, { nowSeconds: now }),
    WebhookVerificationError,
  );
  assert.throws(
    () => verifyWebhook(body, h, newWebhookSecret(), { nowSeconds: now }),
    WebhookVerificationError,
  );
  assert.throws(() => verifyWebhook(body, h, secret, { nowSeconds: now + 301 }), /replay/);
  assert.throws(
    () => verifyWebhook(body, { ...h, 'webhook-id': 'evt_2' }, secret, { nowSeconds: now }),
    WebhookVerificationError,
  );
  assert.throws(() => verifyWebhook(body, {}, secret, { nowSeconds: now }), /missing/);
});
