// Runs ELK off the main thread: one shared Web Worker made from elk-worker.min.js's text (a Blob URL); main-thread ELK as a fallback.

import type { ELK, ElkNode } from 'elkjs/lib/elk-api';

import { LAYOUT_OPTIONS } from './layout';

/** Where layouts run: in the Web Worker, or on the page's thread when no worker could start. */
export type LayoutEngine = 'worker' | 'main-thread';

export interface ILayoutRun {
  result: ElkNode;
  /** Time spent waiting for ELK, in ms. */
  ms: number;
  engine: LayoutEngine;
  /** Why the worker is not used, when it is not. */
  fallbackReason?: string;
}

interface IEngine {
  elk: ELK;
  engine: LayoutEngine;
  /** Rejects when the worker dies, so that no layout waits forever. */
  failed: Promise<never>;
  fallbackReason?: string;
}

/** How long the worker may take to load ELK and answer a first tiny layout. */
const START_TIMEOUT_MS = 30_000;

let shared: Promise<IEngine> | null = null;

type ElkConstructor = new (args?: { workerFactory?: (url?: string) => Worker }) => ELK;

function constructorOf(module: unknown): ElkConstructor {
  const candidate = module as { default?: unknown };
  return (candidate.default ?? module) as ElkConstructor;
}

function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms));
}

/**
 * A residual chain of WARM_UP_NODES boxes laid out with the renderer's options. Big enough that the browser
 * compiles ELK's hot paths before the first real graph: a first layout of a 267-item graph took 510-620 ms
 * after a 16-node warm-up and about half that once warm.
 */
const WARM_UP_NODES = 240;

function warmUpGraph(): ElkNode {
  const children = Array.from({ length: WARM_UP_NODES }, (_, index) => ({ id: `w${index}`, width: 80 + (index % 3) * 30, height: 38 }));
  const edges = children.slice(1).map((child, index) => ({ id: `c${index}`, sources: [`w${index}`], targets: [child.id] }));
  for (let index = 0; index + 4 < children.length; index += 4) {
    edges.push({ id: `s${index}`, sources: [`w${index}`], targets: [`w${index + 4}`] });
  }
  return { id: 'warm-up', layoutOptions: LAYOUT_OPTIONS, children, edges };
}

async function startWorker(): Promise<IEngine> {
  const [api, source] = await Promise.all([import('elkjs/lib/elk-api'), import('elkjs/lib/elk-worker.min.js?raw')]);
  const url = URL.createObjectURL(new Blob([source.default], { type: 'text/javascript' }));
  let reportFailure: (error: Error) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    reportFailure = reject;
  });
  failed.catch(() => undefined); // observed by each layout's race; never an unhandled rejection
  const Elk = constructorOf(api);
  const elk = new Elk({
    workerFactory: () => {
      const worker = new Worker(url, { name: 'nbunify-elk' });
      worker.addEventListener('error', event => reportFailure(new Error(`the ELK worker failed: ${event.message || 'it could not start'}`)));
      return worker;
    }
  });
  // A first layout proves the worker runs, and runs the layered algorithm once (its code then is compiled)
  // before the first real graph.
  await Promise.race([
    elk.layout(warmUpGraph()),
    failed,
    timeout(START_TIMEOUT_MS, 'starting the ELK worker')
  ]);
  return { elk, engine: 'worker', failed };
}

async function startMainThread(reason: string): Promise<IEngine> {
  const bundled = await import('elkjs/lib/elk.bundled.js');
  const Elk = constructorOf(bundled);
  return { elk: new Elk(), engine: 'main-thread', failed: new Promise<never>(() => undefined), fallbackReason: reason };
}

async function start(): Promise<IEngine> {
  if (typeof Worker === 'undefined') {
    return startMainThread('this browser has no Web Workers');
  }
  try {
    return await startWorker();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.warn(`nbunify: graph layout runs on the main thread: ${reason}`);
    return startMainThread(reason);
  }
}

/** Start ELK (once per page): loads elk in its worker now, so the first graph does not wait for it. */
export function warmUpElk(): Promise<LayoutEngine> {
  if (shared === null) {
    shared = start();
  }
  return shared.then(engine => engine.engine);
}

/** Lay a graph out with the shared ELK. */
export async function runLayout(graph: ElkNode): Promise<ILayoutRun> {
  await warmUpElk();
  const engine = await shared!;
  const start = performance.now();
  const result = await Promise.race([engine.elk.layout(graph), engine.failed]);
  return {
    result,
    ms: performance.now() - start,
    engine: engine.engine,
    fallbackReason: engine.fallbackReason
  };
}
