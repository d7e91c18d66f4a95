import type { StoreTx } from './stores.ts';

/**
 * Envelope encryption: one data key per owner (a verification), wrapped by the master key and stored
 * through the store. Destroying the data key makes everything sealed with it unreadable.
 */
export interface Keyring {
  /** Create and store the owner's data key inside the caller's transaction. */
  create(tx: StoreTx, ownerId: string, tenantId: string): Promise<DataKey>;
  /** The owner's key, or undefined when it was destroyed. */
  get(tx: StoreTx, ownerId: string): Promise<DataKey | undefined>;
  destroy(tx: StoreTx, ownerId: string): Promise<void>;
  /** Seal with a key derived from the master key, for records with no owner (idempotent replays). */
  systemKey(purpose: string): DataKey;
  /** A public fingerprint of the master key (16 hex digits), stored with the data to tell a wrong key at start. */
  keyId(): string;
  /** Keyed hash of a value (hex), to look records up by it without storing it in clear. */
  blindIndex(purpose: string, value: string): string;
}

export interface DataKey {
  seal(plaintext: Buffer, aad: string): Buffer;
  open(sealed: Buffer, aad: string): Buffer;
}
