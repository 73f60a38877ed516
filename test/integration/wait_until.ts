// Polling for a condition another process brings about (a server up, a file written).

/** Checks cond every 25 ms until it holds or ms pass; answers whether it held. */
export async function waitFor(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return cond();
}
