"""TARGET: parse ``path/to/file.py:ClassName`` or ``package.module:ClassName``, load it, validate it.

Every way a target can fail to load is a ``TargetError`` whose message is one
line saying why; the command line prints it and exits 2.  Loading runs the
submission's module-level code, so the command line installs its guards
(``model.cli.guard``) first.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
import sysconfig
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any


class TargetError(Exception):
    """The target cannot be checked; the message is one line saying why."""


@dataclass
class Target:
    """A loaded, validated submission class."""

    spec: str  # the TARGET as written in tokens and commands, e.g. "hw/buf.py:Buffer"
    cls: type
    module: ModuleType  # the module TARGET names
    modules: tuple[ModuleType, ...]  # modules to control: TARGET's and the class's
    files: tuple[str, ...]  # absolute paths of those modules' files, hashed into tokens
    root: str  # trace paths are shown relative to this folder
    has_qsize: bool = field(default=False)

    @property
    def digest(self) -> str:
        """A short hash of the target's files: a replay token is foreign once it changes."""
        return file_digest(self.files)


def file_digest(files: tuple[str, ...]) -> str:
    sha = hashlib.sha256()
    for path in files:
        try:
            with open(path, "rb") as handle:
                sha.update(handle.read())
        except OSError as error:
            raise TargetError(f"cannot read {path}: {error.strerror}") from error
        sha.update(b"\0")
    return sha.hexdigest()[:16]


def split(spec: str) -> tuple[str, str, bool]:
    """``spec`` -> (file path or module name, class name, is_path)."""
    where, sep, name = spec.rpartition(":")
    if not sep or not where or not name:
        raise TargetError(
            f"TARGET {spec!r} must be path/to/file.py:ClassName or package.module:ClassName"
        )
    if not name.isidentifier():
        raise TargetError(f"TARGET {spec!r}: {name!r} is not a class name")
    is_path = where.endswith(".py") or "/" in where or os.sep in where
    if not is_path and not all(part.isidentifier() for part in where.split(".")):
        raise TargetError(
            f"TARGET {spec!r}: {where!r} is neither a .py file nor a dotted module name"
        )
    return where, name, is_path


def normalise(spec: str) -> str:
    """The spelling of ``spec`` stored in tokens: a path inside the current folder is made relative."""
    where, name, is_path = split(spec)
    if is_path:
        absolute = os.path.abspath(where)
        relative = os.path.relpath(absolute)
        if not relative.startswith(os.pardir):
            where = relative
        where = where.replace(os.sep, "/")
    return f"{where}:{name}"


def load(spec: str) -> Target:
    """Import the module TARGET names and validate its class; raises TargetError."""
    spec = normalise(spec)
    where, name, is_path = split(spec)
    module = _load_file(where) if is_path else _load_module(where)
    label = os.path.basename(where) if is_path else f"module {where}"
    try:
        cls = getattr(module, name)
    except AttributeError:
        classes = sorted(
            key for key, value in vars(module).items()
            if inspect.isclass(value) and getattr(value, "__module__", None) == module.__name__
        )
        found = f" (classes it defines: {', '.join(classes)})" if classes else " (it defines no class)"
        raise TargetError(f"{label} has no {name!r}{found}") from None
    if not inspect.isclass(cls):
        raise TargetError(f"{name!r} in {label} is a {type(cls).__name__}, not a class")
    _validate(cls, name)
    modules = [module]
    defining = sys.modules.get(getattr(cls, "__module__", ""), None)
    if defining is not None and defining is not module:
        modules.append(defining)
    files = tuple(
        dict.fromkeys(os.path.abspath(m.__file__) for m in modules if getattr(m, "__file__", None))
    )
    root = _root(module, where, is_path)
    return Target(
        spec=spec,
        cls=cls,
        module=module,
        modules=tuple(modules),
        files=files,
        root=root,
        has_qsize=callable(getattr(cls, "qsize", None)),
    )


