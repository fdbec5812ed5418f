import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The same build serves the app's webview and a plain browser (one UI, two transports).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
});
