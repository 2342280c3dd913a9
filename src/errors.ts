/**
 * Errors the CLI turns into one line and an exit status: 2 for bad usage or bad config, 1 for failures at
 * run time. Anything else that escapes is a bug and is printed with its stack.
 */
export class PortbrokerError extends Error {
  readonly exitCode: 1 | 2;
  /** Extra lines shown under the message (a fix, a list of problems). */
  readonly details: string[];

  constructor(message: string, options: { exitCode?: 1 | 2; details?: string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PortbrokerError';
    this.exitCode = options.exitCode ?? 1;
    this.details = options.details ?? [];
  }
}

/** Bad command-line usage: exit 2. */
export class UsageError extends PortbrokerError {
  constructor(message: string, details: string[] = []) {
    super(message, { exitCode: 2, details });
    this.name = 'UsageError';
  }
}

export interface ConfigProblem {
  /** Dotted path of the field, e.g. `services.web.dependsOn[0]`; empty for the file as a whole. */
  path: string;
  message: string;
}

/** A config that cannot be used: exit 2, one line per problem naming the file and the field. */
export class ConfigError extends PortbrokerError {
  readonly file: string;
  readonly problems: ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    const lines = problems.map((p) => `${file}: ${p.path ? `${p.path}: ` : ''}${p.message}`);
    super(lines[0] ?? `${file}: invalid config`, { exitCode: 2, details: lines.slice(1) });
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}
