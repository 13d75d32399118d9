/** Items collected into one call of `run`, each caller awaiting its own item's outcome. */
export interface Batcher<In, Out> {
  /** Resolves with the item's result once its batch ran; rejects with its batch's error. */
  add(item: In): Promise<Out>;
}

export interface BatcherOptions {
  /** A batch this full runs at once. */
  maxItems: number;
  /** How long the first item of a batch waits for others; 0: until the event loop has read what already arrived (setImmediate). */
  windowMs: number;
}

interface Waiting<In, Out> {
  item: In;
  resolve: (out: Out) => void;
  reject: (error: Error) => void;
}

/**
 * Group commit: the items added while a batch is open (at most `windowMs`, or
 * until `maxItems` came) go to one call of `run`, which answers each, in order.
 * A failed or thrown `run` fails exactly the items of its batch; the next batch
 * starts fresh. Batches run side by side: one in flight never holds the next back.
 */
export function createBatcher<In, Out>(run: (items: In[]) => Promise<Out[]>, options: BatcherOptions): Batcher<In, Out> {
  let open: Array<Waiting<In, Out>> = [];
  let closing: { cancel(): void } | null = null;

  const flush = () => {
    closing?.cancel();
    closing = null;
    const batch = open;
    open = [];
    const fail = (error: unknown) => {
      for (const waiting of batch) waiting.reject(error instanceof Error ? error : new Error(String(error)));
    };
    Promise.resolve()
      .then(() => run(batch.map((waiting) => waiting.item)))
      .then((results) => {
        if (results.length !== batch.length) return fail(new Error(`the batch answered ${results.length} of ${batch.length} items`));
        batch.forEach((waiting, index) => waiting.resolve(results[index]!));
      }, fail);
  };

  return {
    add(item) {
      return new Promise<Out>((resolve, reject) => {
        open.push({ item, resolve, reject });
        if (open.length >= options.maxItems) flush();
        else if (open.length === 1) closing = schedule(flush, options.windowMs);
      });
    },
  };
}

function schedule(callback: () => void, ms: number): { cancel(): void } {
  if (ms <= 0) {
    const immediate = setImmediate(callback);
    return { cancel: () => clearImmediate(immediate) };
  }
  const timer = setTimeout(callback, ms);
  return { cancel: () => clearTimeout(timer) };
}
