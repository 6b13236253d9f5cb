import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Production build: only index.html (the Tauri backend). The Tauri shell loads ../ui/dist.
// The fake-backend preview lives in preview.html and is built by vite.preview.config.ts only.
export default defineConfig(({ mode }) => ({
  plugins: [svelte()],
  base: './',
  clearScreen: false,
  server: { port: 5173, strictPort: true },
  build: {
    outDir: 'dist',
    target: 'es2022',
    emptyOutDir: true,
    rollupOptions: { input: 'index.html' },
  },
  // Component tests run Svelte's browser runtime in jsdom (files marked `@vitest-environment jsdom`).
  resolve: mode === 'test' ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
}));
