import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// DEV ONLY: builds preview.html, which wires the in-memory fake backend, into dist-preview/ so the
// screens can be looked at in a plain browser (screenshots at 360×800). Never shipped: the Tauri
// shell loads ui/dist, which vite.config.ts builds from index.html with the Tauri backend.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  build: {
    outDir: 'dist-preview',
    target: 'es2022',
    emptyOutDir: true,
    rollupOptions: { input: 'preview.html' },
  },
  preview: { port: 4174, strictPort: true },
});
