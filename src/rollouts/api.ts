import type { FirmwarePackages } from './packages';
import type { RolloutService } from './rollouts';

/** What the GraphQL resolvers reach of src/rollouts. */
export interface RolloutApi {
  readonly packages: FirmwarePackages;
  readonly rollouts: RolloutService;
}
