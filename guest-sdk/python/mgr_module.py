"""ceph-mgr's ``mgr_module`` API for wasmgr modules written in Python.

A wasmgr Python module is a package, shaped as ceph-mgr's Python modules are: its
``__init__.py`` exposes one subclass of :class:`MgrModule`, whose commands are methods decorated
with :class:`CLIReadCommand` / :class:`CLIWriteCommand` (or listed in ``COMMANDS`` and answered by
``handle_command``) and whose options are listed in ``MODULE_OPTIONS``::

    from typing import Optional
    from mgr_module import CLIReadCommand, HandleCommandResult, MgrModule, Option

    MANIFEST = '''
    [requests]
    store = true
    '''

    class Hello(MgrModule):
        MODULE_OPTIONS = [Option('place', default='world', desc='where to greet')]

        @CLIReadCommand('hello')
        def hello(self, person_name: Optional[str] = None) -> HandleCommandResult:
            \"\"\"Say hello\"\"\"
            return HandleCommandResult(stdout=f'Hello, {person_name or self.get_module_option("place")}!')

``wasmgr_py_build.py`` turns the package into a component (with componentize-py), and writes
the module's manifest as ``<name>.toml`` beside it. See ``docs/python-modules.md``.

Everything here runs inside the component, and is imported at build time: componentize-py
snapshots the interpreter after the imports, so class bodies, decorators and the command table
cost nothing when the daemon instantiates the module.

What works: commands (decorators with annotated parameters, or ``COMMANDS`` with ceph's
signature strings), typed options, the private store, health checks, the module log (Python's
``logging``) and the cluster log, ``get`` of cluster maps, ``notify``. Errors: a handler returns
``-errno.EXXX`` with Linux numbers, as in ceph-mgr; a failed host call raises :class:`HostError`
(an ``OSError`` with the Linux errno); an uncaught exception answers ``-EINVAL`` with its
traceback, and the module keeps running. Any other ``MgrModule`` method of ceph-mgr raises
``NotImplementedError`` naming it.
"""
import errno
import inspect
import json
import logging
from enum import Enum, IntEnum
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Union, get_args, get_origin

from componentize_py_types import Err
from wit_world.exports import module as wm
from wit_world.imports import cluster as _cluster
from wit_world.imports import config as _config
from wit_world.imports import health as _health
from wit_world.imports import log as _log
from wit_world.imports import store as _store
from wit_world.imports import types as _types

# The WIT error codes as the Linux errno numbers ceph-mgr modules and the CLI use.
_ERRNO = {
    _types.ErrorCode.NOT_PERMITTED: 1, _types.ErrorCode.NOT_FOUND: 2, _types.ErrorCode.IO: 5,
    _types.ErrorCode.TOO_BIG: 7, _types.ErrorCode.AGAIN: 11, _types.ErrorCode.ACCESS_DENIED: 13,
    _types.ErrorCode.EXISTS: 17, _types.ErrorCode.INVALID: 22, _types.ErrorCode.NO_SPACE: 28,
    _types.ErrorCode.OUT_OF_RANGE: 34, _types.ErrorCode.NOT_SUPPORTED: 95,
    _types.ErrorCode.TIMED_OUT: 110,
}

# Inside the component the `errno` module has WASI's numbers (EINVAL is 28, Linux's ENOSPC),
# while ceph-mgr modules return -errno.EXXX and the host expects Linux's. The build step passes
# the Linux table to `_linux_errno`, which rewrites `errno` so that `-errno.EINVAL` is -22.
# WASI_TO_LINUX maps the numbers WASI's libc still raises (in OSError) to Linux's.
WASI_TO_LINUX: Dict[int, int] = {}


def _linux_errno(table: Dict[str, int]) -> None:
    for name, num in table.items():
        old = getattr(errno, name, None)
        if isinstance(old, int):
            WASI_TO_LINUX[old] = num
        setattr(errno, name, num)
    errno.errorcode.clear()
    errno.errorcode.update({v: k for k, v in table.items()})


class HostError(OSError):
    """A failed host call: ``errno`` is the Linux number of its WIT error code, ``strerror``
    the host's message (for a denial, the grant that would allow the call)."""

    def __init__(self, err: _types.Error):
        super().__init__(_ERRNO.get(err.code, errno.EIO), err.message)
        self.code = err.code


def _host(f: Callable, *args: Any) -> Any:
    try:
        return f(*args)
    except Err as e:
        raise HostError(e.value) from None


class HandleCommandResult(NamedTuple):
    """What a command handler returns: ``(retval, stdout, stderr)``, retval ``-errno`` or 0."""
    retval: int = 0
    stdout: str = ""
    stderr: str = ""


