import { accessSync, constants, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { PortbrokerError } from '../errors.js';
import { errnoInWords, fixFor } from './errno.js';

/**
 * The state folder holds what every project on the machine trusts: the registry (where the proxy sends
 * traffic) and the config cache (modules portbroker imports). Like ssh with ~/.ssh and tmux with its socket
 * folder, portbroker uses it only when it is the user's own and nobody else can write it; a symlink is followed
 * only when its target passes the same check. Every failure is one line naming the folder, what is wrong and
 * the command that fixes it, and comes at once (never after a lock-wait).
 */

/** A state folder portbroker must not use: exit 1 with the fix. */
export class StateFolderError extends PortbrokerError {
  constructor(message: string, fix: string) {
    super(message, { details: [fix] });
    this.name = 'StateFolderError';
  }
}

/** For readers: whether the folder exists (false: nothing recorded yet); throws when it exists but is unsafe. */
export function checkStateFolder(dir: string): boolean {
  return inspect(dir) !== undefined;
}

/** For writers: creates the folder (0700) when missing; throws when it is unsafe, not a folder, or not writable. */
export function ensureStateFolder(dir: string): void {
  let target = inspect(dir);
  if (target === undefined) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StateFolderError(`cannot create the state folder ${dir}: ${errnoInWords(error)}`, fixFor(error, nearestExisting(dir)));
    }
    target = inspect(dir)!;
  }
  try {
    accessSync(target, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new StateFolderError(
      `the state folder ${shown(dir, target)} is not writable: ${errnoInWords(error)}`,
      `make it writable: \`chmod 700 ${target}\`, or point PORTBROKER_HOME at a folder of your own`,
    );
  }
}

/** The folder's real path after checking it; undefined when nothing is there. */
function inspect(dir: string): string | undefined {
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateFolderError(`cannot read the state folder ${dir}: ${errnoInWords(error)}`, fixFor(error, dir));
  }
  let target = dir;
  if (st.isSymbolicLink()) {
    target = path.resolve(path.dirname(dir), readlinkSync(dir));
    try {
      st = statSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new StateFolderError(
          `the state folder ${dir} is a symlink to ${target}, which does not exist`,
          `create the target (\`mkdir -m 700 ${target}\`) or remove the link (\`rm ${dir}\`)`,
        );
      }
      throw new StateFolderError(`cannot follow the state folder's symlink ${dir} → ${target}: ${errnoInWords(error)}`, fixFor(error, target));
    }
  }
  if (!st.isDirectory()) {
    throw new StateFolderError(`the state folder ${shown(dir, target)} is not a folder`, `move it away, or point PORTBROKER_HOME at a folder`);
  }
  const me = process.getuid?.();
  if (me !== undefined && st.uid !== me) {
    throw new StateFolderError(
      `the state folder ${shown(dir, target)} belongs to ${describeUser(st.uid)}, not to you (${describeUser(me)}): portbroker will not use another user's state`,
      `use a folder of your own (unset PORTBROKER_HOME, or set it to one), or take this one over: \`sudo chown -R ${userName(me)} ${target}\``,
    );
  }
  if ((st.mode & 0o022) !== 0) {
    const who = [st.mode & 0o020 ? 'its group' : '', st.mode & 0o002 ? 'everyone' : ''].filter(Boolean).join(' and ');
    throw new StateFolderError(
      `the state folder ${shown(dir, target)} is writable by ${who} (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}): they could reroute your traffic or run code as you`,
      `make it yours alone: \`chmod 700 ${target}\``,
    );
  }
  return target;
}

function shown(dir: string, target: string): string {
  return dir === target ? dir : `${dir} (→ ${target})`;
}

function nearestExisting(dir: string): string {
  let current = dir;
  for (;;) {
    try {
      lstatSync(current);
      return current;
    } catch {
      const parent = path.dirname(current);
      if (parent === current) return current;
      current = parent;
    }
  }
}

function describeUser(uid: number): string {
  const name = userName(uid);
  return name === String(uid) ? `uid ${uid}` : `${name} (uid ${uid})`;
}

/** The user's name from /etc/passwd, else the number. */
function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return name;
    }
  } catch {
    // no passwd file (a container without one)
  }
  return String(uid);
}
