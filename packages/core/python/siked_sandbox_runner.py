"""SIKeD program-of-thought sandbox worker (one CPython process of the PythonSandbox pool).

The Node side (packages/core/src/sandbox) starts this file as `python3 -I -B -c <this source>
<config json>`, usually inside bubblewrap. Requests arrive as JSON lines on stdin (fd 0); every
answer goes out as one JSON line on fd 3, a pipe of its own, so nothing a program prints can be
mistaken for an answer or reach the host's stdout (fd 1 is /dev/null, fd 2 is kept for the
runner's own crash diagnostics).

Setup happens in this order, and the order is the point:
  1. import what programs may use (math, fractions, decimal, itertools, statistics, sympy) and
     warm sympy up, so that its lazy internal imports happen now, while the file system is open;
  2. wipe the environment, apply resource limits (memory, file size, processes, open files, core);
  3. install a PEP 578 audit hook. Hooks cannot be removed, so from here on every audited
     operation (open, os.*, subprocess, socket, ctypes, imports, frame access...) is checked
     against an allow-list and denied unless listed. Nothing is ever re-enabled.
Each program then runs in a fresh globals dict with a fresh copy of restricted builtins, a fresh
decimal context and read-only views of the allowed modules.
"""

import builtins
import decimal
import fractions
import gc
import io
import itertools
import json
import math
import numbers
import os
import resource
import signal
import statistics
import sys
import types

# Top-level modules a program may import (ECOSYSTEM.md / issue 4: the PoT allow-list).
PROGRAM_MODULES = frozenset(['math', 'fractions', 'decimal', 'itertools', 'statistics', 'sympy'])
# Packages whose own lazy submodule imports are tolerated after the hook (read-only, from source).
LAZY_IMPORT_PACKAGES = ('sympy', 'mpmath')
# The module name given to program code; types and functions it defines carry it.
PROGRAM_MODULE_NAME = '__program__'
# Reads of these function attributes are audited by CPython; sympy needs them and they are harmless
# (reading a code object is not running one). Frame attributes (tb_frame, gi_frame...) stay denied
# so a program cannot walk up into the runner's frames.
READABLE_AUDITED_ATTRIBUTES = frozenset(['__code__', '__defaults__', '__kwdefaults__'])
# Audited events that are harmless for a program to raise.
ALWAYS_ALLOWED_EVENTS = frozenset(['compile', 'exec', 'builtins.id'])


class OutputLimitExceeded(Exception):
    """Raised inside the program when it prints more than the configured number of characters."""


class CappedOutput:
    """A text stream that keeps the first `limit` characters a program prints, then stops it."""

    def __init__(self, limit):
        self._limit = limit
        self._parts = []
        self._size = 0
        self.exceeded = False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError('write() argument must be str, not ' + type(text).__name__)
        room = self._limit - self._size
        if len(text) > room:
            self._parts.append(text[: max(room, 0)])
            self._size = self._limit
            self.exceeded = True
            raise OutputLimitExceeded('output limit exceeded (%d characters)' % self._limit)
        self._parts.append(text)
        self._size += len(text)
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False

    def getvalue(self):
        return ''.join(self._parts)


class NotAnAnswer(Exception):
    """The program ran but left no usable numeric answer."""


def send(message):
    """Writes one JSON line to the answer pipe (fd 3); os.write on a pipe is not audited."""
    data = (json.dumps(message, allow_nan=False) + '\n').encode('utf-8')
    while data:
        written = os.write(3, data)
        data = data[written:]


