import type { BoardroomEntity } from './boardroom.entity';
import type { MemberRole } from './boardroom-member.entity';

/** A boardroom as the API shows it; `members` only on the single-boardroom read. */
export interface BoardroomView {
  id: string;
  name: string;
  description: string | null;
  ownerId: string;
  createdAt: Date;
  updatedAt: Date;
  members?: Array<{ userId: string; name: string; role: MemberRole }>;
}

export function toBoardroomView(boardroom: BoardroomEntity): BoardroomView {
  const { id, name, description, ownerId, createdAt, updatedAt, members } = boardroom;
  const view: BoardroomView = { id, name, description, ownerId, createdAt, updatedAt };
  if (members) {
    view.members = members
      .map((m) => ({ userId: m.userId, name: m.user?.name ?? '', role: m.role }))
      .sort((a, b) => (a.role === b.role ? a.name.localeCompare(b.name) : a.role === 'owner' ? -1 : 1));
  }
  return view;
}
