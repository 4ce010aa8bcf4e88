import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSchema, parse, validate } from 'graphql';
import * as api from '../dashboard/src/rollout-api';
import { applyCommand, RolloutStatus, type RolloutCommand } from '../src/rollouts/domain';

/*
 * The dashboard's rollout operations are written by hand (no codegen step in
 * the reference page): they must stay valid against the checked-in schema,
 * and the buttons the page offers must be exactly the commands the domain
 * accepts.
 */
const schema = buildSchema(readFileSync(join(__dirname, '..', 'schema.graphql'), 'utf8'));

const operations: [string, string][] = [
  ['ROLLOUTS_QUERY', api.ROLLOUTS_QUERY],
  ['ROLLOUT_QUERY', api.ROLLOUT_QUERY],
  ['ROLLOUT_CHANGED_SUBSCRIPTION', api.ROLLOUT_CHANGED_SUBSCRIPTION],
  ['ROLLOUT_TARGETS_QUERY', api.ROLLOUT_TARGETS_QUERY],
  ['CREATE_ROLLOUT', api.CREATE_ROLLOUT],
  ['PACKAGES_QUERY', api.PACKAGES_QUERY],
  ['REGISTER_PACKAGE', api.REGISTER_PACKAGE],
  ['MODELS_QUERY', api.MODELS_QUERY],
  ['MATCHING_DEVICES_QUERY', api.MATCHING_DEVICES_QUERY],
  ...Object.entries(api.COMMAND_MUTATIONS).map(([command, { query }]): [string, string] => [`command ${command}`, query]),
];

test.each(operations)('%s is valid against schema.graphql', (_name, source) => {
  expect(validate(schema, parse(source)).map((e) => e.message)).toEqual([]);
});

test('each command mutation answers under the field the page reads', () => {
  for (const { field, query } of Object.values(api.COMMAND_MUTATIONS)) expect(query).toContain(`${field}(id: $id)`);
});

describe('commandAllowed offers exactly what applyCommand accepts', () => {
  const commands: RolloutCommand[] = ['start', 'pause', 'resume', 'cancel', 'retryFailures'];
  const cases = Object.values(RolloutStatus).flatMap((status) => [0, 2].flatMap((failed) => commands.map((command) => [command, status, failed] as const)));
  test.each(cases)('%s on %s with %i failed', (command, status, failed) => {
    const counts = { total: 4, queued: 2 - failed / 2, inProgress: 0, succeeded: 2 - failed / 2, failed, skipped: 0, canceled: 0 };
    let accepted = true;
    try {
      applyCommand(command, { status, pauseReason: null, counts });
    } catch {
      accepted = false;
    }
    expect(api.commandAllowed(command, { status, counts })).toBe(accepted);
  });
});
