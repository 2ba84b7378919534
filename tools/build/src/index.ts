export { BuildError, type Built, buildBundle } from "./build.js";
export { BUNDLES, type Bundle, PROXY_BUNDLE } from "./bundles.js";
