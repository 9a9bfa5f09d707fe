#!/usr/bin/env python3
"""Build a wasmgr module written in Python: a ceph-mgr style package -> a component.

usage: wasmgr_py_build.py PKG_DIR -o OUT.wasm [--version V] [--path DIR]... [--preimport MOD]...
                          [--componentize-py PATH] [--wit DIR]

PKG_DIR is the module's package: its ``__init__.py`` exposes one ``mgr_module.MgrModule``
subclass, as ceph-mgr's modules do. The package's import name is the directory's name (so it
must be a Python identifier); the module's wasmgr name is OUT's file stem (``[a-z0-9_-]+``),
which is the name the daemon gives it.

The manifest (what the module requests, see docs/module-author-guide.md#capabilities) comes
from ``PKG_DIR/manifest.toml`` or from a top-level ``MANIFEST`` in one of the package's files,
a TOML string or a dict literal (not both). It is written as ``<name>.toml`` beside OUT, where
the daemon reads it; without one, a stale ``<name>.toml`` there is removed.

--path adds directories (a site-packages) to bundle; --preimport imports more modules at build
time (the component holds only what is imported during the build).

componentize-py comes from --componentize-py, else $WASMGR_COMPONENTIZE_PY, else PATH; the WIT
from --wit, else the repository's ``wit/`` beside this SDK.
"""
import argparse
import ast
import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
WORLD = 'wasmgr:mgr/mgr-module'
NAME = re.compile(r'[a-z0-9_-]+')

APP = '''\
import mgr_module
mgr_module._linux_errno({errno_table!r})
{preimports}
import {pkg} as _pkg
_classes = [v for v in vars(_pkg).values()
            if isinstance(v, type) and issubclass(v, mgr_module.MgrModule)
            and v is not mgr_module.MgrModule]
if len(_classes) != 1:
    raise TypeError('{pkg}/__init__.py must expose exactly one MgrModule subclass, not %d'
                    % len(_classes))
_classes[0].MODULE_NAME = {name!r}
_classes[0].MODULE_VERSION = {version!r}
import wasmgr_glue
Module = wasmgr_glue.make_exports(_classes[0])
'''


class BuildError(Exception):
    """A problem with the module's sources, said so the author can fix it."""


def _manifest_in_sources(pkg_dir: str) -> Optional[tuple]:
    """The top-level ``MANIFEST = ...`` of the package's files, and the file: found without
    importing them (they import the component's WIT bindings)."""
    found = None
    for root, _, files in os.walk(pkg_dir):
        for f in sorted(files):
            if not f.endswith('.py'):
                continue
            path = os.path.join(root, f)
            with open(path, encoding='utf-8') as src:
                tree = ast.parse(src.read(), path)
            for node in tree.body:
                if isinstance(node, ast.Assign) and any(
                        isinstance(t, ast.Name) and t.id == 'MANIFEST' for t in node.targets):
                    if found is not None:
                        raise BuildError(f'MANIFEST is set in both {found[1]} and {path}')
                    try:
                        found = (ast.literal_eval(node.value), path)
                    except ValueError:
                        raise BuildError(f'{path}: MANIFEST must be a string or dict literal')
    return found


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n') + '"'
    if isinstance(v, (list, tuple)):
        return '[' + ', '.join(_toml_value(x) for x in v) + ']'
    raise BuildError(f'MANIFEST: {v!r} is not a string, integer, boolean or list')


def to_toml(manifest: Dict[str, Any]) -> str:
    """A manifest dict (top-level keys, then one level of tables) as TOML."""
    lines = [f'{k} = {_toml_value(v)}' for k, v in manifest.items() if not isinstance(v, dict)]
    for table, entries in manifest.items():
        if isinstance(entries, dict):
            lines.append(f'[{table}]')
            lines += [f'{k} = {_toml_value(v)}' for k, v in entries.items()]
    return '\n'.join(lines) + '\n'


def manifest_text(pkg_dir: str) -> Optional[str]:
    """The module's manifest as TOML text, checked to parse, or None."""
    file = os.path.join(pkg_dir, 'manifest.toml')
    in_sources = _manifest_in_sources(pkg_dir)
    if os.path.exists(file) and in_sources is not None:
        raise BuildError(f'both {file} and MANIFEST in {in_sources[1]}: keep one')
    if os.path.exists(file):
        with open(file, encoding='utf-8') as f:
            text = f.read()
    elif in_sources is None:
        return None
    elif isinstance(in_sources[0], dict):
        text = to_toml(in_sources[0])
    elif isinstance(in_sources[0], str):
        text = in_sources[0]
    else:
        raise BuildError(f'{in_sources[1]}: MANIFEST must be a TOML string or a dict')
    try:
        import tomllib
    except ImportError:
        # Python before 3.11: the daemon checks the manifest when it loads the module.
        return text
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise BuildError(f'the manifest of {pkg_dir} is not valid TOML: {e}')
    return text


