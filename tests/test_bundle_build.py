"""Building the bundles' configs from the shared recipe and each bundle's sources (`monai_jattn.bundle_build`):
what the build writes, the keys it refuses, the order it writes them in, and the committed configs being current."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from monai.bundle import ConfigParser

from monai_jattn.bundle_build import (
    COMMON,
    CONFIGS,
    OVERLAYS,
    SOURCE,
    BundleConfigError,
    build_bundle,
    built_configs,
    bundle_names,
    expand_built_parts,
    format_config,
    merge_config,
    reading_order,
)
from monai_jattn.bundles import main
from monai_jattn.transforms.pipelines import augmentation_config

REPO = Path(__file__).resolve().parents[1]
BUNDLES = bundle_names(REPO / "bundles")
REBUILD = "python -m monai_jattn.bundles build"
STEPS = ["initialize", "run", "finalize"]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the shared recipe and the DRIVE bundle's sources, nothing built."""
    root = tmp_path / "bundles"
    shutil.copytree(REPO / "bundles" / COMMON, root / COMMON)
    shutil.copytree(REPO / "bundles" / "drive_jattn_segmentation" / SOURCE, root / "drive" / SOURCE)
    return root


def _edit(path: Path, **changes) -> None:
    """Set keys of a JSON source (``None`` deletes one); keys with ``#`` are passed with ``**{...}``."""
    config = json.loads(path.read_text())
    for key, value in changes.items():
        config.pop(key) if value is None else config.__setitem__(key, value)
    path.write_text(json.dumps(config))


@pytest.mark.parametrize("bundle", BUNDLES)
def test_the_committed_configs_are_current(bundle):
    """What ``scripts/test.sh`` checks with ``build --check`` before the tests: the committed ``configs/`` are what
    the sources build, none missing, none left over."""
    assert build_bundle(REPO / "bundles" / bundle, check=True) == []


def test_merge_resolves_nested_ids_and_extends_with_plus():
    shared = {"imports": ["$import math"], "train": {"trainer": {"max_epochs": 2}, "handlers": []}, "n": "@train#x"}
    own = {"+imports": ["$import os"], "train#trainer#max_epochs": 5, "train#x": {"_target_": "X"}}
    merged = merge_config(shared, own)
    assert merged == {
        "imports": ["$import math", "$import os"],
        "train": {"trainer": {"max_epochs": 5}, "handlers": [], "x": {"_target_": "X"}},
        "n": "@train#x",
    }  # no a#b key is left for run time
    assert shared["train"]["trainer"]["max_epochs"] == 2  # the shared recipe is not changed


def test_merge_refuses_what_would_fail_or_be_ignored_at_run_time():
    shared = {"train": {"trainer": {"max_epochs": 2}, "augmentation": {"_target_": "A"}}, "seed": 0, "n": "@train"}
    cases = {  # key -> (value, the message)
        "train#trainer#max_epochs": (2, "own.json: 'train#trainer#max_epochs' repeats the value"),
        "seed": (0, "own.json: 'seed' repeats"),
        "trian#augmentation": ({}, "own.json: 'trian#augmentation' sets an id inside 'trian' .did you mean 'train'"),
        "train#trainr#max_epochs": (3, r"inside 'train#trainr' \(did you mean 'train#trainer'\?\)"),
        "train": ({"trainer": {}}, "own.json: 'train' would replace the whole section 'train'; set its parts with"),
        "+train#handlers": ([1], "own.json: '\\+train#handlers' extends 'train#handlers', which is nothing"),
        "train#augmentaton": ({"_target_": "B"}, "own.json: 'train#augmentaton' adds 'train#augmentaton', which no"),
        "seeds": (1, "own.json: 'seeds' adds 'seeds', which no config of the bundle refers to"),
    }
    for key, (value, message) in cases.items():
        with pytest.raises(BundleConfigError, match=message):
            merge_config(shared, {key: value}, "own.json")
    with pytest.raises(BundleConfigError, match="own.json: 'n' refers to @train#dataloader, which no config defines"):
        merge_config(shared, {"n": "@train#dataloader"}, "own.json")
    # a new id that is used, an argument of a component, a comment and a step need no reference
    merged = merge_config(shared, {"train#dataloader": 1, "n": "@train#dataloader", "train#augmentation#p": 0.5,
                                   "train#_comment_x": "why", "run": ["$@n"]}, "own.json")  # fmt: skip
    assert merged["train"]["augmentation"] == {"_target_": "A", "p": 0.5}


