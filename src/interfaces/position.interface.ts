// Alone in its file, importing nothing: the browser client's types use it without Node's.
/**
 * Where a publication sits in its topic's stream (Centrifugo's `StreamPosition`). `offset` grows by
 * one per publication of the topic, from 1; `epoch` names the stream and changes whenever its
 * history was lost (Redis restarted without persistence, the stream expired), so a position of a
 * lost stream is never mistaken for one of the new stream.
 */
export interface StreamPosition {
  /** The publication's number in its topic, from 1; 0 before the first publication. */
  offset: number;
  /** The stream's identity: a random string chosen when the stream was (re)created. */
  epoch: string;
}
