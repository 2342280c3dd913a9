import { up } from '../../commands/up.js';
import { out } from '../output.js';
import { sessionInTerminal } from '../supervise.js';
import { common, type CliOptions } from '../run.js';

export default async function main([services]: unknown[], options: CliOptions) {
  const names = (services as string[] | undefined) ?? [];
  return sessionInTerminal(
    (onEvent) =>
      up(names, {
        ...common(options),
        https: options.https === true ? true : undefined,
        abortOnFail: options.abortOnFail === true,
        lan: options.lan === true,
        forceColor: out.isColorSupported,
        onEvent,
      }),
    { timestamps: options.timestamps === true },
    { table: true },
  );
}