@pytest.mark.parametrize(
    "name, key, copy_of, message",
    [
        ("train.json", "trian#augmentation", "train#augmentation", "sets an id inside 'trian' .did you mean 'train'"),
        ("train.json", "train#augmentaton", "train#augmentation", "adds 'train#augmentaton', which no config"),
        ("evaluate.json", "validate#postprocesing", "validate#postprocessing", "adds 'validate#postprocesing'"),
        ("evaluate.json", "vaildate#postprocessing", "validate#postprocessing", "sets an id inside 'vaildate' .did"),
        ("train_fast.json", "+train#handler", "+train#handlers", "extends 'train#handler', which is nothing"),
        ("train_fast.json", "train#trainer#max_epoch", "max_iterations", None),  # a component's argument: MONAI's
    ],
)
def test_a_typo_in_a_source_key_fails_the_build_naming_the_file_and_key(checkout, name, key, copy_of, message):
    """Whole configs (``train.json``) and overlays (checked against the built config they are given after) alike."""
    path = checkout / "drive" / SOURCE / name
    source = json.loads(path.read_text())
    path.write_text(json.dumps({**source, key: source[copy_of]}))
    if message is None:  # an argument of a component is checked by MONAI when it builds the component
        built_configs(checkout / "drive")
        return
    for build in (built_configs, lambda folder: build_bundle(folder, check=True)):
        with pytest.raises(BundleConfigError, match=f"{SOURCE}/{name}: '{re.escape(key)}' {message}"):
            build(checkout / "drive")
    assert not (checkout / "drive" / CONFIGS).exists()  # nothing half-built


def test_a_section_of_the_shared_recipe_is_set_part_by_part(checkout):
    """A source (or a shared overlay) that would replace ``train`` or ``validate`` whole is refused."""
    _edit(checkout / "drive" / SOURCE / "train_fast.json", train={"trainer": {"max_epochs": 1}})
    with pytest.raises(BundleConfigError, match="train_fast.json: 'train' would replace the whole section 'train'"):
        built_configs(checkout / "drive")
    _edit(checkout / "drive" / SOURCE / "train_fast.json", train=None)
    _edit(checkout / COMMON / "evaluate.json", validate={"handlers": []})  # was: every bundle's validate#... replaced
    with pytest.raises(BundleConfigError, match=f"{COMMON}/evaluate.json: 'validate' would replace the whole section"):
        built_configs(checkout / "drive")


def test_a_missing_shared_recipe_fails_build_and_check(checkout):
    shutil.rmtree(checkout / COMMON)
    for check in (False, True):
        with pytest.raises(BundleConfigError, match=f"{COMMON}: missing; it holds the shared recipe"):
            build_bundle(checkout / "drive", check=check)
    assert not (checkout / "drive" / CONFIGS).exists()


@pytest.mark.parametrize("bundle", BUNDLES)
def test_built_files_are_what_monai_merges_from_the_sources(bundle):
    """Each built whole config, and each overlay given after the configs it overlays, is what MONAI's
    ``load_config_files`` gives for the shared and the bundle's files (``--config_file`` with all of them)."""
    folder = REPO / "bundles" / bundle
    for name in [n for n in built_configs(folder) if n.endswith(".json")]:
        chain = [name]
        while chain[0] in OVERLAYS:
            chain.insert(0, OVERLAYS[chain[0]])
        sources = [f for n in chain for f in (REPO / "bundles" / COMMON / n, folder / SOURCE / n) if f.is_file()]
        expected = expand_built_parts(ConfigParser.load_config_files([str(f) for f in sources]), "sources")
        built = ConfigParser.load_config_files([str(folder / CONFIGS / n) for n in chain])
        assert built == expected, f"{bundle}: {' + '.join(chain)}"
        if name not in OVERLAYS:  # a whole config holds no key for run time
            assert not [key for key in json.loads((folder / CONFIGS / name).read_text()) if "#" in key]


