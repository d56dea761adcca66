// Style module of the nbunify JupyterLab extension (package.json "styleModule"): loads the CSS.
import 'uplot/dist/uPlot.min.css';
import './index.css';
