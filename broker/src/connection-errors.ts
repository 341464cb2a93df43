/**
 * Why aedes dropped a connection, as a rejection reason. aedes reports parser failures, protocol
 * violations and timeouts only as `clientError`/`connectionError` events with a message, so hostile
 * bytes on the wire would otherwise go uncounted. Errors that are not the client's doing (a reset
 * socket) and refusals counted elsewhere (CONNACK codes, violations) give no reason.
 */

/** Messages aedes and mqtt-packet use, by what they mean for the operator. */
const RULES: readonly [RegExp, string][] = [
  [/^Invalid protocol$/, 'protocol_violation'],
  [/is not allowed in PUBLISH$|^empty topic not allowed|^topic has too many levels$/, 'invalid_topic'],
  [/^keep alive timeout$/, 'keepalive_timeout'],
  [/^connect did not arrive in time$/, 'connect_timeout'],
  [/^drain timeout$/, 'drain_timeout'],
  [/^maxInflightInbound exceeded/, 'inflight_exceeded'],
];

export function connectionErrorReason(error: Error & { code?: unknown; errorCode?: unknown }): string | undefined {
  // A CONNACK refusal: counted in mqtt_connects_refused_total, except the protocol level nobody could have authenticated with.
  if (typeof error.errorCode === 'number') return error.errorCode === 1 ? 'unsupported_protocol' : undefined;
  if (typeof error.code === 'string') return undefined;
  if (error.message === 'too many violations' || error.message === 'not authenticated') return undefined;
  for (const [pattern, reason] of RULES) if (pattern.test(error.message)) return reason;
  // Whatever else stops a connection is mqtt-packet refusing the bytes (Invalid header flag bits, Cannot parse topic, …).
  return 'malformed_packet';
}
