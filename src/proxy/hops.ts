/**
 * Loop detection. Every request the proxy forwards carries a hop count; a service that proxies to its own URL
 * (a dev-server proxy pointed at the proxy) sends the header back with the request, and each pass adds one.
 * Past MAX_HOPS the proxy answers 508 instead of forwarding forever.
 */
export const HOP_HEADER = 'x-portbroker-hops';
export const MAX_HOPS = 5;

/** The hop count a request arrives with (0 when it did not come through the proxy). */
export function hopCount(value: string | string[] | undefined): number {
  if (value === undefined) return 0;
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}
