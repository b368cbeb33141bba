import type { LoggerService } from '@nestjs/common';

/** A Nest `LoggerService` that keeps what was logged, for `app.useLogger()` in tests. */
export class CaptureLogger implements LoggerService {
  readonly entries: { level: string; message: string; context: string; detail: string }[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.record('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.record('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.record('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.record('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.record('verbose', message, rest);
  }

  /** Errors logged under `context`. */
  errors(context: string) {
    return this.entries.filter((entry) => entry.level === 'error' && entry.context === context);
  }

  clear(): void {
    this.entries.length = 0;
  }

  // Nest passes (message, stack?, context) to error() and (message, context) to the others.
  private record(level: string, message: unknown, rest: unknown[]): void {
    const context = rest.length > 0 ? String(rest[rest.length - 1]) : '';
    const detail = rest.length > 1 ? String(rest[0]) : '';
    this.entries.push({ level, message: String(message), context, detail });
  }
}
