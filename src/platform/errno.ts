import { getSystemErrorMap } from 'node:util';

/** An errno in words, as the OS says it: `EACCES (permission denied)`; the message itself for other errors. */
export function errnoInWords(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  if (!err?.code) return (err as Error)?.message ?? String(error);
  const words = typeof err.errno === 'number' ? getSystemErrorMap().get(err.errno)?.[1] : undefined;
  return words ? `${err.code} (${words})` : err.code;
}

/** What to do about a file or folder portbroker could not read or write, by errno. */
export function fixFor(error: unknown, target: string): string {
  switch ((error as NodeJS.ErrnoException)?.code) {
    case 'EACCES':
    case 'EPERM':
      return `check who owns it and its mode: \`ls -ld ${target}\` (it should be yours: \`chown $(id -un) ${target}\`)`;
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files: close some programs or raise the limit (`ulimit -n`), then run the command again';
    case 'EROFS':
      return `the file system is read-only: point PORTBROKER_HOME at a writable folder`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'the disk is full: free some space, then run the command again';
    case 'ENOTDIR':
    case 'EISDIR':
      return `something else is in the way at ${target}: move it, or point PORTBROKER_HOME elsewhere`;
    default:
      return `check ${target}, then run the command again`;
  }
}
