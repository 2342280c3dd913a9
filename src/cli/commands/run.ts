import { PortbrokerError } from '../../errors.js';
import type { CliOptions } from '../run.js';

export default async function main(_args: unknown[], _options: CliOptions) {
  throw new PortbrokerError('"run" is not built yet');
}
