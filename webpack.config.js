// Extra rspack rules merged by jupyter-builder ("webpackConfig" in package.json): `import text from 'file?raw'` gives a file's text.
// The graph renderer starts ELK's web worker from the text of elkjs/lib/elk-worker.min.js through a Blob URL,
// which works wherever JupyterLab serves the extension (module federation, any base URL, no extra file to find).
module.exports = {
  module: {
    rules: [{ resourceQuery: /raw/, type: 'asset/source' }]
  }
};
