"""Building a bundle's ``configs/`` from the shared recipe (``bundles/common/``) and the bundle's ``source/``.

A whole config (``train.json``, ``inference.json``, ``metadata.json``) is the shared file with the bundle's file
laid over it by MONAI's rules (`ConfigParser.load_config_files`: a key ``a#b`` sets ``b`` inside ``a``, ``+a``
extends ``a``), resolved at build time, so the built file has no ``a#b`` key left. Before that, each object
``{"_build_": name, ...}`` of a source is replaced by the part `BUILT_PARTS` writes (the 2D training augmentation,
defined once in `monai_jattn.transforms.pipelines`). An overlay (`OVERLAYS`:
``evaluate.json``, ``train_fast.json``, the multi-GPU files) is given after the config it overlays at run time
(``--config_file "['configs/train.json','configs/evaluate.json']"``): its keys stay as written, shared keys
first, and are checked against the built config they overlay. Every key of a bundle's source must name an id
the shared recipe or the source itself defines, or a new id that some config of the bundle refers to (``@id``),
so a typo fails the build with the file and the key named.

The built ``configs/`` are committed; ``build --check`` (the test command runs it) fails when one is stale, missing
or has no source any more. ``build`` rewrites a built file only where it is as a build left it: as git holds it
(committed, unchanged), or as this working copy's last build wrote it (its hash in the git-ignored
``configs/.built.json``); any other change, a hand edit, is kept and the build stops, unless ``force``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from copy import deepcopy
from pathlib import Path
from typing import Any

from monai.bundle import ConfigParser
from monai.bundle.reference_resolver import ReferenceResolver
from monai.bundle.utils import MERGE_KEY, merge_kv

from monai_jattn.atomic_write import write_json_atomic, write_text_atomic
from monai_jattn.transforms.pipelines import bundle_augmentation_config

__all__ = [
    "COMMON",
    "SOURCE",
    "CONFIGS",
    "OVERLAYS",
    "BUILT_PARTS",
    "BundleConfigError",
    "bundle_names",
    "merge_config",
    "reading_order",
    "format_config",
    "built_configs",
    "build_bundle",
]

COMMON = "common"
SOURCE = "source"
CONFIGS = "configs"
STAMP = ".built.json"  # in configs/, git-ignored: the hash of each file as this working copy last built it
OVERLAYS = {
    "evaluate.json": "train.json",
    "train_fast.json": "train.json",
    "multi_gpu_train.json": "train.json",
    "multi_gpu_evaluate.json": "evaluate.json",
}
"""The overlays: file -> the config it is given after at run time (which may itself be an overlay)."""
BUILD_KEY = "_build_"
BUILT_PARTS: dict[str, Callable[..., Any]] = {"augmentation": bundle_augmentation_config}
"""Parts the build writes from Python: a source object ``{"_build_": name, **arguments}`` becomes
``BUILT_PARTS[name](**arguments)``, so a recipe the package also runs in Python is defined once and still listed in
full in the built configs."""
METADATA = "metadata.json"  # a whole config, but not a workflow: its ids are not referred to
LINE_WIDTH = 120
_LEADING = ("_comment_", "schema", "version", "changelog", "imports")
_STEPS = ("initialize", "run", "finalize")
_SEP = "#"


class BundleConfigError(ValueError):
    """A bundle's config sources cannot be built, or its built configs are stale or were edited by hand."""


def bundle_names(root: str | os.PathLike) -> list[str]:
    """The bundles under ``root`` that are built from sources: the folders with a ``source/`` folder."""
    return sorted(p.name for p in Path(root).iterdir() if (p / SOURCE).is_dir())