def _load_file(path: str) -> ModuleType:
    absolute = os.path.abspath(path)
    if not os.path.exists(absolute):
        raise TargetError(f"no such file: {path}")
    if not os.path.isfile(absolute):
        raise TargetError(f"not a file: {path}")
    try:
        with open(absolute, "rb") as handle:
            source = handle.read()
    except OSError as error:
        raise TargetError(f"cannot read {path}: {error.strerror}") from error
    try:
        code = compile(source, absolute, "exec", dont_inherit=True)
    except SyntaxError as error:
        raise TargetError(
            f"syntax error at {os.path.basename(path)}:{error.lineno}: {error.msg}"
        ) from None
    except ValueError as error:  # e.g. null bytes
        raise TargetError(f"cannot compile {path}: {error}") from None
    stem = os.path.splitext(os.path.basename(absolute))[0]
    module_name = f"_submission_{''.join(c if c.isalnum() else '_' for c in stem)}"
    module_spec = importlib.util.spec_from_file_location(module_name, absolute)
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    folder = os.path.dirname(absolute)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as `python file.py` would: sibling helpers import
    sys.modules[module_name] = module
    _run_import(lambda: exec(code, module.__dict__), path)
    return module


def _load_module(name: str) -> ModuleType:
    if os.curdir not in sys.path and "" not in sys.path:
        sys.path.insert(0, "")  # as `python -m` would: packages in the current folder import
    try:
        found = importlib.util.find_spec(name)
    except (ImportError, ValueError) as error:
        raise TargetError(f"cannot import {name}: {error}") from None
    if found is None:
        raise TargetError(f"no module named {name!r}")
    return _run_import(lambda: importlib.import_module(name), name)


def _run_import(run: Any, label: str) -> Any:
    """Run the submission's import; whatever it raises becomes one TargetError line."""
    try:
        return run()
    except SystemExit as error:
        raise TargetError(f"importing {os.path.basename(label)} called sys.exit({error.code!r})") from None
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - any failure of foreign code is reported
        raise TargetError(f"importing {os.path.basename(label)} raised {_describe(error)}") from None


def _describe(error: BaseException) -> str:
    where = ""
    tb = error.__traceback__
    while tb is not None:
        where = f" at {os.path.basename(tb.tb_frame.f_code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}{': ' + text if text else ''}{where}"


_SELF = object()
_ARG = object()


def _validate(cls: type, name: str) -> None:
    """The submission contract: cls(capacity), put(self, item), get(self), optional qsize(self)."""
    signature = _signature(cls)
    if signature is not None:
        try:
            signature.bind(1)
        except TypeError:
            raise TargetError(
                f"{name}{signature} cannot be called as {name}(capacity): the constructor "
                "must take the capacity as its one positional argument (others need defaults)"
            ) from None
    for method, args, required in (("put", (_ARG,), True), ("get", (), True), ("qsize", (), False)):
        attr = inspect.getattr_static(cls, method, None)
        if attr is None:
            if required:
                raise TargetError(f"{name} has no {method}() method")
            continue
        if not callable(getattr(cls, method, None)):
            raise TargetError(f"{name}.{method} is not a method")
        function = getattr(cls, method)
        signature = _signature(function)
        if signature is None:
            continue
        bound_args = (_SELF, *args) if inspect.isfunction(function) else args
        try:
            signature.bind(*bound_args)
        except TypeError:
            wanted = f"{method}(self{', item' if args else ''})"
            raise TargetError(
                f"{name}.{method}{signature} cannot be called as {wanted}"
            ) from None


def _signature(obj: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(obj)
    except (TypeError, ValueError):  # some builtins have none: nothing to validate
        return None


def _root(module: ModuleType, where: str, is_path: bool) -> str:
    """The folder trace paths are relative to: the file's folder, or the top package's parent."""
    if is_path:
        return os.path.dirname(os.path.abspath(where))
    top = sys.modules.get(where.split(".")[0], module)
    path = getattr(top, "__file__", None) or getattr(module, "__file__", None)
    if path is None:
        return os.getcwd()
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(path) == "__init__.py":
        folder = os.path.dirname(folder)
    return folder


_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"])
_PURELIB = os.path.abspath(sysconfig.get_paths()["purelib"])
_MODEL = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def display_path(path: str, root: str) -> str:
    """How a trace shows ``path``: relative to the submission's folder, else a stable short form."""
    if not path or path.startswith("<"):
        return path
    absolute = os.path.abspath(path)
    for base, prefix in (
        (root, ""),
        (os.path.dirname(_MODEL), ""),  # model/scenarios.py
        (_PURELIB, "<site-packages>/"),
        (_STDLIB, "<stdlib>/"),
    ):
        if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
            relative = os.path.relpath(absolute, base).replace(os.sep, "/")
            return prefix + relative
    return absolute.replace(os.sep, "/")