class NotifyType(str, Enum):
    """What ``MgrModule.notify`` is told about; list the ones wanted in ``NOTIFY_TYPES``."""
    mon_map = 'mon_map'
    pg_summary = 'pg_summary'
    health = 'health'
    clog = 'clog'
    osd_map = 'osd_map'
    fs_map = 'fs_map'
    command = 'command'
    service_map = 'service_map'
    mgr_map = 'mgr_map'
    perf_schema_update = 'perf_schema_update'


_NOTIFY_TO_WIT = {
    'mon_map': wm.NotifyKind.MON_MAP, 'osd_map': wm.NotifyKind.OSD_MAP,
    'fs_map': wm.NotifyKind.FS_MAP, 'service_map': wm.NotifyKind.SERVICE_MAP,
    'mgr_map': wm.NotifyKind.MGR_MAP, 'health': wm.NotifyKind.HEALTH,
    'pg_summary': wm.NotifyKind.PG_SUMMARY, 'clog': wm.NotifyKind.CLOG,
    'command': wm.NotifyKind.COMMAND, 'perf_schema_update': wm.NotifyKind.PERF_SCHEMA_UPDATE,
}
WIT_TO_NOTIFY = {v: k for k, v in _NOTIFY_TO_WIT.items()}


class Option(Dict[str, Any]):
    """A ``MODULE_OPTIONS`` entry, as ceph's ``Option(name, default, type, ...)``. The host
    checks every value against its type, range and ``enum_allowed`` before the module sees it."""

    def __init__(self, name: str, default: Any = None, type: str = 'str', desc: str = '',
                 long_desc: str = '', min: Any = None, max: Any = None,
                 enum_allowed: Optional[List[str]] = None, runtime: bool = False, **kw: Any):
        super().__init__(name=name, default=default, type=type, desc=desc, long_desc=long_desc,
                         min=min, max=max, enum_allowed=enum_allowed or [], runtime=runtime)


# ---- commands -------------------------------------------------------------------------------

_ARGTYPES = {
    'CephString': wm.ArgType.CEPH_STRING, 'CephInt': wm.ArgType.CEPH_INT,
    'CephFloat': wm.ArgType.CEPH_FLOAT, 'CephBool': wm.ArgType.CEPH_BOOL,
    'CephChoices': wm.ArgType.CEPH_CHOICES, 'CephPoolname': wm.ArgType.CEPH_POOLNAME,
    'CephObjectname': wm.ArgType.CEPH_OBJECTNAME, 'CephOsdName': wm.ArgType.CEPH_OSD_NAME,
    'CephPgid': wm.ArgType.CEPH_PGID,
}
_PERMS = {'r': wm.Perm.R, 'w': wm.Perm.W, 'rw': wm.Perm.RW, 'wr': wm.Perm.RW}


def _signature_arg(kv: Dict[str, str]) -> wm.CommandArg:
    type_ = kv.get('type', 'CephString')
    if type_ not in _ARGTYPES:
        raise ValueError(f'argument {kv["name"]}: type {type_} is not one of {sorted(_ARGTYPES)}')
    at = _ARGTYPES[type_]
    rng = None
    if kv.get('range'):
        lo, _, hi = kv['range'].partition('|')
        if at == wm.ArgType.CEPH_FLOAT:
            rng = wm.ArgRange_Float((float(lo) if lo else None, float(hi) if hi else None))
        else:
            rng = wm.ArgRange_Int((int(lo) if lo else None, int(hi) if hi else None))
    goodchars = kv.get('goodchars')
    return wm.CommandArg(name=kv['name'], type=at, required=kv.get('req', 'true') != 'false',
                         repeated=kv.get('n', '') == 'N', range=rng,
                         choices=kv['strings'].split('|') if kv.get('strings') else [],
                         goodchars=goodchars.strip('[]') if goodchars else None)


def parse_signature(cmd: str) -> Tuple[str, List[wm.CommandArg]]:
    """ceph's ``"hello name=person_name,type=CephString,req=false"``: the prefix and the
    arguments."""
    words, args = [], []
    for tok in cmd.split():
        if '=' not in tok:
            words.append(tok)
            continue
        args.append(_signature_arg(dict(p.split('=', 1) for p in tok.split(','))))
    return ' '.join(words), args


