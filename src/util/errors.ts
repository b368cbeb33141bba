/** What a log line shows of a thrown value: its stack, else its message, else its text. */
export function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
