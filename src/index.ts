/**
 * autobatch as a library: start the proxy inside a Node program.
 *
 *   import { startProxy } from 'autobatch';
 *   const proxy = await startProxy({ upstream: 'http://127.0.0.1:8080', port: 3000 });
 *   // ... later
 *   await proxy.close();
 */
export { startProxy, type RunningProxy, type StartOptions } from './proxy.js';
export { DEFAULTS, SettingsError, type ProxySettings } from './options.js';
export { parseRouteSpec, type CustomRouteSpec } from './routes/custom.js';
export type { RuleError } from './routes/errors.js';
export type { BatchRule, ItemAnswer, ParsedRequest } from './routes/rule.js';
export { createLogger, type LogFormat } from './logger.js';
