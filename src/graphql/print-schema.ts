import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPubSub } from '@graphql-yoga/subscription';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import type { GatewayPubSub } from './context';
import { buildGatewaySchema } from './schema';

/** The SDL of the API as checked in at `schema.graphql`: sorted, so diffs stay readable. */
export async function printGatewaySchema(): Promise<string> {
  return schemaSdl(await buildGatewaySchema(createPubSub() as GatewayPubSub));
}

/** The SDL of `schema` as schema.graphql holds it (sorted, with its header); also served as GET /schema.graphql. */
export function schemaSdl(schema: GraphQLSchema): string {
  return `# Generated from the type-graphql code by \`npm run schema:print\`; do not edit.\n${printSchema(lexicographicSortSchema(schema))}\n`;
}

if (require.main === module) {
  void printGatewaySchema().then((sdl) => {
    const target = join(__dirname, '..', '..', '..', 'schema.graphql');
    writeFileSync(target, sdl);
    console.log(`wrote ${target}`);
  });
}