def load_sympy(enabled):
    """Imports sympy and runs a representative workload so its lazy imports happen before the hook."""
    if not enabled:
        return None, 'sympy disabled by configuration'
    try:
        import sympy
    except Exception as error:  # ImportError, or a broken installation
        return None, '%s: %s' % (type(error).__name__, error)
    x, y = sympy.symbols('x y')
    sympy.solve(sympy.Eq(3 * x + 2, 11), x)
    sympy.solve([sympy.Eq(x + y, 10), sympy.Eq(x - y, 2)], [x, y])
    sympy.solve(x**2 - 4, x)
    sympy.simplify((x**2 - 1) / (x - 1))
    sympy.factor(x**2 + 2 * x + 1)
    sympy.expand((x + 1) ** 3)
    sympy.sympify('2*x + 3/4')
    sympy.nsimplify(0.75)
    sympy.integrate(x**2, (x, 0, 3))
    sympy.diff(x**3, x)
    sympy.nsolve(x**3 - 2, x, 1)
    sympy.Matrix([[1, 2], [3, 4]]).det()
    sympy.N(sympy.sqrt(2) * sympy.pi)
    sympy.Rational(3, 4) + sympy.Float(0.5)
    float(sympy.ceiling(sympy.Rational(7, 2)) + sympy.floor(2.5) + sympy.Abs(-3))
    sympy.lcm(12, 18), sympy.gcd(12, 18), sympy.isprime(97), sympy.factorint(360)
    sympy.binomial(5, 2), sympy.factorial(5), sympy.log(8, 2), sympy.summation(x, (x, 1, 10))
    return sympy, None


def known_module_names():
    """Names of every importable top-level module, so 'import js' can say 'no such module'."""
    import pkgutil

    names = set(sys.builtin_module_names)
    names.update(module.name for module in pkgutil.iter_modules())
    names.update(name.split('.')[0] for name in sys.modules)
    return frozenset(names)


def package_dirs(names):
    """Real directories of installed packages, for the read-only lazy-import exception."""
    dirs = []
    for name in names:
        module = sys.modules.get(name)
        for path in getattr(module, '__path__', None) or []:
            dirs.append(os.path.realpath(path) + os.sep)
    return tuple(dirs)


def apply_limits(config):
    """Applies the resource limits (layer 2). Returns which of them the kernel will enforce."""
    memory = config['memoryLimitBytes']
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    # No regular file may grow: writes fail with EFBIG (Python ignores SIGXFSZ).
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # fds 0-3 are the protocol; a few spare for sympy's lazy module reads.
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    # No new processes. The kernel does not apply RLIMIT_NPROC to uid 0, which is why the Node side
    # starts workers as an unprivileged user when it runs as root; we report whether it holds.
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))
    return {'nprocEnforced': os.getuid() != 0, 'uid': os.getuid()}


def cpu_seconds_used():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def make_audit_hook(lazy_dirs):
    """The layer-3 audit hook: an allow-list of events; everything else raises PermissionError."""
    rlimit_cpu = resource.RLIMIT_CPU
    lazy_prefixes = tuple(package + '.' for package in LAZY_IMPORT_PACKAGES)
    type_dict = type.__dict__['__dict__']
    realpath = os.path.realpath
    # Set by the runner before each program; only main() and this closure hold it.
    state = {'cpu_ceiling': 0.0, 'namespace': None}

    def under_lazy_dirs(path):
        if isinstance(path, bytes):
            path = path.decode('utf-8', 'replace')
        return isinstance(path, str) and realpath(path).startswith(lazy_dirs)

    def deny(event, detail):
        raise PermissionError('sandbox denied %s%s' % (event, detail))

    def hook(event, args):
        if event in ALWAYS_ALLOWED_EVENTS:
            return
        if event == 'import':
            name = args[0]
            if isinstance(name, str) and name.startswith(lazy_prefixes):
                return
            deny('import of ', repr(name))
        if event == 'open':
            path, mode, flags = args[0], args[1], args[2]
            read_only = (mode in (None, 'r', 'rb')) and (flags & 3) == os.O_RDONLY
            if read_only and under_lazy_dirs(path):
                return
            deny('open of ', repr(path))
        if event in ('os.listdir', 'os.scandir'):
            if under_lazy_dirs(args[0]):
                return
            deny(event, ' of %r' % (args[0],))
        if event in ('object.__setattr__', 'object.__delattr__'):
            target = args[0]
            if isinstance(target, type) and type_dict.__get__(target).get('__module__') == PROGRAM_MODULE_NAME:
                return
            if isinstance(target, types.FunctionType) and target.__globals__ is state['namespace']:
                return
            deny(event, ' on %s' % type(target).__name__)
        if event == 'object.__getattr__':
            if args[1] in READABLE_AUDITED_ATTRIBUTES:
                return
            deny('access to attribute ', repr(args[1]))
        if event == 'resource.setrlimit':
            # Only the runner's own per-program CPU ceiling, which can only be lowered to it.
            if args[0] == rlimit_cpu and args[1][0] <= state['cpu_ceiling']:
                return
            deny(event, '')
        deny(event, '')

    return hook, state


