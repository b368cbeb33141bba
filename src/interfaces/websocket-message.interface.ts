/** A message as handlers receive it: text frames as `string`, binary frames as `Buffer`. */
export type WebSocketMessage = string | Buffer;
