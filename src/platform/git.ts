import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface Checkout {
  /** The folder holding `.git` (a directory for a main checkout, a file for a linked worktree). */
  root: string;
  /** Set for a linked worktree: its branch, or its folder name when HEAD is detached. */
  worktreeBranch?: string;
  worktreeName?: string;
}

/** The git checkout containing `dir`, found by walking up to the nearest `.git`; undefined outside git. */
export function findCheckout(dir: string): Checkout | undefined {
  let current = path.resolve(dir);
  for (;;) {
    const dotGit = path.join(current, '.git');
    let isFile = false;
    let exists = false;
    try {
      const stat = statSync(dotGit);
      exists = true;
      isFile = stat.isFile();
    } catch {
      // keep walking
    }
    if (exists) return isFile ? linkedWorktree(current, dotGit) : { root: current };
    const parent = path.dirname(current);
    if (parent === current) return undefined;
    current = parent;
  }
}

function linkedWorktree(root: string, dotGitFile: string): Checkout {
  let gitDir: string;
  try {
    const match = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGitFile, 'utf8'));
    if (!match) return { root };
    gitDir = path.resolve(root, match[1]!.trim());
  } catch {
    return { root };
  }
  // Submodules also use a `.git` file, pointing into `.git/modules/`; only `.git/worktrees/` marks a worktree.
  if (!gitDir.split(path.sep).includes('worktrees')) return { root };
  const worktreeName = path.basename(gitDir);
  let branch: string | undefined;
  try {
    const head = readFileSync(path.join(gitDir, 'HEAD'), 'utf8').trim();
    const ref = /^ref:\s*refs\/heads\/(.+)$/.exec(head);
    branch = ref?.[1];
  } catch {
    // detached or unreadable: fall back to the worktree's name
  }
  return { root, worktreeBranch: branch, worktreeName };
}
