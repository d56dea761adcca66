// Which files are model graphs that netron can draw (pure: no JupyterLab imports).

/** Extensions offered "Open in Netron" in the file browser: model graphs, not weights-only or data files. */
export const MODEL_FILE_EXTENSIONS: readonly string[] = [
  '.onnx',
  '.tflite',
  '.keras',
  '.h5',
  '.pt',
  '.pt2',
  '.pth',
  '.pb',
  '.pdmodel',
  '.mlmodel'
];

/**
 * The lower-cased extension of the last path segment, with its dot ('' when there is none).
 *
 * As in Python's `os.path.splitext`, a leading dot does not start an extension: `.onnx` alone
 * is a hidden file without one.
 */
export function fileExtension(path: string): string {
  const name = path.split('/').pop() ?? '';
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) {
    return '';
  }
  return name.slice(dot).toLowerCase();
}

/** Whether `path` (a contents path or a file name) names a model file, case-insensitively. */
export function isModelFile(path: string): boolean {
  return MODEL_FILE_EXTENSIONS.includes(fileExtension(path));
}
