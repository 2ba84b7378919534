#!/usr/bin/env node
// The installed entry point of the fake engine. It registers tsx's ESM loader in this very
// process and imports the TypeScript main, so the engine is ONE process (signals, pids and
// process groups behave as for a real vLLM server; no wrapper process to forward signals).
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
