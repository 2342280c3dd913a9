import { PortbrokerError } from '../errors.js';
import { describeListeners, findListeners } from '../platform/sockets.js';

/**
 * The proxy port is taken by something that is not this state folder's proxy: who holds it, and what to do.
 * Its own module: `ensureProxy` (on every `up`) must not load the proxy server to say it.
 */
export function proxyPortHeld(port: number): PortbrokerError {
  return new PortbrokerError(`the proxy port ${port} is held by ${describeListeners(findListeners(port)) || 'another process'}`, {
    details: ['stop that process, or give portbroker another port: --proxy-port <port> or PORTBROKER_PROXY_PORT'],
  });
}
