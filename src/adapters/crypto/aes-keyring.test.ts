import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { SqliteStore } from '../sqlite/sqlite-store.ts';
import { AesKeyring } from './aes-keyring.ts';

test('seal/open round trip, bound to its AAD, unreadable once the key is destroyed', async () => {
  const store = await SqliteStore.open(':memory:');
  await store.createTenant({ id: 't', name: 't', createdAt: new Date().toISOString() });
  const keyring = new AesKeyring(randomBytes(32));
  const key = await store.transaction((tx) => keyring.create(tx, 'ver_1', 't'));
  const sealed = key.seal(Buffer.from('Amine El Idrissi, 1990-01-01'), 'verification:t:ver_1');
  assert.ok(!sealed.includes(Buffer.from('Amine')), 'ciphertext must not contain the plaintext');
  const again = await keyring.get(store, 'ver_1');
  assert.equal(again!.open(sealed, 'verification:t:ver_1').toString(), 'Amine El Idrissi, 1990-01-01');
  assert.throws(() => again!.open(sealed, 'verification:t:ver_2'), 'another AAD must not open it');
  const tampered = Buffer.from(sealed);
  tampered[tampered.length - 1]! ^= 1;
  assert.throws(() => again!.open(tampered, 'verification:t:ver_1'));
  await store.transaction((tx) => keyring.destroy(tx, 'ver_1'));
  assert.equal(await keyring.get(store, 'ver_1'), undefined);
  await store.close();
});

test('a wrapped key does not open with another master key', async () => {
  const store = await SqliteStore.open(':memory:');
  await store.createTenant({ id: 't', name: 't', createdAt: new Date().toISOString() });
  await store.transaction((tx) => new AesKeyring(randomBytes(32)).create(tx, 'ver_1', 't'));
  await assert.rejects(() => new AesKeyring(randomBytes(32)).get(store, 'ver_1'));
  await store.close();
});
