// Vite's entry module: the shared app (index.html names this file, inside Vite's root, as a
// user's app would).
import '../app.js';
