// Layer 1 of the sandbox: the operating-system isolation around each worker process.
import { execFile } from 'node:child_process';
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { promisify } from 'node:util';
import type { IsolationMode } from './options';

const execFileAsync = promisify(execFile);

/** Where an interpreter keeps what the sandbox must bind into an otherwise empty root. */
export interface PythonLayout {
  /** The interpreter binary, symlinks resolved. */
  executable: string;
  /** The standard library (holds lib-dynload, the C extension modules). */
  stdlib: string;
  /** Directories of the shared libraries the interpreter and its extension modules load. */
  libraryDirs: string[];
  /** Package directories of sympy and mpmath (which sympy needs); absent when not installed. */
  packageDirs: string[];
}

// Runs in the host interpreter (not sandboxed: it only reports paths, it runs no user code). The
// shared libraries are those mapped after importing the C-backed modules programs may use (sympy
// and mpmath are pure Python), plus the directories of the ELF loader's links (/lib64 on x86-64).
const LAYOUT_PROBE = `
import json, os, sys, sysconfig, importlib.util
import decimal, fractions, statistics, math, itertools, resource, pkgutil
def package_dir(name):
    spec = importlib.util.find_spec(name)
    return [os.path.realpath(p) for p in (spec.submodule_search_locations or [])] if spec else []
libraries = set()
with open('/proc/self/maps') as maps:
    for line in maps:
        path = line.split()[-1]
        if '.so' in path and path.startswith('/'):
            libraries.add(os.path.dirname(os.path.realpath(path)))
stdlib = os.path.realpath(sysconfig.get_paths()['stdlib'])
loader_dirs = [os.path.realpath(d) for d in ('/lib64', '/usr/lib64') if os.path.isdir(d)]
print(json.dumps({
    'executable': os.path.realpath(sys.executable),
    'stdlib': stdlib,
    'libraryDirs': sorted(d for d in libraries.union(loader_dirs) if not d.startswith(stdlib)),
    'packageDirs': package_dir('sympy') + package_dir('mpmath'),
}))
`;

/**
 * Asks an interpreter where its standard library, shared libraries and sympy live.
 * @throws Error naming the interpreter when it cannot be run.
 */
export async function probePythonLayout(pythonPath: string): Promise<PythonLayout> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(pythonPath, ['-I', '-c', LAYOUT_PROBE], {
      env: {},
      timeout: 30_000,
    }));
  } catch (error) {
    throw new Error(
      `Cannot run the sandbox interpreter ${pythonPath}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return JSON.parse(stdout) as PythonLayout;
}

/**
 * The modes `isolation: 'auto'` tries, strongest first. Never `none`: running programs without
 * any OS isolation must be asked for by name.
 */
export const ISOLATION_ORDER: readonly IsolationMode[] = ['bwrap', 'unshare'];

/** What a user gives up when the sandbox has to fall back to a weaker mode (for warnings/docs). */
export const ISOLATION_LOSSES: Readonly<Record<IsolationMode, string>> = {
  bwrap: 'nothing: empty root file system, no network, own PID/IPC namespaces',
  unshare:
    'the private file system view (the host file system stays visible to the worker; only the ' +
    'audit hook and RLIMIT_FSIZE=0 keep programs from reading or writing it); the network is still cut',
  none:
    'all OS isolation: network, file system and processes are then guarded only by the in-Python ' +
    'audit hook and the resource limits (a CPython memory-safety bug could bypass the hook)',
};

// Merged-/usr systems link these into /usr; the sandbox root needs the same links for ld.so.
const ROOT_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

/**
 * The bubblewrap arguments for an empty, read-only root that holds only the interpreter,
 * standard library, shared libraries and sympy/mpmath. Every namespace is unshared
 * (network included, so localhost is unreachable), the worker dies with its parent, runs in a
 * new session (no TIOCSTI into the host terminal) and starts with an empty environment.
 */
export function bubblewrapArguments(layout: PythonLayout): string[] {
  const args = ['--unshare-all', '--die-with-parent', '--new-session', '--clearenv'];
  args.push('--cap-drop', 'ALL', '--tmpfs', '/');
  for (const link of ROOT_LINKS) {
    if (!existsSync(link)) continue;
    if (lstatSync(link).isSymbolicLink()) args.push('--symlink', readlinkSync(link), link);
  }
  const binds = [layout.executable, layout.stdlib, ...layout.libraryDirs, ...layout.packageDirs];
  for (const path of new Set(binds)) args.push('--ro-bind', path, path);
  // The tmpfs root is private but would be writable: make it read-only once it is populated.
  args.push('--dev', '/dev', '--remount-ro', '/', '--chdir', '/');
  return args;
}

/**
 * The full command line that starts one worker in the given isolation mode.
 * @param pythonArguments arguments of the interpreter (after the executable).
 * @param tools where bubblewrap and unshare are.
 */
export function workerCommand(
  mode: IsolationMode,
  layout: PythonLayout,
  pythonArguments: readonly string[],
  tools: { bwrapPath: string; unsharePath: string } = {
    bwrapPath: 'bwrap',
    unsharePath: 'unshare',
  },
): string[] {
  const python = [layout.executable, ...pythonArguments];
  switch (mode) {
    case 'bwrap':
      return [tools.bwrapPath, ...bubblewrapArguments(layout), '--', ...python];
    case 'unshare':
      // A new user namespace makes the network namespace available without root; the worker
      // keeps no capabilities across exec because its uid is unmapped there.
      return [tools.unsharePath, '--user', '--net', '--ipc', '--', ...python];
    case 'none':
      return python;
  }
}
