import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The production build goes to console/dist, which heatcrew-office embeds and serves at `/` (hashed
// files under /assets/ are cached for a year; index.html never). `npm run dev` proxies the API to an
// office on 127.0.0.1:8080 (`./dev run`).
export default defineConfig({
  plugins: [svelte()],
  base: '/',
  clearScreen: false,
  server: {
    port: 5174,
    strictPort: true,
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
  build: {
    outDir: 'dist',
    target: 'es2022',
    emptyOutDir: true,
    assetsDir: 'assets',
  },
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