def make_importer_factory(real_import, allowed, known, sympy_error):
    """Makes the program's __import__: allowed top-level modules only, as read-only views.

    A new importer (and new views) per program: nothing a program could tamper with through a
    closure cell or a view's internals is shared with the next program.
    """

    def new_importer():
        def program_import(name, globals=None, locals=None, fromlist=(), level=0):
            if level != 0:
                raise ImportError('relative imports are not available in the sandbox')
            top = name.partition('.')[0]
            if top not in allowed:
                if top == 'sympy' and sympy_error is not None:
                    raise ImportError('sympy not available: ' + sympy_error)
                if top in known:
                    raise ImportError('forbidden import: ' + top)
                raise ModuleNotFoundError('no such module: ' + top)
            module = real_import(name, globals, locals, fromlist, 0)
            if fromlist:
                module = sys.modules[name]
            return ReadOnlyModule(module, allowed)

        return program_import

    return new_importer


class ReadOnlyModule(types.ModuleType):
    """A view of a module whose attributes a program can read but not replace.

    Programs in one worker share module objects; without this, `math.pi = 3` would change the
    answer of every later program in the same worker. Submodules of allowed packages come back
    as views too; modules outside the allow-list (e.g. `fractions.sys`) are not handed out.
    """

    def __init__(self, module, allowed):
        super().__init__(module.__name__, getattr(module, '__doc__', None))
        object.__setattr__(self, '_ReadOnlyModule__module', module)
        object.__setattr__(self, '_ReadOnlyModule__allowed', allowed)

    def __getattr__(self, attribute):
        value = getattr(self.__module, attribute)
        if isinstance(value, types.ModuleType):
            if value.__name__.partition('.')[0] not in self.__allowed:
                raise AttributeError('%s.%s is not available in the sandbox' % (self.__name__, attribute))
            return ReadOnlyModule(value, self.__allowed)
        return value

    def __dir__(self):
        return dir(self.__module)

    def __setattr__(self, attribute, value):
        raise AttributeError('module %s is read-only in the sandbox' % self.__name__)

    def __delattr__(self, attribute):
        raise AttributeError('module %s is read-only in the sandbox' % self.__name__)


def denied_builtin(name):
    def refuse(*args, **kwargs):
        raise PermissionError('sandbox denied %s()' % name)

    refuse.__name__ = name
    return refuse


def make_program_builtins(program_import):
    """The builtins of one program (built afresh for each, so changes do not persist)."""
    safe = dict(builtins.__dict__)
    for name in ('open', 'input', 'breakpoint', 'exit', 'quit', 'help', 'copyright', 'credits', 'license'):
        safe[name] = denied_builtin(name)
    safe['__import__'] = program_import
    return safe


