import { readFileSync, writeFileSync } from 'node:fs';

/**
 * portbroker's block in the hosts file: the lines between its two markers, and nothing else, are ever written.
 * Every write replaces the file atomically (temp file, fsync, rename), keeping its mode and owner; where the file
 * is a mount point (a container's /etc/hosts) a rename cannot replace it, and the whole new content is written
 * in place instead.
 */

export const BEGIN = '# >>> portbroker: *.localhost names for clients whose resolver lacks them (portbroker hosts clean removes this block)';
export const END = '# <<< portbroker';

/** The hosts file: PORTBROKER_HOSTS_FILE (tests, unusual systems), else the OS's. */
export function hostsFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTBROKER_HOSTS_FILE) return env.PORTBROKER_HOSTS_FILE;
  return process.platform === 'win32' ? `${env.SystemRoot ?? 'C:\\Windows'}\\System32\\drivers\\etc\\hosts` : '/etc/hosts';
}

/** The names in portbroker's block of `content` (empty when there is none). */
export function blockHosts(content: string): string[] {
  const lines = content.split(/\r?\n/);
  const begin = lines.indexOf(BEGIN);
  const end = lines.indexOf(END, begin + 1);
  if (begin === -1 || end === -1) return [];
  const hosts = lines.slice(begin + 1, end).map((line) => line.trim().split(/\s+/)[1]).filter((h): h is string => Boolean(h));
  return [...new Set(hosts)];
}

/** `content` with portbroker's block replaced by one for `hosts` (removed when there are none), the rest untouched. */
export function withBlock(content: string, hosts: string[]): string {
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const lines = content.split(/\r?\n/);
  const begin = lines.indexOf(BEGIN);
  const end = begin === -1 ? -1 : lines.indexOf(END, begin + 1);
  const rest = begin !== -1 && end !== -1 ? [...lines.slice(0, begin), ...lines.slice(end + 1)] : lines;
  while (rest.length > 0 && rest.at(-1) === '') rest.pop();
  const block = hosts.length > 0 ? [BEGIN, ...hosts.flatMap((h) => [`127.0.0.1 ${h}`, `::1 ${h}`]), END] : [];
  const out = [...rest, ...block];
  return out.length > 0 ? `${out.join(eol)}${eol}` : '';
}

export function readHostsFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

export async function writeHostsFile(file: string, content: string): Promise<void> {
  const { default: writeFileAtomic } = await import('write-file-atomic');
  try {
    await writeFileAtomic(file, content, { fsync: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EBUSY' && code !== 'EXDEV') throw error;
    // A bind-mounted file (Docker's /etc/hosts) cannot be renamed over: write it in place.
    writeFileSync(file, content);
  }
}