def _defined_and_refs(config: dict):
    """The ids in the order the file defines them, and each reference with the ids defined before it."""
    from monai.bundle.reference_resolver import ReferenceResolver

    defined, refs = [], []

    def walk(node, id):
        if isinstance(node, str):
            for ref in ReferenceResolver.match_refs_pattern(node):
                refs.append((ref.replace("::", "#"), id, set(defined)))
        elif isinstance(node, (dict, list)):
            for key, value in node.items() if isinstance(node, dict) else enumerate(node):
                child = f"{id}#{key}" if id else str(key).lstrip("+")
                defined.append(child)
                walk(value, child)

    walk(config, "")
    return defined, refs


@pytest.mark.parametrize("bundle", BUNDLES)
def test_built_files_read_in_order_defined_before_used(bundle):
    """Every ``@id`` points to an id defined earlier in the file (an overlay may point into the config it is
    given after), except where two sections refer to each other; ``initialize``, ``run``, ``finalize`` come last,
    in that order; the order is the only change (the content is the sources')."""
    folder = REPO / "bundles" / bundle
    for name, text in built_configs(folder).items():
        if not name.endswith(".json"):
            continue
        config = json.loads(text)
        defined, refs = _defined_and_refs(config)
        parser = ConfigParser(config)
        for ref, where, before in refs:
            if ref in before:
                continue
            later = [d for d in defined if d == ref or ref.startswith(d + "#") or d.startswith(ref + "#")]
            if name in OVERLAYS and not later:
                continue  # defined in the config the overlay is given after
            assert ref in parser, f"{bundle}/{name}: {where} refers to @{ref}, defined nowhere"
            referrer, target = where.split("#")[0], ref.split("#")[0]
            cycle = any(r.split("#")[0] == referrer and w.split("#")[0] == target for r, w, _ in refs)
            assert referrer != target and cycle, f"{bundle}/{name}: {where} refers to @{ref}, defined later"
        steps = [k for k in config if k.lstrip("+") in STEPS]
        assert list(config)[len(config) - len(steps) :] == steps, f"{bundle}/{name}: the steps are not last"
        assert steps == sorted(steps, key=lambda k: STEPS.index(k.lstrip("+"))), f"{bundle}/{name}: {steps}"
        if name not in OVERLAYS:  # the order is settled: ordering the built file again changes nothing
            assert json.dumps(reading_order(config)) == json.dumps(config), f"{bundle}/{name}"


def test_reading_order_settings_then_parts_before_use_then_steps():
    config = {
        "finalize": [],
        "run": ["$@train#runner.run()"],
        "train": {"trainer": {"_target_": "T", "loader": "@train#loader"}, "loader": {"_target_": "L", "bs": "@bs"},
                  "runner": {"_target_": "R", "trainer": "@train#trainer"}},
        "validate": {"evaluator": {"_target_": "E", "net": "@net"}},
        "net": {"_target_": "N"},
        "+initialize": [],
        "bs": 4,
        "version": "1",
    }  # fmt: skip
    ordered = reading_order(config)
    assert ordered == config  # only the order changes
    assert list(ordered) == ["version", "bs", "net", "train", "validate", "+initialize", "run", "finalize"]
    assert list(ordered["train"]) == ["loader", "trainer", "runner"]


def test_format_is_json_within_120_columns():
    config = json.loads((REPO / "bundles" / "drive_jattn_segmentation" / CONFIGS / "train.json").read_text())
    text = format_config(config)
    assert json.loads(text) == config
    for line in text.splitlines():
        if len(line) > 120:  # only one long string may pass the width: an id and its text
            assert isinstance(next(iter(json.loads("{" + line.strip().rstrip(",") + "}").values())), str), line
    assert format_config({"a": [1, 2]}) == '{"a": [1, 2]}'


