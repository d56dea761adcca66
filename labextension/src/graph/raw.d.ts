// Type of a module imported with "?raw": its file's text (webpack.config.js gives such imports type 'asset/source').

declare module '*?raw' {
  const source: string;
  export default source;
}
