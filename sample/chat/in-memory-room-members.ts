import { RoomMembers } from './room-members.js';
import type { Member } from './chat.protocol.js';

/** The member lists of one instance, in a map: the default, when the sample runs alone. */
export class InMemoryRoomMembers extends RoomMembers {
  private readonly rooms = new Map<string, Map<string, Member>>();

  add(room: string, member: Member): Member[] {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Map()));
    members.set(member.id, member);
    return [...members.values()];
  }

  remove(room: string, member: Member): boolean {
    const members = this.rooms.get(room);
    if (!members?.delete(member.id)) return false;
    if (members.size === 0) this.rooms.delete(room);
    return true;
  }
}