def build(pkg_dir: str, out: str, version: str = '0.1.0', paths=(), preimports=(),
          componentize_py: Optional[str] = None, wit: Optional[str] = None) -> None:
    """Build ``pkg_dir`` into the component ``out`` and write its manifest beside it."""
    pkg_dir = os.path.abspath(pkg_dir)
    out = os.path.abspath(out)
    pkg = os.path.basename(pkg_dir.rstrip('/'))
    if not pkg.isidentifier():
        raise BuildError(f'{pkg_dir}: the package directory name must be a Python identifier')
    if not os.path.exists(os.path.join(pkg_dir, '__init__.py')):
        raise BuildError(f'{pkg_dir} has no __init__.py: it must be a package')
    name, ext = os.path.splitext(os.path.basename(out))
    if ext != '.wasm' or not NAME.fullmatch(name):
        raise BuildError(f'{out}: the output must be <name>.wasm with a name of [a-z0-9_-]')
    cpy = componentize_py or os.environ.get('WASMGR_COMPONENTIZE_PY') or \
        shutil.which('componentize-py')
    if not cpy or not os.path.exists(cpy):
        raise BuildError('componentize-py not found: `cargo xtask test` installs it in '
                         'target/py-venv; or pip install componentize-py==0.25.1')
    cpy = os.path.abspath(cpy)
    wit = os.path.abspath(wit or os.path.join(HERE, '..', '..', 'wit'))
    manifest = manifest_text(pkg_dir)

    with tempfile.TemporaryDirectory(prefix='wasmgr-py-') as tmp:
        app = os.path.join(tmp, 'app')
        os.makedirs(app)
        shutil.copytree(pkg_dir, os.path.join(app, pkg),
                        ignore=shutil.ignore_patterns('__pycache__', 'manifest.toml'))
        for f in ('mgr_module.py', 'wasmgr_glue.py'):
            shutil.copy(os.path.join(HERE, f), app)
        linux_errno = {n: getattr(errno, n) for n in dir(errno) if n.startswith('E')}
        with open(os.path.join(app, 'wasmgr_app.py'), 'w', encoding='utf-8') as f:
            f.write(APP.format(pkg=pkg, name=name, version=version, errno_table=linux_errno,
                               preimports='\n'.join(f'import {m}' for m in preimports)))
        cmd = [cpy, '-d', wit, '-w', WORLD, 'componentize', '-p', app]
        for p in paths:
            cmd += ['-p', os.path.abspath(p)]
        cmd += ['wasmgr_app', '-o', out]
        # Without VIRTUAL_ENV: componentize-py would bundle that venv's site-packages too.
        env = {k: v for k, v in os.environ.items() if k != 'VIRTUAL_ENV'}
        started = time.time()
        subprocess.run(cmd, check=True, env=env, cwd=tmp, stdout=sys.stderr)

    toml = os.path.splitext(out)[0] + '.toml'
    if manifest is None:
        if os.path.exists(toml):
            os.remove(toml)
    else:
        with open(toml, 'w', encoding='utf-8') as f:
            f.write(manifest)
    print(f'built {out}: {os.path.getsize(out)} bytes in {time.time() - started:.1f} s',
          file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('pkg_dir')
    ap.add_argument('-o', '--out', required=True, help='the component, <name>.wasm')
    ap.add_argument('--version', default='0.1.0')
    ap.add_argument('--path', action='append', default=[], help='more code to bundle')
    ap.add_argument('--preimport', action='append', default=[], help='import at build time')
    ap.add_argument('--componentize-py', dest='componentize_py')
    ap.add_argument('--wit')
    a = ap.parse_args()
    try:
        build(a.pkg_dir, a.out, a.version, a.path, a.preimport, a.componentize_py, a.wit)
    except BuildError as e:
        print(f'wasmgr_py_build: {e}', file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as e:
        print(f'wasmgr_py_build: componentize-py failed ({e.returncode})', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