def expand_built_parts(node: Any, file: str, where: str = "") -> Any:
    """``node`` with each object ``{"_build_": name, **arguments}`` replaced by what `BUILT_PARTS` makes of it.

    Args:
        node: a loaded config, or a part of one (not changed).
        file: the file it comes from, for errors.
        where: the id of ``node`` in that file.

    Raises:
        BundleConfigError: an unknown part or arguments its function refuses, naming the file and the id.
    """
    if isinstance(node, list):
        return [expand_built_parts(v, file, f"{where}{_SEP}{i}" if where else str(i)) for i, v in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if BUILD_KEY not in node:
        return {k: expand_built_parts(v, file, f"{where}{_SEP}{k}" if where else str(k)) for k, v in node.items()}
    arguments = dict(node)
    name = arguments.pop(BUILD_KEY)
    if name not in BUILT_PARTS:
        known = ", ".join(repr(n) for n in BUILT_PARTS)
        raise BundleConfigError(f"{file}: '{where}' asks the build for {name!r}; the parts it can write are {known}.")
    try:
        return BUILT_PARTS[name](**arguments)
    except (TypeError, ValueError) as e:
        raise BundleConfigError(f"{file}: '{where}': the build cannot write {name!r} from {arguments} ({e}).") from e


def _load(path: Path) -> dict:
    """A config file, read by MONAI's reader, its `BUILT_PARTS` written; the error names the file when it is
    unreadable or not an object."""
    try:
        config = ConfigParser.load_config_file(path)
    except (OSError, ValueError) as e:  # JSON errors and undecodable bytes are ValueErrors
        raise BundleConfigError(f"{path}: not a readable JSON config ({e}).") from e
    if not isinstance(config, dict):
        raise BundleConfigError(f"{path}: a config must be a JSON object, found {type(config).__name__}.")
    return expand_built_parts(config, str(path))


def _id(key: str) -> str:
    """The id a config key sets, ``#``-separated: ``+train::handlers`` -> ``train#handlers``."""
    return ReferenceResolver.normalize_id(key.removeprefix(MERGE_KEY)).replace(ReferenceResolver.sep, _SEP)


def _is_section(value: Any) -> bool:
    """A part of the workflow that holds components (``train``, ``validate``), not a component or a setting."""
    if not isinstance(value, dict) or "_target_" in value:
        return False
    return any(isinstance(v, (dict, list)) for v in value.values())


def _refs(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    """``(id, where)`` for each reference ``@id`` in ``node`` (MONAI's pattern), ``where`` the id holding it."""
    if isinstance(node, str):
        for ref in ReferenceResolver.match_refs_pattern(node):
            yield ref.replace(ReferenceResolver.sep, _SEP), where
    elif isinstance(node, (dict, list)):
        for key, value in node.items() if isinstance(node, dict) else enumerate(node):
            yield from _refs(value, f"{where}{_SEP}{key}" if where else str(key))


def _missing_part(parser: ConfigParser, id: str) -> str:
    """The first prefix of ``id`` that ``parser`` lacks, with the closest existing names as a hint."""
    parts = id.split(_SEP)
    for n in range(1, len(parts) + 1):
        prefix = _SEP.join(parts[:n])
        if prefix not in parser:
            parent = parser.get(_SEP.join(parts[: n - 1])) if n > 1 else parser.config
            names = [str(k) for k in parent] if isinstance(parent, dict) else []
            close = difflib.get_close_matches(parts[n - 1], names, n=1)
            return f"'{prefix}'" + (f" (did you mean '{_SEP.join([*parts[: n - 1], close[0]])}'?)" if close else "")
    return f"'{id}'"


def apply_keys(config: dict, keys: Mapping[str, Any], origin: str | Mapping[str, str]) -> tuple[dict, list[tuple]]:
    """``config`` with ``keys`` applied as MONAI applies a later ``--config_file``, each key checked.

    Args:
        config: the config the keys are laid over (not changed).
        keys: the keys of a config file, in order.
        origin: the file the keys come from, or key -> file; for errors.

    Returns:
        the result, and ``(file, key, id)`` for each key that adds an id at the top level or in a section
        (``train#augmentation``): `built_configs` checks that some config of the bundle refers to each.

    Raises:
        BundleConfigError: naming the file and the key: a key inside an id that does not exist (a typo such as
            ``trian#augmentation``), ``+a`` with no ``a`` to extend, a key that replaces a whole section of the
            shared recipe (``"train": {...}``), or a key that repeats the value it already has.
    """
    parser = ConfigParser(config=deepcopy(config))
    added = []
    for key, value in keys.items():
        file = origin if isinstance(origin, str) else origin[key]
        id = _id(key)
        parent, last = id.rpartition(_SEP)[::2]
        where = f"{file}: '{key}'"
        if parent and parent not in parser:
            missing = _missing_part(parser, parent)
            raise BundleConfigError(f"{where} sets an id inside {missing}, which no config defines.")
        exists = id in parser
        if key.startswith(MERGE_KEY):
            if not exists or not isinstance(parser[id], (dict, list)) or type(parser[id]) is not type(value):
                found = type(parser[id]).__name__ if exists else "nothing"
                raise BundleConfigError(f"{where} extends '{id}', which is {found}; '+' needs a list or an object.")
        elif exists and parser[id] == value:
            raise BundleConfigError(f"{where} repeats the value '{id}' already has; delete the key.")
        elif exists and not parent and _is_section(parser[id]):
            raise BundleConfigError(
                f"{where} would replace the whole section '{id}'; set its parts with '{id}{_SEP}<part>' keys."
            )
        elif not exists and not last.startswith("_") and id not in (*_STEPS, "imports"):
            if not parent or (_SEP not in parent and _is_section(parser[parent])):
                added.append((file, key, id))
        try:
            merge_kv(parser, key, deepcopy(value))
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise BundleConfigError(f"{where} does not fit the config it is laid over ({e}).") from e
    return parser.get(), added


def _check_references(config: dict, name: str) -> None:
    """Every ``@id`` of ``config`` (a whole config, or an overlay laid over its base) names an id it defines."""
    parser = ConfigParser(config=config)
    for ref, where in _refs(config):
        if ref not in parser:
            raise BundleConfigError(f"{name}: '{where}' refers to @{ref}, which no config defines; a typo?")


def merge_config(
    shared: dict, own: dict, own_name: str = "the bundle's source", shared_name: str = "the shared recipe"
) -> dict:
    """A whole config: ``shared``, then ``own`` laid over it, as MONAI's ``ConfigParser.load_config_files`` merges
    two files, resolved (no ``a#b`` key is left); each key of ``own`` is checked by `apply_keys`, every
    reference must resolve and every id ``own`` adds must be referred to.

    Raises:
        BundleConfigError: naming the file and the key.
    """
    config, _ = apply_keys({}, shared, shared_name)
    config, added = apply_keys(config, own, own_name)
    _check_references(config, own_name)
    _check_referred_to(added, [config])
    return config


def _check_referred_to(added: list[tuple], configs: list[dict]) -> None:
    referred = {ref for config in configs for ref, _ in _refs(config)}
    for file, key, id in added:
        if not any(ref == id or ref.startswith(id + _SEP) for ref in referred):
            raise BundleConfigError(
                f"{file}: '{key}' adds '{id}', which no config of the bundle refers to (@{id}); a typo? The ids "
                "a bundle adds must be used, and those the shared recipe has are set with their exact name."
            )


def _combine_overlays(shared: dict, own: dict, shared_name: str, own_name: str) -> tuple[dict, dict]:
    """The keys of a shared overlay and a bundle's overlay as one file: shared keys first, a bundle's key replaces
    the shared key of the same name where it stands, ``+a`` in both is one ``+a``. Returns (keys, key -> file)."""
    keys, origin = dict(shared), dict.fromkeys(shared, shared_name)
    for key, value in own.items():
        if key not in keys:
            keys[key] = value
        elif key.startswith(MERGE_KEY) and isinstance(value, list) and isinstance(keys[key], list):
            keys[key] = keys[key] + value
        elif key.startswith(MERGE_KEY) and isinstance(value, dict) and isinstance(keys[key], dict):
            keys[key] = {**keys[key], **value}
        elif keys[key] == value:
            raise BundleConfigError(f"{own_name}: '{key}' repeats the value of {shared_name}; delete the key.")
        else:
            keys[key] = value
        origin[key] = own_name
    return keys, origin


def _priority(key: str, value: Any, index: int) -> tuple:
    """Reading rank of a top-level id: leading metadata, settings, components, sections; ties in written order."""
    if key in _LEADING:
        return (0, _LEADING.index(key))
    component = isinstance(value, dict) and "_target_" in value
    if component or isinstance(value, list) and any(isinstance(v, dict) for v in value):
        return (2, index)
    return (3, index) if _is_section(value) else (1, index)


def _topological(keys: list[str], deps: Mapping[str, Counter], priority: Mapping[str, tuple]) -> list[str]:
    """``keys`` ordered so that each comes after those it depends on, where the dependencies allow (in a cycle,
    the key with the fewest references to those left goes first); otherwise by ``priority``."""
    order, left = [], set(keys)
    while left:
        ready = [k for k in left if not any(d in left and d != k for d in deps[k])]
        if ready:
            key = min(ready, key=priority.__getitem__)
        else:
            key = min(left, key=lambda k: (sum(n for d, n in deps[k].items() if d in left and d != k), priority[k]))
        order.append(key)
        left.remove(key)
    return order


def _with_comments(keys: list[str], order: list[str]) -> list[str]:
    """``order`` with each ``_comment_<id>`` key put back just before ``<id>`` (if that id is there)."""
    comments = {k: k[len("_comment_") :] for k in keys if k.startswith("_comment_") and k[len("_comment_") :] in keys}
    result = []
    for key in order:
        if key in comments:
            continue
        result.extend(c for c, target in comments.items() if target == key)
        result.append(key)
    return result


def _ordered_level(config: Mapping[str, Any], deps: Mapping[str, Counter], priority: Mapping[str, tuple]) -> list[str]:
    keys = list(config)
    steps = sorted((k for k in keys if _id(k) in _STEPS), key=lambda k: (_STEPS.index(_id(k)), keys.index(k)))
    attached = {k for k in keys if k.startswith("_comment_") and k[len("_comment_") :] in config}
    body = [k for k in keys if k not in steps and k not in attached]
    return _with_comments(keys, _topological(body, deps, priority) + steps)


def reading_order(config: dict) -> dict:
    """``config`` with its ids in the order a person reads it: the metadata's ``schema``, ``version`` and
    ``changelog`` (and ``imports``) first, then settings, components and sections, each after the ids it refers
    to wherever the references allow (``train#dataloader`` before ``train#trainer``, ``validate`` before the
    ``train`` section whose handlers use the validator), then ``initialize``, ``run``, ``finalize``. The parts of
    a section are ordered the same way; a ``_comment_<id>`` stays just before ``<id>``. Only the order changes.
    """
    keys = list(config)
    deps = {k: Counter(ref.split(_SEP)[0] for ref, _ in _refs(config[k])) for k in keys}
    priority = {k: _priority(k, config[k], i) for i, k in enumerate(keys)}
    ordered = {}
    for key in _ordered_level(config, deps, priority):
        value = config[key]
        if _is_section(value):
            inner = {
                k: Counter(r.split(_SEP)[1] for r, _ in _refs(v) if r.startswith(key + _SEP)) for k, v in value.items()
            }
            value = {k: value[k] for k in _ordered_level(value, inner, {k: (0, i) for i, k in enumerate(value)})}
        ordered[key] = value
    return ordered


def overlay_order(keys: dict, base: dict) -> dict:
    """An overlay's keys in reading order (see `reading_order`: each after the keys it refers to, the steps last),
    keeping the order of keys that set the same id or one inside the other; if MONAI would then apply them to
    ``base`` with another result, the keys are kept as written."""
    names = list(keys)
    ids = {k: _id(k) for k in names}

    def overlaps(a: str, b: str) -> bool:
        return a == b or a.startswith(b + _SEP) or b.startswith(a + _SEP)

    deps = {}
    for i, k in enumerate(names):
        refs = [ref for ref, _ in _refs(keys[k])]
        deps[k] = Counter(j for j in names if j != k and any(overlaps(r, ids[j]) for r in refs))
        deps[k].update(j for j in names[:i] if overlaps(ids[k], ids[j]))
    priority = {k: _priority(k, keys[k], i) for i, k in enumerate(names)}
    ordered = {k: keys[k] for k in _ordered_level(keys, deps, priority)}
    if apply_keys(base, ordered, "")[0] != apply_keys(base, keys, "")[0]:
        return dict(keys)
    return ordered


def format_config(config: Any, indent: int = 0, prefix: str = "") -> str:
    """JSON text of ``config``, 4-space indented, an object or list on one line where it fits in 120 columns."""
    one_line = json.dumps(config)
    if not isinstance(config, (dict, list)) or not config or indent + len(prefix) + len(one_line) < LINE_WIDTH:
        return one_line
    pad = " " * (indent + 4)
    if isinstance(config, dict):
        items = []
        for key, value in config.items():
            head = f"{json.dumps(key)}: "
            items.append(pad + head + format_config(value, indent + 4, head))
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + format_config(value, indent + 4) for value in config]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def _overlay_chain(name: str) -> list[str]:
    """``name`` and the configs under it: ``multi_gpu_evaluate.json`` -> it, ``evaluate.json``, ``train.json``."""
    chain = [name]
    while chain[-1] in OVERLAYS:
        chain.append(OVERLAYS[chain[-1]])
    return chain


def built_configs(bundle_dir: str | os.PathLike, common_dir: str | os.PathLike | None = None) -> dict[str, str]:
    """The text of each file of a bundle's ``configs/``, built from the shared recipe ``common/``
    (``<bundle_dir>/../common`` unless given) and the bundle's ``source/``: a whole config is `merge_config` of the
    two, an overlay (`OVERLAYS`) their keys as one file, checked against the built config it overlays; a file in
    only one folder is built alone; another kind of file (``logging.conf``) is copied (the bundle's own first).

    Raises:
        BundleConfigError: no ``source/`` or no shared recipe, or a source that cannot be read or built (the
            error names the file and the key).
    """
    bundle_dir = Path(bundle_dir)
    source = bundle_dir / SOURCE
    common = Path(common_dir) if common_dir is not None else bundle_dir.parent / COMMON
    if not source.is_dir():
        raise BundleConfigError(f"{bundle_dir}: no {SOURCE}/ folder, so no configs to build.")
    if not common.is_dir():
        raise BundleConfigError(
            f"{common}: missing; it holds the shared recipe every bundle's configs are built from (restore it, e.g. "
            f"git checkout -- {common})."
        )
    names = sorted({p.name for folder in (source, common) for p in folder.iterdir() if p.is_file()})
    texts, applied, added, resolve = {}, {}, [], []
    files = {name: (common / name, source / name) for name in names}
    whole = [n for n in names if n.endswith(".json") and n not in OVERLAYS]
    overlays = sorted((n for n in names if n in OVERLAYS), key=lambda n: len(_overlay_chain(n)))
    for name in names:
        if not name.endswith(".json"):
            texts[name] = (source / name if (source / name).is_file() else common / name).read_text()
    for name in whole:
        shared_path, own_path = files[name]
        config, _ = apply_keys({}, _load(shared_path) if shared_path.is_file() else {}, str(shared_path))
        if own_path.is_file():
            config, new = apply_keys(config, _load(own_path), str(own_path))
            added += [] if name == METADATA or not shared_path.is_file() else new
        if name != METADATA:
            resolve.append((config, str(own_path if own_path.is_file() else shared_path)))
        applied[name] = config
        texts[name] = format_config(reading_order(config)) + "\n"
    for name in overlays:
        base_name = OVERLAYS[name]
        if base_name not in applied:
            raise BundleConfigError(f"{bundle_dir}: {name} overlays {base_name}, which the bundle does not have.")
        shared_path, own_path = files[name]
        shared = _load(shared_path) if shared_path.is_file() else {}
        own = _load(own_path) if own_path.is_file() else {}
        keys, origin = _combine_overlays(shared, own, str(shared_path), str(own_path))
        base = applied[base_name]
        config, new = apply_keys(base, keys, origin)
        if apply_keys(apply_keys(base, shared, str(shared_path))[0], own, str(own_path))[0] != config:
            raise BundleConfigError(
                f"{own_path}: its keys and those of {shared_path} set one id in an order one built file cannot "
                "keep; set each id in one of the two files."
            )
        resolve.append((config, f"{own_path if own_path.is_file() else shared_path} (given after {base_name})"))
        added += new
        applied[name] = config
        texts[name] = format_config(overlay_order(keys, base)) + "\n"
    _check_referred_to(added, list(applied.values()))  # first: it names the key of a typo, not its users
    for config, name in resolve:
        _check_references(config, name)
    return {name: texts[name] for name in names}


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _as_committed(path: Path) -> bool:
    """Whether git holds ``path`` as it is now: tracked, no change since the last commit (False without git)."""
    try:
        for command in (["ls-files", "--error-unmatch", "--", path.name], ["diff", "--quiet", "HEAD", "--", path.name]):
            if subprocess.run(["git", "-C", str(path.parent), *command], capture_output=True, timeout=60).returncode:
                return False
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def build_bundle(bundle_dir: str | os.PathLike, check: bool = False, force: bool = False) -> list[str]:
    """Write a bundle's ``configs/`` from its sources (see `built_configs`), each file only when it changed.

    Args:
        bundle_dir: the bundle folder (with ``source/``; the shared recipe is ``../common``).
        check: write nothing; raise when a built file is missing, differs from what its sources give, or has
            no source any more.
        force: also overwrite a built file that was edited by hand (see below).

    Returns:
        the names of the files written (with ``check``: none, else it raises).

    Raises:
        BundleConfigError: with ``check``, every stale, missing or orphaned file, and the command to rebuild;
            without it, a file of ``configs/`` that no source builds any more (delete it), a built file changed
            since it was built (as git holds it, or as this working copy's last build wrote it): it is kept,
            move the change into ``source/`` or pass ``force``; or a source that cannot be built.
    """
    configs = Path(bundle_dir) / CONFIGS
    texts = built_configs(bundle_dir)
    stamp_path = configs / STAMP
    try:
        stamps = json.loads(stamp_path.read_text()) if stamp_path.is_file() else {}
        stamps = stamps if isinstance(stamps, dict) else {}
    except (OSError, ValueError):  # a damaged stamp: git alone tells what a build left
        stamps = {}
    found = sorted(p.name for p in configs.iterdir()) if configs.is_dir() else []
    orphans = [name for name in found if name not in texts and name != STAMP]
    problems, edited, changed = [], [], []
    for name, text in texts.items():
        path = configs / name
        current = path.read_text() if path.is_file() else None
        if current == text:
            continue
        changed.append(name)
        if current is None:
            problems.append(f"{name} missing")
        elif _digest(current) == stamps.get(name) or _as_committed(path):
            problems.append(f"{name} stale (its sources changed since it was built)")
        else:
            edited.append(name)
            problems.append(f"{name} differs from what its sources build and from its last build (edited by hand?)")
    problems += [f"{name} is built from no source (a source was removed?): delete it" for name in orphans]
    rebuild = "python -m monai_jattn.bundles build"
    if check and problems:
        raise BundleConfigError(f"{configs}: {'; '.join(problems)}. Run: {rebuild}.")
    if orphans:
        raise BundleConfigError(f"{configs}: {', '.join(orphans)} built from no source; delete it.")
    if edited and not force:
        raise BundleConfigError(
            f"{configs}: {', '.join(edited)} edited by hand since it was built (git diff shows the change); it is "
            f"kept: move the change into {SOURCE}/ (or bundles/{COMMON}/) and build again, or discard it: {rebuild} "
            "--force."
        )
    if check:
        return []
    for name in changed:
        write_text_atomic(configs / name, texts[name])
    new_stamps = {name: _digest(text) for name, text in texts.items()}
    if new_stamps != stamps:
        write_json_atomic(stamp_path, new_stamps)
    return changed
