// webpack's default entry (./src/index.js): the shared app, built with
// `webpack --mode production` and no configuration file.
import '../../app.js';
