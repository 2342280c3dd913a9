import { isAlive } from '../platform/proc.js';
import type { ServiceRecord, ServiceState } from './registry.js';

/**
 * What a reservation's state really is now: a `running` or `starting` record whose process is gone (its
 * supervisor was killed, the machine rebooted) is `stopped`.
 */
export function liveState(service: ServiceRecord): ServiceState {
  if (service.state !== 'running' && service.state !== 'starting') return service.state;
  return isAlive(service.pid) ? service.state : 'stopped';
}