def to_number(value, label, sympy):
    """Converts an answer to a finite float, or explains why it is not a numeric answer."""
    if isinstance(value, bool):
        raise NotAnAnswer('%s is a bool (%r), not a number' % (label, value))
    if isinstance(value, (int, float, fractions.Fraction, decimal.Decimal)):
        try:
            number = float(value)
        except OverflowError:
            raise NotAnAnswer('%s is too large for a float' % label) from None
    elif sympy is not None and isinstance(value, sympy.Basic):
        if not getattr(value, 'is_number', False):
            raise NotAnAnswer('%s is a symbolic sympy expression (%s), not a number' % (label, short(value)))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise NotAnAnswer('%s is not a real number (%s)' % (label, short(value))) from None
    elif isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real):
        raise NotAnAnswer('%s is a complex number (%s)' % (label, short(value)))
    else:
        raise NotAnAnswer('%s is a %s (%s), not a number' % (label, type(value).__name__, short(value)))
    if not math.isfinite(number):
        raise NotAnAnswer('%s is not finite (%s)' % (label, number))
    return number


def short(value):
    try:
        text = repr(value)
    except Exception:
        text = '<unprintable>'
    return text if len(text) <= 80 else text[:77] + '...'


def answer_source(namespace):
    """Where the answer comes from: ('value', name, value) or ('call', name, function).

    The paper's convention: `answer`, else `ans`, else the return value of solution()/solver().
    """
    for name in ('answer', 'ans'):
        if name in namespace:
            return 'value', name, namespace[name]
    for name in ('solution', 'solver'):
        function = namespace.get(name)
        if callable(function):
            return 'call', name, function
    raise NotAnAnswer("no answer: set 'answer' (or 'ans'), or define solution()/solver()")


def program_line(error):
    """The line of the program the error passed through (the frame right below the runner's).

    Only tb_lineno is used: reading tb_frame is denied by the audit hook, for the runner too.
    """
    traceback = error.__traceback__
    if traceback is None or traceback.tb_next is None:
        return None
    return traceback.tb_next.tb_lineno


def describe(error):
    """A one-line reason for a failed program, e.g. "NameError: name 'x' is not defined (line 3)"."""
    if isinstance(error, SyntaxError):
        return 'SyntaxError: %s (line %s)' % (error.msg, error.lineno)
    try:
        message = str(error)
    except Exception:
        message = '<unprintable message>'
    if len(message) > 300:
        message = message[:297] + '...'
    text = type(error).__name__ + (': ' + message if message else '')
    line = program_line(error)
    return text + (' (line %d)' % line if line is not None else '')


def main():
    config = json.loads(sys.argv[1])
    output_limit = config['maxOutputChars']

    sympy, sympy_error = load_sympy(config['sympy'])
    known = known_module_names()
    allowed = PROGRAM_MODULES if sympy is not None else PROGRAM_MODULES - {'sympy'}
    lazy_dirs = package_dirs(LAZY_IMPORT_PACKAGES) or ('\0',)

    # Lazy sympy imports after the hook must compile from source: marshal.loads of .pyc files
    # would let a program build arbitrary code objects, so it stays denied.
    sys.pycache_prefix = '/nonexistent-siked-pycache'
    sys.dont_write_bytecode = True

    os.environ.clear()
    requests = sys.stdin.buffer
    sys.stdin = io.StringIO()  # stdin belongs to the protocol; programs see an empty one
    limits = apply_limits(config)
    importer = make_importer_factory(builtins.__import__, allowed, known, sympy_error)
    default_context = decimal.Context()
    sys.stdout = sys.stderr = sys.__stderr__
    watched = watched_state(sys.modules[__name__], sympy)
    gc.collect()
    gc.freeze()  # setup objects are never collected; keeps per-program GC cheap

    hook, hook_state = make_audit_hook(lazy_dirs)
    if config['auditHook']:
        sys.addaudithook(hook)

    # Everything the loop needs is bound here, as locals of this frame, which programs cannot reach
    # (frame access is denied): replacing the module-level names later changes nothing below.
    send_reply, run, tampered_with = send, run_program, changed_entries
    readline, loads, reset_signals = requests.readline, json.loads, reset_signal_state
    setrlimit, rlimit_cpu, unlimited, cpu_used = resource.setrlimit, resource.RLIMIT_CPU, resource.RLIM_INFINITY, cpu_seconds_used

    send_reply({'ready': True, 'pid': os.getpid(), 'sympy': sympy is not None, 'sympyError': sympy_error,
                'limits': limits, 'auditHook': config['auditHook']})

    cpu_seconds = config['cpuSecondsPerProgram']
    while True:
        line = readline()
        if not line:
            return
        request = loads(line)
        ceiling = int(cpu_used() + request.get('cpuSeconds', cpu_seconds)) + 1
        hook_state['cpu_ceiling'] = ceiling
        setrlimit(rlimit_cpu, (ceiling, unlimited))
        namespace = {'__builtins__': make_program_builtins(importer()), '__name__': PROGRAM_MODULE_NAME}
        hook_state['namespace'] = namespace
        reply = run(request, namespace, default_context, output_limit, sympy)
        hook_state['namespace'] = None
        changed = tampered_with(watched)
        reset_signals()
        if changed:
            # The program reached into the interpreter (through an escape) and changed shared
            # state: its own answer is void and the worker is replaced before anyone else runs.
            reply.update(answer=None, fatal=True, error='program modified the sandbox interpreter (%s)' % changed)
        send_reply(reply)


