import { InMemoryCache } from '@apollo/client';
import { relayStylePagination } from '@apollo/client/utilities';

/**
 * The cache a frontend needs for this API: every object with an `id` is
 * normalised (ids are globally unique, so the default `__typename:id` keys are
 * fine), and each connection field merges its pages Relay-style. The key
 * arguments are the ones that select a different list (filters), not the
 * paging ones.
 */
export function createGatewayCache(): InMemoryCache {
  return new InMemoryCache({
    typePolicies: {
      Query: {
        fields: {
          upgradeTasks: relayStylePagination(['filter']),
          upgradeSubTasks: relayStylePagination(['filter']),
          shadowEvents: relayStylePagination(['deviceId']),
          devices: relayStylePagination(['filter']),
          firmwarePackages: relayStylePagination(['filter']),
          rollouts: relayStylePagination(['status']),
        },
      },
    },
  });
}
