export type { ProxyConfig } from "./config.js";
export { loadConfig, ProxyEnv } from "./config.js";
export { filterRequestHeaders, filterResponseHeaders } from "./headers.js";
export { resolveService, serviceFromHost } from "./host.js";
export { policies } from "./lb/registry.js";
export { RouteTable } from "./route-table.js";
export type { RoutesView } from "./routes-view.js";
