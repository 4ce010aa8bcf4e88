import { InitialSchema1763769600000 } from './1763769600000-InitialSchema';

/** Every migration, oldest first. Add new ones at the end. */
export const MIGRATIONS: Function[] = [InitialSchema1763769600000];
