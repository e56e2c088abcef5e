import { defineConfig } from "vite";

// The build lands inside the Python package, which serves it and ships it in the wheel.
export default defineConfig({
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "../src/nightowl/web/dist",
    emptyOutDir: true,
    assetsDir: "assets",
    target: "es2022",
    chunkSizeWarningLimit: 600,
  },
  server: {
    proxy: {
      "/api": { target: "http://127.0.0.1:3017", ws: true },
      "/prometheus": "http://127.0.0.1:3017",
    },
  },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
} as never);