def _annotation_arg(name: str, tp: Any, has_default: bool) -> wm.CommandArg:
    required = not has_default
    if get_origin(tp) is Union and type(None) in get_args(tp):
        required = False
        tp = next(a for a in get_args(tp) if a is not type(None))
    repeated = False
    if get_origin(tp) in (list, List):
        repeated, tp = True, get_args(tp)[0]
    if isinstance(tp, type) and issubclass(tp, Enum):
        return wm.CommandArg(name=name, type=wm.ArgType.CEPH_CHOICES, required=required,
                             repeated=repeated, range=None,
                             choices=[str(e.value) for e in tp], goodchars=None)
    types = {str: wm.ArgType.CEPH_STRING, int: wm.ArgType.CEPH_INT,
             float: wm.ArgType.CEPH_FLOAT, bool: wm.ArgType.CEPH_BOOL}
    if tp not in types:
        raise TypeError(f'argument {name}: annotation {tp!r} is not str, int, float, bool, '
                        'an Enum, or a List or Optional of one')
    return wm.CommandArg(name=name, type=types[tp], required=required, repeated=repeated,
                         range=None, choices=[], goodchars=None)


class CLICommand:
    """``@CLICommand('prefix', perm='rw')``: the handler's annotated parameters are the
    command's arguments (``Optional`` or with a default: not required; ``List``: repeated), its
    docstring's first line the description. A parameter named ``inbuf`` receives the input
    (``-i FILE``)."""
    COMMANDS: Dict[str, 'CLICommand'] = {}
    KNOWN_ARGS = ('_', 'self', 'mgr', 'inbuf', 'return')

    def __init__(self, prefix: str, perm: str = 'rw', poll: bool = False):
        if perm not in _PERMS:
            raise ValueError(f'command {prefix!r}: perm {perm!r} is not r, w or rw')
        self.prefix, self.perm, self.poll = prefix, perm, poll
        self.func: Optional[Callable] = None
        self.args: List[wm.CommandArg] = []
        self.params: List[str] = []
        self.desc = ''
        self.takes_inbuf = False

    def __call__(self, func: Callable) -> Callable:
        self.func = func
        spec = inspect.getfullargspec(func)
        first_default = len(spec.args) - len(spec.defaults or ())
        for i, a in enumerate(spec.args):
            if a in self.KNOWN_ARGS:
                continue
            self.params.append(a)
            self.args.append(_annotation_arg(a, spec.annotations.get(a, str), i >= first_default))
        self.desc = (inspect.getdoc(func) or '').split('\n')[0]
        self.takes_inbuf = 'inbuf' in spec.args
        self.COMMANDS[self.prefix] = self
        return func

    def decl(self) -> wm.CommandDecl:
        return wm.CommandDecl(prefix=self.prefix, args=self.args, desc=self.desc,
                              perm=_PERMS[self.perm], poll=self.poll)

    def call(self, mgr: Any, cmd: Dict[str, Any], inbuf: str) -> Any:
        kwargs = {p: cmd[p] for p in self.params if p in cmd}
        if self.takes_inbuf:
            kwargs['inbuf'] = inbuf
        return self.func(mgr, **kwargs)


class CLIReadCommand(CLICommand):
    """A command any client may run (perm ``r``)."""

    def __init__(self, prefix: str, poll: bool = False):
        super().__init__(prefix, 'r', poll)


class CLIWriteCommand(CLICommand):
    """A command only ``rw`` clients may run (perm ``w``)."""

    def __init__(self, prefix: str, poll: bool = False):
        super().__init__(prefix, 'w', poll)


# ---- options --------------------------------------------------------------------------------

_OPTTYPES = {
    'str': wm.OptionType.STR, 'int': wm.OptionType.INT, 'uint': wm.OptionType.UINT,
    'float': wm.OptionType.FLOAT, 'bool': wm.OptionType.BOOL, 'secs': wm.OptionType.SECS,
    'size': wm.OptionType.SIZE, 'addr': wm.OptionType.ADDR, 'uuid': wm.OptionType.UUID,
    'enum': wm.OptionType.STR,
}


def _option_type(o: Dict[str, Any]) -> wm.OptionType:
    name = o.get('type', 'str')
    if name not in _OPTTYPES:
        raise ValueError(f'option {o["name"]}: type {name!r} is not one of {sorted(_OPTTYPES)}')
    return _OPTTYPES[name]


def _to_value(tp: wm.OptionType, v: Any) -> Optional[_types.OptionValue]:
    if v is None:
        return None
    if tp == wm.OptionType.BOOL:
        if isinstance(v, str):
            v = v.lower() in ('true', 'yes', '1', 'on')
        return _types.OptionValue_Bool(bool(v))
    if tp in (wm.OptionType.INT, wm.OptionType.UINT, wm.OptionType.SECS, wm.OptionType.SIZE):
        return _types.OptionValue_Int(int(v))
    if tp == wm.OptionType.FLOAT:
        return _types.OptionValue_Float(float(v))
    return _types.OptionValue_Str(str(v))


