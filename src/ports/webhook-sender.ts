/** One HTTP POST of a signed webhook event; the adapter decides how it reaches the receiver. */
export interface WebhookSender {
  /**
   * Send `body` to `url` and answer the receiver's status code. Throws (with a message fit for the
   * delivery log) when the target is refused, unreachable or too slow; never follows a redirect.
   */
  post(
    url: string,
    request: { headers: Record<string, string>; body: string; timeoutMs: number },
  ): Promise<number>;
}
