// Production entry (index.html → ui/dist, loaded by the Tauri shell): the real Tauri backend, always.
import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { TauriBackend } from './lib/backend/tauri';
import { setupI18n } from './lib/i18n';

setupI18n();
mount(App, { target: document.getElementById('app')!, props: { backend: new TauriBackend() } });