def _option_decl(o: Dict[str, Any]) -> wm.OptionDecl:
    tp = _option_type(o)
    return wm.OptionDecl(name=o['name'], type=tp, default=_to_value(tp, o.get('default')),
                         min=_to_value(tp, o.get('min')), max=_to_value(tp, o.get('max')),
                         enum_allowed=[str(x) for x in o.get('enum_allowed') or []],
                         desc=o.get('desc', ''), long_desc=o.get('long_desc', ''),
                         runtime=bool(o.get('runtime', False)))


# ---- logging --------------------------------------------------------------------------------

class _HostLogHandler(logging.Handler):
    """Every ``logging`` record goes to the module's host log. The host filters by the module's
    ``log_level`` option, so the loggers stay at DEBUG."""
    _LEVELS = [(logging.CRITICAL, _log.Level.CRITICAL), (logging.ERROR, _log.Level.ERROR),
               (logging.WARNING, _log.Level.WARNING), (logging.INFO, _log.Level.INFO)]

    def emit(self, record: logging.LogRecord) -> None:
        level = next((w for py, w in self._LEVELS if record.levelno >= py), _log.Level.DEBUG)
        try:
            _log.log(level, self.format(record))
        except Exception:
            # Logging must never fail the handler that logs.
            pass


_root = logging.getLogger()
_root.handlers[:] = [_HostLogHandler()]
_root.setLevel(logging.DEBUG)


class ClusterLogPrio(IntEnum):
    """The priorities of ``cluster_log``, as ceph's ``MgrModule.ClusterLogPrio``."""
    DEBUG = 0
    INFO = 1
    SEC = 2
    WARN = 3
    ERROR = 4


# ---- the module base class ------------------------------------------------------------------

# ceph-mgr's MgrModule methods this SDK does not provide yet: calling one raises
# NotImplementedError naming it, rather than an AttributeError that looks like a typo.
_NOT_YET = frozenset({
    'serve', 'mon_command', 'send_command', 'remote', 'get_server', 'list_servers',
    'get_metadata', 'get_daemon_status', 'get_perf_schema', 'get_counter', 'get_latest',
    'get_ceph_option', 'have_mon_connection', 'set_tick_period', 'get_all_perf_counters',
    'tool_exec', 'get_rados', 'rados', 'get_osdmap', 'self_test',
})


