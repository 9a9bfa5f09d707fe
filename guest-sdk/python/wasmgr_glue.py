"""The wasmgr:mgr/mgr-module exports of a Python module, on one MgrModule subclass.

``make_exports(cls)`` runs at build time, inside componentize-py's pre-initialisation: the
``describe`` answer is computed then and lives in the snapshot. The module's instance is
created at its first call, as ceph-mgr constructs it.
"""
import json
import traceback
from typing import Type

from wit_world import exports
from wit_world.exports import module as wm
from wit_world.imports import log as _log

import mgr_module
from mgr_module import HostError, MgrModule


def _log_error(message: str) -> None:
    try:
        _log.log(_log.Level.ERROR, message)
    except Exception:
        # Nothing left to report a failed log with.
        pass


def _error_result(e: BaseException) -> wm.CommandResult:
    """ceph-mgr's answer to a handler that raised: a host error keeps its errno; anything else
    is -EINVAL with the traceback, which also goes to the module's log."""
    if isinstance(e, HostError):
        return wm.CommandResult(retval=-e.errno, stdout='', stderr=e.strerror)
    if isinstance(e, OSError) and e.errno:
        # Raised by WASI's libc, with WASI's numbering.
        return wm.CommandResult(retval=-mgr_module.WASI_TO_LINUX.get(e.errno, 5),
                                stdout='', stderr=str(e))
    tb = traceback.format_exc()
    _log_error(tb)
    return wm.CommandResult(retval=-22, stdout='', stderr=tb)


def make_exports(cls: Type[MgrModule]) -> type:
    """The class componentize-py exports as the `module` interface, answering for ``cls``."""
    info = cls._module_info()
    state = {'instance': None}

    def instance() -> MgrModule:
        if state['instance'] is None:
            state['instance'] = cls(cls.MODULE_NAME)
        return state['instance']

    class Module(exports.Module):
        def describe(self) -> wm.ModuleInfo:
            return info

        def notify(self, kind: wm.NotifyKind, id: str) -> None:
            try:
                instance().notify(mgr_module.NotifyType(mgr_module.WIT_TO_NOTIFY[kind]), id)
            except Exception:
                _log_error('notify: ' + traceback.format_exc())

        def handle_command(self, cmd: str, inbuf: str) -> wm.CommandResult:
            try:
                r = instance()._dispatch_command(json.loads(cmd), inbuf)
                return wm.CommandResult(retval=int(r[0]), stdout=str(r[1]), stderr=str(r[2]))
            except Exception as e:
                return _error_result(e)

        def shutdown(self) -> None:
            try:
                if state['instance'] is not None:
                    state['instance'].shutdown()
            except Exception:
                _log_error('shutdown: ' + traceback.format_exc())

    return Module
