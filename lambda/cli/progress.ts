/**
 * A one-line spinner on stderr while the CLI scans; silent when stdout is not a terminal (piped output, CI), so
 * reports stay clean.
 */
import type { CliIO } from './io';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export class Progress {
  private frame = 0;
  private message = '';
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly io: Pick<CliIO, 'isTTY'>,
    private readonly write: (text: string) => void = (t) => process.stderr.write(t),
  ) {}

  /** Shows (or changes) the message; the spinner turns every 100 ms until done(). */
  update(message: string): void {
    if (!this.io.isTTY) return;
    this.message = message;
    this.draw();
    if (!this.timer) {
      this.timer = setInterval(() => this.draw(), 100);
      this.timer.unref();
    }
  }

  done(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.write('\r\x1b[2K');
    }
  }

  private draw(): void {
    this.frame = (this.frame + 1) % FRAMES.length;
    this.write(`\r\x1b[2K${FRAMES[this.frame]} ${this.message}`);
  }
}
