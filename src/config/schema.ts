import * as v from 'valibot';

/**
 * The shape of `portbroker.config.*` as a user writes it. `loadConfig` validates against this schema, then
 * `resolveConfig` turns it into the normalised `ProjectConfig` every later stage trusts.
 */

const port = (what: string) =>
  v.pipe(
    v.number(),
    v.integer(`${what} must be a whole number`),
    v.minValue(1, `${what} must be between 1 and 65535`),
    v.maxValue(65535, `${what} must be between 1 and 65535`),
  );

const durationMs = v.pipe(v.number(), v.integer('must be a whole number of milliseconds'), v.minValue(0, 'must not be negative'));

const envValue = v.union([v.string(), v.number(), v.boolean()]);

const envName = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name'));

export const readySchema = v.strictObject({
  http: v.optional(v.pipe(v.string(), v.startsWith('/', 'must be a path starting with "/"'))),
  tcp: v.optional(v.boolean()),
  log: v.optional(v.union([v.string(), v.instance(RegExp)])),
  timeoutMs: v.optional(durationMs),
});

export const serviceSchema = v.strictObject({
  command: v.optional(v.pipe(v.string(), v.nonEmpty('must not be empty'))),
  cwd: v.optional(v.string()),
  env: v.optional(v.record(envName, envValue)),
  port: v.optional(port('port')),
  portEnv: v.optional(v.array(envName)),
  hostnames: v.optional(v.array(v.string())),
  proxy: v.optional(v.boolean()),
  url: v.optional(v.pipe(v.string(), v.nonEmpty('must not be empty'))),
  dependsOn: v.optional(v.array(v.string())),
  ready: v.optional(readySchema),
  restart: v.optional(v.picklist(['no', 'on-failure', 'always'])),
  start: v.optional(v.picklist(['always', 'on-demand'])),
  idleStopMs: v.optional(durationMs),
  shutdownGraceMs: v.optional(durationMs),
});

export const configSchema = v.strictObject({
  name: v.optional(v.string()),
  proxy: v.optional(
    v.strictObject({
      port: v.optional(port('proxy.port')),
      https: v.optional(v.boolean()),
    }),
  ),
  ports: v.optional(
    v.strictObject({
      range: v.optional(v.tuple([port('the range start'), port('the range end')])),
    }),
  ),
  shutdownGraceMs: v.optional(durationMs),
  hosts: v.optional(v.boolean()),
  services: v.record(v.string(), serviceSchema),
});

export type ReadyInput = v.InferInput<typeof readySchema>;
export type ServiceInput = v.InferInput<typeof serviceSchema>;
export type PortbrokerConfigInput = v.InferInput<typeof configSchema>;

/** Field names per level, for "did you mean" hints on unknown fields. */
export const KNOWN_FIELDS: Record<string, readonly string[]> = {
  '': Object.keys(configSchema.entries),
  service: Object.keys(serviceSchema.entries),
  ready: Object.keys(readySchema.entries),
  proxy: ['port', 'https'],
  ports: ['range'],
};
