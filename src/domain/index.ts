export * from './status';
export * from './observation';
export * from './transitions';
export * from './stale';
export * from './tally';
export * from './progression';