def watched_state(runner_module, sympy):
    """Identity snapshots of the module dicts the runner and the allowed modules rely on.

    A program cannot reach these by import, but escapes through object.__subclasses__() and
    function __globals__ can; a change is detected after the program and retires the worker.
    sympy's own hundreds of modules are not watched (too many to check per program).
    """
    modules = [runner_module, builtins, sys, os, io, gc, json, json.encoder, resource, types, numbers,
               math, fractions, decimal, itertools, statistics]
    watched = [(module.__name__, module.__dict__, dict(module.__dict__)) for module in modules]
    watched.append(('gc.callbacks', None, list(gc.callbacks)))
    return watched


def changed_entries(watched):
    """Names whose binding changed since the snapshot (compared by identity), or ''."""
    changes = []
    for name, live, snapshot in watched:
        if live is None:
            if gc.callbacks != snapshot:
                changes.append(name)
            continue
        if len(live) != len(snapshot) or any(live.get(key, changes) is not value for key, value in snapshot.items()):
            changes.append(name)
    return ', '.join(changes)


def reset_signal_state():
    """Cancels timers and signal handlers a program may have set through an escape."""
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    signal.setitimer(signal.ITIMER_PROF, 0)
    for number in (signal.SIGALRM, signal.SIGVTALRM, signal.SIGPROF, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, signal.SIG_DFL)


def run_program(request, namespace, default_context, output_limit, sympy):
    """Runs one program in its fresh namespace and returns the answer message for the Node side."""
    output = CappedOutput(output_limit)
    sys.stdout = sys.stderr = output
    decimal.setcontext(default_context.copy())
    reply = {'id': request['id'], 'answer': None, 'error': None, 'fatal': False}
    try:
        code = compile(request['code'], '<program>', 'exec')
        exec(code, namespace)
        kind, name, value = answer_source(namespace)
        if kind == 'call':
            value = value()
            if value is None:
                raise NotAnAnswer('%s() returned None' % name)
            name += '()'
        reply['answer'] = to_number(value, name, sympy)
    except NotAnAnswer as error:
        reply['error'] = str(error)
    except OutputLimitExceeded as error:
        reply['error'] = str(error)
    except MemoryError:
        reply['error'] = 'memory limit exceeded'
        reply['fatal'] = True  # the heap may be fragmented or half-built: replace this worker
    except SystemExit:
        reply['error'] = 'program called exit()'
    except RecursionError as error:
        reply['error'] = describe(error)
    except BaseException as error:  # KeyboardInterrupt included: nothing escapes the runner
        reply['error'] = describe(error)
    if output.exceeded and reply['error'] is None:
        reply['error'] = 'output limit exceeded (%d characters)' % output_limit
    sys.stdout = sys.stderr = sys.__stderr__
    namespace.clear()
    reply['output'] = output.getvalue()
    return reply


if __name__ == '__main__':
    main()
