// Each isolation layer holds on its own: bubblewrap without the runner, the resource limits
// without the audit hook or OS isolation, and the audit hook without OS isolation.
import { execFile } from 'node:child_process';
import { mkdtempSync, chmodSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  PythonSandbox,
  probePythonLayout,
  resolveSandboxOptions,
  type PythonLayout,
} from '../../src/sandbox';
import { workerCommand } from '../../src/sandbox/isolation';
import { workerSpec } from '../../src/sandbox/python-sandbox';
import { PythonWorker } from '../../src/sandbox/worker';
import { createCanary, startListener, type Canary } from './helpers';
import { describeWith } from '../../../../test/helpers/prerequisites';

const execFileAsync = promisify(execFile);
const SECRET = `layer-secret-${process.pid}`;
const OS_GLOBALS =
  "os_globals = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == '_wrap_close'][0].__init__.__globals__\n";

let layout: PythonLayout;
let canary: Canary;
let listener: Awaited<ReturnType<typeof startListener>>;

beforeAll(async () => {
  layout = await probePythonLayout('/usr/bin/python3');
  canary = createCanary();
  listener = await startListener();
});

afterAll(async () => {
  await listener.close();
  canary.remove();
});

/** Runs a plain Python script (no runner, no hook, no limits) in an isolation mode, as nobody. */
async function runIsolated(
  mode: 'bwrap' | 'unshare',
  script: string,
): Promise<Record<string, unknown>> {
  const [executable, ...args] = workerCommand(mode, layout, ['-I', '-c', script]);
  const { uid, gid } = {
    uid: process.getuid?.() === 0 ? 65534 : undefined,
    gid: process.getgid?.() === 0 ? 65534 : undefined,
  };
  const { stdout } = await execFileAsync(executable, args, {
    env: { ...process.env, LAYER_SECRET: SECRET },
    cwd: '/',
    uid,
    gid,
  });
  return JSON.parse(stdout) as Record<string, unknown>;
}

// Tries the things a hostile program would, reporting each outcome instead of failing.
function probeScript(canaryPath: string, port: number): string {
  return `
import json, os, socket
report = {'uid': os.getuid(), 'root': sorted(os.listdir('/')), 'env': dict(os.environ)}
def attempt(name, action):
    try:
        report[name] = 'ok: %r' % (action(),)
    except Exception as error:
        report[name] = '%s: %s' % (type(error).__name__, error)
attempt('read_canary', lambda: open(${JSON.stringify(canaryPath)}).read())
attempt('connect', lambda: socket.create_connection(('127.0.0.1', ${port}), timeout=2))
attempt('write_usr', lambda: open('/usr/pwned', 'w'))
attempt('write_root', lambda: open('/pwned', 'w'))
attempt('proc', lambda: os.listdir('/proc'))
print(json.dumps(report))
`;
}

describeWith('bubblewrap')(
  'layer 1 (OS): bubblewrap alone, running plain unrestricted Python',
  () => {
    test('an empty root, no network, no environment, an unprivileged user', async () => {
      const report = await runIsolated('bwrap', probeScript(canary.path, listener.port));
      expect(report.read_canary).toMatch(/^FileNotFoundError/);
      // bwrap brings up a loopback of the sandbox's own: 127.0.0.1 there is not the host's.
      expect(report.connect).toMatch(/^ConnectionRefusedError: \[Errno 111\]/);
      expect(report.write_usr).toMatch(/^OSError: \[Errno 30\] Read-only file system/);
      expect(report.write_root).toMatch(/^OSError: \[Errno 30\] Read-only file system/);
      expect(report.proc).toMatch(/^FileNotFoundError/);
      expect(JSON.stringify(report.env)).not.toContain(SECRET);
      expect(report.root).toEqual(expect.arrayContaining(['usr', 'dev']));
      expect(report.root).not.toContain('tmp');
      expect(report.root).not.toContain('home');
      expect(report.root).not.toContain('etc');
      if (process.getuid?.() === 0) expect(report.uid).toBe(65534);
      expect(listener.connections()).toBe(0);
      canary.assertUntouched();
    });

    test("the 'unshare' fallback still cuts the network (but leaves the file system visible)", async () => {
      const report = await runIsolated('unshare', probeScript('/nonexistent', listener.port));
      expect(report.connect).toMatch(/Network is unreachable/);
      expect(report.root).toEqual(expect.arrayContaining(['etc', 'tmp'])); // what this mode loses
      expect(listener.connections()).toBe(0);
    });
  },
);

