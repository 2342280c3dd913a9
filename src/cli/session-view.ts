import { stripAnsi, type RunnerEvent, type ServiceStatus, type ServiceView } from '../commands/up.js';
import { colorsFor, table, type Colors } from './output.js';
import { withInvocation } from './invocation.js';

/**
 * How `up` and `run` look in a terminal: service output as `name │ line` in a colour per service (or, for
 * `run`, as is), portbroker's own messages on stderr, a spinner per starting service on a TTY (plain lines
 * otherwise), and the table once everything is up. Colour and cursor codes only on a TTY, never with NO_COLOR;
 * then escape codes in the services' own output are removed too.
 */

export interface ViewOptions {
  /** Service names, for the prefix width and colours (dependency order). */
  services: string[];
  /** `run`: one command, its output unprefixed (stdout to stdout, stderr to stderr). */
  plain?: boolean;
  timestamps?: boolean;
  /** Called with true when stdout cannot keep up, false when it drained. */
  onBackpressure?: (paused: boolean) => void;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

const PALETTE = ['cyan', 'magenta', 'yellow', 'blue', 'green', 'cyanBright', 'magentaBright', 'yellowBright', 'blueBright', 'greenBright'] as const;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_MS = 80;

export class SessionView {
  private readonly stdout: NodeJS.WriteStream;
  private readonly stderr: NodeJS.WriteStream;
  private readonly out: Colors;
  private readonly err: Colors;
  /** Whether services' own escape codes may pass. */
  private readonly keepAnsi: boolean;
  private width: number;
  private readonly paint = new Map<string, (text: string) => string>();
  private queued: Array<{ stream: 'stdout' | 'stderr'; text: string }> = [];
  private flushScheduled = false;
  private blocked = false;
  private closed = false;

  // The spinner block: services starting or waiting, redrawn below the output on a TTY.
  private readonly spinning = new Map<string, { status: ServiceStatus; since: number; waitingFor?: string[] }>();
  private spinner: NodeJS.Timeout | undefined;
  private frame = 0;
  private drawnLines = 0;
  private spinnerOn = false;

  constructor(private readonly options: ViewOptions) {
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.out = colorsFor(this.stdout);
    this.err = colorsFor(this.stderr);
    this.keepAnsi = this.out.isColorSupported;
    this.width = Math.max(...options.services.map((s) => s.length), 1);
    options.services.forEach((name, i) => this.paint.set(name, this.out[PALETTE[i % PALETTE.length]!]));
    // A closed terminal or pipe must not crash the supervisor: it still has services to stop.
    for (const stream of [this.stdout, this.stderr]) stream.on('error', () => (this.closed = true));
    // Redrawing lines is safe only when both streams go straight to the terminal (`up | tee log` would interleave).
    this.spinnerOn = Boolean(this.stderr.isTTY && this.stdout.isTTY) && this.err.isColorSupported && !options.plain;
  }

  /** A service's colour; one added by a config edit gets the next one (and widens the prefix if it must). */
  private paintFor(service: string): (text: string) => string {
    let paint = this.paint.get(service);
    if (!paint) {
      paint = this.out[PALETTE[this.paint.size % PALETTE.length]!];
      this.paint.set(service, paint);
      this.width = Math.max(this.width, service.length);
    }
    return paint;
  }

  /** Whether children may colour their output: it is shown in colour. */
  get colour(): boolean {
    return this.out.isColorSupported;
  }

  handle(event: RunnerEvent): void {
    switch (event.type) {
      case 'log':
        return this.log(event.service, event.line, event.stream, event.time);
      case 'status':
        return this.status(event.service, event.status, event.waitingFor);
      case 'notice':
        return this.notice(event.level, event.message, event.output);
    }
  }

  /** A message of portbroker's own, on stderr. */
  notice(level: 'info' | 'warn' | 'error', message: string, output?: string[]): void {
    const c = this.err;
    const [first = '', ...rest] = withInvocation(message).split('\n');
    const mark = level === 'error' ? c.red('✖') : level === 'warn' ? c.yellow('!') : c.dim('›');
    const head = level === 'info' ? c.dim(first) : level === 'error' ? c.red(first) : c.yellow(first);
    const lines = [`${this.stamp(c)}${mark} ${head}`, ...rest.map((l) => `  ${l}`)];
    if (output?.length) {
      lines.push(c.dim('  last output:'));
      for (const line of output) lines.push(`${c.dim('  │')} ${this.clean(line)}`);
    }
    this.write('stderr', `${lines.join('\n')}\n`);
  }

  /** The table of services, once they are up. */
  table(services: ServiceView[]): void {
    const o = this.out;
    const rows = services.map((s) => [s.name, String(s.port), s.url === null ? o.dim('-') : o.cyan(s.url), this.state(s)]);
    this.write('stdout', `${table(['SERVICE', 'PORT', 'URL', 'STATE'], rows)}\n`);
  }