def test_build_writes_checks_and_never_overwrites_a_hand_edit(checkout):
    bundle = checkout / "drive"
    with pytest.raises(BundleConfigError, match=f"evaluate.json missing; .*train.json missing.*Run: {REBUILD}"):
        build_bundle(bundle, check=True)  # U4: a missing built file is named
    assert "train.json" in build_bundle(bundle) and build_bundle(bundle) == []  # only what changed is written
    assert build_bundle(bundle, check=True) == []
    assert (bundle / CONFIGS / "logging.conf").read_text() == (checkout / COMMON / "logging.conf").read_text()

    _edit(bundle / SOURCE / "train.json", max_iterations=7)  # S2: a source changed, not built
    with pytest.raises(BundleConfigError, match=f"train.json stale \\(its sources changed.*Run: {REBUILD}"):
        build_bundle(bundle, check=True)
    assert build_bundle(bundle) == ["train.json"]
    assert json.loads((bundle / CONFIGS / "train.json").read_text())["max_iterations"] == 7

    edited = (bundle / CONFIGS / "train.json").read_text().replace('"seed": 0', '"seed": 3')
    (bundle / CONFIGS / "train.json").write_text(edited)
    with pytest.raises(BundleConfigError, match="train.json differs from what its sources build and from its last"):
        build_bundle(bundle, check=True)
    _edit(bundle / SOURCE / "train.json", max_iterations=8)
    with pytest.raises(BundleConfigError, match=r"train.json edited by hand .* move the change into source/.*--force"):
        build_bundle(bundle)
    assert (bundle / CONFIGS / "train.json").read_text() == edited  # the edit is kept
    assert build_bundle(bundle, force=True) == ["train.json"]
    assert json.loads((bundle / CONFIGS / "train.json").read_text())["seed"] == 0


def test_a_built_file_the_build_has_no_record_of_is_kept(checkout):
    """Without ``configs/.built.json`` (a fresh clone) and outside git, a built file that differs is a hand edit
    for all the build knows: kept, not overwritten."""
    bundle = checkout / "drive"
    build_bundle(bundle)
    (bundle / CONFIGS / ".built.json").unlink()
    _edit(bundle / SOURCE / "train.json", max_iterations=7)
    with pytest.raises(BundleConfigError, match="train.json edited by hand"):
        build_bundle(bundle)
    (bundle / CONFIGS / ".built.json").write_text("{damaged")
    with pytest.raises(BundleConfigError, match="train.json edited by hand"):
        build_bundle(bundle)


