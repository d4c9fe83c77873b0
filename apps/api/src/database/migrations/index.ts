import { CreateUsers1763780000000 } from './1763780000000-create-users';
import { CreateAuth1763790000000 } from './1763790000000-create-auth';
import { CreateBoardrooms1763800000000 } from './1763800000000-create-boardrooms';
import { CreateConversations1763810000000 } from './1763810000000-create-conversations';
import { CreateCacheAudit1763820000000 } from './1763820000000-create-cache-audit';
import { AuditPendingOutcome1763830000000 } from './1763830000000-audit-pending-outcome';
import { ConversationAuthorIndexes1763840000000 } from './1763840000000-conversation-author-indexes';
import { AuditTargetText1763850000000 } from './1763850000000-audit-target-text';

/** Every migration, oldest first. Listed explicitly so the same list runs from `dist/`, Jest and the CLI. */
export const migrations = [
  CreateUsers1763780000000,
  CreateAuth1763790000000,
  CreateBoardrooms1763800000000,
  CreateConversations1763810000000,
  CreateCacheAudit1763820000000,
  AuditPendingOutcome1763830000000,
  ConversationAuthorIndexes1763840000000,
  AuditTargetText1763850000000,
];
