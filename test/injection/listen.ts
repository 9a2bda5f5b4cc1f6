/**
 * Injection call table for LISTEN/NOTIFY: the channel names of `listen` (async only: the injection test calls it on
 * the async side only), `notifies` and `notify`, alone and in a list.
 */
import type { InjectionSpec } from "./spec.js";

export const specs: InjectionSpec[] = [
  { method: "listen", kind: "name", position: "channel", args: (bad) => [bad] },
  { method: "listen", kind: "name", position: "channels[1]", args: (bad) => [["ok", bad]] },
  { method: "notifies", kind: "name", position: "channel", args: (bad) => [bad, { timeout: 0 }] },
  { method: "notifies", kind: "name", position: "channels[1]", args: (bad) => [["ok", bad], { timeout: 0 }] },
  { method: "notify", kind: "name", position: "channel", args: (bad) => [bad, "payload"] },
];
