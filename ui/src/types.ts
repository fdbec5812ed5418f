// Types that exist in the console alone. What the app core and the hub send is generated from
// the Rust types into ./generated/ (app.ts for the core's commands and events, hub.ts for the
// hub's API and feed); never re-type those here.

import type { AppErrorCode } from "./generated/app";

/** Codes only the console itself gives: a thrown value that is no error of ours, a wall command
 *  in a browser, a command the browser console does not have. */
export type ConsoleErrorCode = "unexpected" | "no_wall" | "unknown_command";

/** Any error the console shows: the core's (or, in a browser, the hub's mapped onto the same
 *  codes) or its own. */
export interface ConsoleError {
  code: AppErrorCode | ConsoleErrorCode;
  message: string;
}
