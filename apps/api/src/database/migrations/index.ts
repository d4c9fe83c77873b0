import { CreateUsers1763780000000 } from './1763780000000-create-users';

/** Every migration, oldest first. Listed explicitly so the same list runs from `dist/`, Jest and the CLI. */
export const migrations = [CreateUsers1763780000000];
