// DEV-ONLY entry (preview.html, built by vite.preview.config.ts into dist-preview/, never into dist/):
// the same App over the in-memory FakeBackend with a demo day, so screens can be looked at and
// screenshotted in a plain browser. Query flags: ?signedin=1 starts signed in, ?offline=1 starts
// with the office unreachable, ?lang=en starts in English; see preview-demo.ts for the rest.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { FakeBackend } from './lib/backend/fake';
import { setupI18n } from './lib/i18n';
import { prepareDemo } from './preview-demo';

const q = new URLSearchParams(location.search);
setupI18n(q.get('lang') === 'en' ? 'en' : 'zh-CN');
const backend = new FakeBackend({ demo: true, signedIn: q.get('signedin') === '1', online: q.get('offline') !== '1' });
await prepareDemo(backend, q);
(globalThis as unknown as { heatcrewFake: FakeBackend }).heatcrewFake = backend;
mount(App, { target: document.getElementById('app')!, props: { backend } });
