import 'reflect-metadata';
import { createDataSource, parseDatabaseUrl } from './data-source';

/**
 * The data source the TypeORM CLI uses (`npm run migration:run`,
 * `npm run migration:generate`): the same entities and migrations as the
 * gateway, on `DATABASE_URL`.
 */
export default createDataSource(parseDatabaseUrl(process.env.DATABASE_URL || 'sqlite:./data/ota-gateway.sqlite'));