class MgrModule:
    """The base class of a wasmgr Python module: ceph-mgr's ``MgrModule`` on wasmgr's host
    calls. One instance per module instance, created at its first call."""
    COMMANDS: List[Dict[str, Any]] = []
    MODULE_OPTIONS: List[Dict[str, Any]] = []
    NATIVE_OPTIONS: List[str] = []
    NOTIFY_TYPES: List[NotifyType] = []
    MODULE_NAME = ''  # set by the build, from the component's file name
    MODULE_VERSION = '0.1.0'  # set by the build (--version)
    ClusterLogPrio = ClusterLogPrio

    def __init__(self, module_name: str = '', *args: Any, **kwargs: Any) -> None:
        self.module_name = module_name or self.MODULE_NAME
        self.log = logging.getLogger(self.module_name)

    def __getattr__(self, name: str) -> Any:
        if name in _NOT_YET:
            raise NotImplementedError(
                f'MgrModule.{name} is not supported by wasmgr Python modules yet '
                '(see docs/python-modules.md for what is)')
        raise AttributeError(f'{type(self).__name__!r} object has no attribute {name!r}')

    @classmethod
    def _module_info(cls) -> wm.ModuleInfo:
        """What ``describe`` answers; computed once, at build time."""
        if hasattr(cls, 'serve'):
            raise NotImplementedError(
                f'{cls.__name__}.serve: a serve() loop is not supported by wasmgr Python '
                'modules yet')
        commands = []
        for c in cls.COMMANDS:
            prefix, args = parse_signature(c['cmd'])
            commands.append(wm.CommandDecl(prefix=prefix, args=args, desc=c.get('desc', ''),
                                           perm=_PERMS[c.get('perm', 'rw')],
                                           poll=bool(c.get('poll', False))))
        commands += [c.decl() for c in CLICommand.COMMANDS.values()]
        notify = [_NOTIFY_TO_WIT[str(getattr(n, 'value', n))] for n in cls.NOTIFY_TYPES]
        ok, why = cls.can_run()
        return wm.ModuleInfo(name=cls.MODULE_NAME, version=cls.MODULE_VERSION,
                             commands=commands,
                             options=[_option_decl(o) for o in cls.MODULE_OPTIONS],
                             notify=notify, can_run=ok, error_string=why or '')

    @classmethod
    def can_run(cls) -> Tuple[bool, str]:
        """Whether the module can run, and why not; evaluated at build time."""
        return True, ''

    def _dispatch_command(self, cmd: Dict[str, Any], inbuf: str) -> HandleCommandResult:
        c = CLICommand.COMMANDS.get(cmd['prefix'])
        r = c.call(self, cmd, inbuf) if c is not None else self.handle_command(inbuf, cmd)
        if isinstance(r, tuple) and len(r) == 3:
            return HandleCommandResult(*r)
        return HandleCommandResult(0, r if isinstance(r, str) else json.dumps(r), '')

    # -- what the host calls -------------------------------------------------------------------
    def handle_command(self, inbuf: str, cmd: Dict[str, Any]) -> HandleCommandResult:
        """Answer a command of ``COMMANDS``; ``cmd`` holds ``prefix`` and the arguments."""
        return HandleCommandResult(-errno.EINVAL, '', 'unknown command ' + cmd.get('prefix', ''))

    def notify(self, notify_type: NotifyType, notify_id: str) -> None:
        """Called for each of ``NOTIFY_TYPES`` that changes."""

    def shutdown(self) -> None:
        """Called before the instance is dropped."""

    # -- cluster state -------------------------------------------------------------------------
    def get(self, data_name: str) -> Any:
        """A cluster map by name (``osd_map``, ``health``, ...), as JSON data; needs the
        ``get`` request."""
        return json.loads(_host(_cluster.get, data_name))

    def get_mgr_id(self) -> str:
        return _cluster.get_mgr_id()

    # -- options -------------------------------------------------------------------------------
    def get_module_option(self, key: str, default: Any = None) -> Any:
        v = _host(_config.get_module_option, key)
        return default if v is None else v.value

    def get_localized_module_option(self, key: str, default: Any = None) -> Any:
        v = _host(_config.get_localized_module_option, key)
        return default if v is None else v.value

    def _typed(self, key: str, val: Any) -> Optional[_types.OptionValue]:
        for o in self.MODULE_OPTIONS:
            if o['name'] == key:
                return _to_value(_option_type(o), val)
        return _to_value(wm.OptionType.STR, val)

    def set_module_option(self, key: str, val: Any) -> None:
        _host(_config.set_module_option, key, self._typed(key, val))

    def set_localized_module_option(self, key: str, val: Any) -> None:
        _host(_config.set_localized_module_option, key, self._typed(key, val))

    # -- the store (needs the `store` request) -------------------------------------------------
    def get_store(self, key: str, default: Optional[str] = None) -> Optional[str]:
        v = _host(_store.get, key)
        return default if v is None else v

    def set_store(self, key: str, val: Optional[str]) -> None:
        """Set ``key`` (``None`` deletes it); durable when this returns."""
        _host(_store.set, key, val)

    def get_store_prefix(self, key_prefix: str) -> Dict[str, str]:
        return dict(_host(_store.get_prefix, key_prefix))

    def get_localized_store(self, key: str, default: Optional[str] = None) -> Optional[str]:
        v = _host(_store.get_localized, key)
        return default if v is None else v

    def set_localized_store(self, key: str, val: Optional[str]) -> None:
        _host(_store.set_localized, key, val)

    # -- health and the cluster log ------------------------------------------------------------
    def set_health_checks(self, checks: Dict[str, Dict[str, Any]]) -> None:
        """Replace this module's health checks: ``{code: {severity, summary, count, detail}}``;
        needs the ``health`` request."""
        sev = {'warning': _health.Severity.WARNING, 'error': _health.Severity.ERROR}
        _host(_health.set_health_checks, [
            _health.HealthCheck(code=code, severity=sev[c.get('severity', 'warning')],
                                summary=c.get('summary', ''),
                                count=int(c.get('count', len(c.get('detail', [])))),
                                detail=list(c.get('detail', [])))
            for code, c in checks.items()])

    def cluster_log(self, channel: str, priority: int, message: str) -> None:
        """ceph's ``cluster_log``: a :class:`ClusterLogPrio` (or 0 to 4); needs the
        ``cluster_log`` request."""
        prio = [_log.ClogPriority.DEBUG, _log.ClogPriority.INFO, _log.ClogPriority.SEC,
                _log.ClogPriority.WARN, _log.ClogPriority.ERROR][int(priority)]
        _host(_log.cluster_log, channel, prio, message)
