import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The same build serves the app's webview and a plain browser (one UI, two transports).
// bench.html is a second entry: the event list alone, for bench/event-list.mjs.
const here = (file: string) => decodeURIComponent(new URL(file, import.meta.url).pathname);

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    rollupOptions: {
      input: {
        main: here("./index.html"),
        bench: here("./bench.html"),
      },
    },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
