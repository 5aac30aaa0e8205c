// Runs a set of tasks with dependencies on a fixed number of lanes. `siked experiment` schedules
// its (seed, arm) runs with it: an arm starts as soon as the run it depends on is done, so the
// last seed's arms share the lanes instead of running one after another on one of them.

/** One unit of work; `needs` names tasks that must finish first. */
export interface GraphTask<R> {
  key: string;
  needs: readonly string[];
  run: () => Promise<R>;
}

/**
 * Runs `tasks` with at most `parallel` at once. A free lane takes the first task, in list order,
 * whose needs are all done, so the list's order is the priority. After a failure no new task
 * starts; the running ones finish (their work is on disk) and the first error is thrown.
 * Returns each task's result by key.
 */
export async function runTaskGraph<R>(
  tasks: readonly GraphTask<R>[],
  parallel: number,
): Promise<Map<string, R>> {
  const keys = new Set<string>();
  for (const task of tasks) {
    if (keys.has(task.key)) throw new Error(`task graph: duplicate task ${task.key}`);
    keys.add(task.key);
  }
  for (const task of tasks) {
    const unknown = task.needs.filter((need) => !keys.has(need));
    if (unknown.length > 0) {
      throw new Error(`task graph: ${task.key} needs unknown task(s) ${unknown.join(', ')}`);
    }
  }
  const results = new Map<string, R>();
  const started = new Set<string>();
  let failed = false;
  let firstError: unknown;
  let wakeWaiting: Array<() => void> = [];
  const wakeAll = () => {
    const waiting = wakeWaiting;
    wakeWaiting = [];
    for (const wake of waiting) wake();
  };
  const nextReady = () =>
    tasks.find((task) => !started.has(task.key) && task.needs.every((need) => results.has(need)));

  const lane = async (): Promise<void> => {
    while (!failed && started.size < tasks.length) {
      const task = nextReady();
      if (!task) {
        // Nothing running (every started task has a result) and nothing ready: a cycle.
        if (started.size === results.size) {
          const left = tasks.filter((t) => !started.has(t.key)).map((t) => t.key);
          firstError = new Error(`task graph: ${left.join(', ')} wait on each other (a cycle)`);
          failed = true;
          wakeAll();
          return;
        }
        // Everything left waits on a running task: sleep until one finishes.
        await new Promise<void>((resolve) => wakeWaiting.push(resolve));
        continue;
      }
      started.add(task.key);
      try {
        results.set(task.key, await task.run());
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      } finally {
        wakeAll();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(parallel, tasks.length)) }, lane));
  if (failed) throw firstError;
  return results;
}
