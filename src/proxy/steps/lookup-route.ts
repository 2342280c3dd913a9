import type { Step } from '../exchange.js';
import { hostPort } from '../host.js';
import { ambiguousPage, notFoundPage } from '../pages.js';
import { isForwardable } from '../route-table.js';

/** Finds the route for the name: a service, an alias, the dashboard; or a page listing what there is. */
export const lookupRoute: Step = (exchange, context) => {
  let table = context.routes.current;
  let found = table.lookup(exchange.host!);
  // Not found, shared, or not ready to take it: the answer may be in a registry write the table has yet to see.
  if (found.kind === 'unknown' || found.kind === 'ambiguous' || (found.kind === 'route' && !isForwardable(found.route))) {
    table = context.routes.catchUp();
    found = table.lookup(exchange.host!);
  }
  // Links on the pages use the port the client came in on.
  const port = () => hostPort(exchange.request.hostHeader) ?? context.port;
  switch (found.kind) {
    case 'route':
      exchange.route = found.route;
      return undefined;
    case 'dashboard':
      exchange.dashboard = true;
      return undefined;
    case 'ambiguous':
      return ambiguousPage(found.host, found.candidates, port());
    case 'unknown':
      return notFoundPage(exchange.host!, table.running(), table.routes.filter((r) => r.kind === 'alias'), port());
  }
};
