import { isIP } from 'node:net';

/**
 * Where the service may send a webhook (finding 8 of the hardening issue): public addresses only, unless
 * the operator names an internal receiver in HUWIYA_WEBHOOK_ALLOWED_TARGETS. Pure rules; the resolution
 * of a name to an address happens at delivery, once, and the address checked is the one connected to.
 */

/** Address ranges that are not the public internet (IANA special-purpose registries, v4 and v6). */
const PRIVATE_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
];

const PRIVATE_V6: [string, number][] = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
];

function v4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function v6ToBigInt(ip: string): bigint {
  let text = ip.toLowerCase().replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToBigInt(v4[1]!);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

function inRange(ip: string, family: 4 | 6, base: string, bits: number): boolean {
  const width = family === 4 ? 32 : 128;
  const value = family === 4 ? v4ToBigInt(ip) : v6ToBigInt(ip);
  const start = family === 4 ? v4ToBigInt(base) : v6ToBigInt(base);
  const shift = BigInt(width - bits);
  return value >> shift === start >> shift;
}

/** The IPv4 address an IPv6 one carries (mapped ::ffff:a.b.c.d, or compatible ::a.b.c.d), if any. */
function embeddedV4(ip: string): string | undefined {
  const n = v6ToBigInt(ip);
  const high = n >> 32n;
  if (high !== 0xffffn && high !== 0n) return undefined;
  if (high === 0n && n < 0x10000n) return undefined; // :: and ::1 are themselves
  return [24n, 16n, 8n, 0n].map((s) => ((n >> s) & 0xffn).toString()).join('.');
}

/** True for an address that is not on the public internet (loopback, private, link-local, reserved). */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return PRIVATE_V4.some(([base, bits]) => inRange(ip, 4, base, bits));
  if (family === 6) {
    const v4 = embeddedV4(ip);
    if (v4) return isPrivateAddress(v4);
    return PRIVATE_V6.some(([base, bits]) => inRange(ip, 6, base, bits));
  }
  return true; // not an address: never treated as public
}

/** One entry of the allow-list: a host name, an address, or a CIDR range. */
export type AllowedTarget =
  { kind: 'host'; host: string } | { kind: 'range'; family: 4 | 6; base: string; bits: number };

/** Parse HUWIYA_WEBHOOK_ALLOWED_TARGETS (comma-separated); the error names the entry that is wrong. */
export function parseAllowedTargets(text: string): AllowedTarget[] {
  const out: AllowedTarget[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    const [addr, bitsText] = entry.replace(/^\[|\](?=\/|$)/g, '').split('/');
    const family = isIP(addr!);
    if (family === 4 || family === 6) {
      const width = family === 4 ? 32 : 128;
      const bits = bitsText === undefined ? width : Number(bitsText);
      if (!Number.isInteger(bits) || bits < 0 || bits > width)
        throw new Error(`"${raw.trim()}": the prefix length must be 0 to ${width}`);
      out.push({ kind: 'range', family, base: addr!, bits });
    } else if (
      bitsText === undefined &&
      /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)
    ) {
      out.push({ kind: 'host', host: entry });
    } else {
      throw new Error(`"${raw.trim()}" is not a host name, an IP address or a CIDR range`);
    }
  }
  return out;
}

/** Whether the operator allowed this host name (as written in the URL) or this address. */
export function isAllowedTarget(allowed: readonly AllowedTarget[], host: string, ip?: string): boolean {
  const name = host.toLowerCase().replace(/^\[|\]$/g, '');
  return allowed.some((a) => {
    if (a.kind === 'host') return a.host === name;
    for (const candidate of [name, ip]) {
      if (candidate && isIP(candidate) === a.family && inRange(candidate, a.family, a.base, a.bits))
        return true;
    }
    return false;
  });
}

/** A URL's host as an address when it is one (the WHATWG parser already turned 127.1 or 0x7f000001 into 127.0.0.1). */
export function literalAddress(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return isIP(host) ? host : undefined;
}

/** Names that always mean this machine, whatever DNS says. */
export function isLocalName(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === 'localhost.localdomain';
}