def test_a_built_file_as_git_holds_it_is_rebuilt(checkout):
    """A clone has no record of a build, but its committed configs are what git holds: after a source changes,
    ``build`` rewrites them; an uncommitted hand edit of one is kept."""
    bundle = checkout / "drive"
    build_bundle(bundle)
    (bundle / CONFIGS / ".built.json").unlink()
    git = ["git", "-C", str(checkout), "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "built"]):
        subprocess.run([*git, *command], check=True)
    _edit(bundle / SOURCE / "train.json", max_iterations=7)
    _edit(bundle / SOURCE / "inference.json", patch_size=[64, 64])
    text = (bundle / CONFIGS / "inference.json").read_text()
    (bundle / CONFIGS / "inference.json").write_text(text.replace('"num_workers": 4', '"num_workers": 2'))
    with pytest.raises(BundleConfigError, match="inference.json edited by hand"):
        build_bundle(bundle)
    subprocess.run([*git, "checkout", "--", str(bundle / CONFIGS / "inference.json")], check=True)
    assert build_bundle(bundle) == ["inference.json", "train.json"]


def test_a_built_file_without_a_source_is_named(checkout):
    build_bundle(checkout / "drive")
    (checkout / "drive" / SOURCE / "train_fast.json").unlink()
    for check in (True, False):
        with pytest.raises(BundleConfigError, match="train_fast.json .*built from no source"):
            build_bundle(checkout / "drive", check=check)
    assert (checkout / "drive" / CONFIGS / "train_fast.json").is_file()  # not deleted: the user deletes it


def test_a_broken_source_is_named(checkout):
    (checkout / "drive" / SOURCE / "evaluate.json").write_text('{"save_predictions": tru')
    with pytest.raises(BundleConfigError, match=r"source/evaluate.json: not a readable JSON config"):
        build_bundle(checkout / "drive")
    assert not (checkout / "drive" / CONFIGS / "train.json").exists()  # nothing half-built
    (checkout / "drive" / SOURCE / "evaluate.json").write_text("[1, 2]")
    with pytest.raises(BundleConfigError, match=r"source/evaluate.json: a config must be a JSON object, found list"):
        build_bundle(checkout / "drive")


def test_check_on_the_command_line_names_every_stale_bundle(checkout, capsys):
    shutil.copytree(checkout / "drive", checkout / "drive2")
    assert main(["--bundles_root", str(checkout), "build", "--check"]) == 1
    err = capsys.readouterr().err
    assert f"drive/{CONFIGS}: evaluate.json missing" in err and f"drive2/{CONFIGS}: evaluate.json missing" in err
    assert REBUILD in err
    assert main(["--bundles_root", str(checkout), "build"]) == 0
    assert main(["--bundles_root", str(checkout), "build", "--check"]) == 0


def test_the_test_command_checks_the_configs_before_the_tests():
    """``scripts/test.sh`` (the README's test command, run by ``.ci/run``) runs ``build --check`` before pytest."""
    lines = [line.strip() for line in (REPO / "scripts" / "test.sh").read_text().splitlines()]
    check = lines.index("python -m monai_jattn.bundles build --check")
    assert check < next(i for i, line in enumerate(lines) if "-m pytest" in line)
    assert "bundles build" not in (REPO / "scripts" / "setup_env.sh").read_text()  # set-up no longer builds


def test_the_augmentation_is_written_from_its_one_definition(checkout):
    """A source's ``{"_build_": "augmentation", ...}`` becomes `augmentation_config` in its batch form: DRIVE's
    90-degree rotation is disabled by the expression the source gives, other arguments pass through as written."""
    source = json.loads((checkout / "drive" / SOURCE / "train.json").read_text())["train#augmentation"]
    assert source["_build_"] == "augmentation"
    built = json.loads(built_configs(checkout / "drive")["train.json"])["train"]["augmentation"]
    assert built["_target_"] == "Compose"
    plain = augmentation_config(["image", "label"], rotate90=True, max_angle="$math.radians(15)")
    assert [t["_target_"] for t in built["transforms"]] == [
        f"monai_jattn.transforms.{t['_target_'][:-1]}Batchd" for t in plain
    ]
    for mine, theirs in zip(built["transforms"], plain):
        assert {k: v for k, v in mine.items() if k not in ("_target_", "_disabled_")} == {
            k: v for k, v in theirs.items() if k != "_target_"
        }
    assert [t.get("_disabled_") for t in built["transforms"]][2] == "$not (@patch_size[0] == @patch_size[1])"
    _edit(checkout / "drive" / SOURCE / "train.json", **{"train#augmentation": {**source, "rotate90": False}})
    built = json.loads(built_configs(checkout / "drive")["train.json"])["train"]["augmentation"]
    assert "monai_jattn.transforms.RandRotate90Batchd" not in [t["_target_"] for t in built["transforms"]]


@pytest.mark.parametrize(
    "part,message",
    [
        ({"_build_": "augmentaton"}, r"'train#augmentation' asks the build for 'augmentaton'; the parts it can write"),
        (
            {"_build_": "augmentation", "keys": ["image"], "rotate90": True, "max_angel": 0.5},
            r"'train#augmentation': the build cannot write 'augmentation' .*max_angel",
        ),
        (
            {"_build_": "augmentation", "keys": ["image"], "rotate90": "square", "max_angle": 0.5},
            r"'train#augmentation': .*rotate90 must be a bool or a config expression",
        ),
    ],
)
def test_a_part_the_build_cannot_write_is_named_with_its_file(checkout, part, message):
    _edit(checkout / "drive" / SOURCE / "train.json", **{"train#augmentation": part})
    with pytest.raises(BundleConfigError, match=r"source/train.json: " + message):
        built_configs(checkout / "drive")
