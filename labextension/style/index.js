// Style module of the nbunify JupyterLab extension (package.json "styleModule"): loads the CSS.
import './index.css';