describe('layer 2 (resource limits) alone: no audit hook, no OS isolation', () => {
  let worker: PythonWorker;
  let scratch: string;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'siked-limits-'));
    chmodSync(scratch, 0o777);
    const options = resolveSandboxOptions({ sympy: false, memoryLimitMb: 256 });
    worker = await PythonWorker.start(workerSpec(options, 'none', layout, { auditHook: false }));
    expect(worker.ready.auditHook).toBe(false);
  });

  afterAll(async () => {
    await worker.kill();
    rmSync(scratch, { recursive: true, force: true });
  });

  let nextId = 0;
  const run = (code: string) => worker.run(++nextId, code, 10);

  test('no new processes (RLIMIT_NPROC=0)', async () => {
    expect(worker.ready.limits.nprocEnforced).toBe(true);
    const reply = await run(`${OS_GLOBALS}answer = os_globals['fork']()`);
    expect(reply.error).toMatch(/^BlockingIOError: \[Errno 11\] Resource temporarily unavailable/);
  });

  test('no file contents written (RLIMIT_FSIZE=0)', async () => {
    const target = JSON.stringify(join(scratch, 'written.txt'));
    const reply = await run(
      `${OS_GLOBALS}fd = os_globals['open'](${target}, 0o1101)\nanswer = os_globals['write'](fd, b'data')`,
    );
    expect(reply.error).toMatch(/^OSError: \[Errno 27\] File too large/);
    expect(statSync(join(scratch, 'written.txt')).size).toBe(0);
  });

  test('no more than a few open files (RLIMIT_NOFILE)', async () => {
    const reply = await run(
      `${OS_GLOBALS}answer = [os_globals['open']('/dev/null', 0) for _ in range(64)]`,
    );
    expect(reply.error).toMatch(/Too many open files/);
  });

  test('memory (RLIMIT_AS) ends in a MemoryError marked fatal', async () => {
    const reply = await run('x = bytearray(300 * 1024 * 1024)\nanswer = 1');
    expect(reply).toMatchObject({ answer: null, error: 'memory limit exceeded', fatal: true });
  });
});

describe('layer 3 (audit hook) alone: no OS isolation', () => {
  let sandbox: PythonSandbox;

  beforeAll(async () => {
    sandbox = await PythonSandbox.start({ workers: 1, sympy: false, isolation: 'none' });
  });

  afterAll(async () => {
    await sandbox.close();
  });

  test('file, process and network access through escapes are denied', async () => {
    expect(sandbox.isolation).toBe('none');
    const path = JSON.stringify(canary.path);
    const cases: [string, RegExp][] = [
      [`${OS_GLOBALS}answer = len(os_globals['open'](${path}, 0))`, /sandbox denied open of/],
      [`${OS_GLOBALS}answer = os_globals['system']('true')`, /sandbox denied os\.system/],
      [`${OS_GLOBALS}answer = len(os_globals['listdir']('/'))`, /sandbox denied os\.listdir/],
      [
        `importer = [c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'BuiltinImporter'][0]\ns = importer.load_module('_socket').socket()\ns.connect(('127.0.0.1', ${listener.port}))`,
        /sandbox denied socket\.__new__/,
      ],
    ];
    for (const [code, reason] of cases) {
      const result = await sandbox.run(code);
      expect(result.answer).toBeNull();
      expect(result.error).toMatch(reason);
    }
    expect(listener.connections()).toBe(0);
    expect(readdirSync(canary.dir)).toEqual(['canary.txt']);
    canary.assertUntouched();
  });
});

describe("isolation: 'auto' falls back with a warning that says what is lost", () => {
  test('without bubblewrap: unshare, and the host file system becomes visible', async () => {
    const warnings: string[] = [];
    const sandbox = await PythonSandbox.start(
      { workers: 1, sympy: false, bwrapPath: '/nonexistent/bwrap' },
      { onWarning: (message) => warnings.push(message) },
    );
    try {
      expect(sandbox.isolation).toBe('unshare');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(
        /isolation 'unshare' in use because bwrap: .*nonexistent\/bwrap/s,
      );
      expect(warnings[0]).toMatch(/Lost: the private file system view/);
      expect(await sandbox.run('answer = 6 * 7')).toMatchObject({ answer: 42, error: null });
    } finally {
      await sandbox.close();
    }
  });

  test('without bubblewrap and unshare: an error that says how to opt out, never a silent none', async () => {
    const failure = await PythonSandbox.start({
      workers: 1,
      sympy: false,
      bwrapPath: '/nonexistent/bwrap',
      unsharePath: '/nonexistent/unshare',
    }).catch((error: Error) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/no usable isolation mode/);
    expect((failure as Error).message).toMatch(/bwrap: .*\n.*unshare: .*/s);
    expect((failure as Error).message).toContain('--sandbox-isolation none');
  });

  test("isolation 'none' asked for by name runs, with a warning on every start", async () => {
    for (let run = 0; run < 2; run += 1) {
      const warnings: string[] = [];
      const sandbox = await PythonSandbox.start(
        { workers: 1, sympy: false, isolation: 'none' },
        { onWarning: (message) => warnings.push(message) },
      );
      try {
        expect(sandbox.isolation).toBe('none');
        expect(warnings[0]).toMatch(/isolation 'none' as asked\. Lost: all OS isolation/);
      } finally {
        await sandbox.close();
      }
    }
  });

  test('an explicitly requested mode that does not work is an error, not a fallback', async () => {
    await expect(
      PythonSandbox.start({
        workers: 1,
        sympy: false,
        isolation: 'bwrap',
        bwrapPath: '/nonexistent/bwrap',
      }),
    ).rejects.toThrow(/no usable isolation mode\.\nbwrap: Sandbox worker failed to start/);
  });
});
