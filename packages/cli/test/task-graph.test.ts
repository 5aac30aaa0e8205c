// The experiment's scheduler: dependencies respected, lanes kept busy, failures stop new work.
import { runTaskGraph, type GraphTask } from '../src/task-graph';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A task that logs its start and end and takes `ms`. */
function timed(key: string, needs: string[], ms: number, log: string[]): GraphTask<string> {
  return {
    key,
    needs,
    run: async () => {
      log.push(`start ${key}`);
      await sleep(ms);
      log.push(`end ${key}`);
      return key.toUpperCase();
    },
  };
}

test('a task starts only after its needs, and a free lane takes the next ready task', async () => {
  const log: string[] = [];
  // Two seeds, each a root run then two dependent arms.
  const tasks = [
    timed('s0', [], 20, log),
    timed('s0-a', ['s0'], 20, log),
    timed('s0-b', ['s0'], 20, log),
    timed('s1', [], 120, log),
    timed('s1-a', ['s1'], 60, log),
    timed('s1-b', ['s1'], 60, log),
  ];
  const results = await runTaskGraph(tasks, 2);
  expect([...results.entries()].sort()).toEqual(
    tasks.map((t) => [t.key, t.key.toUpperCase()]).sort(),
  );
  for (const task of tasks) {
    for (const need of task.needs) {
      expect(log.indexOf(`end ${need}`)).toBeLessThan(log.indexOf(`start ${task.key}`));
    }
  }
  // s0 and s1 start together; when s0 ends its arms take its lane (s1 still running).
  expect(log.slice(0, 2)).toEqual(['start s0', 'start s1']);
  expect(log.slice(2, 4)).toEqual(['end s0', 'start s0-a']);
  // Seed 0's lane runs out of work and waits; when s1 ends, s1's two arms run side by side.
  const s1aStart = log.indexOf('start s1-a');
  const s1bStart = log.indexOf('start s1-b');
  expect(Math.max(s1aStart, s1bStart)).toBeLessThan(
    Math.min(log.indexOf('end s1-a'), log.indexOf('end s1-b')),
  );
});

test('with one lane the tasks run in list order', async () => {
  const log: string[] = [];
  await runTaskGraph(
    [timed('a', [], 5, log), timed('b', ['a'], 5, log), timed('c', [], 5, log)],
    1,
  );
  expect(log.filter((line) => line.startsWith('start'))).toEqual(['start a', 'start b', 'start c']);
});

test('after a failure no new task starts, running ones finish, and the error is thrown', async () => {
  const log: string[] = [];
  const tasks: GraphTask<string>[] = [
    {
      key: 'bad',
      needs: [],
      run: async () => {
        await sleep(5);
        throw new Error('arm failed');
      },
    },
    timed('slow', [], 40, log),
    timed('after-bad', ['bad'], 5, log),
    timed('later', [], 5, log),
  ];
  await expect(runTaskGraph(tasks, 2)).rejects.toThrow('arm failed');
  expect(log).toEqual(['start slow', 'end slow']);
});

test('bad graphs are refused with the task named', async () => {
  const noop = async () => 'x';
  await expect(runTaskGraph([{ key: 'a', needs: ['missing'], run: noop }], 2)).rejects.toThrow(
    'task graph: a needs unknown task(s) missing',
  );
  await expect(
    runTaskGraph(
      [
        { key: 'a', needs: [], run: noop },
        { key: 'a', needs: [], run: noop },
      ],
      2,
    ),
  ).rejects.toThrow('duplicate task a');
  await expect(
    runTaskGraph(
      [
        { key: 'a', needs: ['b'], run: noop },
        { key: 'b', needs: ['a'], run: noop },
      ],
      2,
    ),
  ).rejects.toThrow('a, b wait on each other (a cycle)');
});
