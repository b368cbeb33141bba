import type { Member } from './chat.protocol.js';

/**
 * Who is in which room: the store behind `ChatRooms`. In memory for one instance
 * (`InMemoryRoomMembers`), in Redis when instances share rooms (`RedisRoomMembers`).
 */
export abstract class RoomMembers {
  /** Adds `member` to `room` and returns everyone now in it, `member` included. */
  abstract add(room: string, member: Member): Member[] | Promise<Member[]>;
  /** Removes `member` from `room`; false if it was not there. */
  abstract remove(room: string, member: Member): boolean | Promise<boolean>;
}
