export * from './kinds.js';
export * from './topics.js';
export * from './telemetry.js';
export * from './zones.js';
export * from './secrets.js';
export * from './registry.js';
export * from './storage-layout.js';