  hint(text: string): void {
    this.write('stderr', `${this.err.dim(withInvocation(text))}\n`);
  }

  /** Stops the spinner and writes what is queued. */
  close(): void {
    this.stopSpinner();
    this.flush();
  }

  private log(service: string, line: string, stream: 'stdout' | 'stderr', time?: string): void {
    const text = this.clean(line);
    if (this.options.plain) {
      this.write(stream, `${text}\n`);
      return;
    }
    const paint = this.paintFor(service);
    this.write('stdout', `${this.stamp(this.out, time)}${paint(`${service.padEnd(this.width)} │`)} ${text}\n`);
  }

  private status(service: string, status: ServiceStatus, waitingFor?: string[]): void {
    if (status === 'starting' || status === 'waiting') {
      const previous = this.spinning.get(service);
      this.spinning.set(service, { status, since: previous?.since ?? Date.now(), waitingFor });
      if (!this.spinnerOn) {
        this.notice('info', `${service} ${doing(status, waitingFor)}`);
      } else {
        this.startSpinner();
      }
    } else {
      this.spinning.delete(service);
      if (this.spinning.size === 0) this.stopSpinner();
    }
  }

  private state(s: ServiceView): string {
    const o = this.out;
    switch (s.status) {
      case 'running':
        return o.green('running');
      case 'elsewhere': {
        const state = s.ownerState ?? 'running';
        const text = `${state} (portbroker pid ${s.owner})`;
        return state === 'running' ? o.green(text) : state === 'on-demand' ? o.cyan(text) : o.yellow(text);
      }
      case 'on-demand':
        return o.cyan('on-demand');
      case 'crashed':
        return o.red('crashed');
      case 'restarting':
        return o.yellow('restarting');
      case 'starting':
      case 'waiting':
        return o.yellow(s.status);
      default:
        return o.dim(s.status);
    }
  }

  private clean(line: string): string {
    return this.keepAnsi ? line : stripAnsi(line);
  }

  private stamp(c: Colors, time?: string): string {
    if (!this.options.timestamps) return '';
    const d = time ? new Date(time) : new Date();
    const p = (n: number, w = 2) => String(n).padStart(w, '0');
    return `${c.dim(`${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`)} `;
  }

  /** Output is batched per tick: one write for many lines keeps a chatty service cheap. */
  private write(stream: 'stdout' | 'stderr', text: string): void {
    if (this.closed) return;
    this.queued.push({ stream, text });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.queued.length === 0 || this.closed) return;
    const queued = this.queued;
    this.queued = [];
    this.eraseSpinner();
    // Consecutive pieces for one stream go out together, in order.
    let stream = queued[0]!.stream;
    let chunk = '';
    const send = () => {
      if (!chunk) return;
      const target = stream === 'stdout' ? this.stdout : this.stderr;
      const ok = target.write(chunk);
      if (!ok && stream === 'stdout' && !this.blocked) {
        this.blocked = true;
        this.options.onBackpressure?.(true);
        target.once('drain', () => {
          this.blocked = false;
          this.options.onBackpressure?.(false);
        });
      }
    };
    for (const piece of queued) {
      if (piece.stream !== stream) {
        send();
        stream = piece.stream;
        chunk = '';
      }
      chunk += piece.text;
    }
    send();
    this.drawSpinner();
  }

  private startSpinner(): void {
    if (this.spinner) return;
    this.spinner = setInterval(() => {
      this.frame = (this.frame + 1) % FRAMES.length;
      this.eraseSpinner();
      this.drawSpinner();
    }, SPIN_MS);
    this.spinner.unref();
    this.drawSpinner();
  }

  private stopSpinner(): void {
    if (!this.spinner) return;
    clearInterval(this.spinner);
    this.spinner = undefined;
    this.eraseSpinner();
  }

  private drawSpinner(): void {
    if (!this.spinner || this.closed || this.spinning.size === 0) return;
    const c = this.err;
    const columns = this.stderr.columns || 80;
    const lines = [...this.spinning].map(([name, { status, since, waitingFor }]) => {
      const elapsed = ((Date.now() - since) / 1000).toFixed(1);
      const text = `${FRAMES[this.frame]} ${name} ${doing(status, waitingFor)} ${elapsed} s`;
      return c.yellow(text.slice(0, columns - 1));
    });
    this.stderr.write(`${lines.join('\n')}\n`);
    this.drawnLines = lines.length;
  }

  private eraseSpinner(): void {
    if (this.drawnLines === 0 || this.closed) return;
    // Up to the block's first line, then clear to the end of the screen.
    this.stderr.write(`\u001b[${this.drawnLines}F\u001b[J`);
    this.drawnLines = 0;
  }
}

function doing(status: ServiceStatus, waitingFor: string[] | undefined): string {
  return status === 'waiting' ? `waiting for ${waitingFor?.join(', ') || 'what it depends on'}` : 'starting';
}
