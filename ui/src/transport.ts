// One API surface, two transports: in the desktop app the core answers over Tauri IPC; in a
// plain browser (managers without the app) the same components talk to the hub over HTTPS.
// Components only see `Transport`.

import type { AppEvent } from "./types";

export interface Transport {
  /** Calls a core command; rejects with `{code, message}`. */
  call<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** Hears the core's events; returns a function that stops listening. */
  listen(handler: (event: AppEvent) => void): Promise<() => void>;
  /** Whether this transport has video walls (only the desktop app does). */
  readonly hasWalls: boolean;
}

/** Whether the page runs inside the desktop app's webview. */
export function inApp(): boolean {
  return typeof window !== "undefined" && "__TAURI_INTERNALS__" in window;
}

/** The desktop app: the Rust core over Tauri IPC. */
export async function tauriTransport(): Promise<Transport> {
  const { invoke } = await import("@tauri-apps/api/core");
  const { listen } = await import("@tauri-apps/api/event");
  return {
    hasWalls: true,
    call: <T,>(command: string, args?: Record<string, unknown>) =>
      invoke<T>(command, args).catch((error: unknown) => {
        throw asAppError(error);
      }),
    listen: (handler) => listen<AppEvent>("watchfloor", (event) => handler(event.payload)),
  };
}

/** Any rejection as `{code, message}`. */
export function asAppError(error: unknown): { code: string; message: string } {
  if (error && typeof error === "object" && "code" in error && "message" in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    return { code: String(code), message: String(message) };
  }
  return { code: "unexpected", message: String(error) };
}
