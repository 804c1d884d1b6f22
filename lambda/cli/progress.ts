/**
 * Progress of a long command on one line of stderr, redrawn in place: which capability and region, what was read,
 * and the AWS calls (and Slack posts) sent so far. Only when stderr is a terminal: piped or in CI nothing is drawn,
 * so reports and `--json` output stay clean. Services report through `ctx.progress?.(event)`; the AWS call counter
 * and the Slack notifier report each call.
 */
import type { ProgressEvent } from '../core/run';
import type { CliIO } from './io';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** The words of one progress event. */
export function progressText(e: ProgressEvent): string {
  switch (e.kind) {
    case 'region':
      return `region ${e.region} (${e.index} of ${e.total})`;
    case 'read':
      return `${e.count.toLocaleString('en-US')} ${e.what} read${e.region ? ` in ${e.region}` : ''}`;
    case 'batch':
      return `${e.what}: ${e.done} of ${e.total} sent`;
    case 'step':
      return e.message;
  }
}

export class Progress {
  private frame = 0;
  private label = '';
  private message = '';
  private calls = 0;
  private lastCall = '';
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly io: Pick<CliIO, 'errIsTTY'>,
    private readonly write: (text: string) => void = (t) => process.stderr.write(t),
  ) {}

  /** True when progress is drawn (stderr is a terminal). */
  get enabled(): boolean {
    return this.io.errIsTTY === true;
  }

  /** What the following events belong to, e.g. the capability being planned. */
  section(label: string): void {
    this.label = label;
    this.message = '';
    this.update(this.message);
  }

  /** A service's event. */
  readonly event = (e: ProgressEvent): void => this.update(progressText(e));

  /** One AWS call (or Slack post) sent: counted, and named on the line. */
  readonly call = (operation: string): void => {
    this.calls += 1;
    this.lastCall = operation;
  };

  /** Shows (or changes) the message; the line is redrawn every 100 ms until done(). */
  update(message: string): void {
    if (!this.enabled) return;
    this.message = message;
    this.draw();
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  /**
   * A line that stays (e.g. a unit of `plan --organization` done), printed with `print` above the progress line,
   * which is drawn again under it.
   */
  keep(line: string, print: (text: string) => void): void {
    if (this.timer) this.write('\r\x1b[2K');
    print(line);
    if (this.timer) this.draw();
  }

  done(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.write('\r\x1b[2K');
    }
  }

  /** The line as drawn now (without the spinner), e.g. `reaper · region us-east-1 (1 of 2) · 14 calls, last EC2.DescribeInstances`. */
  line(): string {
    const calls = this.calls > 0 ? `${this.calls} call${this.calls === 1 ? '' : 's'}, last ${this.lastCall}` : '';
    return [this.label, this.message, calls].filter(Boolean).join(' · ');
  }

  private draw(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    this.write(`\r\x1b[2K${FRAMES[this.frame]} ${this.line()}`);
  }
}
