import type {
  RecoveryFailureReason,
  StreamPosition,
  StreamPublication,
  StreamRead,
} from '../interfaces/stream-position.interface.js';

/** What one resume replays, and whether that is everything after `since`. */
export interface RecoveryPlan {
  recovered: boolean;
  reason?: RecoveryFailureReason;
  replay: StreamPublication[];
}

function fail(reason: RecoveryFailureReason): RecoveryPlan {
  return { recovered: false, reason, replay: [] };
}

/** Whether untrusted `since` is a position a stream could have given. */
export function isStreamPosition(since: unknown): since is StreamPosition {
  const position = since as StreamPosition | null | undefined;
  return (
    typeof position === 'object' &&
    position !== null &&
    typeof position.epoch === 'string' &&
    Number.isSafeInteger(position.offset) &&
    position.offset >= 0
  );
}

/**
 * Decides a resume from `since` against what the stream returned (read with the topic's
 * `recoveryLimit`): complete only if the epoch is the same and every publication after `since` is
 * still there; otherwise nothing is replayed (a partial replay would look complete to a client).
 */
export function planRecovery(
  read: StreamRead,
  since: StreamPosition | undefined,
  recoveryLimit: number,
): RecoveryPlan {
  if (since === undefined) return { recovered: true, replay: [] };
  if (!isStreamPosition(since)) return fail('invalid');
  if (since.epoch !== read.epoch) return fail('epoch');
  if (since.offset > read.top) return fail('invalid');
  const missed = read.top - since.offset;
  const replay = read.publications.filter((publication) => publication.offset > since.offset);
  if (missed > 0 && replay[0]?.offset !== since.offset + 1) return fail('too-old');
  if (missed > recoveryLimit) return fail('limit');
  if (replay.length !== missed) return fail('too-old');
  return { recovered: true, replay };
}

/** The offset a stream should be read after for `since`, and how many to read. */
export function readWindow(
  since: StreamPosition | undefined,
  recoveryLimit: number,
): { after: number; limit: number } {
  if (!isStreamPosition(since)) return { after: 0, limit: 0 };
  return { after: since.offset, limit: recoveryLimit };
}
