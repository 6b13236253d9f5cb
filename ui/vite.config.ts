import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Production build: only index.html (the Tauri backend). The Tauri shell loads ../ui/dist.
// The fake-backend preview lives in preview.html and is built by vite.preview.config.ts only.
export default defineConfig({
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
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
