// Zoom and pan of the graph's viewport group: drag to pan, Ctrl/Cmd+wheel (or pinch) to zoom, fit and centre.

import { IBox } from './layout';

const MIN_SCALE = 0.05;
const MAX_SCALE = 4;
/** Pointer travel (px) after which a press is a drag, not a click. */
const DRAG_THRESHOLD = 4;
/** Smallest scale of a first view (labels still legible). */
const READABLE_SCALE = 0.45;

export class PanZoom {
  x = 0;
  y = 0;
  scale = 1;
  /** Whether the user moved the view since the last fit (a resize then keeps their view). */
  moved = false;
  private _viewport: SVGGElement | null = null;
  private _drag: { x: number; y: number; startX: number; startY: number; dragging: boolean } | null = null;
  private _suppressClick = false;
  private _size = { width: 800, height: 500 };

  constructor(private readonly _host: HTMLElement) {
    _host.addEventListener('pointerdown', this._onPointerDown);
    _host.addEventListener('pointermove', this._onPointerMove);
    _host.addEventListener('pointerup', this._onPointerUp);
    _host.addEventListener('pointercancel', this._onPointerUp);
    _host.addEventListener('wheel', this._onWheel, { passive: false });
    // A click that ends a drag must not select or expand what is under the pointer.
    _host.addEventListener('click', this._onClickCapture, true);
  }

  /**
   * Read the host's size now. Called before a new drawing goes in (and on resize), so that fitting a big
   * drawing does not force the browser to lay thousands of SVG elements out synchronously.
   */
  measure(size?: { width: number; height: number }): void {
    const width = size?.width ?? this._host.clientWidth;
    const height = size?.height ?? this._host.clientHeight;
    if (width > 0 && height > 0) {
      this._size = { width, height };
    }
  }

  /** The group to transform (a new drawing gives a new one). */
  attach(viewport: SVGGElement): void {
    this._viewport = viewport;
    this._apply();
  }

  /**
   * Show the whole graph, never zoomed in beyond 1. The first view of a big graph (`initial`) stays readable
   * instead: when the whole would be smaller than READABLE_SCALE, it shows the top of the graph at that scale.
   */
  fit(bounds: { width: number; height: number }, initial = false): void {
    const { width, height } = this._size;
    const margin = 16;
    const across = (width - 2 * margin) / Math.max(bounds.width, 1);
    const whole = Math.min(1, across, (height - 2 * margin) / Math.max(bounds.height, 1));
    this.scale = Math.max(MIN_SCALE, initial && whole < READABLE_SCALE ? Math.min(1, Math.max(across, READABLE_SCALE)) : whole);
    this.x = Math.max(margin, (width - bounds.width * this.scale) / 2);
    if (bounds.width * this.scale > width - 2 * margin) {
      this.x = (width - bounds.width * this.scale) / 2;
    }
    this.y = Math.max(margin, (height - bounds.height * this.scale) / 2);
    this.moved = false;
    this._apply();
  }

  /** Zoom by a factor around a point of the host (its centre by default). */
  zoomBy(factor: number, at?: { x: number; y: number }): void {
    const point = at ?? { x: this._size.width / 2, y: this._size.height / 2 };
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    this.x = point.x - ((point.x - this.x) * scale) / this.scale;
    this.y = point.y - ((point.y - this.y) * scale) / this.scale;
    this.scale = scale;
    this.moved = true;
    this._apply();
  }

  /** Put a box in the middle of the host, at a readable scale. */
  centreOn(box: IBox): void {
    this.scale = Math.max(this.scale, 0.8);
    this.x = this._size.width / 2 - (box.x + box.width / 2) * this.scale;
    this.y = this._size.height / 2 - (box.y + box.height / 2) * this.scale;
    this.moved = true;
    this._apply();
  }

  private _apply(): void {
    this._viewport?.setAttribute('transform', `translate(${this.x.toFixed(1)},${this.y.toFixed(1)}) scale(${this.scale.toFixed(4)})`);
  }

  private _onPointerDown = (event: PointerEvent): void => {
    if (event.button !== 0) {
      return;
    }
    this._drag = { x: this.x, y: this.y, startX: event.clientX, startY: event.clientY, dragging: false };
  };

  private _onPointerMove = (event: PointerEvent): void => {
    const drag = this._drag;
    if (!drag) {
      return;
    }
    const dx = event.clientX - drag.startX;
    const dy = event.clientY - drag.startY;
    if (!drag.dragging && Math.hypot(dx, dy) > DRAG_THRESHOLD) {
      drag.dragging = true;
      this._host.setPointerCapture(event.pointerId);
      this._host.classList.add('nbunify-graph-panning');
    }
    if (drag.dragging) {
      this.x = drag.x + dx;
      this.y = drag.y + dy;
      this.moved = true;
      this._apply();
    }
  };

  private _onPointerUp = (event: PointerEvent): void => {
    if (this._drag?.dragging) {
      this._suppressClick = true;
      this._host.releasePointerCapture(event.pointerId);
      this._host.classList.remove('nbunify-graph-panning');
    }
    this._drag = null;
  };

  private _onClickCapture = (event: MouseEvent): void => {
    if (this._suppressClick) {
      this._suppressClick = false;
      event.stopPropagation();
    }
  };

  private _onWheel = (event: WheelEvent): void => {
    // A plain wheel scrolls the notebook; Ctrl/Cmd+wheel (and a trackpad pinch, which sets ctrlKey) zooms.
    if (!event.ctrlKey && !event.metaKey) {
      return;
    }
    event.preventDefault();
    const rect = this._host.getBoundingClientRect();
    this.zoomBy(Math.exp(-event.deltaY * 0.002), { x: event.clientX - rect.left, y: event.clientY - rect.top });
  };
}
