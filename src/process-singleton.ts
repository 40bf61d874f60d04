/**
 * Process-wide state: one value per key for the whole process, kept on globalThis
 * under a registry symbol (`Symbol.for`), so every copy of otelkit in the process
 * shares it: the ESM and CJS builds (an app may load both), or another installed copy.
 */
export function processSingleton<T>(key: string, make: () => T): T {
  const holder = globalThis as unknown as Record<symbol, T | undefined>;
  return (holder[Symbol.for(key)] ??= make());
}
