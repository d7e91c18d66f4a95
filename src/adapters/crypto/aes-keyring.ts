import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { DataKey, Keyring } from '../../ports/keyring.ts';
import type { StoreTx } from '../../ports/stores.ts';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM: [version:1][iv:12][tag:16][ciphertext]; the AAD binds a ciphertext to its owner and use. */
function seal(key: Buffer, plaintext: Buffer, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), ct]);
}

function open(key: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION)
    throw new Error('sealed data: bad header');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
}

function dataKey(key: Buffer): DataKey {
  return { seal: (p, aad) => seal(key, p, aad), open: (s, aad) => open(key, s, aad) };
}

/**
 * Envelope encryption under a master key. Data keys are wrapped by the master key; system keys and blind
 * indexes derive from a root secret that the master key only wraps (stored with the data), so that the
 * master key can be rotated by re-wrapping, without re-sealing records or re-hashing indexes. Data stored
 * before the root secret existed derived from the master key itself: its root secret is that key's bytes.
 */
export class AesKeyring implements Keyring {
  constructor(
    private readonly masterKey: Buffer,
    private readonly rootSecret: Buffer = masterKey,
  ) {
    if (masterKey.length !== 32 || rootSecret.length !== 32) throw new Error('keys must be 32 bytes');
  }

  /** The root secret sealed under this keyring's master key, to store with the data. */
  sealedRoot(): Buffer {
    return seal(this.masterKey, this.rootSecret, 'root-secret');
  }

  /** The root secret stored with the data, opened with `masterKey` (throws with the wrong key). */
  static openRoot(masterKey: Buffer, sealed: Buffer): Buffer {
    return open(masterKey, sealed, 'root-secret');
  }

  /** The same root secret under another master key (a rotation). */
  withMasterKey(next: Buffer): AesKeyring {
    return new AesKeyring(next, this.rootSecret);
  }

  /** A data key wrapped by this master key, wrapped by `next`'s instead. */
  rewrap(ownerId: string, wrapped: Buffer, next: AesKeyring): Buffer {
    return seal(next.masterKey, open(this.masterKey, wrapped, `data-key:${ownerId}`), `data-key:${ownerId}`);
  }

  async create(tx: StoreTx, ownerId: string, tenantId: string): Promise<DataKey> {
    const key = randomBytes(32);
    await tx.putDataKey(
      ownerId,
      tenantId,
      seal(this.masterKey, key, `data-key:${ownerId}`),
      new Date().toISOString(),
    );
    return dataKey(key);
  }

  async get(tx: StoreTx, ownerId: string): Promise<DataKey | undefined> {
    const wrapped = await tx.getDataKey(ownerId);
    return wrapped ? dataKey(open(this.masterKey, wrapped, `data-key:${ownerId}`)) : undefined;
  }

  async destroy(tx: StoreTx, ownerId: string): Promise<void> {
    await tx.deleteDataKey(ownerId);
  }

  keyId(): string {
    return createHmac('sha256', this.masterKey).update('huwiya:key-id').digest('hex').slice(0, 16);
  }

  systemKey(purpose: string): DataKey {
    return dataKey(
      Buffer.from(hkdfSync('sha256', this.rootSecret, Buffer.alloc(0), `huwiya:${purpose}`, 32)),
    );
  }
  blindIndex(purpose: string, value: string): string {
    const key = Buffer.from(
      hkdfSync('sha256', this.rootSecret, Buffer.alloc(0), `huwiya:index:${purpose}`, 32),
    );
    return createHmac('sha256', key).update(value, 'utf8').digest('hex');
  }
}
