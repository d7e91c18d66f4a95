import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import {
  isAllowedTarget,
  isLocalName,
  isPrivateAddress,
  type AllowedTarget,
} from '../../domain/network-targets.ts';
import type { WebhookSender } from '../../ports/webhook-sender.ts';

/** The refusal written to the delivery log: the same words whether the port was open or closed. */
export const TARGET_REFUSED =
  'target refused: it resolves to a private or local address (allow it with HUWIYA_WEBHOOK_ALLOWED_TARGETS)';

/**
 * Webhooks over node:http(s). The receiver's name is resolved once per attempt, by the socket's own
 * lookup, and the address checked is the address connected to (no second resolution a DNS rebinding
 * could change). Private and local addresses are refused unless allowed; redirects are not followed.
 */
export class PinnedHttpSender implements WebhookSender {
  constructor(private readonly allowed: readonly AllowedTarget[]) {}

  private lookupFor(host: string): LookupFunction {
    return (hostname, options, callback) => {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
        if (err) return callback(err, '', 0);
        const ok = addresses.filter(
          (a) => !isPrivateAddress(a.address) || isAllowedTarget(this.allowed, host, a.address),
        );
        if (ok.length === 0 || (isLocalName(host) && !isAllowedTarget(this.allowed, host))) {
          return callback(Object.assign(new Error(TARGET_REFUSED), { code: 'ETARGETREFUSED' }), '', 0);
        }
        if ((options as { all?: boolean }).all)
          return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
        return callback(null, ok[0]!.address, ok[0]!.family);
      });
    };
  }

  post(
    url: string,
    req: { headers: Record<string, string>; body: string; timeoutMs: number },
  ): Promise<number> {
    const target = new URL(url);
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!client) return Promise.reject(new Error(`unsupported scheme ${target.protocol}`));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    // An address literal never goes through the lookup: it is checked here.
    if (isIP(host) && isPrivateAddress(host) && !isAllowedTarget(this.allowed, host, host))
      return Promise.reject(new Error(TARGET_REFUSED));
    return new Promise<number>((resolve, reject) => {
      const request = client.request(
        target,
        {
          method: 'POST',
          headers: { ...req.headers, 'content-length': Buffer.byteLength(req.body) },
          lookup: this.lookupFor(host),
          // A fresh connection per attempt: a pooled socket would skip the lookup.
          agent: false,
          timeout: req.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        },
      );
      const timer = setTimeout(
        () => request.destroy(new Error(`timeout after ${req.timeoutMs} ms`)),
        req.timeoutMs,
      );
      request.on('close', () => clearTimeout(timer));
      request.on('timeout', () => request.destroy(new Error(`timeout after ${req.timeoutMs} ms`)));
      request.on('error', reject);
      request.end(req.body);
    });
  }
}
